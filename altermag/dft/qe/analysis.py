"""From a folder of Quantum ESPRESSO outputs to a :class:`~altermag.dft.verdict.DFTVerdict`.

Reading is QE's own (:mod:`altermag.dft.qe.parse`); the judging is the code-neutral
:func:`altermag.dft.judging.judge_run`. The prediction comes from ``spin_group.json`` when
altermag prepared the folder; otherwise the
structure and the prepared up/down order are read back from the XML (species and their
``starting_magnetization``) and classified with :func:`altermag.analyze`. The k-points of the
bands run are cut into segments named after the high-symmetry points of that cell
(:func:`~altermag.dft.kpath.build_kpath`), and each segment's expected behaviour is decided
by the form factor evaluated on its own k-points, so paths altermag did not write are judged
the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from altermag.dft.judging import BandRun, judge_run, load_settings
from altermag.dft.kpath import KPath
from altermag.dft.qe.checks import qe_problems
from altermag.dft.qe.parse import (
    QEBands,
    QEOutputError,
    QETextOutput,
    find_qe_files,
    parse_pw_output,
    read_qe_xml,
)
from altermag.dft.verdict import DFTVerdict
from altermag.result import SpinGroupResult
from altermag.structure import MagneticStructure

__all__ = ["QEAnalysis", "analyze_qe", "structure_from_qe"]


def structure_from_qe(bands: QEBands, saturation: float = 5.0) -> MagneticStructure:
    """The prepared magnetic structure: moments = starting_magnetization × ``saturation``."""
    moments = [bands.starting_magnetization.get(x, 0.0) * saturation for x in bands.labels]
    return MagneticStructure(
        bands.lattice, tuple(bands.elements), bands.frac_coords, np.asarray(moments), label="qe"
    )


@dataclass
class QEAnalysis:
    """Everything read and derived from one QE folder."""

    verdict: DFTVerdict
    bands: QEBands
    scf: QETextOutput | None
    structure: MagneticStructure
    prediction: SpinGroupResult
    kpath: KPath
    ranges: list[tuple[int, int, str, str]]
    splitting: np.ndarray
    """Largest splitting per band k-point within the window (eV)."""
    fermi_energy: float


def analyze_qe(directory: Path, overrides: Mapping[str, Any] | None = None) -> QEAnalysis:
    """Parse the QE run in ``directory`` and judge it against the spin-group prediction.

    Parameters
    ----------
    directory
        Folder with ``<prefix>.save/data-file-schema.xml`` somewhere below it and the pw.x text
        outputs (``scf.out``, ``bands.out``) beside the ``.save`` folder or in ``directory``.
    overrides
        Threshold overrides (``split_min_ev``, ``noise_ev``, ``window_ev``…).
    """
    settings = load_settings(directory, overrides)
    files = find_qe_files(directory)
    bands = read_qe_xml(files.xml)
    if bands.calculation not in ("bands", "nscf", ""):
        raise QEOutputError(
            f"{files.xml} holds a '{bands.calculation}' run: splittings need the bands step "
            "(calculation = 'bands' along a k-path)"
        )
    scf = parse_pw_output(files.scf_out) if files.scf_out else None
    structure = structure_from_qe(bands, settings.moment_saturation)
    warnings: list[str] = []
    problems = qe_problems(directory, bands, files.scf_out, scf.job_done if scf else None)
    fermi = scf.fermi_energy if scf and scf.fermi_energy is not None else bands.fermi_energy
    if fermi is None:
        problems.append(f"no Fermi energy in {(files.scf_out or files.xml).name}")
        fermi = 0.0
    if scf is None:
        warnings.append("no SCF text output found: convergence and moments unknown")
    moments = list(scf.site_moments) if scf else []
    if scf and not moments:
        warnings.append("no site moments in the SCF output")
    run = BandRun(
        structure=structure,
        kpoints=bands.kpoints,
        eigenvalues_up=bands.eigenvalues_up,
        eigenvalues_down=bands.eigenvalues_down,
        fermi=fermi,
        converged=bool(scf.converged) if scf else bool(bands.converged),
        moments=moments,
        total_moment=scf.total_magnetization if scf else bands.total_magnetization,
        absolute_moment=scf.absolute_magnetization if scf else bands.absolute_magnetization,
        prepared_moments=[bands.starting_magnetization.get(x, 0.0) for x in bands.labels],
        code="qe",
        warnings=warnings,
        problems=problems,
    )
    j = judge_run(directory, run, settings)
    return QEAnalysis(
        j.verdict, bands, scf, structure, j.prediction, j.kpath, j.ranges, j.splitting, fermi
    )
