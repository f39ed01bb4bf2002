"""The JSON contract of a ground-state search: one order's energy and the whole result.

The CLI's ``--json``, the store (a DFT job of kind ``groundstate``) and the API's material
detail carry :meth:`GroundState.to_dict`::

    {"source", "formula", "code", "settings": {...},
     "orders": [{"label", "moments", "verdict", "wave", "energy_ev",
                 "relative_energy_mev_per_magnetic_atom", "status", "final_moments"}],
     "ground_state": {"label", "verdict", "wave", "margin_mev_per_magnetic_atom"},
     "verdict": "<the ground state's verdict>"}
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from altermag.errors import DftError

__all__ = [
    "ORDER_STATUSES",
    "RY_EV",
    "WAITING",
    "GroundState",
    "GroundStateError",
    "OrderEnergy",
]

RY_EV = 13.605693122994
"""One Rydberg in eV (CODATA 2018)."""
ORDER_STATUSES = (
    "converged",
    "collapsed",
    "flipped",
    "unconverged",
    "failed",
    "prepared",
    "submitted",
)
"""What became of one order's SCF (``prepared``: the deck waits for a machine;
``submitted``: its batch job is queued or running)."""
WAITING = ("prepared", "submitted")
"""Order statuses of SCFs not yet run: while any order waits, nothing is decided."""


class GroundStateError(DftError, ValueError):
    """A structure whose orders cannot be searched (no magnetic sites, no code)."""


@dataclass
class OrderEnergy:
    """One order's SCF: its prediction, energy and what became of its moments."""

    label: str
    moments: list[float]
    """Imposed signed moments (μB) per site of the cell."""
    verdict: str
    wave: str | None
    energy_ev: float | None
    relative_energy_mev_per_magnetic_atom: float | None
    status: str
    """One of :data:`ORDER_STATUSES`."""
    final_moments: list[float]
    turned_into: str | None = None
    """For ``flipped``: the label of the enumerated order the final signs follow, if any."""
    message: str = ""
    directory: str | None = None
    wall_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GroundState:
    """The result of a ground-state search (see the module docstring for the contract)."""

    source: str | None
    formula: str
    code: str
    settings: dict[str, Any]
    orders: list[OrderEnergy]
    ground_state: dict[str, Any] | None
    verdict: str
    """The ground state's verdict; ``inconclusive`` when no order converged, ``prepared`` when
    the decks wait for a machine, ``submitted`` while their batch jobs are queued or running."""
    near_degenerate: bool = False
    n_magnetic_atoms: int = 0
    relax: dict[str, Any] | None = None
    messages: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "formula": self.formula,
            "code": self.code,
            "settings": self.settings,
            "orders": [o.to_dict() for o in self.orders],
            "ground_state": self.ground_state,
            "verdict": self.verdict,
            "near_degenerate": self.near_degenerate,
            "n_magnetic_atoms": self.n_magnetic_atoms,
            "relax": self.relax,
            "messages": self.messages,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GroundState:
        orders = [OrderEnergy(**o) for o in d.get("orders", [])]
        return cls(
            source=d.get("source"),
            formula=d.get("formula", ""),
            code=d.get("code", "qe"),
            settings=d.get("settings", {}),
            orders=orders,
            ground_state=d.get("ground_state"),
            verdict=d.get("verdict", "inconclusive"),
            near_degenerate=bool(d.get("near_degenerate", False)),
            n_magnetic_atoms=int(d.get("n_magnetic_atoms", 0)),
            relax=d.get("relax"),
            messages=list(d.get("messages", [])),
        )

    @property
    def winner(self) -> OrderEnergy | None:
        if not self.ground_state:
            return None
        return next((o for o in self.orders if o.label == self.ground_state["label"]), None)
