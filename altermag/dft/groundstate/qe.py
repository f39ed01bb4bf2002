"""Quantum ESPRESSO side of the ground-state search: one pw.x SCF deck per order, running
pw.x here, reading an order's ``scf.out``, and the optional variable-cell relaxation.

The SCF deck of an order is the verify deck's ``scf.in`` (:func:`altermag.dft.qe.inputs.
qe_input_set`), so energies and band checks share settings. A ``vc-relax`` costs about 5–15
SCF cycles of the same cell (one per ionic step), i.e. several times one order's energy.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from altermag.dft.groundstate.contract import RY_EV, OrderEnergy
from altermag.dft.groundstate.judge import ScfFacts, judge_scf
from altermag.dft.groundstate.orders import OrderPlan
from altermag.dft.settings import DftSettings
from altermag.structure import MagneticStructure

__all__ = [
    "RELAX_PRESSURE_KBAR",
    "RUN_SH",
    "qe_order_files",
    "read_order",
    "read_relaxed",
    "relax_cell",
    "run_pw",
    "write_files",
]

RUN_SH = '#!/bin/sh\nset -e\ncd "$(dirname "$0")"\nOMP_NUM_THREADS=1 pw.x -in scf.in > scf.out\n'
"""The order folder's ``run.sh``: one pw.x SCF, one MPI rank."""

_ENERGY = re.compile(r"^!\s+total energy\s+=\s+([-+]?\d+\.\d+)\s+Ry", re.M)


def write_files(folder: Path, files: dict[str, str]) -> None:
    """Write a deck's files (names may hold sub-folders, e.g. ``pseudo/Mn.upf``) into
    ``folder``; ``run.sh`` is made executable."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    if "run.sh" in files:
        (folder / "run.sh").chmod(0o755)


def qe_order_files(
    plan: OrderPlan, settings: DftSettings, calculation: str = "scf"
) -> dict[str, str]:
    """The pw.x deck of one order (``scf.in``, ``run.sh``, ``order.json`` and the
    pseudopotentials when they travel with it; ``MISSING`` names absent ones).

    ``calculation="vc-relax"`` turns the SCF into a spin-polarised variable-cell relaxation
    (forces below 1e-3 Ry/bohr, pressure below 0.5 kbar).
    """
    from altermag.dft.qe.inputs import qe_input_set

    deck = qe_input_set(plan.structure, plan.result, settings, allow_missing_pseudos=True)
    scf = deck.files["scf.in"]
    if calculation == "vc-relax":
        scf = scf.replace("calculation = 'scf'", "calculation = 'vc-relax'")
        scf = scf.replace("&ELECTRONS", "  forc_conv_thr = 1.0d-3\n/\n&ELECTRONS", 1)
        scf = re.sub(
            r"/\nATOMIC_SPECIES",
            "/\n&IONS\n/\n&CELL\n  press_conv_thr = 0.5\n/\nATOMIC_SPECIES",
            scf,
            count=1,
        )
    files = {
        "scf.in": scf,
        "run.sh": RUN_SH,
        "order.json": json.dumps(plan.to_json(), indent=1),
    }
    # the pseudopotentials travel with the deck when it names a relative folder (pseudo/)
    files.update({k: v for k, v in deck.files.items() if k.startswith("pseudo/")})
    if deck.missing:
        files["MISSING"] = "no pseudopotential here for " + ", ".join(deck.missing) + "\n"
    return files


def read_order(
    folder: Path,
    plan: OrderPlan,
    settings: DftSettings,
    others: Sequence[tuple[str, Sequence[int]]] = (),
) -> OrderEnergy:
    """Read one order's ``scf.out`` and judge it (:func:`~altermag.dft.groundstate.judge.
    judge_scf`): the last ``!  total energy`` (Ry → eV), ``JOB DONE``, convergence and the
    final site moments."""
    from altermag.dft.qe.parse import parse_pw_output

    out = folder / "scf.out"
    if not out.is_file():
        return plan.outcome("failed", folder, message="no scf.out")
    energies = _ENERGY.findall(out.read_text(errors="replace"))
    parsed = parse_pw_output(out)
    facts = ScfFacts(
        energy_ev=float(energies[-1]) * RY_EV if energies else None,
        finished=parsed.job_done,
        converged=parsed.converged,
        final_moments=[float(m) for m in parsed.site_moments],
        errors=list(parsed.errors),
        wall_s=parsed.wall_s,
    )
    return judge_scf(plan, facts, folder, settings.thresholds.moment_min, others, "pw.x")


def run_pw(folder: Path, timeout: float, pw: str = "pw.x") -> None:
    """Run ``pw.x -in scf.in > scf.out`` in ``folder`` (one MPI rank, one thread); a run
    stopped at ``timeout`` seconds says so in ``scf.out``. The wavefunctions are removed."""
    import os
    import subprocess

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with (folder / "scf.in").open() as fin, (folder / "scf.out").open("w") as fout:
        try:
            subprocess.run(
                [pw],
                stdin=fin,
                stdout=fout,
                stderr=subprocess.STDOUT,
                cwd=folder,
                env=env,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            fout.write(f"\n%%%%%\naltermag: pw.x stopped after {timeout:g} s\n%%%%%\n")
    shutil.rmtree(folder / "out", ignore_errors=True)  # wavefunctions: large, not needed


RELAX_PRESSURE_KBAR = 20.0
"""kbar: the largest |pressure| the final SCF of a vc-relax (pw.x recomputes it with a fresh
plane-wave basis at the relaxed cell) may show for the relaxed cell to be used. A larger one
means the basis was too small for the stress (Pulay stress): the relaxation followed a
basis-set error, not the crystal, and the input cell is kept."""


def relax_cell(
    plan: OrderPlan, settings: DftSettings, folder: Path, timeout: float
) -> tuple[MagneticStructure, dict[str, Any]]:
    """One spin-polarised vc-relax in ``plan``'s order, then :func:`read_relaxed`."""
    write_files(folder, qe_order_files(plan, settings, "vc-relax"))
    run_pw(folder, timeout)
    return read_relaxed(folder, plan)


def read_relaxed(folder: Path, plan: OrderPlan) -> tuple[MagneticStructure, dict[str, Any]]:
    """The relaxed cell of a vc-relax's ``scf.out`` (moments dropped) and what happened:
    ``status`` ``relaxed``, ``failed`` (no final coordinates) or ``rejected`` (the final SCF's
    |pressure| above :data:`RELAX_PRESSURE_KBAR`: the input cell is returned), with
    ``volume_change``, ``final_pressure_kbar``, ``ionic_steps``, ``scf_cycles``, ``wall_s``
    and ``cpu_s``."""
    from altermag.dft.qe.parse import parse_pw_output

    text = (folder / "scf.out").read_text(errors="replace")
    parsed = parse_pw_output(folder / "scf.out")
    info: dict[str, Any] = {
        "order": plan.label,
        "wall_s": parsed.wall_s,
        "cpu_s": parsed.cpu_s,
        "directory": str(folder),
        "ionic_steps": len(re.findall(r"number of bfgs steps", text)),
        "scf_cycles": len(re.findall(r"convergence has been achieved", text)),
    }
    cells = re.findall(r"CELL_PARAMETERS \(angstrom\)\n((?:.*\n){3})", text)
    n_at = len(plan.structure)
    pos = re.findall(r"ATOMIC_POSITIONS \(crystal\)\n((?:.*\n){" + str(n_at) + "})", text)
    if "End final coordinates" not in text or not cells or not pos:
        info["status"] = "failed"
        return plan.structure, info
    lattice = np.array([[float(x) for x in row.split()] for row in cells[-1].splitlines()])
    frac = np.array([[float(x) for x in row.split()[1:4]] for row in pos[-1].splitlines()])
    info["volume_change"] = float(
        abs(np.linalg.det(lattice)) / abs(np.linalg.det(np.asarray(plan.structure.lattice))) - 1
    )
    pressures = re.findall(r"\(kbar\)\s+P=\s*([-+]?\d+\.?\d*)", text)
    final_p = float(pressures[-1]) if pressures else None
    info["final_pressure_kbar"] = final_p
    if final_p is None or abs(final_p) > RELAX_PRESSURE_KBAR:
        info["status"] = "rejected"
        info["reason"] = (
            f"the final SCF at the relaxed cell has P = {final_p} kbar (more than "
            f"{RELAX_PRESSURE_KBAR:g} kbar): the plane-wave basis is too small for the stress, "
            "so the relaxation followed a basis-set error; the input cell is kept"
        )
        return plan.structure, info
    relaxed = MagneticStructure(
        lattice=lattice,
        species=tuple(plan.structure.species),
        frac_coords=frac,
        magmoms=None,
        label=plan.structure.label,
    )
    info["status"] = "relaxed"
    return relaxed, info
