"""Speed of the exact spin-group analysis vs spinspg and amcheck on MnF2 supercells.

Prints the median in-process wall time of ``altermag.analyze`` (full result: verdict, spin
Laue group, wave, form factor, nodal planes, MSG) for 6-atom MnF2 and its 2×2×2 (48), 3×3×3
(162) and 4×4×4 (384-atom) supercells, and in the same run the time of spinspg's spin-group
search and amcheck's altermagnet test (spglib symmetry included) on the same structures.
Targets: ≤ 5 ms for 6 atoms, ≤ 0.5 s for 384 atoms.

Usage: ``python benchmarks/bench_symmetry.py [--amcheck-max-atoms N]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import spglib

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from altermag import MagneticStructure, analyze
from altermag.symmetry.spin_group import clear_caches
from tests.literature import mnf2


def supercell(n: int) -> MagneticStructure:
    s = mnf2().to_pymatgen()
    s.make_supercell((n, n, n))
    return MagneticStructure.from_pymatgen(s)


def median_time(
    fn: Callable[[], object], budget: float = 2.0, max_runs: int = 50
) -> tuple[float, int]:
    fn()  # warm-up (imports, caches)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max_runs and (not times or time.perf_counter() - start < budget):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
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
    args = parser.parse_args()
    print("altermag warm: group-level caches (spin Laue group, form factor, MSG type) filled,")
    print("as in a screening; cold: caches cleared before every call.")
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
        if len(s) <= args.amcheck_max_atoms:
            try:
                t_ac, _ = median_time(run_amcheck(s), budget=1.0, max_runs=5)
                row += f" {t_ac * 1e3:>13.1f}"
            except ImportError:
                row += f" {'n/a':>13}"
        else:
            row += f" {'skipped':>13}"
        print(f"{row}  {verdict.verdict} {verdict.wave} {verdict.spin_laue_group} ({runs} runs)")


if __name__ == "__main__":
    main()
