"""Wall and CPU time of a DFT ground-state search (``altermag dft groundstate``) and what dominates.

Runs :func:`altermag.dft.groundstate.run_groundstate` with pw.x here (one MPI rank per order,
``OMP_NUM_THREADS=1``, up to ``--parallel`` orders at once) on a ≤ 6-atom cell with ≤ 4
orders at the default preset (:data:`altermag.dft.presets.DEFAULT_PRESET`) and prints

- the load average (1 min) before, during (mean and largest of samples every 5 s) and after:
  the machine is shared, and wall ≈ CPU × load / cores once it is oversubscribed;
- per order: pw.x wall and CPU seconds, SCF iterations, irreducible k-points (spin
  channels not counted), plane waves and FFT grid, CPU per iteration, the share of pw.x's
  CPU spent in the Davidson diagonalisation (``c_bands``, whose cost is the FFTs of
  ``vloc_psi``: k-points × spins × bands × FFT size per iteration) against the rest, and the
  energy above the ground state;
- the total: wall, CPU of the pw.x processes and of this Python process, and the verdict.

Target (docs/dft.md): the whole search of MnF2 (6 atoms) within 6 minutes wall on the 2-core
development machine.

Usage: ``python benchmarks/bench_groundstate.py [--material mnf2|cro2|mnte|crsb] [--preset P]
[--set KEY=VALUE ...] [--parallel N] [--max-orders N] [--workdir DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from altermag.dft.groundstate import run_groundstate
from altermag.dft.presets import DEFAULT_PRESET, load_preset
from tests.literature import crsb, mnf2, mnte, rutile

MATERIALS = {
    "mnf2": mnf2,
    "cro2": lambda: rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0),
    "mnte": mnte,
    "crsb": crsb,
}

_CLOCK = re.compile(r"^\s+(\w+)\s+:\s+(\S+?)s CPU\s+(\S+?)s WALL", re.M)


def _seconds(text: str) -> float:
    """pw.x's clock format (``1h 2m``, ``1m13.27``, ``41.2``) in seconds."""
    total = 0.0
    for value, unit in re.findall(r"([\d.]+)([hm]?)", text.replace(" ", "")):
        total += float(value) * {"h": 3600.0, "m": 60.0, "": 1.0}[unit]
    return total


def scf_facts(out: Path) -> dict[str, object]:
    """What one pw.x SCF cost and why: iterations, k-points, basis, FFT grid, clocks."""
    text = out.read_text(errors="replace") if out.is_file() else ""

    def num(pattern: str) -> int | None:
        m = re.search(pattern, text)
        return int(m.group(1)) if m else None

    clocks = {name: _seconds(cpu) for name, cpu, _wall in _CLOCK.findall(text)}
    fft = re.search(r"FFT dimensions: \(\s*(\d+),\s*(\d+),\s*(\d+)\)", text)
    pw = re.search(r"^\s*Sum\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+\s+(\d+)", text, re.M)
    return {
        "k_points": num(r"number of k points=\s*(\d+)"),
        "iterations": num(r"convergence has been achieved in\s+(\d+)\s+iterations"),
        "bands": num(r"number of Kohn-Sham states=\s*(\d+)"),
        "plane_waves": int(pw.group(1)) if pw else None,
        "fft": tuple(int(x) for x in fft.groups()) if fft else None,
        "cpu_s": clocks.get("PWSCF"),
        "init_s": clocks.get("init_run"),
        "c_bands_s": clocks.get("c_bands"),
        "sum_band_s": clocks.get("sum_band"),
        "fftw_s": clocks.get("fftw"),
        "ecutwfc_ry": float(m.group(1))
        if (m := re.search(r"kinetic-energy cutoff\s*=\s*([\d.]+)", text))
        else None,
    }


class LoadSampler(threading.Thread):
    """The 1-minute load average every ``every`` seconds while the search runs."""

    def __init__(self, every: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.every, self.samples = every, [os.getloadavg()[0]]
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--material", default="mnf2", choices=sorted(MATERIALS))
    ap.add_argument("--preset", default=DEFAULT_PRESET)
    ap.add_argument("--set", dest="sets", action="append", default=[], help="KEY=VALUE")
    ap.add_argument("--max-orders", type=int, default=4)
    ap.add_argument(
        "--parallel", type=int, default=None, help="orders at once (default: the cores)"
    )
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    overrides = {k: yaml.safe_load(v) for k, v in (s.split("=", 1) for s in args.sets)}
    settings = load_preset(args.preset, overrides)
    structure = MATERIALS[args.material]()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-gs-"))
    load0 = os.getloadavg()
    sampler = LoadSampler()
    sampler.start()
    t0, c0 = time.perf_counter(), time.process_time()
    gs = run_groundstate(
        structure,
        settings,
        work,
        max_orders=args.max_orders,
        use_prior=False,
        parallel=args.parallel,
        progress=lambda msg: print(f"  {msg}", flush=True),
    )
    wall, py_cpu = time.perf_counter() - t0, time.process_time() - c0
    sampler.stop()
    load1 = os.getloadavg()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    loads = sampler.samples
    print(
        f"{structure.formula}: {len(structure)} atoms, {len(gs.orders)} orders, preset "
        f"{settings.preset} {overrides or ''}, parallel {args.parallel or 'default'}; "
        f"load average (1 min) {load0[0]:.1f} before, {sum(loads) / len(loads):.1f} mean / "
        f"{max(loads):.1f} max during, {load1[0]:.1f} after, on {os.cpu_count()} cores"
    )
    total_pw_cpu = 0.0
    c_bands = 0.0
    for o in gs.orders:
        f = scf_facts(Path(o.directory or "") / "scf.out")
        rel = o.relative_energy_mev_per_magnetic_atom
        cpu = float(f["cpu_s"] or 0.0)  # type: ignore[arg-type]
        total_pw_cpu += cpu
        c_bands += float(f["c_bands_s"] or 0.0)  # type: ignore[arg-type]
        it = f["iterations"]
        per_it = cpu / it if isinstance(it, int) and it else float("nan")
        share = 100.0 * float(f["c_bands_s"] or 0.0) / cpu if cpu else float("nan")  # type: ignore[arg-type]
        print(
            f"  {o.label:5s} {o.status:10s} wall {o.wall_s or 0:7.1f} s  cpu {cpu:7.1f} s  "
            f"iterations {it}  ({per_it:.1f} s CPU each)  k-points {f['k_points']}  "
            f"bands {f['bands']}  plane waves {f['plane_waves']}  FFT {f['fft']}  "
            f"ecutwfc {f['ecutwfc_ry']} Ry  diagonalisation {share:.0f} % "
            f"(FFTs {f['fftw_s']} s), init {f['init_s']} s  "
            f"ΔE {'—' if rel is None else f'{rel:.2f}'} meV/magnetic atom  "
            f"moments {' '.join(f'{m:+.2f}' for m in o.final_moments)}"
        )
    print(
        f"  total wall {wall:.1f} s ({wall / 60:.2f} min); pw.x CPU {total_pw_cpu:.1f} s "
        f"(children rusage {children.ru_utime + children.ru_stime:.1f} s), Python CPU "
        f"{py_cpu:.1f} s; diagonalisation {100 * c_bands / max(total_pw_cpu, 1e-9):.0f} % "
        f"of pw.x CPU"
    )
    print(f"  ground state {json.dumps(gs.ground_state)}; verdict {gs.verdict}")


if __name__ == "__main__":
    main()
