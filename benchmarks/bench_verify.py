"""DFT verification of AFM rutile CrO2 with Quantum ESPRESSO: wall time of each stage.

Runs the whole library path of the QE check — ``analyze`` → ``write_qe_inputs`` (preset
``fast``: PAW Cr/O, 30/240 Ry, 4×4×4) → ``run_qe`` (pw.x SCF, then bands, one MPI rank) →
``analyze_qe`` (splitting per segment, verdict) → band figure — and prints the wall time of
each stage, pw.x's own CPU/wall figures, and the splittings found. Target: ≤ 2 min on a
quiet 2-core machine. Other jobs on the machine inflate the wall time; the CPU time printed
by pw.x is the better figure then.

Usage: ``python benchmarks/bench_verify.py [--keep DIR]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import altermag
from altermag.dft.analysis import analyze_qe
from altermag.dft.plot import band_figure
from altermag.dft.presets import load_preset
from altermag.dft.qe_inputs import write_qe_inputs
from altermag.dft.qe_parse import parse_pw_output
from altermag.dft.qe_run import run_qe
from tests.literature import rutile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", type=Path, default=None, help="run folder to keep")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_verify_"))
    t0 = time.perf_counter()
    s = rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0)
    result = altermag.analyze(s)
    t1 = time.perf_counter()
    inputs = write_qe_inputs(s, result, load_preset("fast"), folder)
    t2 = time.perf_counter()
    record = run_qe(folder)
    t3 = time.perf_counter()
    if not record.ok:
        print(f"run failed: {record.status}: {record.message}")
        sys.exit(1)
    res = analyze_qe(folder)
    t4 = time.perf_counter()
    band_figure(res, "png")
    t5 = time.perf_counter()
    print(f"folder: {folder} ({inputs.n_band_kpoints} band k-points)")
    print(f"analyze        {t1 - t0:8.2f} s")
    print(f"write inputs   {t2 - t1:8.2f} s")
    for step in record.steps:
        text = parse_pw_output(folder / step.output)
        print(f"pw.x {step.name:<9} {step.wall_s:8.2f} s wall (pw.x: {text.cpu_s} s CPU)")
    print(f"parse+verdict  {t4 - t3:8.2f} s")
    print(f"figure         {t5 - t4:8.2f} s")
    print(f"total          {t5 - t0:8.2f} s")
    v = res.verdict
    for seg in v.segments:
        print(f"  {seg.name:<6} {seg.expected:<9} {seg.max_splitting_ev * 1000:9.2f} meV")
    print(f"verdict: {v.status} ({v.observed}): {v.reason}")


if __name__ == "__main__":
    main()
