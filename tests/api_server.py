"""A store filled with known magnets, and the real API server (``altermag api``) over it.

Used by the OPTIMADE and browser tests: the server is the command a user runs, on loopback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from altermag import analyze, read_structure
from altermag.store import Store
from tests import literature as lit

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "altermag" / "data" / "examples"


@dataclass
class FilledStore:
    """What :func:`fill_store` put in the store."""

    url: str
    materials: dict[str, int] = field(default_factory=dict)
    orders: dict[str, list[int]] = field(default_factory=dict)
    run_id: int = 0


def fill_store(url: str, copies: int = 1) -> FilledStore:
    """Known magnets with their published orders, Cr2O3 and MnTe without moments (their
    orders enumerated), model scores, and a confirmed DFT check of MnF2.

    ``copies`` > 1 adds strained copies (1 % per copy) of every structure, to have pages.
    """
    structures = {
        "MnF2": lit.mnf2(),
        "MnTe": lit.mnte(),
        "CrSb": lit.crsb(),
        "RuO2": lit.ruo2(),
        "NiO": lit.nio_afm2(),
        "Fe": lit.fe_bcc(),
        "La2CuO4": lit.la2cuo4(),
        "Cr2O3-bare": read_structure(EXAMPLES / "Cr2O3.cif"),
        "MnTe-bare": lit.mnte().with_moments(None),
    }
    scores = {"MnF2": 0.91, "MnTe": 0.84, "CrSb": 0.78, "RuO2": 0.66, "NiO": 0.22, "Fe": 0.05}
    out = FilledStore(url)
    with Store(url) as store:
        out.run_id = store.start_run("test", {"what": "known magnets"})
        for copy in range(copies):
            for name, s in structures.items():
                if copy:
                    s = s.__class__(
                        s.lattice * (1 + 0.01 * copy), s.species, s.frac_coords, s.magmoms, s.label
                    )
                key = name if not copy else f"{name}#{copy}"
                mid = store.add_material(s, source="test", source_id=key)
                store.record_input(out.run_id, key, mid)
                out.materials[key] = mid
                out.orders[key] = store.add_result(mid, analyze(s))
                if name in scores:
                    store.add_score(mid, "test-model", scores[name], min(1.0, scores[name] + 0.05))
        store.record_error(out.run_id, "broken.cif", "broken.cif: the file is empty")
        store.finish_run(out.run_id)
        job = store.add_dft_job(
            out.materials["MnF2"],
            "qe",
            order_id=out.orders["MnF2"][0],
            parameters={"preset": "fast", "ecutwfc": 30},
        )
        store.set_dft_result(
            job, {"status": "confirmed", "reason": "M-G split 0.48 eV, nodal ≤ 1 meV"}, 0.48
        )
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ApiServer:
    """``python -m altermag api`` on a free loopback port, stopped with :meth:`stop`."""

    def __init__(self, db_url: str, home: Path, *extra_env: tuple[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "ALTERMAG_HOME": str(home), **dict(extra_env)}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "api"), str(ROOT / "flows")])
        self.log = (home / "api.log").open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "altermag",
                "api",
                "--db",
                db_url,
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=home,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"altermag api exited: {(home / 'api.log').read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("altermag api did not start within 90 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
