"""Convergence of a magnetic energy difference, FM − AFM of rutile MnF2, in cut-off or k-mesh.

The ground-state search compares total energies of magnetic orders of one cell; what must be
converged is their *difference*, not each total energy. This benchmark writes the SCF deck of
both orders of MnF2 (Mn at 2a with ±moments: the altermagnetic AFM; both up: FM) with the
default preset (:data:`altermag.dft.presets.DEFAULT_PRESET`, DFT+U on Mn since F is present,
the shipped SG15 norm-conserving pseudopotentials, dual 4), runs ``pw.x`` (one MPI rank) over
a series of ``ecutwfc`` and at the preset's own per-element cut-off, and prints

- E(FM) − E(AFM) per Mn (meV) at each cut-off and its difference from the highest cut-off
  (the reference); the preset passes when that difference is ≤ 2 meV per magnetic atom;
- with ``--kspacing S1 S2 …`` the same over k-meshes instead (Monkhorst–Pack from each
  spacing in 1/Å, 2π included; the smallest spacing is the reference) at the preset's
  cut-off (or one ``--set``), to choose the k-spacing of the ground-state energies;
- for each looser SCF threshold of ``--thresholds`` (Ry per atom), the difference pw.x would
  have returned had it stopped there, read from the iteration history of the same runs
  (the energy and estimated accuracy printed at every iteration: pw.x's path does not
  depend on ``conv_thr``, it only stops earlier), and the iterations that saves;
- that both SCFs converged and kept their order (site-moment signs), and the wall time;
- the load average before and after (other jobs on the machine inflate the wall time).

The basis-set error of an energy difference comes from the cores and hardly depends on the
k-mesh, so the series may run on a coarser mesh than the preset's (``--set
energy_kspacing=0.7``: 2×2×3, what docs/dft.md reports) without changing what it measures; the
k-point error of a difference, likewise, hardly depends on the cut-off, so a k-series may run
at a lower cut-off than the preset's. The decks are those of the ground-state search (the
preset's energy stage, :meth:`~altermag.dft.settings.DftSettings.for_energies`), and the two
orders of each row run at once (``--parallel``, one MPI rank each).

Usage: ``python benchmarks/bench_dft_convergence.py [--ecut 50 60 70 90 | --kspacing 0.7 0.5
0.35] [--parallel 2] [--keep DIR] [--json FILE] [--set KEY=VALUE ...]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import altermag
from altermag.dft.deck import kpoint_mesh
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


def history(scf_out: Path) -> list[tuple[float, float]]:
    """(total energy in eV, estimated SCF accuracy in Ry) at every iteration of a pw.x run."""
    pairs = re.findall(
        r"^[! ]\s+total energy\s+=\s+(-?\d+\.\d+) Ry\n\s+estimated scf accuracy\s+<\s+(\S+) Ry",
        scf_out.read_text(errors="replace"),
        re.M,
    )
    return [(float(e) * RY_EV, float(acc)) for e, acc in pairs]


def stopped_at(steps: list[tuple[float, float]], conv_thr: float) -> tuple[float, int] | None:
    """Energy (eV) and iteration count had pw.x stopped at ``conv_thr`` (Ry)."""
    return next(((e, i + 1) for i, (e, acc) in enumerate(steps) if acc < conv_thr), None)


def scf(folder: Path, structure, settings: DftSettings) -> dict:
    """Write and run the SCF deck of ``structure`` in ``folder``; energy, moments, time."""
    deck = qe_input_set(structure, altermag.analyze(structure), settings)
    deck.write(folder)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    rc, timed_out, wall = run_process(
        ["pw.x", "-in", "scf.in"], folder, folder / "scf.out", settings.timeouts.scf_s, env
    )
    out = parse_pw_output(folder / "scf.out")
    text = (folder / "scf.out").read_text(errors="replace")
    ecut = re.search(r"ecutwfc = (\S+)", deck.files["scf.in"])
    nk = re.search(r"number of k points=\s*(\d+)", text)
    iters = re.search(r"convergence has been achieved in\s+(\d+)\s+iterations", text)
    prepared = np.sign([m[2] for m in structure.magmoms])
    final = np.sign(np.round(out.site_moments, 1)) if out.site_moments else np.array([])
    kept = len(final) == len(prepared) and bool(
        np.all(final[prepared != 0] == prepared[prepared != 0])
    )
    return {
        "ecutwfc": float(ecut.group(1)) if ecut else None,
        "mesh": kpoint_mesh(structure, settings),
        "k_points": int(nk.group(1)) if nk else None,
        "iterations": int(iters.group(1)) if iters else None,
        "energy_ev": total_energy_ev(folder / "scf.out"),
        "converged": out.converged and rc == 0 and not timed_out,
        "order_kept": kept,
        "site_moments": out.site_moments,
        "wall_s": wall,
        "cpu_s": out.cpu_s,
        "history": history(folder / "scf.out"),
        "nat": len(structure),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ecut", type=float, nargs="*", default=[50.0, 60.0, 70.0, 80.0, 100.0])
    parser.add_argument(
        "--kspacing",
        type=float,
        nargs="*",
        default=None,
        help="scan these k-spacings (1/Å) at the preset's cut-off instead of cut-offs",
    )
    parser.add_argument(
        "--thresholds",
        type=float,
        nargs="*",
        default=[1e-7, 1e-6, 1e-5],
        help="looser SCF thresholds (Ry per atom) to read off the iteration history",
    )
    parser.add_argument("--parallel", type=int, default=2, help="SCFs at once (1 rank each)")
    parser.add_argument("--keep", type=Path, default=None, help="work folder to keep")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--set", action="append", default=[], help="preset override KEY=VALUE")
    args = parser.parse_args()
    overrides = {k: yaml.safe_load(v) for k, v in (s.split("=", 1) for s in args.set)}
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_conv_"))
    base = load_preset(DEFAULT_PRESET, overrides)
    energies = base.for_energies()
    afm = mnf2()
    fm = afm.with_moments(np.abs(np.asarray(afm.magmoms)))
    n_mag = sum(1 for m in afm.magmoms if np.linalg.norm(m) > 0)
    print(
        f"preset {base.preset} {overrides or ''}: energy stage of MnF2 at "
        f"{energies.qe.cutoffs(afm.species)} Ry, mesh {kpoint_mesh(afm, energies)}, "
        f"conv_thr {energies.conv_thr_per_atom:g} Ry/atom"
    )
    print(f"load average before: {_load()}")
    t0 = time.perf_counter()
    wfc, rho = energies.qe.cutoffs(afm.species)
    series: list[tuple[str, DftSettings]]
    if args.kspacing:
        # the reference (densest mesh) last; the preset's own mesh as one row
        series = [
            (f"{k:g}/Å", energies.with_overrides({"kpoints": None, "kspacing": k}))
            for k in sorted(args.kspacing, reverse=True)
        ]
        if all(kpoint_mesh(afm, st) != kpoint_mesh(afm, energies) for _, st in series):
            series.append(("preset", energies))
        series.sort(key=lambda item: int(np.prod(kpoint_mesh(afm, item[1]))))
        size = lambda r: int(np.prod(r["afm"]["mesh"]))  # noqa: E731
    else:
        series = [
            (
                f"{e:g}",
                energies.with_overrides({"ecutwfc": e, "ecutrho": 4 * e, "ecutwfc_by_element": {}}),
            )
            for e in sorted(args.ecut)
            if (e, 4 * e) != (wfc, rho)
        ]
        series.append(("preset", energies))
        series.sort(key=lambda item: item[1].qe.cutoffs(afm.species))
        size = lambda r: r["afm"]["ecutwfc"]  # noqa: E731
    rows = []
    for name, settings in series:
        with ThreadPoolExecutor(max_workers=max(1, args.parallel)) as pool:
            fa = pool.submit(scf, work / name.replace("/", "_") / "afm", afm, settings)
            ff = pool.submit(scf, work / name.replace("/", "_") / "fm", fm, settings)
            a, f = fa.result(), ff.result()
        ok = a["converged"] and f["converged"] and a["order_kept"] and f["order_kept"]
        diff = (
            (f["energy_ev"] - a["energy_ev"]) / n_mag * 1000
            if a["energy_ev"] is not None and f["energy_ev"] is not None
            else None
        )
        rows.append({"name": name, "afm": a, "fm": f, "ok": ok, "dE_mev_per_mn": diff})
        dE = f"{diff:9.2f}" if diff is not None else "      n/a"
        print(
            f"{name:>8}: ecutwfc {a['ecutwfc']:g} Ry, mesh {a['mesh']} ({a['k_points']} / "
            f"{f['k_points']} k-points AFM / FM): E_FM - E_AFM = {dE} meV/Mn, "
            f"converged+order kept: {ok}, iterations {a['iterations']} / {f['iterations']}, "
            f"CPU {a['cpu_s']} + {f['cpu_s']} s, wall {max(a['wall_s'], f['wall_s']):.0f} s, "
            f"load {_load()}",
            flush=True,
        )
        for thr in args.thresholds:
            sa = stopped_at(a["history"], thr * a["nat"])
            sf = stopped_at(f["history"], thr * f["nat"])
            if sa and sf:
                print(
                    f"{'':>10}stopped at conv_thr {thr:g} Ry/atom: "
                    f"{(sf[0] - sa[0]) / n_mag * 1000:9.2f} meV/Mn after {sa[1]} / {sf[1]} "
                    f"iterations",
                    flush=True,
                )
    ref = max(rows, key=size)
    print(
        f"reference: {ref['name']} (ecutwfc {ref['afm']['ecutwfc']} Ry, mesh {ref['afm']['mesh']})"
    )
    for r in rows:
        if r["dE_mev_per_mn"] is not None and ref["dE_mev_per_mn"] is not None:
            r["error_mev_per_mn"] = r["dE_mev_per_mn"] - ref["dE_mev_per_mn"]
            print(
                f"  {r['name']:>8} ({r['afm']['ecutwfc']:g} Ry, {r['afm']['mesh']}): "
                f"{r['dE_mev_per_mn']:8.2f} meV/Mn, error {r['error_mev_per_mn']:+6.2f} meV/Mn"
            )
    preset_mesh = kpoint_mesh(afm, energies)
    preset_row = next((r for r in rows if r["name"] == "preset"), None) or next(
        (r for r in rows if r["afm"]["mesh"] == preset_mesh), rows[0]
    )
    err = preset_row.get("error_mev_per_mn")
    passed = err is not None and abs(err) <= TOLERANCE_MEV and preset_row["ok"]
    print(
        f"default preset ({preset_row['afm']['ecutwfc']:g} Ry, {preset_row['afm']['mesh']}): "
        f"error {err} meV/Mn, tolerance {TOLERANCE_MEV} meV/Mn -> "
        f"{'PASS' if passed else 'FAIL'}"
    )
    print(f"total wall {time.perf_counter() - t0:.0f} s; load average after: {_load()}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "passed": passed}, indent=1))


if __name__ == "__main__":
    main()
