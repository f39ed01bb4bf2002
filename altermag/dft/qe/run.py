"""Run a prepared Quantum ESPRESSO folder here: SCF, then bands, with checks and logs.

One MPI rank (plain ``pw.x -in``, one OpenMP thread) is fastest on a 2-core machine. Each
step has a wall-clock limit; its text output is kept (``scf.out``, ``bands.out``) and the SCF's
``data-file-schema.xml`` is copied to ``scf-data-file-schema.xml`` before the bands step
overwrites it. The bands step only runs after an SCF that printed "convergence has been
achieved" (an unconverged density fakes large splittings). The record is a plain dataclass
(``run.json``) that a store can keep.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from altermag.dft.qe.parse import parse_pw_output

__all__ = ["QERunRecord", "RunStatus", "StepRecord", "run_qe", "start_run"]

RunStatus = Literal["completed", "unconverged", "failed", "timeout", "missing_executable"]


@dataclass
class StepRecord:
    """One pw.x step."""

    name: str
    command: list[str]
    returncode: int | None
    wall_s: float
    timed_out: bool
    converged: bool | None
    """SCF only: "convergence has been achieved" printed."""
    job_done: bool
    output: str
    """Path of the text output, relative to the run folder."""
    errors: list[str] = field(default_factory=list)


@dataclass
class QERunRecord:
    """Status of a local QE run (JSON-serialisable for the store)."""

    directory: str
    status: RunStatus
    message: str
    started_at: str
    finished_at: str
    steps: list[StepRecord] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "completed"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QERunRecord:
        return cls(**{**d, "steps": [StepRecord(**s) for s in d.get("steps", [])]})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


Recorder = Callable[[RunStatus, str, list[StepRecord]], QERunRecord]


def start_run(
    directory: Path, timeout_scf_s: float | None, timeout_bands_s: float | None
) -> tuple[dict[str, Any], float, float, Recorder]:
    """What every local run (QE or VASP) starts with.

    Returns the folder's ``settings.json`` (empty when absent), the SCF and bands time
    limits (the arguments, else ``timeout_scf_s``/``timeout_bands_s`` of the settings, else
    one hour each) and ``record(status, message, steps)``, which writes ``run.json`` and
    returns the run record.
    """
    settings: dict[str, Any] = {}
    if (directory / "settings.json").is_file():
        settings = json.loads((directory / "settings.json").read_text())
    t_scf = timeout_scf_s or float(settings.get("timeout_scf_s", 3600))
    t_bands = timeout_bands_s or float(settings.get("timeout_bands_s", 3600))
    started = _now()

    def record(status: RunStatus, message: str, steps: list[StepRecord]) -> QERunRecord:
        rec = QERunRecord(str(directory), status, message, started, _now(), steps)
        (directory / "run.json").write_text(json.dumps(rec.to_dict(), indent=1))
        return rec

    return settings, t_scf, t_bands, record


def _step(name: str, pw: str, directory: Path, timeout: float, env: dict[str, str]) -> StepRecord:
    cmd = [pw, "-in", f"{name}.in"]
    out = directory / f"{name}.out"
    t0 = time.perf_counter()
    timed_out = False
    with out.open("w") as fh:
        proc = subprocess.Popen(cmd, cwd=directory, stdout=fh, stderr=subprocess.STDOUT, env=env)
        try:
            rc: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            rc, timed_out = None, True
    wall = time.perf_counter() - t0
    text = parse_pw_output(out)
    return StepRecord(
        name=name,
        command=cmd,
        returncode=rc,
        wall_s=round(wall, 2),
        timed_out=timed_out,
        converged=text.converged if name == "scf" else None,
        job_done=text.job_done,
        output=out.name,
        errors=text.errors,
    )


def run_qe(
    directory: Path,
    pw: str = "pw.x",
    timeout_scf_s: float | None = None,
    timeout_bands_s: float | None = None,
) -> QERunRecord:
    """Run ``scf.in`` then ``bands.in`` in ``directory`` and write ``run.json``.

    Time limits default to ``timeout_scf_s``/``timeout_bands_s`` of the folder's
    ``settings.json`` (else one hour each). Returns the run record; never raises for a failed
    calculation (the status says what happened).
    """
    directory = Path(directory)
    settings, t_scf, t_bands, record = start_run(directory, timeout_scf_s, timeout_bands_s)
    if shutil.which(pw) is None:
        return record(
            "missing_executable", f"{pw} not found (apt-get install quantum-espresso)", []
        )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    steps = [_step("scf", pw, directory, t_scf, env)]
    scf = steps[0]
    if scf.timed_out:
        return record("timeout", f"SCF exceeded {t_scf:.0f} s", steps)
    if scf.returncode != 0 or not scf.job_done:
        return record("failed", "SCF failed: " + ("; ".join(scf.errors) or "see scf.out"), steps)
    if not scf.converged:
        return record("unconverged", "SCF did not reach convergence", steps)
    prefix = settings.get("prefix", "altermag")
    xml = next(directory.glob(f"**/{prefix}.save/data-file-schema.xml"), None)
    if xml is not None:
        shutil.copyfile(xml, directory / "scf-data-file-schema.xml")
    steps.append(_step("bands", pw, directory, t_bands, env))
    bands = steps[1]
    if bands.timed_out:
        return record("timeout", f"bands step exceeded {t_bands:.0f} s", steps)
    if bands.returncode != 0 or not bands.job_done:
        return record(
            "failed", "bands step failed: " + ("; ".join(bands.errors) or "see bands.out"), steps
        )
    return record("completed", "SCF converged and bands computed", steps)
