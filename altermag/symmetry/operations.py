"""Readable names for space-group operations (Seitz-like symbols in lattice coordinates)."""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import numpy as np

__all__ = ["seitz_symbol", "site_permutations", "spin_operation_symbol"]

_BLOCK = 1 << 21
"""Largest block of site-pair differences built at once (×3 float64: 48 MB)."""


def site_permutations(
    rotations: np.ndarray, translations: np.ndarray, frac: np.ndarray, lattice: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where each operation sends each site: ``perm[g, i]`` and the distance (Å) to that site.

    Operation g = (W, t) maps site i to W fᵢ + t; ``perm[g, i]`` is the site nearest to that
    image (periodic images included) and ``dist[g, i]`` how far it is, so a symmetry
    operation is one whose distances are all within the tolerance. The operations × sites
    count is checked against the limits in force (``max_site_operations``) first, and the
    pairwise distances are built in blocks, so memory stays bounded whatever the cell.

    Raises
    ------
    altermag.errors.LimitError
        When operations × sites exceeds ``max_site_operations``.
    """
    from altermag.config import check_limit

    rots = np.asarray(rotations, dtype=float)
    n_ops, n = len(rots), len(frac)
    check_limit("symmetry operations × sites", n_ops * n, "max_site_operations")
    moved = (np.einsum("gij,nj->gni", rots, frac) + np.asarray(translations)[:, None, :]).reshape(
        -1, 3
    )
    perm = np.empty(len(moved), dtype=np.intp)
    dist = np.empty(len(moved))
    rows = max(1, _BLOCK // max(n, 1))
    for start in range(0, len(moved), rows):
        diff = moved[start : start + rows, None, :] - frac[None, :, :]
        diff -= np.round(diff)
        d = np.linalg.norm(diff @ lattice, axis=-1)
        k = np.argmin(d, axis=1)
        perm[start : start + rows] = k
        dist[start : start + rows] = d[np.arange(len(k)), k]
    return perm.reshape(n_ops, n), dist.reshape(n_ops, n)


_TYPES = {(1, 3): "1", (1, -1): "2", (1, 0): "3", (1, 1): "4", (1, 2): "6"}
_TYPES.update({(-1, -3): "-1", (-1, 1): "m", (-1, 0): "-3", (-1, -1): "-4", (-1, -2): "-6"})


@cache
def _rotation_name(key: tuple[int, ...]) -> str:
    """1, -1, or type + axis + sense, e.g. ``4+[001]``, ``m[110]``, ``-3-[111]``."""
    rot = np.array(key, dtype=float).reshape(3, 3)
    det = round(np.linalg.det(rot))
    kind = _TYPES.get((det, round(np.trace(rot))), "?")
    if kind in ("1", "-1"):
        return kind
    axis_text, axis = _axis_uvw(rot)
    sense = ""
    if kind[-1] in "346" and axis is not None:
        # sense from the sign of the rotation's sine about the axis (lattice metric ignored:
        # the sign is what matters and it does not depend on the metric)
        proper = rot * det
        perp = np.cross(
            axis, [1.0, 0.0, 0.0] if abs(axis[0]) < 0.9 * np.linalg.norm(axis) else [0.0, 1.0, 0.0]
        )
        sense = "+" if np.dot(np.cross(perp, proper @ perp), axis) > 0 else "-"
    return f"{kind}{sense}{axis_text}"


def _axis_uvw(rot: np.ndarray) -> tuple[str, np.ndarray | None]:
    """Integer direction [uvw] of the rotation axis of the proper part of ``rot``."""
    proper = rot * round(np.linalg.det(rot))
    w, v = np.linalg.eig(proper.astype(float))
    axis = np.real(v[:, np.argmin(np.abs(w - 1.0))])
    axis /= np.max(np.abs(axis))
    for scale in range(1, 7):
        cand = axis * scale
        if np.allclose(cand, np.round(cand), atol=1e-4):
            axis = np.round(cand).astype(int)
            break
    else:
        return "[" + ",".join(f"{x:.2f}" for x in axis) + "]", None
    if axis[np.nonzero(axis)[0][0]] < 0:
        axis = -axis
    return "[" + "".join(f"{x}" if x >= 0 else f"-{-x}" for x in axis) + "]", axis.astype(float)


@cache
def _frac(x: float) -> str:
    f = Fraction(float(x) % 1.0).limit_denominator(24)
    f = f - int(f)
    return "0" if f == 0 else f"{f.numerator}/{f.denominator}"


def seitz_symbol(rotation: np.ndarray, translation: np.ndarray) -> str:
    """``{R|t}`` with R as 1, -1, 2[001], m[110], 4[001], -3[111]... and t as fractions."""
    name = _rotation_name(tuple(int(x) for x in np.asarray(rotation).ravel()))
    t = ",".join(_frac(round(float(x), 6)) for x in translation)
    return f"{{{name}|{t}}}"


def spin_operation_symbol(rotation: np.ndarray, translation: np.ndarray, flip: bool) -> str:
    """Spin-group element [s||{R|t}] with s = C2 (flip) or E."""
    return f"[{'C2' if flip else 'E'}||{seitz_symbol(rotation, translation)}]"
