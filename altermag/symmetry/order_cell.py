"""An enumerated order carried from its enumeration cell onto the cell a structure was given in.

The k = 0 orders of a structure without moments are enumerated on its primitive cell (by
default), so their signs list the primitive cell's sites. A k = 0 order is periodic with the
primitive lattice: every site of the given (e.g. conventional) cell takes the sign of the
primitive-cell site it is a lattice translate of. The primitive cell is rebuilt exactly as
the enumeration built it, and matched to the given cell up to one rigid shift (the
standardisation may move the origin); a primitive cell has no other pure translation, so
the shift, and the carried order, are unique.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from altermag.structure import MagneticStructure
from altermag.symmetry.spin_group import DEFAULT_SYMPREC

__all__ = ["signs_on_structure"]


def _match(
    structure: MagneticStructure, cell: MagneticStructure, shift: np.ndarray, tol: float
) -> list[int] | None:
    """Index in ``cell`` of every site of ``structure`` moved by ``shift`` (Cartesian, Å)."""
    inv = np.linalg.inv(cell.lattice)
    out = []
    for i, pos in enumerate(structure.cart_coords + shift):
        d = cell.frac_coords - pos @ inv
        d -= np.round(d)
        dist = np.linalg.norm(d @ cell.lattice, axis=1)
        j = int(np.argmin(dist))
        if dist[j] > tol or cell.species[j] != structure.species[i]:
            return None
        out.append(j)
    return out


def signs_on_structure(
    structure: MagneticStructure,
    signs: Sequence[float],
    symprec: float = DEFAULT_SYMPREC,
    cell: str = "primitive",
) -> np.ndarray | None:
    """The order ``signs`` (one per site of the enumeration cell) on every site of
    ``structure``; None when the enumeration cell cannot be matched to it."""
    from altermag.symmetry.enumerate import _choose_cell

    values = np.asarray(signs, dtype=float)
    if len(values) == len(structure):
        return values
    work = _choose_cell(structure.with_moments(None), symprec, cell)
    if len(work) != len(values):
        return None
    first = 0
    for j in np.flatnonzero(np.array(work.species) == structure.species[first]):
        shift = work.cart_coords[j] - structure.cart_coords[first]
        mapping = _match(structure, work, shift, tol=max(symprec, 1e-3))
        if mapping is not None:
            return values[mapping]
    return None
