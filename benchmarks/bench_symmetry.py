"""Speed of the spin-group analysis and of the order enumeration vs spinspg and amcheck.

One run prints every figure beside its anchor and the load average (``os.getloadavg()``):

1. *Analysis of given orders*: median in-process CPU time (``time.process_time``; a shared,
   loaded machine inflates wall time) of ``altermag.analyze`` (full result: verdict, spin
   Laue group, wave, form factor, nodal planes, MSG) for 6-atom MnF2
   and its 2×2×2 (48), 3×3×3 (162) and 4×4×4 (384-atom) supercells, warm (group-level caches
   filled, as in a screening) and cold (caches and the shipped BNS and spin Laue group
   tables dropped before every call),
   against spinspg's spin-group search and amcheck's altermagnet test (spglib included).
   Targets: cold ≤ 5 ms for 6 atoms, ≤ 0.5 s for 384 atoms.
2. *Enumeration of a structure without moments*, cells kept as given (MnF2 1×1×1 to
   6×6×7 = 1,512 atoms), each in a fresh process: CPU time and peak resident memory of
   ``analyze(..., cell="as_given")``, against spinspg's CPU time for the same orders (every
   enumerated order, ferromagnetic reference included; spinspg runs in a child process
   and is reported as "> limit" when it does not finish in ``--spinspg-limit`` seconds).
   Targets: 384 atoms ≤ 1 s and ≤ 1 GB, 1,512 atoms ≤ 10 s, ahead of spinspg at every size.

findspingroup, the third peer, is not installable in this environment (no wheel or sdist
that builds here), so it is not timed.

Usage: ``python benchmarks/bench_symmetry.py [--amcheck-max-atoms N] [--spinspg-limit S]
[--skip-analysis] [--skip-enumeration]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import spglib

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from altermag import MagneticStructure, analyze
from altermag.symmetry.spin_group import clear_caches
from tests.literature import mnf2


def supercell(n: int | tuple[int, int, int]) -> MagneticStructure:
    s = mnf2().to_pymatgen()
    s.make_supercell((n, n, n) if isinstance(n, int) else n)
    return MagneticStructure.from_pymatgen(s)


def load() -> str:
    return "load " + " ".join(f"{x:.1f}" for x in os.getloadavg())


#: Supercells of MnF2 for the enumeration table (6 to 1,512 atoms).
ENUMERATION_CELLS = [(1, 1, 1), (2, 2, 2), (3, 3, 3), (4, 4, 4), (6, 6, 7)]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def enumerate_child(cell: str, out: str) -> None:
    """In a fresh process: enumerate one supercell kept as given; write time, memory, orders."""
    dims = tuple(int(x) for x in cell.split("x"))
    s = supercell(dims).with_moments(None)  # type: ignore[arg-type]
    analyze(supercell(1).with_moments(None))  # imports and lazy modules outside the timing
    rss0 = _peak_rss_mb()
    c0, w0 = time.process_time(), time.perf_counter()
    res = analyze(s, cell="as_given")
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    record = {
        "atoms": len(s),
        "cpu": cpu,
        "wall": wall,
        "rss_mb": _peak_rss_mb(),
        "rss_before_mb": rss0,
        "orders": [o.signs for o in res.orders],
        "waves": res.host_waves,
        "lattice": s.lattice.tolist(),
        "frac": s.frac_coords.tolist(),
        "species": list(s.species),
    }
    Path(out).write_text(json.dumps(record))


def spinspg_child(path: str) -> None:
    """In a fresh process: spinspg's CPU time for every order of an enumeration record."""
    from spinspg import get_spin_symmetry

    rec = json.loads(Path(path).read_text())
    numbers = np.array([{"Mn": 25, "F": 9}[x] for x in rec["species"]])
    lattice, frac = np.array(rec["lattice"]), np.array(rec["frac"])
    c0 = time.process_time()
    for signs in rec["orders"]:
        moments = np.outer(np.asarray(signs, dtype=float), [0.0, 0.0, 1.0])
        get_spin_symmetry(lattice, frac, numbers, moments, symprec=0.1, mag_symprec=0.15)
    print(time.process_time() - c0)


def enumeration_table(spinspg_limit: float) -> None:
    print()
    print("Enumeration of MnF2 supercells without moments, cells kept as given (fresh process")
    print("each; CPU s; peak RSS of the whole process; spinspg: the same orders, CPU s)")
    print(
        f"{'atoms':>6} {'altermag (s)':>13} {'peak (MB)':>10} {'orders':>7} "
        f"{'spinspg (s)':>12} {'ratio':>7}  waves  load"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for dims in ENUMERATION_CELLS:
            cell = "x".join(map(str, dims))
            out = str(Path(tmp) / f"{cell}.json")
            subprocess.run([sys.executable, __file__, "--enumerate-child", cell, out], check=True)
            rec = json.loads(Path(out).read_text())
            try:
                sp = subprocess.run(
                    [sys.executable, __file__, "--spinspg-child", out],
                    capture_output=True,
                    text=True,
                    timeout=spinspg_limit,
                )
                t_sp: float | None = float(sp.stdout.split()[-1]) if sp.returncode == 0 else None
                sp_text = f"{t_sp:>12.3f}" if t_sp is not None else f"{'n/a':>12}"
            except subprocess.TimeoutExpired:
                t_sp, sp_text = None, f"{'> ' + format(spinspg_limit, 'g'):>12}"
            if t_sp is not None:
                ratio = f"{t_sp / rec['cpu']:>6.1f}x"
            elif "> " in sp_text:
                ratio = f"{'> ' + format(spinspg_limit / rec['cpu'], '.0f'):>6}x"
            else:
                ratio = f"{'':>7}"
            print(
                f"{rec['atoms']:>6} {rec['cpu']:>13.3f} {rec['rss_mb']:>10.0f} "
                f"{len(rec['orders']):>7} {sp_text} {ratio}  {','.join(rec['waves']) or '-':5}  "
                f"{load()}"
            )


def median_time(
    fn: Callable[[], object], budget: float = 2.0, max_runs: int = 50
) -> tuple[float, int]:
    fn()  # warm-up (imports, caches)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max_runs and (not times or time.perf_counter() - start < budget):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return statistics.median(times), len(times)


def run_spinspg(s: MagneticStructure) -> Callable[[], object]:
    from spinspg import get_spin_symmetry

    numbers = np.array([{"Mn": 25, "F": 9}[x] for x in s.species])
    return lambda: get_spin_symmetry(
        s.lattice, s.frac_coords, numbers, s.magmoms, symprec=0.1, mag_symprec=0.15
    )


def run_amcheck(s: MagneticStructure) -> Callable[[], object]:
    from amcheck import is_altermagnet

    numbers = [{"Mn": 25, "F": 9}[x] for x in s.species]
    spins = ["u" if m > 0 else "d" if m < 0 else "n" for m in s.magmoms[:, 2]]

    def go() -> bool:
        ds = spglib.get_symmetry_dataset((s.lattice, s.frac_coords, numbers), symprec=1e-3)
        ops = list(zip(ds.rotations, ds.translations, strict=True))
        return is_altermagnet(
            ops, s.frac_coords, ds.equivalent_atoms, list(s.species), spins, silent=True
        )

    return go


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--amcheck-max-atoms", type=int, default=384)
    parser.add_argument("--spinspg-limit", type=float, default=600.0)
    parser.add_argument("--skip-analysis", action="store_true")
    parser.add_argument("--skip-enumeration", action="store_true")
    parser.add_argument("--enumerate-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--spinspg-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.enumerate_child:
        return enumerate_child(*args.enumerate_child)
    if args.spinspg_child:
        return spinspg_child(args.spinspg_child)
    print("findspingroup: not installable in this environment, not timed")
    if not args.skip_analysis:
        analysis_table(args.amcheck_max_atoms)
    if not args.skip_enumeration:
        enumeration_table(args.spinspg_limit)


def analysis_table(amcheck_max_atoms: int) -> None:
    print("Analysis of given orders. altermag warm: group-level caches (spin Laue group, form")
    print("factor, MSG type) filled, as in a screening; cold: those caches and the shipped BNS")
    print("and spin Laue group tables dropped before every call. Median CPU times in one process.")
    print(
        f"{'atoms':>6} {'warm (ms)':>10} {'cold (ms)':>10} {'spinspg (ms)':>13} "
        f"{'amcheck (ms)':>13}  verdict"
    )
    for n in (1, 2, 3, 4):
        s = supercell(n)
        t_am, runs = median_time(lambda s=s: analyze(s))

        def cold(s: MagneticStructure = s) -> object:
            clear_caches()
            return analyze(s)

        t_cold, _ = median_time(cold)
        verdict = analyze(s)
        row = f"{len(s):>6} {t_am * 1e3:>10.2f} {t_cold * 1e3:>10.2f}"
        try:
            t_sp, _ = median_time(run_spinspg(s))
            row += f" {t_sp * 1e3:>13.2f}"
        except ImportError:
            row += f" {'n/a':>13}"
        if len(s) <= amcheck_max_atoms:
            try:
                t_ac, _ = median_time(run_amcheck(s), budget=1.0, max_runs=5)
                row += f" {t_ac * 1e3:>13.1f}"
            except ImportError:
                row += f" {'n/a':>13}"
        else:
            row += f" {'skipped':>13}"
        print(
            f"{row}  {verdict.verdict} {verdict.wave} {verdict.spin_laue_group} ({runs} runs)  "
            f"{load()}"
        )
    print("targets: cold ≤ 5 ms at 6 atoms, ≤ 500 ms at 384 atoms")


if __name__ == "__main__":
    main()
