"""Storing analysed inputs: material, orders, model score and run membership in one transaction.

A screening stores its work a chunk at a time; each chunk touches several aggregates
(materials, orders, scores, the run's inputs) and must land all or nothing, so that a killed
run resumed later neither loses nor duplicates rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from altermag.result import SpinGroupResult
from altermag.store.database import Database, opt_float
from altermag.store.materials import MaterialRepository
from altermag.store.orders import OrderRepository
from altermag.store.records import StoredAnalysis
from altermag.store.runs import RunItemRow, RunRepository
from altermag.store.scores import ScoreColumns, ScoreRepository, ScoreRow
from altermag.structure import MagneticStructure

if TYPE_CHECKING:
    from altermag.screening import ScreenedEntry

__all__ = ["AnalysisItem", "Ingest"]


@dataclass(frozen=True)
class AnalysisItem:
    """One analysed input for :meth:`Ingest.analyses` (a chunk of a screening)."""

    structure: MagneticStructure
    result: SpinGroupResult
    input_ref: str | None = None
    source: str | None = None
    source_id: str | None = None
    settings: Mapping[str, Any] | None = None


class Ingest:
    """Write analysed inputs across the materials, orders, scores and runs repositories."""

    def __init__(
        self,
        db: Database,
        materials: MaterialRepository,
        orders: OrderRepository,
        scores: ScoreRepository,
        runs: RunRepository,
    ) -> None:
        self.db = db
        self.materials = materials
        self.orders = orders
        self.scores = scores
        self.runs = runs

    def analyses(
        self, items: Iterable[AnalysisItem], *, run_id: int | None = None
    ) -> list[StoredAnalysis]:
        """Store a chunk of analysed inputs in one transaction (all or nothing).

        With ``run_id`` every item with an ``input_ref`` is recorded as seen by that run.
        """
        items = list(items)
        with self.db.session() as s:
            mids = self.materials.upsert(
                s,
                [(i.structure, i.source, i.source_id) for i in items],
                [i.result.space_group_number for i in items],
            )
            oids = self.orders.upsert(
                s, [(mid, i.result, i.settings) for mid, i in zip(mids, items, strict=True)]
            )
            if run_id is not None:
                self.runs.upsert_items(
                    s,
                    run_id,
                    [
                        (i.input_ref, mid, None)
                        for mid, i in zip(mids, items, strict=True)
                        if i.input_ref is not None
                    ],
                )
        return [StoredAnalysis(m, o) for m, o in zip(mids, oids, strict=True)]

    def screened(
        self,
        entries: Iterable[ScreenedEntry],
        settings: Mapping[str, Any] | Any | None = None,
        *,
        run_id: int | None = None,
    ) -> list[StoredAnalysis | None]:
        """Store a screened chunk (:func:`altermag.screening.screen_records`) in one transaction.

        An entry with a result becomes material + orders (+ its model score when it has one);
        an entry that failed (unreadable input, analysis error) becomes an error row of the
        run and ``None`` in the returned list. ``settings`` (a mapping or a ``ScreenSettings``)
        key the orders; default: each result's tolerances.
        """
        entries = list(entries)
        ok = [e for e in entries if e.result is not None and e.structure is not None]
        structures = [cast(MagneticStructure, e.structure) for e in ok]
        results = [cast(SpinGroupResult, e.result) for e in ok]
        with self.db.session() as s:
            mids = self.materials.upsert(
                s,
                [(st, e.source or None, e.id) for st, e in zip(structures, ok, strict=True)],
                [r.space_group_number for r in results],
            )
            scored: list[ScoreRow] = [
                (mid, e.model_version, e.model_score, e.p_k0)
                for mid, e in zip(mids, ok, strict=True)
                if e.model_score is not None and e.model_version
            ]
            # one model version (the prior's) becomes the latest below: new order rows are
            # written with its scores instead of being updated with them afterwards
            latest: dict[int, ScoreColumns] | None = None
            if len({version for _, version, _, _ in scored}) == 1:
                latest = {
                    mid: (version, float(score), opt_float(p_k0))
                    for mid, version, score, p_k0 in scored
                }
            oids = self.orders.upsert(
                s, [(mid, r, settings) for mid, r in zip(mids, results, strict=True)], latest
            )
            self.scores.upsert(s, scored)
            if run_id is not None:
                stored_refs = {id(e): mid for e, mid in zip(ok, mids, strict=True)}
                items: list[RunItemRow] = [
                    (e.id, stored_refs[id(e)], None)
                    if id(e) in stored_refs
                    else (e.id, None, e.error or f"{e.id}: no structure or result")
                    for e in entries
                ]
                self.runs.upsert_items(s, run_id, items)
        stored = iter(StoredAnalysis(m, o) for m, o in zip(mids, oids, strict=True))
        stored_ids = {id(e) for e in ok}
        return [next(stored) if id(e) in stored_ids else None for e in entries]
