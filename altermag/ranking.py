"""The one ranking of altermag: which order of a crystal to show or compute, and which crystals
come first.

Two questions, one module, so the CLI tables, the CSV/JSON files, the API and the reports
agree on counts and order:

* **Order choice** (:func:`rank_orders`): the collinear k = 0 orders enumerated for a crystal
  are ranked by the learned prior's probability that each is the experimental ground state
  (:mod:`altermag.ml.prior`, trained on MAGNDATA); ties, and crystals the prior cannot score,
  fall back to the transparent neighbour heuristic (fraction of antiparallel near-neighbour
  pairs), then to more spin-group operations (higher symmetry), then to the sign pattern.
  The DFT stage computes orders in this order; the tables show rank 1.
* **Candidate ranking** (:func:`rank_candidates`): one row per material by default (its most
  probable order, rank 1; every order on request), sorted by P(altermagnetic ground state),
  highest first; rows without a probability come after all scored rows; ties are broken by
  the stored order id, highest first, then by the input id and the order's rank, so the result
  never depends on input order. This is the store's ``sort=score`` rule (``score_key``
  descending, then order id descending: :mod:`altermag.store.candidates`), so the files a
  screening writes, ``altermag db candidates``, the API's ``GET /candidates`` and the run
  report list the same rows in the same order. ``max_per_prototype`` keeps at most N rows per
  structure prototype, so one substituted prototype cannot fill the top of the table.
* **Given orders** (:func:`given_order_probability`): an order given with the structure
  (moments read from the file) is taken as its ground state, so its P(altermagnetic ground
  state) is 1 for an altermagnet and 0 otherwise; the prior is not asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from altermag.result import EnumeratedOrder, SpinGroupResult
from altermag.structure import MagneticStructure

__all__ = [
    "RankedOrder",
    "apply_ranking",
    "given_order_probability",
    "order_cell",
    "rank_candidates",
    "rank_orders",
]

_WAVE_ORDER = {"d": 0, "g": 1, "i": 2}


@dataclass(frozen=True)
class RankedOrder:
    """One enumerated order with its place in the crystal's ranking.

    ``p_ground_state`` is the prior's probability that this order (up to a global spin flip
    and symmetry-equivalent relabellings) is the crystal's ground state, given that the ground
    state is one of the enumerated k = 0 collinear orders; None when no prior scored it.
    """

    order: EnumeratedOrder
    rank: int
    p_ground_state: float | None


def order_cell(structure: MagneticStructure, result: SpinGroupResult) -> MagneticStructure:
    """The cell the enumerated orders' signs refer to (``result.order_cell`` or the input)."""
    if result.order_cell is not None:
        return MagneticStructure.from_dict(result.order_cell)
    return structure


def _order_key(order: EnumeratedOrder, p: float | None) -> tuple[Any, ...]:
    return (
        -(p if p is not None else -1.0),
        -order.score,
        -order.result.n_spin_group_operations,
        tuple(order.signs),
    )


def rank_orders(
    structure: MagneticStructure,
    orders: SpinGroupResult | Sequence[EnumeratedOrder],
    probabilities: Sequence[float] | None = None,
    *,
    use_prior: bool = True,
) -> list[RankedOrder]:
    """Rank a crystal's enumerated orders, most probable ground state first.

    Parameters
    ----------
    structure
        The crystal. With a :class:`SpinGroupResult` this is the analysed input (the orders'
        own cell is taken from ``result.order_cell``); with a bare sequence of orders it must be
        the cell their ``signs`` refer to.
    orders
        An enumeration result (``result.enumerated``) or its orders.
    probabilities
        P(ground state) per order, when the caller already has them (the screening scores whole
        chunks at once); otherwise the shipped prior is asked (``use_prior``).

    Returns
    -------
    list[RankedOrder]
        Every order once, rank 1 first. Without a prior the order is the neighbour heuristic's
        (antiparallel near-neighbour fraction), then symmetry, then the sign pattern.
    """
    if isinstance(orders, SpinGroupResult):
        cell = order_cell(structure, orders)
        seq = list(orders.orders)
    else:
        cell, seq = structure, list(orders)
    if not seq:
        return []
    probs: Sequence[float | None]
    if probabilities is not None:
        if len(probabilities) != len(seq):
            raise ValueError(f"{len(probabilities)} probabilities for {len(seq)} orders")
        probs = [float(p) for p in probabilities]
    elif use_prior:
        probs = _prior_probabilities(cell, seq)
    else:
        probs = [None] * len(seq)
    ranked = sorted(zip(seq, probs, strict=True), key=lambda op: _order_key(op[0], op[1]))
    return [RankedOrder(o, k, p) for k, (o, p) in enumerate(ranked, start=1)]


def apply_ranking(
    structure: MagneticStructure,
    result: SpinGroupResult,
    probabilities: Sequence[float] | None = None,
) -> SpinGroupResult:
    """A copy of an enumeration result with its orders in :func:`rank_orders` order.

    Every order carries its ``p_ground_state`` and its new ``rank``; the top-level fields
    (verdict, wave, moments, ...) describe the new rank-1 order, as
    :func:`~altermag.symmetry.enumerate.enumerate_orders` makes them describe its rank 1.
    A result without enumerated orders is returned unchanged.
    """
    from dataclasses import replace

    if not result.enumerated or not result.orders:
        return result
    ranked = rank_orders(structure, result, probabilities)
    orders = [replace(r.order, rank=r.rank, p_ground_state=r.p_ground_state) for r in ranked]
    best = orders[0].result
    keep = {
        "enumerated",
        "can_host_altermagnet",
        "host_waves",
        "orders",
        "order_cell",
        "moments",
        "warnings",
    }
    top = replace(
        result, **{k: v for k, v in best.__dict__.items() if k not in keep}, orders=orders
    )
    top.moments = [float(s) for s in orders[0].signs]
    return top


def _prior_probabilities(cell: MagneticStructure, seq: list[EnumeratedOrder]) -> list[float | None]:
    try:
        from altermag.ml.prior import load_prior
    except ImportError:  # pragma: no cover - the prior needs numpy only
        return [None] * len(seq)
    prior = load_prior()
    if prior is None:
        return [None] * len(seq)
    return list(prior.order_probabilities(cell, seq))


def given_order_probability(verdict: str) -> float:
    """P(altermagnetic ground state) of an order given with the structure (not enumerated).

    The given order is taken as the ground state: 1 when it is altermagnetic, else 0.
    """
    return 1.0 if verdict == "altermagnet" else 0.0


def _material(row: Mapping[str, Any]) -> str:
    """The material a row belongs to: its stored material id, else its input id."""
    mid = row.get("material_id")
    return f"m{mid}" if mid is not None else f"i{row.get('id', '')}"


def _candidate_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """Sort key: P(altermagnetic ground state) descending (missing last), then the stored
    order id descending (the store's keyset order), then input id and order rank."""
    p_am = row.get("p_altermagnetic_ground_state")
    oid = row.get("order_id")
    return (
        p_am is None,
        -(p_am if p_am is not None else 0.0),
        oid is None,
        -(oid if oid is not None else 0),
        str(row.get("id", "")),
        row.get("order_rank") or 0,
    )


def rank_candidates(
    rows: Iterable[Mapping[str, Any]],
    *,
    all_orders: bool = False,
    max_per_prototype: int | None = None,
) -> list[dict[str, Any]]:
    """Candidate rows ranked by P(altermagnetic ground state); ``rank`` filled in (1 = best).

    Parameters
    ----------
    rows
        One row per (material, order) or per material. Keys used:
        ``p_altermagnetic_ground_state``; ``material_id`` and ``order_id`` (the stored rows;
        the material is then the stored one, so two inputs of one crystal are one material),
        else ``id`` (the input); ``order_rank`` (the order's rank within its material,
        1 = most probable; absent = a one-row-per-material input) and, for
        ``max_per_prototype``, ``prototype``.
    all_orders
        Keep every order of every material; by default one row per material (its lowest
        ``order_rank``; the store's ``max_rank=1``).
    max_per_prototype
        Keep at most this many rows per ``prototype`` value (rows without one are not capped).
    """
    items: list[dict[str, Any]] = []
    seen_orders: set[tuple[str, Any]] = set()
    for r in sorted((dict(r) for r in rows), key=_candidate_key):
        # one input seen twice (two names of one stored material) lists its orders once
        order = (_material(r), r.get("order_id", r.get("order_rank")))
        if order not in seen_orders:
            seen_orders.add(order)
            items.append(r)
    if not all_orders:
        best: dict[str, dict[str, Any]] = {}
        for r in items:
            key = _material(r)
            cur = best.get(key)
            if cur is None or (r.get("order_rank") or 0) < (cur.get("order_rank") or 0):
                best[key] = r
        items = list(best.values())
    items.sort(key=_candidate_key)
    if max_per_prototype is not None:
        seen: dict[str, int] = {}
        kept = []
        for r in items:
            proto = r.get("prototype")
            if proto:
                seen[proto] = seen.get(proto, 0) + 1
                if seen[proto] > max_per_prototype:
                    continue
            kept.append(r)
        items = kept
    return [{**r, "rank": k} for k, r in enumerate(items, start=1)]
