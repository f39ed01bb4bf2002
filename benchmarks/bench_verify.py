"""DFT verification of AFM rutile CrO2 with Quantum ESPRESSO: wall time of the whole verify.

Runs :func:`altermag.dft.verify.verify_material` — the path of ``altermag dft verify`` and
of the Prefect flows — on a fresh SQLite store: ``analyze`` (order, prediction) → QE decks
(preset ``fast``: PAW Cr/O from quantum-espresso-data, 30/240 Ry, 4×4×4) → ``pw.x`` SCF then
bands here (one MPI rank) → parse → verdict → store → band figure. Prints the wall time of
each stage (from the job's status changes), pw.x's own CPU/wall figures, the splittings and
the verdict, and the load average before and after: other jobs on the machine inflate the
wall time (the CPU time printed by pw.x is the better figure then). Target: ≤ 2 min on a
quiet 2-core machine.

Usage: ``python benchmarks/bench_verify.py [--keep DIR] [--set KEY=VALUE ...]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from altermag.dft.qe.parse import parse_pw_output
from altermag.dft.verify import verify_material
from altermag.store import Store
from tests.literature import rutile


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", type=Path, default=None, help="work folder to keep")
    parser.add_argument("--set", action="append", default=[], help="preset override KEY=VALUE")
    args = parser.parse_args()
    overrides = {k: yaml.safe_load(v) for k, v in (s.split("=", 1) for s in args.set)}
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_verify_"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {_load()}")
    marks: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    with Store(f"sqlite:///{work / 'bench.db'}") as store:
        mid = store.add_material(rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0))
        out = verify_material(
            store,
            mid,
            "qe",
            "fast",
            work,
            "local",
            overrides=overrides,
            force=True,
            on_status=lambda s: marks.append((s, time.perf_counter())),
        )
    total = time.perf_counter() - t0
    if out.status != "completed":
        print(f"verify ended {out.status}: {out.message}")
        sys.exit(1)
    at = dict(marks)
    folder = Path(out.directory)
    print(f"folder: {folder}")
    print(f"analyze + decks   {at['prepared'] - t0:8.2f} s")
    for step in json.loads((folder / "run.json").read_text())["steps"]:
        text = parse_pw_output(folder / step["output"])
        print(
            f"pw.x {step['name']:<12} {step['wall_s']:8.2f} s wall (pw.x: {text.cpu_s} s CPU, "
            f"{text.iterations or '-'} SCF iterations)"
        )
    print(f"parse+verdict+fig {at['completed'] - at['running'] - _pw_wall(folder):8.2f} s")
    print(f"total             {total:8.2f} s")
    print(f"load average after: {_load()}")
    v = out.verdict or {}
    for seg in v.get("segments", []):
        print(f"  {seg['name']:<6} {seg['expected']:<9} {seg['max_splitting_ev'] * 1000:9.2f} meV")
    print(f"verdict: {v.get('status')} ({v.get('observed')}): {v.get('reason')}")


def _pw_wall(folder: Path) -> float:
    return sum(s["wall_s"] for s in json.loads((folder / "run.json").read_text())["steps"])


if __name__ == "__main__":
    main()
