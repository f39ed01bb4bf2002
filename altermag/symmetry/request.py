"""What one spin-group analysis is asked: the options ``altermag analyze`` and ``POST /analyze``
both build, with their defaults and limits stated once.

A request holds the two tolerances of the symmetry search, the cell and the number of orders
of the k = 0 enumeration (for a structure without moments), and optionally the moments to put
on the structure read from a file (VASP ``MAGMOM`` syntax).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field

from altermag.symmetry.spin_group import (
    DEFAULT_CELL,
    DEFAULT_MAGTOL,
    DEFAULT_MAX_ORDERS,
    DEFAULT_SYMPREC,
    Cell,
)

if TYPE_CHECKING:
    from altermag.result import SpinGroupResult
    from altermag.structure import MagneticStructure

__all__ = ["AnalyzeRequest", "CellOption", "Magtol", "MaxOrders", "Symprec"]

Symprec = Annotated[
    float, Field(gt=0.0, le=1.0, description="Position tolerance of the symmetry (Å).")
]
Magtol = Annotated[
    float,
    Field(
        gt=0.0,
        le=10.0,
        description="Moment tolerance (μB): equal within it, non-magnetic below it.",
    ),
]
CellOption = Annotated[
    Cell, Field(description="Cell in which the k = 0 orders are enumerated (no moments).")
]
MaxOrders = Annotated[
    int, Field(ge=1, le=1024, description="Most distinct orders the enumeration classifies.")
]
"""The analysis options with their limits, shared by every request that carries them."""


class AnalyzeRequest(BaseModel):
    """Options of one spin-group analysis (validated; defaults defined here only)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symprec: Symprec = DEFAULT_SYMPREC
    magtol: Magtol = DEFAULT_MAGTOL
    cell: CellOption = DEFAULT_CELL
    max_orders: MaxOrders = DEFAULT_MAX_ORDERS
    magmom: str | None = Field(
        None,
        max_length=10_000,
        description="Moments in VASP syntax (e.g. '2*5 -5 5 4*0'); none: the file's own.",
    )

    def analyze(self, structure: MagneticStructure) -> SpinGroupResult:
        """Classify ``structure`` (or enumerate its orders when it has no moments)."""
        from altermag.symmetry import analyze

        return analyze(
            structure,
            symprec=self.symprec,
            magtol=self.magtol,
            cell=self.cell,
            max_orders=self.max_orders,
        )

    def read_and_analyze(self, path: Path | str) -> tuple[MagneticStructure, SpinGroupResult]:
        """Read a structure file (with :attr:`magmom` when given) and analyze it.

        Raises
        ------
        altermag.io.StructureReadError
            When the file cannot be read.
        altermag.errors.AltermagError
            When the analysis cannot answer for this structure.
        """
        from altermag.io import read_structure

        structure = read_structure(Path(path), magmom=self.magmom)
        return structure, self.analyze(structure)
