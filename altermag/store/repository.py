"""The repository API of the store: what flows, the REST API and reports call.

Every write is an idempotent upsert keyed by natural keys — the structure's content hash for
materials, (material, settings hash, moments) for magnetic orders, (material, model version)
for scores, (run, input) for run membership — implemented with the database's own
``INSERT ... ON CONFLICT`` on both SQLite and PostgreSQL. Storing the same analysis twice, or
resuming a killed screening that stores part of its work again, therefore adds no row.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Engine, Table, bindparam, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from altermag.formulas import optimade_formulas
from altermag.result import SpinGroupResult
from altermag.store.candidates import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    SORTS,
    CandidateQuery,
    decode_cursor,
    encode_cursor,
    normalise_element,
    page_statement,
    same_order,
)
from altermag.store.engine import database_url, make_engine
from altermag.store.migrate import current_revision, head, upgrade
from altermag.store.models import (
    MISSING_SCORE,
    ApiKey,
    Base,
    DftJob,
    DftResult,
    MagneticOrder,
    Material,
    MaterialElement,
    ModelScore,
    RunItem,
    ScreeningRun,
    StoreState,
    utcnow,
)
from altermag.store.records import (
    ApiKeyRecord,
    Candidate,
    CandidatePage,
    DftJobRecord,
    MaterialRecord,
    OrderRecord,
    RunItemRecord,
    RunRecord,
    ScoreRecord,
    StoredAnalysis,
    as_utc,
)
from altermag.structure import MagneticStructure

if TYPE_CHECKING:
    from altermag.screening import ScreenedEntry

__all__ = [
    "AnalysisItem",
    "Store",
    "hash_api_key",
    "moments_key",
    "result_settings",
    "settings_dict",
    "settings_hash",
]

RUN_STATUSES = ("running", "completed", "failed", "cancelled")
DFT_STATUSES = ("pending", "prepared", "submitted", "running", "completed", "failed")
"""``prepared``: inputs written, not run (no pseudopotentials or no runner); ``submitted``:
queued on a batch system."""


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
    rounded = None if moments is None else [round(float(m), 2) + 0.0 for m in moments]
    return hashlib.sha256(_canonical_json(rounded).encode()).hexdigest()


def hash_api_key(key: str) -> str:
    """SHA-256 of an API key (keys are 256-bit random tokens, so a plain hash is enough)."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class AnalysisItem:
    """One analysed input for :meth:`Store.add_analyses` (a chunk of a screening)."""

    structure: MagneticStructure
    result: SpinGroupResult
    input_ref: str | None = None
    source: str | None = None
    source_id: str | None = None
    settings: Mapping[str, Any] | None = None


class Store:
    """Repository over the screening database.

    Parameters
    ----------
    url
        SQLAlchemy URL; default ``$ALTERMAG_DATABASE_URL``, else ``sqlite:///altermag.db``.
    migrate
        Bring the schema to the newest Alembic revision first (creates it on an empty
        database). Readers that must not run DDL pass ``False``.
    """

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = database_url(url)
        if migrate and current_revision(self.url) != head():
            upgrade(self.url)
        self.engine: Engine = make_engine(self.url)
        # one long-lived autocommit connection for revision reads (one round trip each)
        self._reader: Connection | None = None
        self._reader_lock = threading.Lock()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self._sessions, "do_orm_execute", _note_write)
        event.listen(self._sessions, "before_flush", _note_flush)
        event.listen(self._sessions, "before_commit", _bump_revision)

    # ------------------------------------------------------------------ plumbing
    def close(self) -> None:
        """Close every pooled connection."""
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction (committed on success, rolled back on error)."""
        with self._sessions.begin() as session:
            yield session

    def _insert(self, model: type[Base]) -> Any:
        """The dialect's ``INSERT`` (with ``on_conflict_do_*``) on the model's table.

        Statements are built without values and executed with a list of parameter dicts
        (DB-API ``executemany``), so a chunk of thousands of rows costs one statement.
        """
        table = cast(Table, model.__table__)
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        if self.dialect == "sqlite":
            return sqlite.insert(table)
        raise NotImplementedError(f"the store supports SQLite and PostgreSQL, not {self.dialect}")

    def revision(self) -> int:
        """The store's revision: it grows with every committed write (any process).

        Two equal readings mean nothing was written in between, so a view computed at the
        first (a cached candidate page) is still exact at the second.
        """
        with self._reader_lock:
            try:
                return self._read_revision()
            except DBAPIError:  # the server went away: reconnect once
                if self._reader is not None:
                    self._reader.invalidate()
                self._reader = None
                return self._read_revision()

    def _read_revision(self) -> int:
        if self._reader is None or self._reader.invalidated or self._reader.closed:
            self._reader = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return int(self._reader.execute(_REVISION).scalar_one())

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A pooled connection in autocommit mode for one read-only statement (no
        BEGIN/COMMIT round trips on PostgreSQL; still checked by the pool's pre-ping)."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            yield conn

    def row_counts(self) -> dict[str, int]:
        """Number of rows in every table of the store."""
        with self.session() as s:
            return {
                table.name: int(s.scalar(select(func.count()).select_from(table)) or 0)
                for table in Base.metadata.sorted_tables
            }

    # ------------------------------------------------------------------ materials
    def _upsert_materials(
        self,
        s: Session,
        entries: Sequence[tuple[MagneticStructure, str | None, str | None]],
    ) -> list[int]:
        """Insert (structure, source, source_id) once per content hash; ids in input order."""
        hashes = [structure.content_hash() for structure, _, _ in entries]
        rows: dict[str, dict[str, Any]] = {}
        elements: dict[str, list[str]] = {}
        now = utcnow()
        for h, (structure, source, source_id) in zip(hashes, entries, strict=True):
            if h in rows:
                continue  # the first sighting in a chunk wins, as across chunks
            rows[h] = {
                "content_hash": h,
                "formula": structure.formula,
                "n_sites": len(structure),
                "source": source,
                "source_id": source_id,
                "structure": structure.to_dict(),
                "created_at": now,
            }
            elements[h] = sorted({normalise_element(e) for e in structure.species})
            rows[h]["element_list"] = " ".join(elements[h])
            rows[h]["nelements"] = len(elements[h])
            rows[h]["formula_reduced"], rows[h]["formula_anonymous"] = optimade_formulas(
                structure.species
            )
        if not rows:
            return []
        s.execute(  # sorted keys: concurrent writers lock rows in one order, no deadlock
            self._insert(Material).on_conflict_do_nothing(index_elements=["content_hash"]),
            [rows[h] for h in sorted(rows)],
        )
        ids: dict[str, int] = {}
        for batch in _batches(list(rows)):
            query = select(Material.content_hash, Material.id).where(
                Material.content_hash.in_(batch)
            )
            ids.update({h: int(mid) for h, mid in s.execute(query)})
        s.execute(
            self._insert(MaterialElement).on_conflict_do_nothing(
                index_elements=["material_id", "element"]
            ),
            [{"material_id": ids[h], "element": e} for h in sorted(rows) for e in elements[h]],
        )
        return [ids[h] for h in hashes]

    def add_material(
        self,
        structure: MagneticStructure,
        source: str | None = None,
        source_id: str | None = None,
    ) -> int:
        """Store a structure (once per content hash) and return its material id.

        The source and source id of the first sighting are kept; a later sighting of the same
        structure returns the same id and changes nothing.
        """
        with self.session() as s:
            return self._upsert_materials(s, [(structure, source, source_id)])[0]

    def material_id(self, content_hash: str) -> int | None:
        """The id of the material with this content hash, if stored."""
        with self.session() as s:
            return s.scalar(select(Material.id).where(Material.content_hash == content_hash))

    def material(self, material_id: int) -> MaterialRecord | None:
        """A material with every order, model score and DFT job (None if unknown)."""
        with self.session() as s:
            m = s.get(Material, material_id)
            if m is None:
                return None
            return MaterialRecord(
                id=m.id,
                content_hash=m.content_hash,
                formula=m.formula,
                elements=sorted(e.element for e in m.elements),
                n_sites=m.n_sites,
                source=m.source,
                source_id=m.source_id,
                structure=m.structure,
                created_at=as_utc(m.created_at),  # type: ignore[arg-type]
                orders=[_order_record(o) for o in m.orders],
                scores=[_score_record(sc) for sc in m.scores],
                dft_jobs=[_dft_record(j) for j in m.dft_jobs],
            )

    # ------------------------------------------------------------------ results
    def _upsert_results(
        self,
        s: Session,
        entries: Sequence[tuple[int, SpinGroupResult, Mapping[str, Any] | Any | None]],
    ) -> list[list[int]]:
        """Insert the order rows of (material id, result, settings); order ids per entry."""
        rows: dict[tuple[int, str, str], dict[str, Any]] = {}
        keys: list[list[tuple[int, str, str]]] = []
        now = utcnow()
        for material_id, result, settings in entries:
            sdict = settings_dict(settings) if settings is not None else result_settings(result)
            shash = settings_hash(sdict)
            entry_keys = []
            for row in _order_rows(result):
                key = (material_id, shash, row["moments_key"])
                entry_keys.append(key)
                rows.setdefault(
                    key,
                    {
                        **row,
                        "material_id": material_id,
                        "settings_hash": shash,
                        "settings": sdict,
                        "created_at": now,
                    },
                )
            keys.append(entry_keys)
        if not rows:
            return [[] for _ in entries]
        s.execute(
            self._insert(MagneticOrder).on_conflict_do_nothing(
                index_elements=["material_id", "settings_hash", "moments_key"]
            ),
            # key order (ranks first, so ids follow the heuristic within a material)
            [rows[k] for k in sorted(rows, key=lambda k: (k[0], k[1], _rank(rows[k]), k[2]))],
        )
        self._sync_scores(s, self._latest_model_version(s), sorted({k[0] for k in rows}))
        ids: dict[tuple[int, str, str], int] = {}
        for batch in _batches(sorted({k[0] for k in rows})):
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

    def add_result(
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
        with self.session() as s:
            return self._upsert_results(s, [(material_id, result, settings)])[0]

    def add_analysis(
        self,
        structure: MagneticStructure,
        result: SpinGroupResult,
        *,
        source: str | None = None,
        source_id: str | None = None,
        settings: Mapping[str, Any] | None = None,
        run_id: int | None = None,
        input_ref: str | None = None,
    ) -> StoredAnalysis:
        """Material + result (+ run membership) in one transaction."""
        item = AnalysisItem(structure, result, input_ref, source, source_id, settings)
        return self.add_analyses([item], run_id=run_id)[0]

    def add_analyses(
        self, items: Iterable[AnalysisItem], *, run_id: int | None = None
    ) -> list[StoredAnalysis]:
        """Store a chunk of analysed inputs in one transaction (all or nothing).

        With ``run_id`` every item with an ``input_ref`` is recorded as seen by that run.
        """
        items = list(items)
        with self.session() as s:
            mids = self._upsert_materials(s, [(i.structure, i.source, i.source_id) for i in items])
            oids = self._upsert_results(
                s, [(mid, i.result, i.settings) for mid, i in zip(mids, items, strict=True)]
            )
            if run_id is not None:
                self._upsert_run_items(
                    s,
                    run_id,
                    [
                        (i.input_ref, mid, None)
                        for mid, i in zip(mids, items, strict=True)
                        if i.input_ref is not None
                    ],
                )
        return [StoredAnalysis(m, o) for m, o in zip(mids, oids, strict=True)]

    def add_screened(
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
        with self.session() as s:
            mids = self._upsert_materials(
                s, [(st, e.source or None, e.id) for st, e in zip(structures, ok, strict=True)]
            )
            oids = self._upsert_results(
                s, [(mid, r, settings) for mid, r in zip(mids, results, strict=True)]
            )
            scores = [
                (mid, e.model_version, e.model_score, e.adapted_score)
                for mid, e in zip(mids, ok, strict=True)
                if e.model_score is not None and e.model_version
            ]
            self._upsert_scores(s, scores)
            if run_id is not None:
                stored_refs = {id(e): mid for e, mid in zip(ok, mids, strict=True)}
                self._upsert_run_items(
                    s,
                    run_id,
                    [
                        (e.id, stored_refs[id(e)], None)
                        if id(e) in stored_refs
                        else (e.id, None, e.error or f"{e.id}: no structure or result")
                        for e in entries
                    ],
                )
        stored = iter(StoredAnalysis(m, o) for m, o in zip(mids, oids, strict=True))
        stored_ids = {id(e) for e in ok}
        return [next(stored) if id(e) in stored_ids else None for e in entries]

    # ------------------------------------------------------------------ model scores
    def add_score(
        self,
        material_id: int,
        model_version: str,
        score: float,
        adapted_score: float | None = None,
    ) -> int:
        """Store (or replace) a model's score of a material; returns the score row id."""
        with self.session() as s:
            self._upsert_scores(s, [(material_id, model_version, score, adapted_score)])
            score_id = s.scalar(
                select(ModelScore.id).where(
                    ModelScore.material_id == material_id,
                    ModelScore.model_version == model_version,
                )
            )
            assert score_id is not None
            return int(score_id)

    def add_scores(self, rows: Iterable[tuple[int, str, float, float | None]]) -> None:
        """Store (or replace) many scores in one transaction.

        ``rows`` are ``(material_id, model_version, score, adapted_score)``; this is how a
        model stage writes the scores of a whole screened database.
        """
        with self.session() as s:
            self._upsert_scores(s, list(rows))

    def _upsert_scores(
        self, s: Session, rows: Sequence[tuple[int, str, float, float | None]]
    ) -> None:
        """Insert or replace (material id, model version, score, adapted score) rows."""
        if not rows:
            return
        latest = {(mid, version): (score, adapted) for mid, version, score, adapted in rows}
        previous = self._latest_model_version(s)
        stmt = self._insert(ModelScore)
        s.execute(
            stmt.on_conflict_do_update(
                index_elements=["material_id", "model_version"],
                set_={
                    "score": stmt.excluded.score,
                    "adapted_score": stmt.excluded.adapted_score,
                    "created_at": stmt.excluded.created_at,
                },
            ),
            [
                {
                    "material_id": mid,
                    "model_version": version,
                    "score": float(score),
                    "adapted_score": _opt_float(adapted),
                    "created_at": utcnow(),
                }
                for (mid, version), (score, adapted) in sorted(latest.items())
            ],
        )
        # The last version in this call is now the most recently stored one: the candidate
        # columns of every order follow it (when it changed, rows of the old one are cleared).
        version = self._latest_model_version(s)
        if version != previous:
            s.execute(
                update(MagneticOrder)
                .where(MagneticOrder.model_version.is_not(None))
                .where(MagneticOrder.model_version != version)
                .values(
                    model_version=None,
                    score=None,
                    adapted_score=None,
                    score_key=MISSING_SCORE,
                    adapted_key=MISSING_SCORE,
                )
            )
        self._sync_scores(s, version, sorted({mid for mid, v in latest if v == version}))

    @staticmethod
    def _sync_scores(s: Session, version: str | None, material_ids: Sequence[int]) -> None:
        """Copy the ``version`` scores of these materials onto their order rows."""
        if version is None or not material_ids:
            return
        for batch in _batches(list(material_ids)):
            found = s.execute(
                select(ModelScore.material_id, ModelScore.score, ModelScore.adapted_score).where(
                    ModelScore.model_version == version, ModelScore.material_id.in_(batch)
                )
            ).all()
            if found:
                s.execute(
                    _SYNC_SCORES,
                    [
                        {
                            "mid": mid,
                            "v": version,
                            "s": score,
                            "a": adapted,
                            "ak": MISSING_SCORE if adapted is None else adapted,
                        }
                        for mid, score, adapted in found
                    ],
                )

    def latest_model_version(self) -> str | None:
        """The model version scored most recently (the default for candidate queries)."""
        with self.session() as s:
            return self._latest_model_version(s)

    @staticmethod
    def _latest_model_version(s: Session) -> str | None:
        return s.scalar(
            select(ModelScore.model_version)
            .order_by(ModelScore.created_at.desc(), ModelScore.id.desc())
            .limit(1)
        )

    # ------------------------------------------------------------------ runs
    def start_run(
        self,
        source: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        key: str | None = None,
    ) -> int:
        """Open a screening run and return its id.

        With ``key`` the run is resumable: starting a run whose key exists sets it back to
        ``running`` and returns the same id, so a restarted flow keeps adding to it.
        """
        params = dict(parameters or {})
        with self.session() as s:
            if key is not None:
                s.execute(
                    self._insert(ScreeningRun)
                    .values(key=key, source=source, parameters=params, counts={}, errors=[])
                    .on_conflict_do_update(
                        index_elements=["key"], set_={"status": "running", "finished_at": None}
                    )
                )
                run_id = s.scalar(select(ScreeningRun.id).where(ScreeningRun.key == key))
                assert run_id is not None
                return int(run_id)
            run = ScreeningRun(source=source, parameters=params, counts={}, errors=[])
            s.add(run)
            s.flush()
            return run.id

    def _upsert_run_items(
        self, s: Session, run_id: int, rows: Sequence[tuple[str, int | None, str | None]]
    ) -> None:
        """Insert or replace (input_ref, material id, error) rows of a run."""
        if not rows:
            return
        latest = {ref: (mid, err) for ref, mid, err in rows}  # one row per input, last wins
        stmt = self._insert(RunItem)
        s.execute(
            stmt.on_conflict_do_update(
                index_elements=["run_id", "input_ref"],
                set_={"material_id": stmt.excluded.material_id, "error": stmt.excluded.error},
            ),
            [
                {
                    "run_id": run_id,
                    "input_ref": ref,
                    "material_id": mid,
                    "error": err,
                    "created_at": utcnow(),
                }
                for ref, (mid, err) in sorted(latest.items())
            ],
        )

    def set_run_cursor(self, run_id: int, cursor: str | None) -> None:
        """Remember where in its source a run got to (a source page cursor), for resuming."""
        with self.session() as s:
            s.execute(
                update(ScreeningRun).where(ScreeningRun.id == run_id).values(source_cursor=cursor)
            )

    def record_input(self, run_id: int, input_ref: str, material_id: int) -> None:
        """Record that run ``run_id`` saw ``input_ref`` and stored it as ``material_id``."""
        with self.session() as s:
            self._upsert_run_items(s, run_id, [(input_ref, material_id, None)])

    def record_error(self, run_id: int, input_ref: str, message: str) -> None:
        """Record that input ``input_ref`` of a run failed (unreadable file, bad structure...).

        Recording the same input again replaces the message; an input that later succeeds
        (:meth:`record_input`) clears it.
        """
        with self.session() as s:
            self._upsert_run_items(s, run_id, [(input_ref, None, str(message))])

    def finish_run(
        self,
        run_id: int,
        *,
        status: str = "completed",
        counts: Mapping[str, Any] | None = None,
        errors: Sequence[Any] | None = None,
    ) -> RunRecord:
        """Close a run with its status; counts of inputs, materials and failures are added.

        ``errors`` are run-level errors (a source that could not be reached); per-input
        failures are the :meth:`record_error` rows.
        """
        if status not in RUN_STATUSES:
            raise ValueError(f"status must be one of {RUN_STATUSES}, got {status!r}")
        with self.session() as s:
            run = s.get(ScreeningRun, run_id)
            if run is None:
                raise KeyError(f"no screening run {run_id}")
            n_inputs, n_materials, n_failed = _item_counts(s, run_id)
            run.status = status
            run.finished_at = utcnow()
            run.counts = {
                **dict(counts or {}),
                "inputs": n_inputs,
                "materials": n_materials,
                "failed": n_failed,
            }
            if errors is not None:
                run.errors = [*run.errors, *errors]
        record = self.run(run_id)
        assert record is not None
        return record

    def run(self, run_id: int) -> RunRecord | None:
        """A screening run with its counts and failed inputs (None if unknown)."""
        with self.session() as s:
            run = s.get(ScreeningRun, run_id)
            if run is None:
                return None
            return _run_record(s, run)

    def run_material_ids(self, run_id: int) -> dict[str, int]:
        """``{input reference: material id}`` of the inputs a run stored."""
        with self.session() as s:
            rows = s.execute(
                select(RunItem.input_ref, RunItem.material_id).where(
                    RunItem.run_id == run_id, RunItem.material_id.is_not(None)
                )
            )
            return {ref: int(mid) for ref, mid in rows}

    def runs(self, limit: int = 20) -> list[RunRecord]:
        """The most recent runs, newest first."""
        with self.session() as s:
            rows = s.scalars(
                select(ScreeningRun).order_by(ScreeningRun.id.desc()).limit(max(1, limit))
            )
            return [_run_record(s, run) for run in rows]

    # ------------------------------------------------------------------ candidates
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
            raise ValueError(f"limit must be at least 1, got {limit}")
        limit = min(limit, MAX_PAGE_SIZE)
        q = query if query is not None else CandidateQuery(**filters)
        if query is not None and filters:
            raise TypeError("give either a CandidateQuery or keyword filters, not both")
        if sort not in SORTS:
            raise ValueError(f"unknown sort {sort!r}; choose one of {', '.join(SORTS)}")
        after = decode_cursor(cursor, sort) if cursor else None
        stmt = page_statement(q.canonical(), sort, self.dialect, after is not None, limit + 1)
        params = {} if after is None else {"cursor_key": after[0], "cursor_id": after[1]}
        with self._reading() as conn:
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

    # ------------------------------------------------------------------ DFT
    def add_dft_job(
        self,
        material_id: int,
        code: str,
        *,
        order_id: int | None = None,
        directory: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        status: str = "pending",
    ) -> int:
        """Register a DFT job (``code`` is ``qe`` or ``vasp``) and return its id."""
        if status not in DFT_STATUSES:
            raise ValueError(f"status must be one of {DFT_STATUSES}, got {status!r}")
        with self.session() as s:
            job = DftJob(
                material_id=material_id,
                order_id=order_id,
                code=code,
                status=status,
                directory=directory,
                parameters=dict(parameters or {}),
            )
            s.add(job)
            s.flush()
            return job.id

    def set_dft_status(self, job_id: int, status: str, directory: str | None = None) -> None:
        """Move a DFT job to another status (and record where it runs)."""
        if status not in DFT_STATUSES:
            raise ValueError(f"status must be one of {DFT_STATUSES}, got {status!r}")
        values: dict[str, Any] = {"status": status, "updated_at": utcnow()}
        if directory is not None:
            values["directory"] = directory
        with self.session() as s:
            s.execute(update(DftJob).where(DftJob.id == job_id).values(**values))

    def set_dft_result(
        self,
        job_id: int,
        verdict: Mapping[str, Any],
        max_splitting_ev: float | None,
        *,
        status: str = "completed",
    ) -> None:
        """Store (or replace) the parsed outcome of a DFT job and set its status."""
        values = {"verdict": dict(verdict), "max_splitting_ev": _opt_float(max_splitting_ev)}
        with self.session() as s:
            s.execute(
                self._insert(DftResult)
                .values(job_id=job_id, **values)
                .on_conflict_do_update(index_elements=["job_id"], set_=values)
            )
            s.execute(
                update(DftJob).where(DftJob.id == job_id).values(status=status, updated_at=utcnow())
            )
            job = s.get(DftJob, job_id)
            if job is not None and status == "completed" and "status" in verdict:
                _attach_dft(s, job, str(verdict["status"]), values["max_splitting_ev"])

    # ------------------------------------------------------------------ API keys
    def create_api_key(self, name: str) -> str:
        """Create a key called ``name`` and return it; only its hash is stored."""
        key = "am_" + secrets.token_urlsafe(32)
        with self.session() as s:
            s.add(ApiKey(name=name, key_hash=hash_api_key(key)))
        return key

    def verify_api_key(self, key: str) -> ApiKeyRecord | None:
        """The record of an active key, or None for an unknown or revoked one."""
        with self.session() as s:
            row = s.scalar(
                select(ApiKey).where(
                    ApiKey.key_hash == hash_api_key(key), ApiKey.revoked_at.is_(None)
                )
            )
            return None if row is None else _api_key_record(row)

    def revoke_api_key(self, name: str) -> bool:
        """Revoke the key called ``name``; False if there is no such active key."""
        with self.session() as s:
            done = s.execute(
                update(ApiKey)
                .where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def api_keys(self) -> list[ApiKeyRecord]:
        """Every key's name and dates (active and revoked)."""
        with self.session() as s:
            return [_api_key_record(k) for k in s.scalars(select(ApiKey).order_by(ApiKey.id))]


# ---------------------------------------------------------------------- row helpers
def _opt_float(value: float | None) -> float | None:
    return None if value is None else float(value)


def _rank(row: Mapping[str, Any]) -> int:
    rank = row.get("heuristic_rank")
    return 0 if rank is None else int(rank)


def _batches(values: list[Any], size: int = 500) -> Iterator[list[Any]]:
    """Slices of ``values`` short enough for an ``IN (...)`` list on every database."""
    for i in range(0, len(values), size):
        yield values[i : i + size]


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
            )
            for o in result.orders
        ]
    return [_order_row(result, result.moments, enumerated=result.enumerated)]


def _order_row(
    result: SpinGroupResult,
    moments: Sequence[float] | None,
    *,
    enumerated: bool,
    rank: int | None = None,
    score: float | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    data = result.to_dict()
    return {
        "moments_key": moments_key(moments),
        "moments": None if moments is None else [float(m) for m in moments],
        "enumerated": enumerated,
        "verdict": result.verdict,
        "wave": result.wave,
        "spin_laue_group": result.spin_laue_group,
        "form_factor": result.form_factor,
        "nodal_planes": data["nodal_planes"],
        "heuristic_rank": rank,
        "heuristic_score": _opt_float(score),
        "heuristic_reason": reason,
        "result": data,
    }


def _order_record(o: MagneticOrder) -> OrderRecord:
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
        result=o.result,
        created_at=as_utc(o.created_at),  # type: ignore[arg-type]
    )


def _score_record(sc: ModelScore) -> ScoreRecord:
    return ScoreRecord(
        id=sc.id,
        material_id=sc.material_id,
        model_version=sc.model_version,
        score=sc.score,
        adapted_score=sc.adapted_score,
        created_at=as_utc(sc.created_at),  # type: ignore[arg-type]
    )


def _dft_record(j: DftJob) -> DftJobRecord:
    return DftJobRecord(
        id=j.id,
        material_id=j.material_id,
        order_id=j.order_id,
        code=j.code,
        status=j.status,
        directory=j.directory,
        parameters=j.parameters,
        created_at=as_utc(j.created_at),  # type: ignore[arg-type]
        updated_at=as_utc(j.updated_at),  # type: ignore[arg-type]
        verdict=None if j.result is None else j.result.verdict,
        max_splitting_ev=None if j.result is None else j.result.max_splitting_ev,
    )


def _api_key_record(k: ApiKey) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=k.id,
        name=k.name,
        created_at=as_utc(k.created_at),  # type: ignore[arg-type]
        revoked_at=as_utc(k.revoked_at),
    )


def _item_counts(s: Session, run_id: int) -> tuple[int, int, int]:
    n_inputs = s.scalar(select(func.count()).where(RunItem.run_id == run_id)) or 0
    n_materials = (
        s.scalar(
            select(func.count(func.distinct(RunItem.material_id))).where(
                RunItem.run_id == run_id, RunItem.material_id.is_not(None)
            )
        )
        or 0
    )
    n_failed = (
        s.scalar(select(func.count()).where(RunItem.run_id == run_id, RunItem.error.is_not(None)))
        or 0
    )
    return int(n_inputs), int(n_materials), int(n_failed)


def _run_record(s: Session, run: ScreeningRun) -> RunRecord:
    n_inputs, n_materials, n_failed = _item_counts(s, run.id)
    failed = s.scalars(
        select(RunItem)
        .where(RunItem.run_id == run.id, RunItem.error.is_not(None))
        .order_by(RunItem.id)
    )
    return RunRecord(
        id=run.id,
        key=run.key,
        source=run.source,
        parameters=run.parameters,
        status=run.status,
        counts=run.counts,
        errors=run.errors,
        started_at=as_utc(run.started_at),  # type: ignore[arg-type]
        finished_at=as_utc(run.finished_at),
        source_cursor=run.source_cursor,
        n_inputs=n_inputs,
        n_materials=n_materials,
        n_failed=n_failed,
        failed_inputs=[RunItemRecord(i.input_ref, i.material_id, i.error) for i in failed],
    )


_REVISION = select(StoreState.revision).where(StoreState.id == 1)

_orders = cast(Table, MagneticOrder.__table__)
_SYNC_SCORES = (
    update(_orders)
    .where(_orders.c.material_id == bindparam("mid"))
    .values(
        model_version=bindparam("v"),
        score=bindparam("s"),
        adapted_score=bindparam("a"),
        score_key=bindparam("s"),
        adapted_key=bindparam("ak"),
    )
)
"""Scores of one material onto all its orders (executed for many materials at once)."""


def _note_write(state: ORMExecuteState) -> None:
    """Session event: remember that this transaction ran an INSERT, UPDATE or DELETE."""
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


def _note_flush(session: Session, *_: Any) -> None:
    """Session event: a flush of new, changed or deleted objects is a write too."""
    if session.new or session.dirty or session.deleted:
        session.info["wrote"] = True


def _bump_revision(session: Session) -> None:
    """Session event: increment ``store_state.revision`` in a transaction that wrote.

    The increment is the transaction's last statement, so concurrent writers on PostgreSQL
    queue on the one row only for the instant before their commits.
    """
    if session.info.pop("wrote", False):
        session.execute(update(StoreState).values(revision=StoreState.revision + 1))
        session.info.pop("wrote", None)


def _attach_dft(s: Session, job: DftJob, status: str, splitting: float | None) -> None:
    """Put a completed DFT check on the order it computed (for the candidate table).

    The order is the job's ``order_id`` when it has one, else every order of the material
    with the sign pattern of the job's starting moments (:func:`same_order`).
    """
    if job.order_id is not None:
        order_ids = [job.order_id]
    else:
        moments = (job.parameters or {}).get("moments")
        found = s.execute(
            select(MagneticOrder.id, MagneticOrder.moments).where(
                MagneticOrder.material_id == job.material_id
            )
        )
        order_ids = [oid for oid, m in found if same_order(m, moments)]
    if order_ids:
        s.execute(
            update(MagneticOrder)
            .where(MagneticOrder.id.in_(order_ids))
            .values(
                dft_status=status,
                dft_splitting_ev=splitting,
                dft_key=MISSING_SCORE if splitting is None else splitting,
            )
        )


def _candidate(row: Any) -> Candidate:
    """A candidate record from a row of :data:`~altermag.store.candidates.CANDIDATE_COLUMNS`
    followed by the score columns (unpacked by position: a page builds up to 500)."""
    (oid, mid, formula, elements, chash, source, source_id, verdict, wave, slg, ff, planes,
     moments, enumerated, hrank, hscore, hreason, shash, dft_status, dft_ev, version, score,
     adapted) = tuple(row)[:23]  # fmt: skip
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
        adapted_score=adapted,
        dft_status=dft_status,
        dft_splitting_ev=dft_ev,
    )
