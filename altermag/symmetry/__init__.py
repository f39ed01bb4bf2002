"""Exact spin-group analysis of collinear magnets (docs/symmetry.md)."""

from __future__ import annotations

from altermag.result import SpinGroupResult
from altermag.structure import MagneticStructure
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
    structure: MagneticStructure,
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
        The crystal; ``structure.magmoms is None`` triggers the enumeration of collinear
        compensated k = 0 orders on its magnetic sites.
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
    check_finite(structure)
    if structure.magmoms is not None:
        return classify(structure, symprec=symprec, magtol=magtol)
    from altermag.symmetry.enumerate import enumerate_orders

    return enumerate_orders(
        structure, symprec=symprec, magtol=magtol, cell=cell, max_orders=max_orders
    )
