"""Spin Laue groups: recognise the Laue class and write the spin-labelled symbol.

The spin Laue group of a collinear magnet is its point group plus inversion, every element
carrying χ = +1 (¹, spin kept) or −1 (², spin flipped). Inversion is always ¹ in k-space, so
χ(R) = χ(−R) and the group is fixed by χ on its proper rotations. The symbol is written in
the canonical orientation of Šmejkal, Sinova & Jungwirth (PRX 12, 031042 (2022)): where two
classes of perpendicular axes are not distinguished by χ alone (4/mmm, 6/mmm, mmm) the
spin-flipping class is written first, e.g. ²4/¹m²m¹m for RuO2 and MnF2. The orientation in
the actual crystal is carried by the nodal planes instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LaueInfo", "laue_info", "rotation_order"]

_SUP = {1: "¹", -1: "²"}


@dataclass(frozen=True)
class LaueInfo:
    """Laue class symbol and its spin-labelled forms."""

    laue: str
    spin_symbol: str
    spin_ascii: str


def rotation_order(r: np.ndarray) -> int:
    """Order n of a proper rotation from its trace 1 + 2 cos(2π/n)."""
    tr = float(np.trace(r))
    return {3: 1, -1: 2, 0: 3, 1: 4, 2: 6}[round(tr)]


def rotation_axis(r: np.ndarray) -> np.ndarray:
    """Unit axis of a proper rotation (eigenvector with eigenvalue 1), sign-normalised."""
    w, v = np.linalg.eig(r)
    axis = np.real(v[:, np.argmin(np.abs(w - 1.0))])
    axis /= np.linalg.norm(axis)
    i = int(np.argmax(np.abs(axis) > 1e-6))
    return axis if axis[i] > 0 else -axis


def rotation_axes(rs: np.ndarray) -> np.ndarray:
    """:func:`rotation_axis` of many proper rotations in one batched eigen-decomposition."""
    w, v = np.linalg.eig(np.asarray(rs, dtype=float))
    k = np.argmin(np.abs(w - 1.0), axis=1)
    axes = np.real(np.take_along_axis(v, k[:, None, None], axis=2)[:, :, 0])
    axes /= np.linalg.norm(axes, axis=1)[:, None]
    first = np.argmax(np.abs(axes) > 1e-6, axis=1)
    sign = np.where(axes[np.arange(len(axes)), first] > 0, 1.0, -1.0)
    return axes * sign[:, None]


def _label(parts: list[tuple[int, str]]) -> tuple[str, str]:
    uni = "".join(f"{_SUP[c]}{s}" for c, s in parts)
    asc = " ".join(f"^{1 if c == 1 else 2} {s}" for c, s in parts)
    return uni, asc.replace(" /", "/").replace("/ ", "/")


def laue_info(rotations: np.ndarray, chi: np.ndarray) -> LaueInfo:
    """Recognise the Laue class of Cartesian ``rotations`` and label it with ``chi``.

    Parameters
    ----------
    rotations
        (n, 3, 3) orthogonal matrices of the spin Laue group (closed under inversion).
    chi
        ±1 for every element (must be a function of the rotation: a conventional
        antiferromagnet, where some R occurs with both signs, has no such symbol).
    """
    rots = np.asarray(rotations, dtype=float)
    chi = np.asarray(chi, dtype=int)
    proper = rots * np.linalg.det(rots)[:, None, None]
    orders = np.array([rotation_order(p) for p in proper])
    axes: dict[int, list[tuple[np.ndarray, int]]] = {2: [], 3: [], 4: [], 6: []}
    all_axes = rotation_axes(proper)
    for ax, n, c in zip(all_axes, orders, chi, strict=True):
        if n == 1:
            continue
        if any(abs(abs(ax @ a) - 1) < 1e-4 for a, _ in axes[n]):
            continue
        axes[n].append((ax, int(c)))
    n2, n3, n4, n6 = (len(axes[k]) for k in (2, 3, 4, 6))

    def chi_of_axis(order: int, axis: np.ndarray) -> int:
        for a, c in axes[order]:
            if abs(abs(a @ axis) - 1) < 1e-4:
                return c
        raise ValueError("axis not found")

    def perpendicular_classes(principal: np.ndarray, step_deg: float) -> tuple[int, int]:
        """χ of the two classes of 2-fold axes ⊥ principal (angles k·step vs offset by step/2)."""
        perp = [(a, c) for a, c in axes[2] if abs(a @ principal) < 1e-4]
        ref = perp[0][0]
        class_a: list[int] = []
        class_b: list[int] = []
        for a, c in perp:
            ang = np.degrees(np.arccos(min(1.0, abs(float(a @ ref)))))
            (class_a if abs((ang / step_deg) - round(ang / step_deg)) < 1e-3 else class_b).append(c)
        ca, cb = class_a[0], class_b[0]
        return (ca, cb) if ca <= cb else (cb, ca)  # spin-flipping class first

    if n3 == 4:
        if n4:
            c110 = next(c for a, c in axes[2] if _not_cubic_axis(a, axes[4]))
            uni, asc = _label([(1, "m"), (1, "-3"), (c110, "m")])
            uni = uni.replace("¹-3", "-3")
            asc = asc.replace("^1 -3", "-3")
            return LaueInfo("m-3m", uni, asc)
        return LaueInfo("m-3", "¹m-3", "^1 m-3")
    if n6 == 1:
        c6 = axes[6][0][1]
        if n2 > 1:
            ca, cb = perpendicular_classes(axes[6][0][0], 60.0)
            uni, asc = _label([(c6, "6/"), (c6, "m"), (ca, "m"), (cb, "m")])
            return LaueInfo("6/mmm", uni, asc)
        uni, asc = _label([(c6, "6/"), (c6, "m")])
        return LaueInfo("6/m", uni, asc)
    if n3 == 1:
        if n2:
            c2 = axes[2][0][1]
            uni, asc = _label([(1, "-3"), (c2, "m")])
            return LaueInfo("-3m", uni, asc)
        return LaueInfo("-3", "¹-3", "^1 -3")
    if n4 == 1:
        c4 = axes[4][0][1]
        if n2 > 1:
            ca, cb = perpendicular_classes(axes[4][0][0], 90.0)
            uni, asc = _label([(c4, "4/"), (1, "m"), (ca, "m"), (cb, "m")])
            return LaueInfo("4/mmm", uni, asc)
        uni, asc = _label([(c4, "4/"), (1, "m")])
        return LaueInfo("4/m", uni, asc)
    if n2 == 3:
        cs = sorted(c for _, c in axes[2])
        uni, asc = _label([(c, "m") for c in cs])
        return LaueInfo("mmm", uni, asc)
    if n2 == 1:
        c2 = axes[2][0][1]
        uni, asc = _label([(c2, "2/"), (c2, "m")])
        return LaueInfo("2/m", uni, asc)
    return LaueInfo("-1", "¹-1", "^1 -1")


def _not_cubic_axis(a: np.ndarray, four_fold: list[tuple[np.ndarray, int]]) -> bool:
    """True for a 2-fold axis of m-3m that is not one of the three 4-fold axes (a ⟨110⟩ axis)."""
    return all(abs(abs(a @ f) - 1) > 1e-4 for f, _ in four_fold)
