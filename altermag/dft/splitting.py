"""Spin splitting along band-structure segments, band gaps and the electronic character.

Spin splitting at one k is measured band-index-wise: the eigenvalues of each spin are sorted,
band n of spin up is paired with band n of spin down, and Δ_n(k) = |E↑_n(k) − E↓_n(k)| is kept
for the pairs with either energy within ``window`` of the Fermi level. Without spin–orbit
coupling this is zero, up to numerical noise, wherever the spin group enforces degeneracy.

Electronic character from the gaps (eV), along the computed k-points:

- ``metal``: a band crosses E_F along the path, or an eigenvalue lies within 0.05 eV of it,
  or the overall gap is below ``METAL_GAP_EV`` = 0.1 eV;
- ``half_metal``: one spin channel gapped (≥ 0.1 eV), the other not;
- ``semiconductor``: 0.1 eV ≤ gap < ``INSULATOR_GAP_EV`` = 3 eV;
- ``insulator``: gap ≥ 3 eV.

Gaps from a band path are upper bounds of the true gaps (the extrema may lie off the path).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "INSULATOR_GAP_EV",
    "METAL_GAP_EV",
    "Gaps",
    "band_gaps",
    "segment_ranges",
    "splitting_per_k",
]

METAL_GAP_EV = 0.1
INSULATOR_GAP_EV = 3.0


def splitting_per_k(
    up: np.ndarray, down: np.ndarray, fermi: float, window: float = 3.0
) -> np.ndarray:
    """Largest |E↑_n − E↓_n| per k-point over band pairs within ±``window`` eV of ``fermi``.

    ``up`` and ``down`` are (n_k, n_bands) in eV; the shorter band count is used for both.
    """
    nb = min(up.shape[1], down.shape[1])
    u = np.sort(up, axis=1)[:, :nb]
    d = np.sort(down, axis=1)[:, :nb]
    inside = (np.abs(u - fermi) <= window) | (np.abs(d - fermi) <= window)
    diff = np.where(inside, np.abs(u - d), 0.0)
    return diff.max(axis=1) if nb else np.zeros(len(up))


@dataclass
class Gaps:
    """Band gaps in eV (0 for a metallic channel) and the electronic character."""

    up: float
    down: float
    overall: float
    character: str


def _gap(e: np.ndarray, fermi: float) -> float:
    """Gap of one set of bands (n_k × n_bands): 0 when a band crosses or touches E_F."""
    e = np.atleast_2d(e)
    crosses = np.any((e.min(axis=0) <= fermi) & (e.max(axis=0) > fermi))
    if crosses or np.any(np.abs(e - fermi) < METAL_GAP_EV / 2):
        return 0.0
    below = e[e <= fermi]
    above = e[e > fermi]
    if below.size == 0 or above.size == 0:
        return 0.0
    return float(above.min() - below.max())


def band_gaps(up: np.ndarray, down: np.ndarray, fermi: float) -> Gaps:
    """Gaps per spin and overall around ``fermi`` (eV) and the character they imply."""
    g_up, g_dn = _gap(up, fermi), _gap(down, fermi)
    g_all = _gap(np.concatenate([up, down], axis=1), fermi)
    if g_all < METAL_GAP_EV:
        character = "half_metal" if max(g_up, g_dn) >= METAL_GAP_EV else "metal"
    elif g_all < INSULATOR_GAP_EV:
        character = "semiconductor"
    else:
        character = "insulator"
    return Gaps(g_up, g_dn, g_all, character)


def segment_ranges(
    kpoints: np.ndarray,
    lattice: np.ndarray,
    points: dict[str, list[float]],
    tol: float = 1e-4,
) -> list[tuple[int, int, str, str]]:
    """Cut a list of fractional k-points into straight segments and name their ends.

    A segment ends at a k-point that is a labelled point (``points``, fractional in the same
    basis; matched exactly, else up to a reciprocal lattice vector), where the path jumps
    (a step more than 2.5× the typical step) or where it turns. Unlabelled ends are named by
    their coordinates. Returns ``(first, last, start_label, end_label)`` per segment.
    """
    k = np.asarray(kpoints, float)
    n = len(k)
    if n < 2:
        return []
    recip = 2 * np.pi * np.linalg.inv(np.asarray(lattice, float)).T
    cart = k @ recip
    names = list(points)
    pts = np.array([points[x] for x in names]) if names else np.zeros((0, 3))

    def label(i: int) -> str | None:
        if not len(pts):
            return None
        d = k[i][None, :] - pts
        exact = np.where(np.all(np.abs(d) < tol, axis=1))[0]
        if exact.size:
            return names[int(exact[0])]
        folded = np.where(np.all(np.abs(d - np.round(d)) < tol, axis=1))[0]
        return names[int(folded[0])] if folded.size else None

    def name(i: int) -> str:
        lab = label(i)
        if lab:
            return lab
        return "(" + ",".join(f"{x:.3g}" for x in k[i] + 0.0) + ")"

    steps = np.linalg.norm(np.diff(cart, axis=0), axis=1)
    typical = float(np.median(steps[steps > 1e-9])) if np.any(steps > 1e-9) else 0.0
    jump = (steps > 2.5 * typical) | (steps < 1e-9)
    out: list[tuple[int, int, str, str]] = []
    start = 0
    i = 0
    while i < n - 1:
        if jump[i]:  # the path restarts at i + 1
            if i > start:
                out.append((start, i, name(start), name(i)))
            start = i + 1
            i += 1
            continue
        end_here = i + 1 == n - 1 or label(i + 1) is not None
        if not end_here and i + 1 < n - 1 and not jump[i + 1]:
            a, b = cart[i + 1] - cart[i], cart[i + 2] - cart[i + 1]
            cos = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
            end_here = cos < 1 - 1e-6
        if end_here and i + 1 > start:
            out.append((start, i + 1, name(start), name(i + 1)))
            start = i + 1
        i += 1
    return out
