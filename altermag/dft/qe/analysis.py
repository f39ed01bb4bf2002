"""From a folder of Quantum ESPRESSO outputs to a :class:`~altermag.dft.verdict.DFTVerdict`.

The prediction comes from ``spin_group.json`` when altermag prepared the folder; otherwise the
structure and the prepared up/down order are read back from the XML (species and their
``starting_magnetization``) and classified with :func:`altermag.analyze`. The k-points of the
bands run are cut into segments named after the high-symmetry points of that cell
(:func:`~altermag.dft.kpath.build_kpath`), and each segment's expected behaviour is decided
by the form factor evaluated on its own k-points, so paths altermag did not write are judged
the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from altermag.dft.kpath import NODAL_TOL, FormFactor, KPath, build_kpath, interior_mask
from altermag.dft.presets import load_preset
from altermag.dft.qe.parse import (
    QEBands,
    QEOutputError,
    QETextOutput,
    find_qe_files,
    parse_pw_output,
    read_qe_xml,
)
from altermag.dft.splitting import band_gaps, segment_ranges, splitting_per_k
from altermag.dft.verdict import S_WAVE, DFTVerdict, SegmentSplitting, judge
from altermag.result import SpinGroupResult
from altermag.structure import MagneticStructure

__all__ = [
    "BandRun",
    "Judged",
    "QEAnalysis",
    "analyze_qe",
    "judge_bands",
    "judge_run",
    "load_settings",
    "moments_follow_order",
    "structure_from_qe",
]


def structure_from_qe(bands: QEBands, saturation: float = 5.0) -> MagneticStructure:
    """The prepared magnetic structure: moments = starting_magnetization × ``saturation``."""
    moments = [bands.starting_magnetization.get(x, 0.0) * saturation for x in bands.labels]
    return MagneticStructure(
        bands.lattice, tuple(bands.elements), bands.frac_coords, moments, label="qe"
    )


def moments_follow_order(prepared: list[float], moments: list[float]) -> bool:
    """True when the computed site moments keep the prepared up/down pattern.

    Only sites prepared with a moment count; a global flip of every moment is the same
    order. Unknown moments (none, or a different number of sites) count as kept.
    """
    start = np.asarray(prepared, float)
    if not moments or len(moments) != len(start):
        return True
    mag = np.abs(start) > 1e-6
    s_dft = np.sign(np.asarray(moments, float)[mag])
    s_set = np.sign(start[mag])
    return bool(np.all(s_dft == s_set) or np.all(s_dft == -s_set))


def judge_bands(
    structure: MagneticStructure,
    prediction: SpinGroupResult,
    kpoints: np.ndarray,
    eigenvalues_up: np.ndarray,
    eigenvalues_down: np.ndarray,
    fermi: float,
    settings: dict[str, Any],
    *,
    converged: bool | None,
    moments: list[float],
    total_moment: float | None,
    absolute_moment: float | None,
    order_kept: bool,
    code: str,
    warnings: list[str],
) -> tuple[DFTVerdict, KPath, list[tuple[int, int, str, str]], np.ndarray]:
    """Splitting per segment, gaps and the verdict for bands of either code.

    ``kpoints`` are fractional in the reciprocal basis of ``structure.lattice`` and the
    eigenvalues (n_k × n_bands, eV) are those of the two spin channels. The k-points are cut
    into segments named after the high-symmetry points of the cell, and each segment's
    expectation (split, nodal, boundary) comes from the form factor on its own k-points.
    Returns (verdict, k-path, segment ranges, splitting per k-point).
    """
    kpath = build_kpath(structure, prediction)
    points = dict(kpath.points)
    for seg in kpath.segments:  # form-factor segments may end at derived points
        points.setdefault(seg.end_label, seg.end)
    ranges = segment_ranges(kpoints, structure.lattice, points)
    window = float(settings["window_ev"])
    split_k = splitting_per_k(eigenvalues_up, eigenvalues_down, fermi, window)
    ff = FormFactor(
        prediction.form_factor,
        structure.lattice,
        np.array(prediction.frame_rotation),
        kpath.k_ref,
        prediction.form_factor_basis,
    )
    fvals = ff.value(kpoints)
    inside = interior_mask(kpoints, structure.lattice)
    segs = []
    for first, last, a, b in ranges:
        idx = np.arange(first, last + 1)
        f_all = float(fvals[idx].max())
        f_in = float(fvals[idx][inside[idx]].max(initial=0.0))
        if prediction.verdict in S_WAVE:
            expected, fmax = "split", f_all
        elif f_all <= NODAL_TOL:
            expected, fmax = "nodal", f_all
        elif f_in <= NODAL_TOL:
            expected, fmax = "boundary", f_all
        else:
            expected, fmax = "split", f_in
        imax = int(idx[np.argmax(split_k[idx])])
        segs.append(
            SegmentSplitting(
                name=f"{a}-{b}",
                expected=expected,
                form_factor_max=fmax,
                max_splitting_ev=float(split_k[idx].max()),
                k_at_max=[float(x) + 0.0 for x in kpoints[imax]],
                n_kpoints=len(idx),
            )
        )
    gaps = band_gaps(eigenvalues_up, eigenvalues_down, fermi)
    thresholds = {
        k: float(settings[k])
        for k in ("split_min_ev", "noise_ev", "window_ev", "moment_min", "net_moment_tol")
    }
    status, observed, reason = judge(
        prediction.verdict, segs, converged, moments, total_moment, order_kept, thresholds
    )
    verdict = DFTVerdict(
        status=status,
        reason=reason,
        observed=observed,
        predicted_verdict=prediction.verdict,
        predicted_wave=prediction.wave,
        form_factor=prediction.form_factor,
        segments=segs,
        fermi_energy_ev=fermi,
        gap_ev=gaps.overall,
        gap_up_ev=gaps.up,
        gap_down_ev=gaps.down,
        electronic=gaps.character,
        site_moments=moments,
        total_moment=total_moment,
        absolute_moment=absolute_moment,
        converged=converged,
        thresholds=thresholds,
        code=code,
        formula=structure.formula,
        warnings=warnings + kpath.warnings,
    )
    return verdict, kpath, ranges, split_k


@dataclass
class BandRun:
    """What either code's parser reads from a finished bands run (code-neutral)."""

    structure: MagneticStructure
    """The computed cell with the prepared moments (μB per site)."""
    kpoints: np.ndarray
    """n_k × 3, fractional in the reciprocal basis of ``structure.lattice``."""
    eigenvalues_up: np.ndarray
    eigenvalues_down: np.ndarray
    fermi: float
    converged: bool | None
    moments: list[float]
    """Site moments of the SCF (μB); empty when the outputs have none."""
    total_moment: float | None
    absolute_moment: float | None
    prepared_moments: list[float]
    """The prepared collinear moments (or starting fractions), to check the order held."""
    code: str
    warnings: list[str]


@dataclass
class Judged:
    """:func:`judge_run`'s result."""

    verdict: DFTVerdict
    prediction: SpinGroupResult
    kpath: KPath
    ranges: list[tuple[int, int, str, str]]
    splitting: np.ndarray


def judge_run(directory: Path, run: BandRun, settings: dict[str, Any]) -> Judged:
    """Judge a parsed run of either code against its spin-group prediction.

    The prediction is ``spin_group.json`` of ``directory`` when altermag prepared it, else
    :func:`altermag.analyze` of the run's cell with its prepared moments. The order counts as
    kept when the SCF's site moments follow the prepared up/down pattern
    (:func:`moments_follow_order`); then :func:`judge_bands` measures and judges.
    """
    import altermag

    pred_path = directory / "spin_group.json"
    if pred_path.is_file():
        prediction = SpinGroupResult.from_dict(json.loads(pred_path.read_text()))
    else:
        prediction = altermag.analyze(run.structure)
    verdict, kpath, ranges, split_k = judge_bands(
        run.structure,
        prediction,
        run.kpoints,
        run.eigenvalues_up,
        run.eigenvalues_down,
        run.fermi,
        settings,
        converged=run.converged,
        moments=run.moments,
        total_moment=run.total_moment,
        absolute_moment=run.absolute_moment,
        order_kept=moments_follow_order(run.prepared_moments, run.moments),
        code=run.code,
        warnings=run.warnings,
    )
    return Judged(verdict, prediction, kpath, ranges, split_k)


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


def load_settings(directory: Path, overrides: dict[str, Any] | None) -> dict[str, Any]:
    path = directory / "settings.json"
    if path.is_file():
        saved = json.loads(path.read_text())
        base = load_preset(saved.get("preset", "default"))
        base.update({k: v for k, v in saved.items() if k in base})
        base.update(overrides or {})
        return base
    return load_preset("default", overrides)


def analyze_qe(directory: Path, overrides: dict[str, Any] | None = None) -> QEAnalysis:
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
    structure = structure_from_qe(bands, float(settings["moment_saturation"]))
    warnings: list[str] = []
    fermi = scf.fermi_energy if scf and scf.fermi_energy is not None else bands.fermi_energy
    if fermi is None:
        raise QEOutputError(f"no Fermi energy in {files.scf_out or files.xml}")
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
    )
    j = judge_run(directory, run, settings)
    return QEAnalysis(
        j.verdict, bands, scf, structure, j.prediction, j.kpath, j.ranges, j.splitting, fermi
    )
