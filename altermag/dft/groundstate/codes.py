"""Which code writes and reads an order's SCF: the per-code parts of the search in one table.

Everything else (which orders, judging, comparing, storing) is the same for every code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from altermag.dft.groundstate.contract import GroundStateError, OrderEnergy
from altermag.dft.groundstate.orders import OrderPlan
from altermag.dft.groundstate.qe import qe_order_files, read_order
from altermag.dft.groundstate.vasp import read_vasp_order, vasp_order_files
from altermag.dft.settings import DftSettings

__all__ = ["CODES", "OrderCode", "order_code"]


@dataclass(frozen=True)
class OrderCode:
    """A code's deck writer and output reader for one order."""

    name: str
    files: Callable[[OrderPlan, DftSettings], dict[str, str]]
    read: Callable[[Path, OrderPlan, DftSettings, Sequence[tuple[str, Sequence[int]]]], OrderEnergy]
    output: str
    """The file an order folder holds once its SCF has run."""
    runs_here: bool
    """Whether :func:`~altermag.dft.groundstate.search.run_groundstate` runs it here."""


CODES = {
    "qe": OrderCode("qe", qe_order_files, read_order, "scf.out", True),
    "vasp": OrderCode("vasp", vasp_order_files, read_vasp_order, "OUTCAR", False),
}


def order_code(code: str) -> OrderCode:
    """The :class:`OrderCode` of ``code``.

    Raises
    ------
    GroundStateError
        For a code the ground-state search does not write.
    """
    try:
        return CODES[code]
    except KeyError:
        raise GroundStateError(
            f"ground-state decks are written for {' or '.join(CODES)}, not {code!r}"
        ) from None
