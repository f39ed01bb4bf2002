"""Wall time of a DFT ground-state search (``altermag dft groundstate``) and what dominates it.

Runs :func:`altermag.dft.groundstate.run_groundstate` with pw.x here (one MPI rank,
``OMP_NUM_THREADS=1``) on a ≤ 6-atom cell with ≤ 4 orders and prints, beside the load average
(``os.getloadavg()``: the machine is shared), per order: wall and CPU seconds of pw.x, SCF
iterations, irreducible k-points, plane-wave cut-off, and the total; then the ground state.
CPU time is the figure that does not depend on the load: wall ≈ CPU × (load / cores) when
the machine is oversubscribed. Target: the whole search within 6 minutes wall on the 2-core
development machine.

Usage: ``python benchmarks/bench_groundstate.py [--material mnf2|cro2|mnte|crsb] [--preset P]
[--set KEY=VALUE ...] [--workdir DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from pathlib import Path

import yaml

from altermag.dft.groundstate import run_groundstate
from altermag.dft.presets import load_preset
from tests.literature import crsb, mnf2, mnte, rutile

MATERIALS = {
    "mnf2": mnf2,
    "cro2": lambda: rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0),
    "mnte": mnte,
    "crsb": crsb,
}


def _scf_facts(out: Path) -> dict[str, object]:
    text = out.read_text(errors="replace") if out.is_file() else ""
    k = re.search(r"number of k points=\s*(\d+)", text)
    it = re.search(r"convergence has been achieved in\s+(\d+)\s+iterations", text)
    cpu = re.findall(r"PWSCF\s*:\s*(\S+)s CPU", text)
    ecut = re.search(r"kinetic-energy cutoff\s*=\s*([\d.]+)", text)
    return {
        "k_points": int(k.group(1)) if k else None,
        "iterations": int(it.group(1)) if it else None,
        "cpu_s": cpu[-1] if cpu else None,
        "ecutwfc_ry": float(ecut.group(1)) if ecut else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--material", default="mnf2", choices=sorted(MATERIALS))
    ap.add_argument("--preset", default="default")
    ap.add_argument("--set", dest="sets", action="append", default=[], help="KEY=VALUE")
    ap.add_argument("--max-orders", type=int, default=4)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    overrides = {k: yaml.safe_load(v) for k, v in (s.split("=", 1) for s in args.sets)}
    settings = load_preset(args.preset, overrides)
    structure = MATERIALS[args.material]()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-gs-"))
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    gs = run_groundstate(structure, settings, work, max_orders=args.max_orders, use_prior=False)
    wall = time.perf_counter() - t0
    load1 = os.getloadavg()
    print(
        f"{structure.formula}: {len(structure)} atoms, {len(gs.orders)} orders, preset "
        f"{args.preset} {overrides or ''}; load average {load0[0]:.1f} → {load1[0]:.1f} "
        f"on {os.cpu_count()} cores"
    )
    for o in gs.orders:
        facts = _scf_facts(Path(o.directory or "") / "scf.out")
        rel = o.relative_energy_mev_per_magnetic_atom
        print(
            f"  {o.label:5s} {o.status:10s} wall {o.wall_s or 0:7.1f} s  cpu {facts['cpu_s']} s  "
            f"iterations {facts['iterations']}  k-points {facts['k_points']}  "
            f"ecutwfc {facts['ecutwfc_ry']} Ry  ΔE {'' if rel is None else f'{rel:.1f}'} meV/atom"
        )
    print(f"  total wall {wall:.1f} s; ground state {json.dumps(gs.ground_state)}")


if __name__ == "__main__":
    main()
