"""Which orders a ground-state search computes, all on one cell.

Up to ``max_orders`` of the ranking of :func:`altermag.ranking.rank_orders` (the learned
prior's P(ground state) when a prior is shipped, else the neighbour heuristic), always
including the ferromagnetic order and the best-ranked conventional antiferromagnet when the
crystal has them. Every order is put on the same cell (the enumeration cell) so that total
energies compare: the decks then differ in the starting moments alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from altermag.dft.groundstate.contract import GroundStateError, OrderEnergy
from altermag.dft.presets import SEARCH_ORDERS
from altermag.result import EnumeratedOrder, SpinGroupResult
from altermag.structure import MagneticStructure

__all__ = ["START_MOMENT", "OrderPlan", "label_order", "other_orders", "plan_orders"]

START_MOMENT = 4.0
"""μB imposed on each magnetic site (the starting magnetisation is this over the preset's
saturation moment): a high-spin start, from which the SCF finds the lower-spin states too."""

_ABBREV = {
    "ferromagnet": "FM",
    "ferrimagnet": "FiM",
    "antiferromagnet": "AFM",
    "altermagnet": "AM",
}


@dataclass(frozen=True)
class OrderPlan:
    """One enumerated order to compute."""

    label: str
    rank: int
    signs: tuple[int, ...]
    """+1/−1 on magnetic sites, 0 elsewhere, on the enumeration cell."""
    verdict: str
    wave: str | None
    structure: MagneticStructure
    """The enumeration cell carrying ±``START_MOMENT`` μB."""
    result: SpinGroupResult

    @property
    def moments(self) -> list[float]:
        """Imposed signed moments (μB) per site."""
        return [START_MOMENT * float(s) for s in self.signs]

    @property
    def n_magnetic(self) -> int:
        """Magnetic sites of the cell (the energies are given per magnetic atom)."""
        return sum(1 for s in self.signs if s != 0)

    def to_json(self) -> dict[str, object]:
        """What the deck's ``order.json`` records of the order."""
        return {
            "label": self.label,
            "rank": self.rank,
            "signs": list(self.signs),
            "verdict": self.verdict,
            "wave": self.wave,
            "moments": self.moments,
        }

    def outcome(
        self,
        status: str,
        folder: Path | None = None,
        energy: float | None = None,
        final: list[float] | None = None,
        message: str = "",
        into: str | None = None,
        wall_s: float | None = None,
    ) -> OrderEnergy:
        """This order's :class:`OrderEnergy` (relative energy set later, by comparison)."""
        return OrderEnergy(
            label=self.label,
            moments=self.moments,
            verdict=self.verdict,
            wave=self.wave,
            energy_ev=energy,
            relative_energy_mev_per_magnetic_atom=None,
            status=status,
            final_moments=final or [],
            turned_into=into,
            message=message,
            directory=None if folder is None else str(folder),
            wall_s=wall_s,
        )


def label_order(order: EnumeratedOrder) -> str:
    """Short label: ``FM`` for the ferromagnet, else the kind and the enumeration rank
    (``AM1``, ``AFM3``, ``FiM4``)."""
    kind = _ABBREV.get(order.result.verdict, order.result.verdict)
    if kind == "FM":
        return "FM"
    return f"{kind}{order.rank}"


def plan_orders(
    structure: MagneticStructure,
    max_orders: int = SEARCH_ORDERS,
    use_prior: bool = True,
) -> list[OrderPlan]:
    """The orders to compute, in ranking order, on one cell.

    Up to ``max_orders`` of the ranking (:func:`altermag.ranking.rank_orders`); the
    ferromagnetic order and the best-ranked conventional antiferromagnet are added when they
    exist and the cut-off left them out (so the list can be ``max_orders`` + 2 long).

    Raises
    ------
    GroundStateError
        When the structure hosts no magnetic site.
    """
    from altermag.ranking import order_cell, rank_orders
    from altermag.symmetry.enumerate import enumerate_orders

    bare = structure.with_moments(None) if structure.magmoms is not None else structure
    result = enumerate_orders(bare)
    if not result.enumerated or not result.orders:
        raise GroundStateError(f"{structure.formula}: no magnetic site, no order to compute")
    cell = order_cell(bare, result)
    ranked = [r.order for r in rank_orders(bare, result, use_prior=use_prior)]
    chosen = ranked[: max(1, max_orders)]
    for want in ("ferromagnet", "antiferromagnet"):
        if not any(o.result.verdict == want for o in chosen):
            extra = next((o for o in ranked if o.result.verdict == want), None)
            if extra is not None:
                chosen.append(extra)
    return [
        OrderPlan(
            label=label_order(o),
            rank=o.rank,
            signs=tuple(int(s) for s in o.signs),
            verdict=o.result.verdict,
            wave=o.result.wave,
            structure=cell.with_moments([START_MOMENT * float(s) for s in o.signs]),
            result=o.result,
        )
        for o in chosen
    ]


def other_orders(plans: Sequence[OrderPlan], plan: OrderPlan) -> list[tuple[str, tuple[int, ...]]]:
    """(label, signs) of a search's orders but ``plan``: what a flipped order may have become."""
    return [(p.label, p.signs) for p in plans if p.label != plan.label]
