"""Judge a band run of any code against its spin-group prediction (shared by every code).

A code's parser reads its files into a code-neutral :class:`BandRun` (cell with the prepared
moments, band k-points, eigenvalues of both spins, Fermi level, SCF convergence and site
moments); :func:`judge_run` loads the prediction (``spin_group.json``, or
:func:`altermag.analyze` of the run's cell), cuts the k-points into segments named after the
high-symmetry points (:func:`~altermag.dft.kpath.build_kpath`), decides each segment's
expectation from the form factor on its own k-points, measures the splitting
(:mod:`altermag.dft.splitting`) and applies the rules of :mod:`altermag.dft.verdict`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from altermag.dft.kpath import NODAL_TOL, FormFactor, KPath, build_kpath, interior_mask
from altermag.dft.presets import load_preset
from altermag.dft.settings import DftSettings, PresetError
from altermag.dft.splitting import band_gaps, segment_ranges, splitting_per_k
from altermag.dft.verdict import S_WAVE, DFTVerdict, SegmentSplitting, judge
from altermag.result import SpinGroupResult
from altermag.structure import MagneticStructure

__all__ = [
    "BandRun",
    "Judged",
    "judge_bands",
    "judge_run",
    "load_settings",
    "moments_follow_order",
    "unusable_verdict",
]


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
    settings: DftSettings,
    *,
    converged: bool | None,
    moments: list[float],
    total_moment: float | None,
    absolute_moment: float | None,
    order_kept: bool,
    code: str,
    warnings: list[str],
    problems: list[str] | None = None,
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
    window = settings.thresholds.window_ev
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
    thresholds = settings.thresholds.to_dict()
    status, observed, reason = judge(
        prediction.verdict,
        segs,
        converged,
        moments,
        total_moment,
        order_kept,
        thresholds,
        problems,
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
    problems: list[str] = field(default_factory=list)
    """Why the outputs cannot be trusted (incomplete, foreign); any makes the verdict
    ``inconclusive``."""


@dataclass
class Judged:
    """:func:`judge_run`'s result."""

    verdict: DFTVerdict
    prediction: SpinGroupResult
    kpath: KPath
    ranges: list[tuple[int, int, str, str]]
    splitting: np.ndarray


def judge_run(directory: Path, run: BandRun, settings: DftSettings) -> Judged:
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
    n_k = len(run.kpoints)
    if run.problems and (n_k < 2 or run.eigenvalues_up.size == 0 or run.eigenvalues_down.size == 0):
        verdict = unusable_verdict(
            prediction, run.problems, settings, run.code, run.structure.formula, run.warnings
        )
        kpath = build_kpath(run.structure, prediction)
        return Judged(verdict, prediction, kpath, [], np.zeros(n_k))
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
        problems=run.problems,
    )
    return Judged(verdict, prediction, kpath, ranges, split_k)


def unusable_verdict(
    prediction: SpinGroupResult,
    problems: list[str],
    settings: DftSettings,
    code: str,
    formula: str = "",
    warnings: list[str] | None = None,
) -> DFTVerdict:
    """An ``inconclusive`` verdict for outputs that hold no usable bands (no segment measured).

    Used when a parser finds no eigenvalues, or cannot read the files at all (truncated
    XML): such outputs never give ``confirmed`` or ``contradicted``.
    """
    return DFTVerdict(
        status="inconclusive",
        reason="outputs unusable: " + "; ".join(problems),
        observed="no bands",
        predicted_verdict=prediction.verdict,
        predicted_wave=prediction.wave,
        form_factor=prediction.form_factor,
        segments=[],
        fermi_energy_ev=None,
        gap_ev=0.0,
        gap_up_ev=0.0,
        gap_down_ev=0.0,
        electronic="unknown",
        site_moments=[],
        total_moment=None,
        absolute_moment=None,
        converged=None,
        thresholds=settings.thresholds.to_dict(),
        code=code,
        formula=formula,
        warnings=list(warnings or []),
    )


def load_settings(directory: Path, overrides: Mapping[str, Any] | None = None) -> DftSettings:
    """The settings a folder was prepared with (``settings.json``: its preset, then every
    recorded key that is still a setting), then ``overrides``; the default preset when the
    folder has no ``settings.json`` (outputs computed by hand)."""
    path = directory / "settings.json"
    if not path.is_file():
        return load_preset("default", overrides)
    saved = json.loads(path.read_text())
    try:
        base = load_preset(str(saved.get("preset", "default")))
    except PresetError:  # prepared with a preset file this machine does not have
        base = load_preset("default")
    flat = base.flat()
    flat.update({k: v for k, v in saved.items() if k in flat})
    flat.update(overrides or {})
    return DftSettings.from_flat(flat, base.preset)
