"""Exact spin-group analysis of collinear magnets (DESIGN.md §1)."""

from __future__ import annotations

from altermag.result import SpinGroupResult
from altermag.structure import MagneticStructure
from altermag.symmetry.spin_group import DEFAULT_MAGTOL, DEFAULT_SYMPREC, classify

__all__ = ["DEFAULT_MAGTOL", "DEFAULT_SYMPREC", "analyze", "classify"]


def analyze(
    structure: MagneticStructure,
    symprec: float = DEFAULT_SYMPREC,
    magtol: float = DEFAULT_MAGTOL,
    *,
    cell: str = "primitive",
    max_orders: int = 64,
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
    if structure.magmoms is not None:
        return classify(structure, symprec=symprec, magtol=magtol)
    from altermag.symmetry.enumerate import enumerate_orders

    return enumerate_orders(
        structure, symprec=symprec, magtol=magtol, cell=cell, max_orders=max_orders
    )
