"""Readable names for space-group operations (Seitz-like symbols in lattice coordinates)."""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import numpy as np

__all__ = ["seitz_symbol", "spin_operation_symbol"]

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
