"""Band-structure figure of a spin-polarised run: both spins, segment labels, splitting panel.

The upper panel shows E − E_F for spin up (red) and spin down (blue) along the computed path
(distance in 1/Å, jumps in the path drawn as a gap); the lower panel the largest splitting
|E↑ − E↓| within the window at each k, with nodal segments (no splitting allowed) shaded
grey and zone-boundary segments hatched. Rendered with matplotlib's Agg backend to PNG/SVG
bytes.
"""

from __future__ import annotations

import io
import itertools
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from altermag.dft.protocol import BandAnalysis

__all__ = ["band_figure"]

UP_COLOR = "#c0392b"
DOWN_COLOR = "#2471a3"


def _distances(kpoints: np.ndarray, lattice: np.ndarray, ranges) -> np.ndarray:
    """Path length at each k (1/Å); a jump between disconnected segments adds nothing."""
    recip = 2 * np.pi * np.linalg.inv(np.asarray(lattice, float)).T
    steps = np.linalg.norm(np.diff(kpoints @ recip, axis=0), axis=1)
    for prev, cur in itertools.pairwise(ranges):
        if cur[0] == prev[1] + 1:  # the path restarts at cur[0]
            steps[prev[1]] = 0.0
    return np.concatenate([[0.0], np.cumsum(steps)])


def band_figure(analysis: BandAnalysis, fmt: str = "png", window: float | None = None) -> bytes:
    """PNG or SVG bytes of the band structure and splitting of ``analysis``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    v = analysis.verdict
    b = analysis.bands
    win = window or v.thresholds.get("window_ev", 3.0)
    ef = analysis.fermi_energy
    x = _distances(b.kpoints, b.lattice, analysis.ranges)
    fig, (ax, ax2) = plt.subplots(
        2, 1, figsize=(8, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    for first, last, _, _ in analysis.ranges:
        sl = slice(first, last + 1)
        ax.plot(x[sl], b.eigenvalues_up[sl] - ef, color=UP_COLOR, lw=1.0)
        ax.plot(x[sl], b.eigenvalues_down[sl] - ef, color=DOWN_COLOR, lw=1.0, ls="--")
        ax2.plot(x[sl], analysis.splitting[sl] * 1000, color="k", lw=1.0)
    ticks: list[float] = []
    labels: list[str] = []
    for seg, (first, last, a, bb) in zip(v.segments, analysis.ranges, strict=True):
        for pos, lab in ((x[first], a), (x[last], bb)):
            if ticks and abs(ticks[-1] - pos) < 1e-9:
                if lab not in labels[-1].split("|"):
                    labels[-1] = f"{labels[-1]}|{lab}"
            else:
                ticks.append(pos)
                labels.append(lab)
        if seg.expected == "nodal":
            ax2.axvspan(x[first], x[last], color="0.85", lw=0)
        elif seg.expected == "boundary":
            ax2.axvspan(x[first], x[last], facecolor="none", hatch="//", edgecolor="0.7", lw=0)
    for t in ticks:
        ax.axvline(t, color="0.6", lw=0.5)
        ax2.axvline(t, color="0.6", lw=0.5)
    ax.axhline(0.0, color="0.3", lw=0.6, ls=":")
    ax.set_ylim(-win, win)
    ax.set_ylabel("E − E$_F$ (eV)")
    ax.plot([], [], color=UP_COLOR, label="spin up")
    ax.plot([], [], color=DOWN_COLOR, ls="--", label="spin down")
    ax.legend(loc="upper right", fontsize=8)
    title = f"{v.formula}: {v.predicted_verdict}"
    if v.predicted_wave:
        title += f" ({v.predicted_wave}-wave, f = {v.form_factor})"
    ax.set_title(f"{title} — DFT {v.status}", fontsize=10)
    ax2.set_ylabel("|ΔE| (meV)")
    ax2.set_ylim(bottom=0.0)
    ax2.set_xticks(ticks, labels)
    ax2.set_xlim(x[0], x[-1])
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=120)
    plt.close(fig)
    return buf.getvalue()
