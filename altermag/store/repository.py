"""The store's facade: one object over the repositories of each aggregate.

:class:`Store` opens the database (:class:`~altermag.store.database.Database`) and holds one
repository per aggregate — :attr:`~Store.materials`, :attr:`~Store.orders` (and the candidate
table), :attr:`~Store.scores`, :attr:`~Store.screening_runs`, :attr:`~Store.dft_jobs`,
:attr:`~Store.keys` — plus :attr:`~Store.ingest`, which writes a chunk of analysed inputs
across several of them in one transaction. New code calls the repositories; the methods below
are the store's original flat interface, each one line over a repository, kept so callers
can move over gradually.

Every write is an idempotent upsert keyed by natural keys — the structure's content hash for
materials, (material, settings hash, moments) for magnetic orders, (material, model version)
for scores, (run, input) for run membership — implemented with the database's own
``INSERT ... ON CONFLICT`` on both SQLite and PostgreSQL. Storing the same analysis twice, or
resuming a killed screening that stores part of its work again, therefore adds no row.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from altermag.result import SpinGroupResult
from altermag.store.candidates import DEFAULT_PAGE_SIZE, CandidateQuery
from altermag.store.database import Database
from altermag.store.dft_jobs import DFT_STATUSES, DftJobRepository
from altermag.store.ingest import AnalysisItem, Ingest
from altermag.store.keys import ApiKeyRepository, hash_api_key
from altermag.store.materials import MaterialRepository
from altermag.store.orders import (
    OrderRepository,
    moments_key,
    result_settings,
    settings_dict,
    settings_hash,
)
from altermag.store.pages import PageReader
from altermag.store.records import (
    ApiKeyRecord,
    Candidate,
    CandidatePage,
    MaterialRecord,
    RunRecord,
    StoredAnalysis,
)
from altermag.store.runs import RUN_STATUSES, RunRepository
from altermag.store.scores import ScoreRepository, ScoreRow
from altermag.structure import MagneticStructure

if TYPE_CHECKING:
    from altermag.screening import ScreenedEntry

__all__ = [
    "DFT_STATUSES",
    "RUN_STATUSES",
    "AnalysisItem",
    "Store",
    "hash_api_key",
    "moments_key",
    "result_settings",
    "settings_dict",
    "settings_hash",
]


class Store:
    """The screening database: repositories by aggregate behind one object.

    Parameters
    ----------
    url
        SQLAlchemy URL; default ``$ALTERMAG_DATABASE_URL``, else ``sqlite:///altermag.db``.
    migrate
        Bring the schema to the newest Alembic revision first (creates it on an empty
        database). Readers that must not run DDL pass ``False``.
    pool_size
        Bound on the engine's pooled connections (:class:`~altermag.store.database.Database`).
    """

    def __init__(
        self, url: str | None = None, *, migrate: bool = True, pool_size: int | None = None
    ) -> None:
        self.db = Database(url, migrate=migrate, pool_size=pool_size)
        self.materials = MaterialRepository(self.db)
        self.orders = OrderRepository(self.db)
        self.scores = ScoreRepository(self.db)
        self.screening_runs = RunRepository(self.db)
        self.dft_jobs = DftJobRepository(self.db)
        self.keys = ApiKeyRepository(self.db)
        self.ingest = Ingest(self.db, self.materials, self.orders, self.scores, self.screening_runs)
        self._pages: PageReader | None = None
        self._pages_lock = threading.Lock()

    # ------------------------------------------------------------------ plumbing
    @property
    def url(self) -> str:
        return self.db.url

    @property
    def engine(self) -> Engine:
        return self.db.engine

    @property
    def dialect(self) -> str:
        return self.db.dialect

    def close(self) -> None:
        """Close every pooled connection."""
        if self._pages is not None:
            self._pages.close()
        self.db.close()

    async def aclose(self) -> None:
        """:meth:`close` from async code: the running event loop's page connections are
        closed in an orderly way first."""
        if self._pages is not None:
            await self._pages.aclose()
        self.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction (committed on success, rolled back on error)."""
        with self.db.session() as session:
            yield session

    def revision(self) -> int:
        """The store's revision: it grows with every committed write (any process)."""
        return self.db.revision()

    def row_counts(self) -> dict[str, int]:
        """Number of rows in every table of the store."""
        return self.db.row_counts()

    # ------------------------------------------------------------------ materials, orders
    def add_material(
        self, structure: MagneticStructure, source: str | None = None, source_id: str | None = None
    ) -> int:
        """:meth:`MaterialRepository.add <altermag.store.materials.MaterialRepository.add>`."""
        return self.materials.add(structure, source, source_id)

    def material_id(self, content_hash: str) -> int | None:
        """The id of the material with this content hash, if stored."""
        return self.materials.id_of(content_hash)

    def material(self, material_id: int) -> MaterialRecord | None:
        """A material with every order, model score and DFT job (None if unknown)."""
        return self.materials.get(material_id)

    def add_result(
        self,
        material_id: int,
        result: SpinGroupResult,
        settings: Mapping[str, Any] | None = None,
    ) -> list[int]:
        """:meth:`OrderRepository.add <altermag.store.orders.OrderRepository.add>`."""
        return self.orders.add(material_id, result, settings)

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
        return self.ingest.analyses([item], run_id=run_id)[0]

    def add_analyses(
        self, items: Iterable[AnalysisItem], *, run_id: int | None = None
    ) -> list[StoredAnalysis]:
        """:meth:`Ingest.analyses <altermag.store.ingest.Ingest.analyses>`."""
        return self.ingest.analyses(items, run_id=run_id)

    def add_screened(
        self,
        entries: Iterable[ScreenedEntry],
        settings: Mapping[str, Any] | Any | None = None,
        *,
        run_id: int | None = None,
    ) -> list[StoredAnalysis | None]:
        """:meth:`Ingest.screened <altermag.store.ingest.Ingest.screened>`."""
        return self.ingest.screened(entries, settings, run_id=run_id)

    def candidates(
        self,
        query: CandidateQuery | None = None,
        *,
        sort: str = "score",
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        **filters: Any,
    ) -> CandidatePage:
        """:meth:`OrderRepository.candidates <altermag.store.orders.OrderRepository.candidates>`."""
        return self.orders.candidates(query, sort=sort, cursor=cursor, limit=limit, **filters)

    def candidate_page_json(
        self,
        query: CandidateQuery,
        *,
        sort: str = "score",
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> bytes:
        """:meth:`candidates` as the JSON body the API sends (:class:`PageReader
        <altermag.store.pages.PageReader>`: same rows and cursor, ~5× less Python)."""
        return self.page_reader.page(query, sort=sort, cursor=cursor, limit=limit)

    async def candidate_page_json_async(
        self,
        query: CandidateQuery,
        *,
        sort: str = "score",
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> bytes:
        """:meth:`candidate_page_json` from async code (:meth:`PageReader.page_async
        <altermag.store.pages.PageReader.page_async>`: PostgreSQL on the event loop, no
        thread)."""
        return await self.page_reader.page_async(query, sort=sort, cursor=cursor, limit=limit)

    @property
    def page_reader(self) -> PageReader:
        """The store's :class:`~altermag.store.pages.PageReader` (made on first use)."""
        if self._pages is None:
            with self._pages_lock:
                if self._pages is None:
                    self._pages = PageReader(self.db.url)
        return self._pages

    def iter_candidates(
        self, query: CandidateQuery | None = None, *, sort: str = "score", **filters: Any
    ) -> Iterator[Candidate]:
        """Every candidate matching the filters, page by page (for CSV/JSON exports)."""
        return self.orders.iter_candidates(query, sort=sort, **filters)

    def candidate_material_ids(
        self, query: CandidateQuery | None = None, **filters: Any
    ) -> set[int]:
        """The material ids of every candidate matching the filters (one query, no rows)."""
        return self.orders.material_ids(query, **filters)

    # ------------------------------------------------------------------ model scores
    def add_score(
        self,
        material_id: int,
        model_version: str,
        score: float,
        p_k0: float | None = None,
    ) -> int:
        """Store (or replace) a model's score of a material (P(altermagnetic ground state),
        and P(k = 0) when given); returns the score row id."""
        return self.scores.add(material_id, model_version, score, p_k0)

    def add_scores(self, rows: Iterable[ScoreRow]) -> None:
        """Store (or replace) many ``(material_id, model_version, score, p_k0)`` rows."""
        self.scores.add_many(rows)

    def latest_model_version(self) -> str | None:
        """The model version scored most recently (the default for candidate queries)."""
        return self.scores.latest_version()

    # ------------------------------------------------------------------ runs
    def start_run(
        self, source: str, parameters: Mapping[str, Any] | None = None, *, key: str | None = None
    ) -> int:
        """:meth:`RunRepository.start <altermag.store.runs.RunRepository.start>`."""
        return self.screening_runs.start(source, parameters, key=key)

    def set_run_cursor(self, run_id: int, cursor: str | None) -> None:
        """Remember where in its source a run got to (a source page cursor), for resuming."""
        self.screening_runs.set_cursor(run_id, cursor)

    def record_input(self, run_id: int, input_ref: str, material_id: int) -> None:
        """Record that run ``run_id`` saw ``input_ref`` and stored it as ``material_id``."""
        self.screening_runs.record_input(run_id, input_ref, material_id)

    def record_error(self, run_id: int, input_ref: str, message: str) -> None:
        """Record that input ``input_ref`` of a run failed (replacing an earlier message)."""
        self.screening_runs.record_error(run_id, input_ref, message)

    def finish_run(
        self,
        run_id: int,
        *,
        status: str = "completed",
        counts: Mapping[str, Any] | None = None,
        errors: Sequence[Any] | None = None,
    ) -> RunRecord:
        """:meth:`RunRepository.finish <altermag.store.runs.RunRepository.finish>`."""
        return self.screening_runs.finish(run_id, status=status, counts=counts, errors=errors)

    def run(self, run_id: int) -> RunRecord | None:
        """A screening run with its counts and failed inputs (None if unknown)."""
        return self.screening_runs.get(run_id)

    def run_material_ids(self, run_id: int) -> dict[str, int]:
        """``{input reference: material id}`` of the inputs a run stored."""
        return self.screening_runs.material_ids(run_id)

    def runs(self, limit: int = 20) -> list[RunRecord]:
        """The most recent runs, newest first."""
        return self.screening_runs.recent(limit)

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
        return self.dft_jobs.add(
            material_id,
            code,
            order_id=order_id,
            directory=directory,
            parameters=parameters,
            status=status,
        )

    def set_dft_status(self, job_id: int, status: str, directory: str | None = None) -> None:
        """Move a DFT job to another status (and record where it runs)."""
        self.dft_jobs.set_status(job_id, status, directory)

    def set_dft_result(
        self,
        job_id: int,
        verdict: Mapping[str, Any],
        max_splitting_ev: float | None,
        *,
        status: str = "completed",
    ) -> None:
        """Store (or replace) the parsed outcome of a DFT job and set its status."""
        self.dft_jobs.set_result(job_id, verdict, max_splitting_ev, status=status)

    # ------------------------------------------------------------------ API keys
    def create_api_key(self, name: str, scope: str = "write") -> str:
        """Create a key called ``name`` with ``scope`` (``read``, ``write``, ``admin``) and
        return it; only its hash is stored. A name already used (even revoked): StoreError."""
        return self.keys.create(name, scope)

    def api_key(self, name: str) -> ApiKeyRecord | None:
        """The key called ``name`` (active or revoked), or None."""
        return self.keys.find(name)

    def verify_api_key(self, key: str) -> ApiKeyRecord | None:
        """The record of an active key, or None for an unknown or revoked one."""
        return self.keys.verify(key)

    def revoke_api_key(self, name: str) -> bool:
        """Revoke the key called ``name``; False if there is no such active key."""
        return self.keys.revoke(name)

    def api_keys(self) -> list[ApiKeyRecord]:
        """Every key's name and dates (active and revoked)."""
        return self.keys.all()
