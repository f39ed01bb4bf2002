"""Screening: analyze records in chunks, score them with the ground-state prior, write the
ranked tables.

Pure library code used by the Prefect ``screen`` flow (``flows/altermag_flows/screen.py``) and
by tests: no Prefect, no database. A chunk of source records becomes a list of
:class:`ScreenedEntry`. Structures without moments get their collinear k = 0 orders enumerated
and scored by the prior (:mod:`altermag.ml.prior`): P(k = 0), each order's P(ground state)
(the orders are re-ranked by it, :func:`altermag.ranking.apply_ranking`) and
P(altermagnetic ground state). Tables are ranked by :func:`altermag.ranking.rank_candidates`:
one row per material (its most probable order) by P(altermagnetic ground state).

A material is a *candidate* when it can host an altermagnetic order (one of its enumerated
orders, or its given order, is altermagnetic): :func:`count_candidates` is the one count the
CLI, the summary and the report print. The ranking is named ``symmetry+prior:<version>`` when
the prior scored the entries (the default) and ``symmetry+order-heuristic`` without it.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from altermag.errors import AltermagError
from altermag.result import SpinGroupResult
from altermag.sources import Record
from altermag.structure import MagneticStructure
from altermag.symmetry import (
    DEFAULT_CELL,
    DEFAULT_MAGTOL,
    DEFAULT_MAX_ORDERS,
    DEFAULT_SYMPREC,
    analyze,
)

__all__ = [
    "CANDIDATE_COLUMNS",
    "ScreenSettings",
    "ScreenedEntry",
    "candidate_rows",
    "count_candidates",
    "rank_rows",
    "screen_records",
    "write_candidates",
]


@dataclass(frozen=True)
class ScreenSettings:
    """Everything that changes a screening result (its hash keys idempotent storage)."""

    symprec: float = DEFAULT_SYMPREC
    magtol: float = DEFAULT_MAGTOL
    cell: str = DEFAULT_CELL
    max_orders: int = DEFAULT_MAX_ORDERS
    score: bool = True
    """Score every structure without moments with the shipped ground-state prior."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def hash(self) -> str:
        """Short SHA-256 of the settings (and the analysis version that interprets them)."""
        from altermag import __version__

        blob = json.dumps({**self.to_dict(), "version": __version__}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class ScreenedEntry:
    """One screened record: its structure and spin-group result, or the error."""

    id: str
    source: str
    structure: MagneticStructure | None
    result: SpinGroupResult | None
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    model_score: float | None = None
    """P(altermagnetic ground state) from the prior (None: not scored)."""
    model_version: str | None = None
    p_k0: float | None = None
    """The prior's P(k = 0) of the crystal."""

    @property
    def is_candidate(self) -> bool:
        return self.result is not None and self.result.is_altermagnet

    def best_altermagnetic_order(self) -> tuple[float, str | None, str | None]:
        """(heuristic score, wave, spin Laue group) of the best altermagnetic order."""
        res = self.result
        if res is None:
            return 0.0, None, None
        if not res.enumerated:
            return (
                (1.0, res.wave, res.spin_laue_group)
                if res.verdict == "altermagnet"
                else (0.0, None, None)
            )
        for order in res.orders:  # best first
            if order.result.verdict == "altermagnet":
                return order.score, order.result.wave, order.result.spin_laue_group
        return 0.0, None, None


def screen_records(
    records: Iterable[Record], settings: ScreenSettings, source: str = ""
) -> list[ScreenedEntry]:
    """Analyze every record (moments given: classify; no moments: enumerate orders).

    A record that failed to read, or whose analysis raises, becomes an entry with ``error``;
    the chunk always completes.
    """
    out: list[ScreenedEntry] = []
    for rec in records:
        src = rec.metadata.get("source", source)
        if rec.structure is None:
            out.append(ScreenedEntry(rec.id, src, None, None, rec.metadata, rec.error))
            continue
        try:
            res = analyze(
                rec.structure,
                symprec=settings.symprec,
                magtol=settings.magtol,
                cell=settings.cell,
                max_orders=settings.max_orders,
            )
        except AltermagError as exc:  # one input the analysis refuses never stops a screening
            out.append(
                ScreenedEntry(
                    rec.id,
                    src,
                    rec.structure,
                    None,
                    rec.metadata,
                    f"{rec.id}: analysis failed: {type(exc).__name__}: {exc}",
                )
            )
            continue
        out.append(ScreenedEntry(rec.id, src, rec.structure, res, rec.metadata))
    if settings.score:
        score_entries(out)
    return out


@cache
def _prior() -> Any:
    """The shipped ground-state prior, loaded once per process (None when not installed)."""
    from altermag.ml.prior import load_prior

    return load_prior()


def score_entries(entries: list[ScreenedEntry]) -> str | None:
    """Score the enumerated entries with the prior and re-rank their orders by it.

    Fills ``p_k0``, ``model_score`` (= P(altermagnetic ground state)) and ``model_version``,
    and replaces ``result`` by :func:`altermag.ranking.apply_ranking` of it (orders carry
    ``p_ground_state``). Returns the prior's version, None without a prior.
    """
    from altermag.ml.prior import p_altermagnetic
    from altermag.ranking import apply_ranking

    prior = _prior()
    if prior is None:
        return None
    todo = [
        (e, e.structure, e.result)
        for e in entries
        if e.structure is not None and e.result is not None and e.result.enumerated
    ]
    scores = prior.score_many([s for _, s, _ in todo], [r for _, _, r in todo])
    for (e, structure, res), (p_k0, p_orders) in zip(todo, scores, strict=True):
        e.p_k0 = round(p_k0, 6)
        p_am = p_altermagnetic(p_k0, res, p_orders, prior.p_enumerated) if res.orders else 0.0
        e.model_score = round(p_am, 6)
        e.model_version = prior.version
        if res.orders:
            e.result = apply_ranking(structure, res, [float(p) for p in p_orders])
    return str(prior.version)


CANDIDATE_COLUMNS = (
    "rank",
    "id",
    "material_id",
    "order_id",
    "source",
    "formula",
    "verdict",
    "can_host_altermagnet",
    "wave",
    "spin_laue_group",
    "form_factor",
    "space_group",
    "prototype",
    "order_rank",
    "moments",
    "p_ground_state",
    "p_k0",
    "p_altermagnetic_ground_state",
    "order_score",
    "model_version",
    "ranking",
)


def _prototype(e: ScreenedEntry, res: SpinGroupResult) -> str:
    """Structure prototype key (:func:`altermag.prototypes.prototype_key`, as the store's)."""
    from altermag.prototypes import prototype_key

    species = e.structure.species if e.structure is not None else ()
    return prototype_key(species, res.space_group_number)


def _order_rows(e: ScreenedEntry, ranking: str) -> list[dict[str, Any]]:
    """One row per order of an entry (its given order, or every enumerated order)."""
    res = e.result
    assert res is not None
    common = {
        "rank": 0,
        "id": e.id,
        "source": e.source,
        "formula": e.structure.formula if e.structure else "",
        "can_host_altermagnet": bool(e.is_candidate),
        "space_group": f"{res.space_group_symbol} ({res.space_group_number})",
        "prototype": _prototype(e, res),
        "p_k0": e.p_k0,
        "p_altermagnetic_ground_state": e.model_score,
        "model_version": e.model_version or "",
        "ranking": ranking,
    }
    if not res.enumerated or not res.orders:
        # an order given with the structure is taken as its ground state (the prior is not
        # asked); the store ranks it with the same probability
        from altermag.ranking import given_order_probability

        given = given_order_probability(res.verdict)
        return [
            {
                **common,
                "p_altermagnetic_ground_state": given if not res.enumerated else e.model_score,
                "verdict": res.verdict,
                "wave": res.wave or "",
                "spin_laue_group": res.spin_laue_group or "",
                "form_factor": res.form_factor or "",
                "order_rank": 1,
                "moments": "",
                "p_ground_state": 1.0 if not res.enumerated else None,
                "order_score": 1.0 if res.verdict == "altermagnet" else 0.0,
            }
        ]
    return [
        {
            **common,
            "verdict": o.result.verdict,
            "wave": o.result.wave or "",
            "spin_laue_group": o.result.spin_laue_group or "",
            "form_factor": o.result.form_factor or "",
            "order_rank": o.rank,
            "moments": " ".join("+" if x > 0 else "-" if x < 0 else "0" for x in o.signs),
            "p_ground_state": o.p_ground_state,
            "order_score": round(o.score, 4),
        }
        for o in res.orders
    ]


def candidate_rows(
    entries: Iterable[ScreenedEntry], ranking: str, stored: Sequence[Any] | None = None
) -> list[dict[str, Any]]:
    """Unranked table rows (``rank`` 0): one per order of every entry that has a result.

    ``stored`` (what :meth:`Store.add_screened <altermag.store.Store.add_screened>` returned
    for these entries, one item per entry) adds each row's ``material_id`` and ``order_id``:
    :func:`rank_rows` then ranks and counts stored materials exactly as the store does.
    """
    entries = list(entries)
    places = list(stored) if stored is not None else [None] * len(entries)
    rows: list[dict[str, Any]] = []
    for e, place in zip(entries, places, strict=True):
        if e.result is None:
            continue
        mine = _order_rows(e, ranking)
        if place is not None and len(place.order_ids) == len(mine):
            for row, oid in zip(mine, place.order_ids, strict=True):
                row["material_id"], row["order_id"] = place.material_id, oid
        rows += mine
    return rows


def rank_rows(
    rows: Iterable[dict[str, Any]],
    *,
    all_orders: bool = False,
    max_per_prototype: int | None = None,
) -> list[dict[str, Any]]:
    """Rows ranked by :func:`altermag.ranking.rank_candidates` (one per material by default)."""
    from altermag.ranking import rank_candidates

    return rank_candidates(rows, all_orders=all_orders, max_per_prototype=max_per_prototype)


def count_candidates(rows: Iterable[dict[str, Any]]) -> int:
    """Materials that can host an altermagnetic order (the one candidate count; stored rows
    count by material, so two inputs of one crystal count once, as in the store)."""
    return len({r.get("material_id", r["id"]) for r in rows if r.get("can_host_altermagnet")})


def write_candidates(
    ranked: list[dict[str, Any]], out_dir: Path, summary: dict[str, Any]
) -> dict[str, Path]:
    """Write ``candidates.csv``, ``candidates.json`` (the rows of :func:`rank_rows`, in
    their order) and ``summary.json`` to out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, json_path, sum_path = (
        out_dir / n for n in ("candidates.csv", "candidates.json", "summary.json")
    )
    with csv_path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CANDIDATE_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(ranked)
    json_path.write_text(
        "[\n" + ",\n".join(json.dumps(r) for r in ranked) + "\n]\n"
    )  # a row a line
    sum_path.write_text(json.dumps(summary, indent=1, default=str))
    return {"csv": csv_path, "json": json_path, "summary": sum_path}
