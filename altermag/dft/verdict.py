"""The DFT verdict: does the computed spin splitting follow the spin-group prediction?

Rules, in order (thresholds from the preset, eV and μB):

0. ``inconclusive`` when the outputs are incomplete or do not belong together (fewer
   k-points or bands than the input asked for, a truncated or unreadable file, an SCF output
   of another structure or prefix): a damaged output never gives a verdict.
1. ``inconclusive`` when the SCF did not converge (an unconverged density fakes large
   splittings) or no SCF output tells its convergence and moments, when the moments
   collapsed (every |m| < ``moment_min``), when a compensated order (altermagnet,
   antiferromagnet) ended with a net moment above ``net_moment_tol``, or when the SCF
   moments no longer follow the prepared up/down pattern.
2. Altermagnet (d-, g-, i-wave): ``confirmed`` when the segments with the largest predicted
   |f(k)| split by at least ``split_min_ev`` *and* every nodal segment stays at or below
   ``noise_ev``; otherwise ``contradicted`` with the failing segments in the reason.
3. Conventional antiferromagnet: no splitting is allowed anywhere; ``confirmed`` when every
   segment is at or below ``noise_ev`` (observed: "no splitting").
4. Ferro-/ferrimagnet (s-wave): ``confirmed`` when every segment splits by ``split_min_ev``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

__all__ = ["DFTVerdict", "SegmentSplitting", "Status", "judge"]

Status = Literal["confirmed", "contradicted", "inconclusive"]

COMPENSATED = ("altermagnet", "antiferromagnet", "compensated_ferrimagnet")
S_WAVE = ("ferromagnet", "ferrimagnet", "compensated_ferrimagnet")


@dataclass
class SegmentSplitting:
    """Largest spin splitting on one segment of the band path."""

    name: str
    expected: str
    """``split``, ``nodal`` or ``boundary`` (f ≠ 0 only on the zone boundary, where
    nonsymmorphic symmetry may still force degeneracy: reported, not judged); from the form
    factor, or from the verdict for s-wave magnets."""
    form_factor_max: float
    max_splitting_ev: float
    k_at_max: list[float]
    """Fractional k (cell's reciprocal basis) of the largest splitting."""
    n_kpoints: int


@dataclass
class DFTVerdict:
    """Outcome of a first-principles test of one spin-group prediction (JSON-friendly)."""

    status: Status
    reason: str
    observed: str
    """``altermagnetic splitting``, ``no splitting``, ``splitting everywhere``,
    ``splitting on nodal segments`` or ``no splitting where predicted``."""
    predicted_verdict: str
    predicted_wave: str | None
    form_factor: str | None
    segments: list[SegmentSplitting]
    fermi_energy_ev: float | None
    gap_ev: float
    gap_up_ev: float
    gap_down_ev: float
    electronic: str
    site_moments: list[float]
    total_moment: float | None
    absolute_moment: float | None
    converged: bool | None
    """None when no SCF output told (e.g. a bare EIGENVAL)."""
    thresholds: dict[str, float]
    code: str = "qe"
    formula: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def max_split_ev(self) -> float:
        """Largest splitting on segments where splitting is predicted (0 if none)."""
        vals = [s.max_splitting_ev for s in self.segments if s.expected == "split"]
        return max(vals, default=0.0)

    @property
    def max_nodal_ev(self) -> float:
        """Largest splitting on segments where none is allowed (0 if none)."""
        vals = [s.max_splitting_ev for s in self.segments if s.expected == "nodal"]
        return max(vals, default=0.0)

    def segment(self, name: str) -> SegmentSplitting:
        """The segment called ``name`` (also found reversed: ``G-M`` for ``M-G``)."""
        rev = "-".join(reversed(name.split("-")))
        for s in self.segments:
            if s.name in (name, rev):
                return s
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["max_split_ev"] = self.max_split_ev
        d["max_nodal_ev"] = self.max_nodal_ev
        return d

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DFTVerdict:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["segments"] = [SegmentSplitting(**s) for s in d.get("segments", [])]
        return cls(**kw)


def _fmt(segs: list[SegmentSplitting]) -> str:
    return ", ".join(f"{s.name} {s.max_splitting_ev:.3f} eV" for s in segs)


def judge(
    predicted_verdict: str,
    segments: list[SegmentSplitting],
    converged: bool | None,
    site_moments: list[float],
    total_moment: float | None,
    order_kept: bool,
    thresholds: dict[str, float],
    problems: list[str] | None = None,
) -> tuple[Status, str, str]:
    """Apply the rules of this module; returns (status, observed, reason).

    ``problems`` (incomplete or foreign outputs: fewer k-points or bands than the input asked
    for, an SCF output of another run) make the verdict ``inconclusive`` before any rule.
    """
    split_min = thresholds["split_min_ev"]
    noise = thresholds["noise_ev"]
    mags = [abs(m) for m in site_moments]
    split = [s for s in segments if s.expected == "split"]
    nodal = [s for s in segments if s.expected == "nodal"]
    loud_nodal = [s for s in nodal if s.max_splitting_ev > noise]
    if not split:
        observed = "no splitting" if not loud_nodal else "splitting on nodal segments"
    elif not loud_nodal:
        top = max(s.form_factor_max for s in split)
        best = max(s.max_splitting_ev for s in split if s.form_factor_max >= top * 0.999)
        observed = "altermagnetic splitting" if best >= split_min else "no splitting"
    else:
        observed = "splitting on nodal segments"
    if problems:
        return "inconclusive", observed, "outputs unusable: " + "; ".join(problems)
    if converged is None:
        return "inconclusive", observed, "SCF convergence unknown (no SCF output found)"
    if not converged:
        return "inconclusive", observed, "the SCF did not converge"
    if predicted_verdict != "nonmagnetic" and not mags:
        return "inconclusive", observed, "no site moments found (no SCF output with moments)"
    if predicted_verdict != "nonmagnetic" and (not mags or max(mags) < thresholds["moment_min"]):
        return (
            "inconclusive",
            observed,
            (f"the moments collapsed (largest |m| = {max(mags, default=0.0):.3f} μB)"),
        )
    if (
        predicted_verdict in COMPENSATED
        and total_moment is not None
        and abs(total_moment) > thresholds["net_moment_tol"]
    ):
        return (
            "inconclusive",
            observed,
            (f"net moment {total_moment:.3f} μB/cell for a compensated order"),
        )
    if not order_kept:
        return "inconclusive", observed, "the SCF moments left the prepared up/down order"
    if predicted_verdict in S_WAVE:
        weak = [s for s in segments if s.max_splitting_ev < split_min]
        if weak:
            return (
                "contradicted",
                "no splitting where predicted",
                (
                    f"s-wave splitting predicted everywhere, but below {split_min} eV on "
                    + _fmt(weak)
                ),
            )
        return (
            "confirmed",
            "splitting everywhere",
            (f"every segment splits by at least {split_min} eV, as an s-wave magnet requires"),
        )
    if not split and predicted_verdict == "altermagnet":
        return (
            "inconclusive",
            observed,
            ("no computed segment crosses a region where splitting is predicted"),
        )
    if not split:
        if loud_nodal:
            return (
                "contradicted",
                observed,
                (
                    f"no splitting allowed for a {predicted_verdict}, but above {noise} eV on "
                    + _fmt(loud_nodal)
                ),
            )
        worst = max((s.max_splitting_ev for s in nodal), default=0.0)
        return (
            "confirmed",
            "no splitting",
            (
                f"no spin splitting on any segment (largest {worst:.4f} eV ≤ {noise} eV), as "
                + {"antiferromagnet": "a conventional antiferromagnet"}.get(
                    predicted_verdict, f"a {predicted_verdict}"
                )
                + " requires"
            ),
        )
    top = max(s.form_factor_max for s in split)
    primary = [s for s in split if s.form_factor_max >= top * 0.999]
    strongest = max(primary, key=lambda s: s.max_splitting_ev)
    problems = []
    if strongest.max_splitting_ev < split_min:
        problems.append(f"splitting below {split_min} eV where |f(k)| is largest ({_fmt(primary)})")
    if loud_nodal:
        problems.append(f"splitting above {noise} eV on nodal segments ({_fmt(loud_nodal)})")
    if problems:
        return "contradicted", observed, "; ".join(problems)
    worst = max((s.max_splitting_ev for s in nodal), default=0.0)
    return (
        "confirmed",
        observed,
        (
            f"{strongest.name} splits by {strongest.max_splitting_ev:.3f} eV ≥ {split_min} eV "
            "where |f(k)| "
            f"is largest, nodal segments stay at {worst:.4f} eV ≤ {noise} eV"
            + ("" if nodal else " (no nodal segment computed)")
        ),
    )
