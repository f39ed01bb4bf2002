"""Exact spin-group analysis of collinear magnets (docs/symmetry.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from altermag.result import SpinGroupResult
from altermag.structure import MagneticStructure, as_magnetic_structure
from altermag.symmetry.spin_group import (
    CELLS,
    DEFAULT_CELL,
    DEFAULT_MAGTOL,
    DEFAULT_MAX_ORDERS,
    DEFAULT_SYMPREC,
    Cell,
    check_finite,
    classify,
)

if TYPE_CHECKING:
    from ase import Atoms
    from pymatgen.core import Structure

__all__ = [
    "CELLS",
    "DEFAULT_CELL",
    "DEFAULT_MAGTOL",
    "DEFAULT_MAX_ORDERS",
    "DEFAULT_SYMPREC",
    "Cell",
    "analyze",
    "classify",
]


def analyze(
    structure: MagneticStructure | Structure | Atoms,
    symprec: float = DEFAULT_SYMPREC,
    magtol: float = DEFAULT_MAGTOL,
    *,
    cell: str = DEFAULT_CELL,
    max_orders: int = DEFAULT_MAX_ORDERS,
) -> SpinGroupResult:
    """Classify a collinear magnet, or enumerate the k = 0 orders of a structure without moments.

    Parameters
    ----------
    structure
        The crystal: an altermag :class:`MagneticStructure`, a pymatgen ``Structure`` (moments
        from the ``magmom`` site property, scalars or vectors) or ASE ``Atoms`` (initial
        magnetic moments). Without moments the collinear compensated k = 0 orders on its
        magnetic sites are enumerated.
    symprec
        Position tolerance (Å).
    magtol
        Moment tolerance (μB).
    cell
        For the enumeration only: ``"primitive"`` (default), ``"conventional"`` or
        ``"as_given"``.
    max_orders
        For the enumeration only: most distinct orders classified.
    """
    structure = as_magnetic_structure(structure)
    check_finite(structure)
    if structure.magmoms is not None:
        return classify(structure, symprec=symprec, magtol=magtol)
    from altermag.symmetry.enumerate import enumerate_orders

    return enumerate_orders(
        structure, symprec=symprec, magtol=magtol, cell=cell, max_orders=max_orders
    )
