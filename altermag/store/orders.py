"""Magnetic orders: the spin-group classifications of a material, and the candidate table.

An order row is one collinear arrangement of a material's moments with its spin-group result,
keyed by (material, settings hash, moments key): the analysis settings and the signed moments
rounded to 0.01 μB. A structure given without moments gives one row per enumerated order
(with the heuristic's rank, score and reason); a structure with moments gives one row. The
candidate table is the order rows joined with their material and latest model score, read a
page at a time (:mod:`altermag.store.candidates`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from altermag.errors import SettingsError
from altermag.ranking import given_order_probability
from altermag.result import SpinGroupResult
from altermag.store.candidates import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    SORTS,
    CandidateQuery,
    decode_cursor,
    encode_cursor,
    page_statement,
)
from altermag.store.database import BulkInsert, Database, batches, opt_float
from altermag.store.engine import encode_json
from altermag.store.models import MATERIAL_IDENTITY, MagneticOrder, Material, utcnow
from altermag.store.pages import page_head
from altermag.store.records import Candidate, CandidatePage, OrderRecord, as_utc
from altermag.store.scores import NO_SCORE, ScoreColumns, latest_version, score_columns, sync_scores

__all__ = [
    "OrderRepository",
    "moments_key",
    "result_settings",
    "settings_dict",
    "settings_hash",
]

ResultRow = tuple[int, SpinGroupResult, "Mapping[str, Any] | Any | None"]
"""``(material_id, result, settings)``; settings None: the result's own tolerances."""


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def settings_hash(settings: Mapping[str, Any] | Any) -> str:
    """SHA-256 of the analysis settings (canonical JSON: key order does not matter)."""
    return hashlib.sha256(_canonical_json(settings_dict(settings)).encode()).hexdigest()


def settings_dict(settings: Mapping[str, Any] | Any) -> dict[str, Any]:
    """Settings as a plain dict: a mapping, or an object with ``to_dict()`` (ScreenSettings)."""
    if isinstance(settings, Mapping):
        return dict(settings)
    if hasattr(settings, "to_dict"):
        return dict(settings.to_dict())
    raise TypeError(f"settings must be a mapping or have to_dict(), got {type(settings)}")


def result_settings(result: SpinGroupResult) -> dict[str, Any]:
    """The settings a result records about itself (the two tolerances)."""
    return {"symprec": result.symprec, "magtol": result.magtol}


def moments_key(moments: Sequence[float] | None) -> str:
    """SHA-256 of signed collinear moments rounded to 0.01 μB (None for no order)."""
    if moments is None:
        return _NO_MOMENTS_KEY
    # the canonical JSON of the rounded moments: a finite float's JSON is its repr; the signs
    # of an enumerated order are looked up
    rounded = ",".join([_SIGN_TEXT.get(m) or repr(round(float(m), 2) + 0.0) for m in moments])
    if "n" in rounded:  # nan or inf: json's own spelling (finite floats are their repr)
        return hashlib.sha256(
            _canonical_json([float(x) for x in rounded.split(",")]).encode()
        ).hexdigest()
    return hashlib.sha256(f"[{rounded}]".encode()).hexdigest()


_NO_MOMENTS_KEY = hashlib.sha256(_canonical_json(None).encode()).hexdigest()
_SIGN_TEXT = {1.0: "1.0", -1.0: "-1.0", 0.0: "0.0"}


class OrderRepository:
    """Store spin-group results as order rows; read the candidate table."""

    def __init__(self, db: Database) -> None:
        self.db = db
        insert = db.insert(MagneticOrder)
        new = insert.excluded
        # The same order analysed again adds nothing; only its place in the ranking follows
        # the newest prior (a re-screen after the prior changed), with the page head that
        # shows it, and a row whose rank and P(ground state) are unchanged is not written.
        self._upsert = BulkInsert(
            db,
            insert.on_conflict_do_update(
                index_elements=["material_id", "settings_hash", "moments_key"],
                set_={name: new[name] for name in (*_RANKING_COLUMNS, "page_head")},
                where=or_(
                    *(
                        getattr(MagneticOrder, name).is_distinct_from(new[name])
                        for name in _RANKING_COLUMNS
                    )
                ),
            ),
        )

    def add(
        self,
        material_id: int,
        result: SpinGroupResult,
        settings: Mapping[str, Any] | None = None,
    ) -> list[int]:
        """Store a spin-group result of a material; returns the ids of its order rows.

        A result with enumerated orders (structure given without moments) gives one row per
        order with its heuristic rank, score and reason; otherwise one row. ``settings``
        (default: the result's ``symprec`` and ``magtol``) are hashed into the key, so the
        same analysis stored twice adds nothing while other settings add new rows.
        """
        with self.db.session() as s:
            return self.upsert(s, [(material_id, result, settings)])[0]

    def upsert(
        self,
        s: Session,
        entries: Sequence[ResultRow],
        scores: Mapping[int, ScoreColumns] | None = None,
    ) -> list[list[int]]:
        """Insert the order rows of (material id, result, settings) in the caller's
        transaction; returns the order ids of each entry.

        ``scores`` (material id → (model version, score, P(k = 0))): the model's scores of
        these materials that the caller stores in the same transaction as the latest version
        (:meth:`Ingest.screened <altermag.store.ingest.Ingest.screened>`); new rows are
        written with them, so that copying the scores onto the rows afterwards finds nothing
        to change. Existing rows get the latest scores from :func:`sync_scores` as always.
        """
        rows: dict[tuple[int, str, str], dict[str, Any]] = {}
        keys: list[list[tuple[int, str, str]]] = []
        known: dict[Any, tuple[str, str]] = {}
        now = utcnow()
        for material_id, result, settings in entries:
            # a chunk's entries share their settings: hashed and encoded once
            ref = id(settings) if settings is not None else (result.symprec, result.magtol)
            if ref not in known:
                sdict = settings_dict(settings) if settings is not None else result_settings(result)
                known[ref] = (settings_hash(sdict), encode_json(sdict))
            shash, stext = known[ref]
            entry_keys = []
            score = scores.get(material_id) if scores else None
            for row in _order_rows(result):
                if score is not None:
                    row.update(score_columns(*score))
                key = (material_id, shash, row["moments_key"])
                entry_keys.append(key)
                rows.setdefault(
                    key,
                    {
                        **row,
                        "material_id": material_id,
                        "settings_hash": shash,
                        "settings": stext,
                        "created_at": now,
                    },
                )
            keys.append(entry_keys)
        if not rows:
            return [[] for _ in entries]
        identity = _identities(s, sorted({k[0] for k in rows}))
        for (material_id, _, _), row in rows.items():
            row.update(identity[material_id])
            row["page_head"] = page_head(row)
        # key order (ranks first, so ids follow the heuristic within a material)
        self._upsert(
            s, [rows[k] for k in sorted(rows, key=lambda k: (k[0], k[1], _rank(rows[k]), k[2]))]
        )
        # the latest stored scores onto the rows; not for the materials in ``scores``, whose
        # rows the caller's storing of those scores brings up to date in this transaction
        if unscored := {k[0] for k in rows} - set(scores or ()):
            sync_scores(s, latest_version(s), sorted(unscored))
        ids: dict[tuple[int, str, str], int] = {}
        for batch in batches(sorted({k[0] for k in rows})):
            query = select(
                MagneticOrder.material_id,
                MagneticOrder.settings_hash,
                MagneticOrder.moments_key,
                MagneticOrder.id,
            ).where(MagneticOrder.material_id.in_(batch))
            for mid, shash, mkey, oid in s.execute(query):
                if (mid, shash, mkey) in rows:
                    ids[(mid, shash, mkey)] = int(oid)
        return [[ids[k] for k in entry_keys] for entry_keys in keys]

    def candidates(
        self,
        query: CandidateQuery | None = None,
        *,
        sort: str = "score",
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        **filters: Any,
    ) -> CandidatePage:
        """One page of the candidate table.

        Filters come as a :class:`CandidateQuery` or as its fields by keyword
        (``verdict="altermagnet", elements=["Mn"], min_score=0.5``). ``sort`` is one of
        :data:`altermag.store.candidates.SORTS`; ties are broken by order id. ``limit`` is
        capped at :data:`MAX_PAGE_SIZE`. Pass the returned ``next_cursor`` to get the next
        page with the same filters and sort.
        """
        if limit < 1:
            raise SettingsError(f"limit must be at least 1, got {limit}")
        limit = min(limit, MAX_PAGE_SIZE)
        q = query if query is not None else CandidateQuery(**filters)
        if query is not None and filters:
            raise TypeError("give either a CandidateQuery or keyword filters, not both")
        if sort not in SORTS:
            raise SettingsError(f"unknown sort {sort!r}; choose one of {', '.join(SORTS)}")
        after = decode_cursor(cursor, sort) if cursor else None
        stmt = page_statement(q.canonical(), sort, self.db.dialect, after is not None, limit + 1)
        params = {} if after is None else {"cursor_key": after[0], "cursor_id": after[1]}
        with self.db.reading() as conn:
            rows = conn.execute(stmt, params).all()
        items = [_candidate(r) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = encode_cursor(sort, last.sort_value, last.order_id)
        return CandidatePage(items, next_cursor, sort, limit)

    def iter_candidates(
        self, query: CandidateQuery | None = None, *, sort: str = "score", **filters: Any
    ) -> Iterator[Candidate]:
        """Every candidate matching the filters, page by page (for CSV/JSON exports)."""
        cursor = None
        while True:
            page = self.candidates(query, sort=sort, cursor=cursor, limit=MAX_PAGE_SIZE, **filters)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def material_ids(self, query: CandidateQuery | None = None, **filters: Any) -> set[int]:
        """The materials of the candidates matching the filters: the material ids
        :meth:`iter_candidates` would give, from one query of ids (no row decoded)."""
        q = query if query is not None else CandidateQuery(**filters)
        stmt, _ = q.canonical().select()
        ids = stmt.with_only_columns(MagneticOrder.material_id, maintain_column_froms=True)
        with self.db.reading() as conn:
            return {int(mid) for (mid,) in conn.execute(ids.distinct())}


_RANKING_COLUMNS = ("heuristic_rank", "heuristic_score", "heuristic_reason", "p_ground_state")
"""What a re-analysis of a stored order may change: its rank among the material's orders."""


def _identities(s: Session, material_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The :data:`~altermag.store.models.MATERIAL_IDENTITY` columns of these materials, by
    id, as their order rows carry them."""
    columns = [getattr(Material, name) for name in MATERIAL_IDENTITY]
    out: dict[int, dict[str, Any]] = {}
    for batch in batches(material_ids):
        for mid, *values in s.execute(select(Material.id, *columns).where(Material.id.in_(batch))):
            out[int(mid)] = dict(zip(MATERIAL_IDENTITY, values, strict=True))
    return out


def _rank(row: Mapping[str, Any]) -> int:
    rank = row.get("heuristic_rank")
    return 0 if rank is None else int(rank)


def _order_rows(result: SpinGroupResult) -> list[dict[str, Any]]:
    """Order rows of a result: one per enumerated order, else one for the result itself."""
    if result.orders:  # a structure without moments
        return [
            _order_row(
                o.result,
                [float(x) for x in o.signs],
                enumerated=True,
                rank=o.rank,
                score=o.score,
                reason=o.reason,
                p_ground_state=o.p_ground_state,
            )
            for o in result.orders
        ]
    row = _order_row(result, result.moments, enumerated=result.enumerated)
    if not result.enumerated:
        # an order given with the structure ranks as its own ground state (the prior is not
        # asked): the candidate table sorts it where the screening's files put it
        given = given_order_probability(result.verdict)
        row.update(score=given, score_key=given, p_ground_state=1.0)
    return [row]


def _order_row(
    result: SpinGroupResult,
    moments: Sequence[float] | None,
    *,
    enumerated: bool,
    rank: int | None = None,
    score: float | None = None,
    reason: str | None = None,
    p_ground_state: float | None = None,
) -> dict[str, Any]:
    return {
        "moments_key": moments_key(moments),
        "moments": None if moments is None else [float(m) for m in moments],
        "enumerated": enumerated,
        "verdict": result.verdict,
        "wave": result.wave,
        "spin_laue_group": result.spin_laue_group,
        "form_factor": result.form_factor,
        "nodal_planes": encode_json(result.nodal_planes),
        "heuristic_rank": rank,
        "heuristic_score": opt_float(score),
        "heuristic_reason": reason,
        "p_ground_state": opt_float(p_ground_state),
        "result": encode_json(result),  # encoded once: the insert passes the text through
        # the model's score, copied onto the row by sync_scores or written with it
        # (score_columns); every row of one insert carries the same keys
        **NO_SCORE,
    }


def order_record(o: MagneticOrder) -> OrderRecord:
    """The record of an order row, its stored result restored as a :class:`SpinGroupResult`."""
    return OrderRecord(
        id=o.id,
        material_id=o.material_id,
        settings_hash=o.settings_hash,
        settings=o.settings,
        moments=o.moments,
        enumerated=o.enumerated,
        verdict=o.verdict,
        wave=o.wave,
        spin_laue_group=o.spin_laue_group,
        form_factor=o.form_factor,
        nodal_planes=o.nodal_planes,
        heuristic_rank=o.heuristic_rank,
        heuristic_score=o.heuristic_score,
        heuristic_reason=o.heuristic_reason,
        p_ground_state=o.p_ground_state,
        result=SpinGroupResult.from_dict(o.result),
        created_at=as_utc(o.created_at),  # type: ignore[arg-type]
    )


def _candidate(row: Any) -> Candidate:
    """A candidate record from a row of :data:`~altermag.store.candidates.CANDIDATE_COLUMNS`
    followed by the score columns (unpacked by position: a page builds up to 500)."""
    (oid, mid, formula, elements, chash, source, source_id, verdict, wave, slg, ff, planes,
     moments, enumerated, hrank, hscore, hreason, p_gs, shash, dft_status, dft_ev, dft_gs,
     dft_margin, version, score, p_k0) = tuple(row)[:26]  # fmt: skip
    return Candidate(
        order_id=oid,
        material_id=mid,
        formula=formula,
        elements=elements.split(),
        content_hash=chash,
        source=source,
        source_id=source_id,
        verdict=verdict,
        wave=wave,
        spin_laue_group=slg,
        form_factor=ff,
        nodal_planes=planes,
        moments=moments,
        enumerated=enumerated,
        heuristic_rank=hrank,
        heuristic_score=hscore,
        heuristic_reason=hreason,
        settings_hash=shash,
        model_version=version if score is not None else None,
        score=score,
        dft_status=dft_status,
        dft_splitting_ev=dft_ev,
        p_ground_state=p_gs,
        p_k0=p_k0,
        dft_ground_state=dft_gs,
        dft_am_margin_mev=dft_margin,
    )
