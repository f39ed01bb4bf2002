"""VASP side of the ground-state search: one SCF deck per order and reading its outputs.

Each order's folder is the verify deck's ``scf/`` step (:func:`altermag.dft.vasp.inputs.
scf_files`: the keys of pymatgen's ``MPStaticSet`` for a magnetic transition-metal compound,
DFT+U as the preset says), so every order of a material shares the POSCAR cell, KPOINTS,
ENCUT, smearing, U and POTCARs, and the decks differ in ``MAGMOM`` only. VASP writes its
sites grouped by element (POSCAR order); ``order.json`` keeps that order
(``poscar_sites``) so the OUTCAR's site moments are judged against the imposed signs of the
right sites.

The finished run is read from ``OUTCAR``: the last ``energy(sigma->0)`` (eV, the total
energy extrapolated to zero smearing, as pymatgen's ``Outcar.final_energy``; with the
tetrahedron method of these decks, ``ISMEAR = -5``, it equals ``TOTEN``), VASP's normal end
(the timing section), whether the last electronic loop reached EDIFF, and the site moments of
the ``magnetization (x)`` table (``LORBIT = 11`` in these decks). An OUTCAR without site
moments cannot show whether the order survived, and the order is not compared.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Sequence
from pathlib import Path

from altermag.dft.groundstate.contract import OrderEnergy
from altermag.dft.groundstate.judge import ScfFacts, judge_scf
from altermag.dft.groundstate.orders import OrderPlan
from altermag.dft.settings import DftSettings

__all__ = ["read_vasp_order", "vasp_order_files", "vasp_scf_facts"]

_SIGMA0 = re.compile(r"energy\(sigma->0\)\s*=\s*([-+]?\d+\.\d+)")
_ELAPSED = re.compile(r"Elapsed time \(sec\):\s+([\d.]+)")
_DONE = "General timing and accounting"


def vasp_order_files(plan: OrderPlan, settings: DftSettings) -> dict[str, str]:
    """The VASP SCF deck of one order: ``POSCAR``, ``INCAR``, ``KPOINTS``, ``POTCAR.spec``
    (and ``POTCAR`` when ``ALTERMAG_VASP_PSP_DIR`` points at a POTCAR folder, else
    ``MISSING`` says so), ``run.sh`` (the site's VASP command) and ``order.json``."""
    from altermag.dft.vasp.inputs import poscar_site_order, scf_files
    from altermag.dft.vasp.run import launched, vasp_command
    from altermag.hpc.slurm import local_script

    files = scf_files(plan.structure, settings)
    exe = launched(vasp_command(settings), "mpirun", settings.resources.ntasks)
    files["run.sh"] = local_script([f"{exe} > vasp.out 2>&1"], env={"OMP_NUM_THREADS": "1"})
    files["order.json"] = json.dumps(
        {**plan.to_json(), "poscar_sites": poscar_site_order(plan.structure)}, indent=1
    )
    if "POTCAR" not in files:
        files["MISSING"] = (
            "no POTCAR folder here (ALTERMAG_VASP_PSP_DIR): POTCAR.spec names the POTCARs\n"
        )
    return files


def _text(path: Path) -> str:
    if path.suffix == ".gz":
        return gzip.decompress(path.read_bytes()).decode(errors="replace")
    return path.read_text(errors="replace")


def vasp_scf_facts(outcar: Path) -> ScfFacts:
    """The numbers of one finished (or stopped) VASP SCF from its ``OUTCAR``; site moments
    in POSCAR order (empty without ``LORBIT`` ≥ 10)."""
    from altermag.dft.vasp.parse import VaspOutputError, outcar_converged, read_outcar

    text = _text(outcar)
    energies = _SIGMA0.findall(text)
    elapsed = _ELAPSED.findall(text)
    errors: list[str] = []
    try:
        moments = read_outcar(outcar).site_moments
    except VaspOutputError as exc:
        moments, errors = [], [str(exc)]
    return ScfFacts(
        energy_ev=float(energies[-1]) if energies else None,
        finished=_DONE in text,
        converged=outcar_converged(outcar),
        final_moments=[float(m) for m in moments],
        errors=errors,
        wall_s=float(elapsed[-1]) if elapsed else None,
    )


def read_vasp_order(
    folder: Path,
    plan: OrderPlan,
    settings: DftSettings,
    others: Sequence[tuple[str, Sequence[int]]] = (),
) -> OrderEnergy:
    """Read one order's ``OUTCAR`` and judge it (:func:`~altermag.dft.groundstate.judge.
    judge_scf`), the site moments put back from POSCAR order into the order's site order."""
    from altermag.dft.vasp.inputs import poscar_site_order

    outcar = next((p for p in (folder / "OUTCAR", folder / "OUTCAR.gz") if p.is_file()), None)
    if outcar is None:
        return plan.outcome("failed", folder, message="no OUTCAR")
    facts = vasp_scf_facts(outcar)
    order = poscar_site_order(plan.structure)
    if facts.energy_ev is not None and facts.finished and len(facts.final_moments) != len(order):
        return plan.outcome(
            "failed",
            folder,
            facts.energy_ev,
            [],
            f"the OUTCAR has {len(facts.final_moments)} site moments for {len(order)} sites "
            "(LORBIT >= 10 writes them): whether the order survived cannot be told",
            wall_s=facts.wall_s,
        )
    if len(facts.final_moments) == len(order):
        final = [0.0] * len(order)
        for k, site in enumerate(order):
            final[site] = facts.final_moments[k]
        facts.final_moments = final
    return judge_scf(plan, facts, folder, settings.thresholds.moment_min, others, "VASP")
