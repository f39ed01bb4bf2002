"""Cut-off convergence of a magnetic energy difference: FM − AFM of rutile MnF2 (6 atoms).

The ground-state search compares total energies of magnetic orders of one cell; what must be
converged is their *difference*, not each total energy. This benchmark writes the SCF deck of
both orders of MnF2 (Mn at 2a with ±moments: the altermagnetic AFM; both up: FM) with the
default preset (:data:`altermag.dft.presets.DEFAULT_PRESET`, DFT+U on Mn since F is present,
the shipped SG15 norm-conserving pseudopotentials, dual 4), runs ``pw.x`` (one MPI rank) over
a series of ``ecutwfc`` and at the preset's own per-element cut-off, and prints

- E(FM) − E(AFM) per Mn (meV) at each cut-off and its difference from the highest cut-off
  (the reference); the preset passes when that difference is ≤ 2 meV per magnetic atom;
- that both SCFs converged and kept their order (site-moment signs), and the wall time;
- the load average before and after (other jobs on the machine inflate the wall time).

Usage: ``python benchmarks/bench_dft_convergence.py [--ecut 50 60 70 80 100] [--keep DIR]
[--json FILE] [--set KEY=VALUE ...]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import altermag
from altermag.dft.presets import DEFAULT_PRESET, load_preset
from altermag.dft.qe.inputs import qe_input_set
from altermag.dft.qe.parse import parse_pw_output
from altermag.dft.runner import run_process
from altermag.dft.settings import DftSettings
from tests.literature import mnf2

RY_EV = 13.605693122994
TOLERANCE_MEV = 2.0


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def total_energy_ev(scf_out: Path) -> float | None:
    """The last ``!    total energy`` of a pw.x output (Ry → eV)."""
    found = re.findall(r"^!\s+total energy\s+=\s+(-?\d+\.\d+)\s+Ry", scf_out.read_text(), re.M)
    return float(found[-1]) * RY_EV if found else None


def scf(folder: Path, structure, settings: DftSettings) -> dict:
    """Write and run the SCF deck of ``structure`` in ``folder``; energy, moments, time."""
    deck = qe_input_set(structure, altermag.analyze(structure), settings)
    deck.write(folder)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    rc, timed_out, wall = run_process(
        ["pw.x", "-in", "scf.in"], folder, folder / "scf.out", settings.timeouts.scf_s, env
    )
    out = parse_pw_output(folder / "scf.out")
    ecut = re.search(r"ecutwfc = (\S+)", deck.files["scf.in"])
    prepared = np.sign([m[2] for m in structure.magmoms])
    final = np.sign(np.round(out.site_moments, 1)) if out.site_moments else np.array([])
    kept = len(final) == len(prepared) and bool(
        np.all(final[prepared != 0] == prepared[prepared != 0])
    )
    return {
        "ecutwfc": float(ecut.group(1)) if ecut else None,
        "energy_ev": total_energy_ev(folder / "scf.out"),
        "converged": out.converged and rc == 0 and not timed_out,
        "order_kept": kept,
        "site_moments": out.site_moments,
        "wall_s": wall,
        "cpu_s": out.cpu_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ecut", type=float, nargs="*", default=[50.0, 60.0, 70.0, 80.0, 100.0])
    parser.add_argument("--keep", type=Path, default=None, help="work folder to keep")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--set", action="append", default=[], help="preset override KEY=VALUE")
    args = parser.parse_args()
    overrides = {k: yaml.safe_load(v) for k, v in (s.split("=", 1) for s in args.set)}
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_conv_"))
    base = load_preset(DEFAULT_PRESET, overrides)
    afm = mnf2()
    fm = afm.with_moments(np.abs(np.asarray(afm.magmoms)))
    n_mag = sum(1 for m in afm.magmoms if np.linalg.norm(m) > 0)
    print(f"preset {base.preset}: cut-off for MnF2 {base.qe.cutoffs(afm.species)} Ry")
    print(f"load average before: {_load()}")
    t0 = time.perf_counter()
    wfc, rho = base.qe.cutoffs(afm.species)
    series: list[tuple[str, DftSettings]] = [
        (
            f"{e:g}",
            base.with_overrides({"ecutwfc": e, "ecutrho": 4 * e, "ecutwfc_by_element": {}}),
        )
        for e in sorted(args.ecut)
        if (e, 4 * e) != (wfc, rho)
    ]
    series.append(("preset", base))
    series.sort(key=lambda item: item[1].qe.cutoffs(afm.species))
    rows = []
    for name, settings in series:
        a = scf(work / name / "afm", afm, settings)
        f = scf(work / name / "fm", fm, settings)
        ok = a["converged"] and f["converged"] and a["order_kept"] and f["order_kept"]
        diff = (
            (f["energy_ev"] - a["energy_ev"]) / n_mag * 1000
            if a["energy_ev"] is not None and f["energy_ev"] is not None
            else None
        )
        rows.append({"name": name, "afm": a, "fm": f, "ok": ok, "dE_mev_per_mn": diff})
        dE = f"{diff:9.2f}" if diff is not None else "      n/a"
        print(
            f"ecutwfc {a['ecutwfc']:6.1f} Ry: E_FM - E_AFM = {dE} meV/Mn, "
            f"converged+order kept: {ok}, wall {a['wall_s'] + f['wall_s']:.0f} s, "
            f"load {_load()}",
            flush=True,
        )
    ref = max(rows, key=lambda r: r["afm"]["ecutwfc"])
    print(f"reference: ecutwfc {ref['afm']['ecutwfc']} Ry")
    for r in rows:
        if r["dE_mev_per_mn"] is not None and ref["dE_mev_per_mn"] is not None:
            r["error_mev_per_mn"] = r["dE_mev_per_mn"] - ref["dE_mev_per_mn"]
            print(
                f"  {r['name']:>6} ({r['afm']['ecutwfc']:g} Ry): {r['dE_mev_per_mn']:8.2f} meV/Mn,"
                f" error {r['error_mev_per_mn']:+6.2f} meV/Mn"
            )
    preset_row = next(r for r in rows if r["name"] == "preset")
    err = preset_row.get("error_mev_per_mn")
    passed = err is not None and abs(err) <= TOLERANCE_MEV and preset_row["ok"]
    print(
        f"default preset ({preset_row['afm']['ecutwfc']:g} Ry): error {err} meV/Mn, "
        f"tolerance {TOLERANCE_MEV} meV/Mn -> {'PASS' if passed else 'FAIL'}"
    )
    print(f"total wall {time.perf_counter() - t0:.0f} s; load average after: {_load()}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "passed": passed}, indent=1))


if __name__ == "__main__":
    main()
