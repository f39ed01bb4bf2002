"""A resumable, idempotent screening run: source → chunks → analysis → store → ranked tables.

The orchestration is plain Python with a pluggable chunk executor, so the Prefect flow
(``flows/altermag_flows/screen.py``) runs chunks as Prefect tasks (optionally on Dask) while
tests and
``altermag screen --no-prefect`` run them in-process.

Crash safety. For every window of source pages the run (1) analyzes the chunks, (2) stores
them in one transaction each (idempotent upserts keyed by content hash and settings hash),
(3) writes each chunk's candidate rows to ``<out>/chunks/<page-hash>.json`` atomically and
(4) only then advances the run's source cursor in the store. A run killed at any point and
started again with the same key resumes at the last cursor; a page processed twice stores
nothing twice and rewrites the same chunk file, so the final tables equal those of an
uninterrupted run.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from altermag.errors import SettingsError
from altermag.screening import (
    ScreenedEntry,
    ScreenSettings,
    candidate_rows,
    rank_rows,
    screen_records,
    write_candidates,
)
from altermag.sources import Page, Record, Source, SourceError, get_source
from altermag.symmetry import DEFAULT_CELL, DEFAULT_MAGTOL, DEFAULT_MAX_ORDERS, DEFAULT_SYMPREC
from altermag.symmetry.request import CellOption, Magtol, MaxOrders, Symprec

try:  # optional (the api extra): chunk files are encoded ~10× and read ~2× faster
    import orjson
except ImportError:  # pragma: no cover - the json module writes the same JSON
    orjson = None  # type: ignore[assignment]

__all__ = [
    "REPORT_PAGES",
    "ChunkExecutor",
    "ScreenRequest",
    "ScreeningOutcome",
    "run_key",
    "run_screening",
    "screen_chunk",
    "worker_pool",
]

RANKING = "symmetry+order-heuristic"
#: A function mapping a list of chunks (lists of records) to their screened entries.
ChunkExecutor = Callable[[Sequence[list[Record]], ScreenSettings], list[list[ScreenedEntry]]]


def screen_chunk(records: list[Record], settings: ScreenSettings) -> list[ScreenedEntry]:
    """One chunk's analysis (pure: the unit of work a task or a Dask worker runs)."""
    return screen_records(records, settings)


def _pool_chunk(records: list[Record], settings: ScreenSettings) -> list[ScreenedEntry]:
    """:func:`screen_chunk` on a pool worker, its garbage collected per chunk (:func:`chunk_gc`:
    the previous chunk's results are gone once they were sent back)."""
    with chunk_gc():
        return screen_chunk(records, settings)


def sequential(
    chunks: Sequence[list[Record]], settings: ScreenSettings
) -> list[list[ScreenedEntry]]:
    return [screen_chunk(c, settings) for c in chunks]


def run_key(
    source_name: str, source_options: dict[str, Any], settings: ScreenSettings, limit: int | None
) -> str:
    """Identity of a screening: same source, options, settings and limit → same run."""
    blob = json.dumps(
        {
            "source": source_name,
            "options": source_options,
            "settings": settings.hash(),
            "limit": limit,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


@dataclass
class ScreeningOutcome:
    run_id: int
    out_dir: Path
    paths: dict[str, Path]
    counts: dict[str, Any]
    top: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds of this invocation by phase: ``analysis`` (the executor, scoring included),
    ``store`` (transactions and chunk files), ``tables`` and ``reports``."""


def _page_name(cursor: str | None) -> str:
    return hashlib.sha256(str(cursor).encode()).hexdigest()[:20] + ".json"


def _chunk_json(chunk: dict[str, Any]) -> str:
    """The JSON text of a chunk file (ids, candidate rows, errors, skipped inputs)."""
    if orjson is not None:
        try:
            return orjson.dumps(chunk, option=orjson.OPT_SERIALIZE_NUMPY).decode()
        except TypeError:  # what orjson cannot encode (integers beyond 64 bits): json's way
            pass
    return json.dumps(chunk)


def _read_chunk(path: Path) -> dict[str, Any]:
    """A chunk file as written by :func:`_chunk_json`."""
    text = path.read_bytes()
    return orjson.loads(text) if orjson is not None else json.loads(text)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


#: Garbage-collection thresholds of a screening (generations 0, 1, 2), for what runs with the
#: collector's automatic runs on: the phases around the chunks, and the chunks of a screening
#: on a server's worker thread, where :func:`chunk_gc` leaves the collector alone. A chunk's
#: structures, results and rows live until the chunk is stored, so they outlive the young
#: generations and Python's default thresholds (700, 10, 10) would run a full collection of
#: the whole heap (every imported module's objects) every few chunks; collecting the youngest
#: generation every 7,000 net allocations instead of 700 makes full collections rare. Only
#: when cyclic garbage is freed changes, never what a screening computes.
SCREENING_GC_THRESHOLDS = (7000, 10, 10)


@contextmanager
def screening_gc() -> Iterator[None]:
    """:data:`SCREENING_GC_THRESHOLDS` for the duration of a screening (the previous
    thresholds are restored after it)."""
    previous = gc.get_threshold()
    gc.set_threshold(*SCREENING_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


@contextmanager
def chunk_gc() -> Iterator[None]:
    """One chunk's analysis and storage with the collector's automatic runs off; the young
    generations are collected once as the chunk starts.

    A chunk's structures, results and rows are alive until the chunk is stored, and make
    next to no cyclic garbage (a few hundred objects a chunk), so every automatic collection
    during a chunk walks tens of thousands of live objects to free almost nothing. Collected
    when the chunk starts, the young generations hold only what the previous chunk left (its
    objects are gone by then) and the new chunk's input. Only in the main thread: the
    collector is the process's, and a screening run on a worker thread of the API server
    (``altermag api``) leaves it to the server. Only when cyclic garbage is freed changes,
    never what a screening computes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    gc.collect(1)
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


#: Material pages (HTML with figures) a screening writes for its best candidates; the others
#: are one ``altermag report <material-id>`` away.
REPORT_PAGES = 3


@dataclass
class _InFlight:
    """A source page on its way through the analysis (kept in source order)."""

    start_cursor: str | None
    page: Page
    records: list[Record]
    future: Future | None = None


@screening_gc()
def run_screening(
    source: Source,
    store: Any,
    settings: ScreenSettings | None = None,
    out_root: Path = Path("candidates"),
    *,
    source_name: str = "source",
    source_options: dict[str, Any] | None = None,
    limit: int | None = None,
    window: int = 1,
    executor: ChunkExecutor | None = None,
    pool: Executor | None = None,
    scorer: Callable[[list[ScreenedEntry]], str | None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    key: str | None = None,
    report_pages: int = REPORT_PAGES,
    all_orders: bool = False,
    max_per_prototype: int | None = None,
) -> ScreeningOutcome:
    """Screen ``source`` into ``store`` and write ``<out_root>/<run-id>/candidates.*``.

    Parameters
    ----------
    window
        Source pages analyzed together (one chunk per page); with a ``pool``, the most
        chunks in flight (twice the workers keeps every worker busy while this process
        stores finished chunks).
    executor
        How a window's chunks are analyzed (default: in this process, one after another).
    pool
        A process pool (:func:`worker_pool`): chunks go to it as they are read and are stored
        in source order as they finish; ``executor`` is then unused.
    scorer
        Optional extra scoring of a chunk's entries after the executor (the prior already
        scores inside :func:`~altermag.screening.screen_records` when ``settings.score``);
        returns the model version (the ranking then names it).
    progress
        Called with (records done, errors so far) after every stored window or chunk.
    key
        Run identity for resuming (default :func:`run_key` of source, options, settings and
        limit); pass a fresh key to force a new run.
    all_orders, max_per_prototype
        What the candidate files list (:func:`altermag.ranking.rank_candidates`).
    report_pages
        Material pages written for the best candidates (``materials/<id>.html``).

    A run that is already complete is not analysed again: its tables are rebuilt from the
    chunk files and its reports are kept when they exist.
    """
    settings = settings or ScreenSettings()
    options = dict(source_options or {})
    executor = executor or sequential
    key = key or run_key(source_name, options, settings, limit)
    run_id = store.start_run(
        source_name,
        {"options": options, "settings": settings.to_dict(), "limit": limit, "key": key},
        key=key,
    )
    run = store.run(run_id)
    out_dir = Path(out_root) / str(run_id)
    chunk_dir = out_dir / "chunks"
    if run.n_inputs and not chunk_dir.is_dir():
        # the run's first part wrote its chunks under another output folder: counting from
        # zero here would screen `limit` more inputs and tables would miss the first part
        raise SettingsError(
            f"screening run {run_id} already has {run.n_inputs} inputs, written under another "
            "output folder; resume it with the same output folder (--out), or start a new "
            "run (--fresh)"
        )
    chunk_dir.mkdir(parents=True, exist_ok=True)
    ranking = RANKING
    started = time.perf_counter()
    timings = {"analysis": 0.0, "store": 0.0, "tables": 0.0, "reports": 0.0}
    done = sum(len(_read_chunk(p)["ids"]) for p in chunk_dir.glob("*.json"))
    n_errors = 0
    run_errors: list[str] = []
    status = "completed"
    # Starting a run again sets it back to running; a run that was finished before (counts
    # written, no run error, the source read to its end) has nothing left to analyse.
    finished_before = bool(run.counts) and not run.errors and run.source_cursor is None
    new_work = run.status != "completed" and not finished_before
    stored_any = False
    if new_work:
        cursor = run.source_cursor
        pages = iter(source.pages(cursor))
        # A run stopped between writing a chunk file and saving the cursor after it has one
        # chunk file ahead of its cursor: that page is read again, so its records are not
        # done yet (counting them would end a limited run one page early, its last page lost).
        ahead = chunk_dir / _page_name(cursor)
        if ahead.is_file():
            done -= len(_read_chunk(ahead)["ids"])
        queued = done
        in_flight: deque[_InFlight] = deque()
        exhausted = False

        def fill() -> None:
            nonlocal cursor, queued, exhausted
            while not exhausted and len(in_flight) < max(1, window):
                if limit is not None and queued >= limit:
                    exhausted = True
                    break
                page = next(pages, None)
                if page is None:
                    exhausted = True
                    break
                recs = page.records
                if limit is not None:
                    recs = recs[: max(0, limit - queued)]
                queued += len(recs)
                item = _InFlight(cursor, page, recs)
                if pool is not None:
                    item.future = pool.submit(_pool_chunk, recs, settings)
                in_flight.append(item)
                cursor = page.next_cursor
                if cursor is None:
                    exhausted = True

        def stored_chunks(finished: list[tuple[_InFlight, list[ScreenedEntry]]]) -> None:
            """Store analysed chunks in source order: entries, chunk file, then the cursor."""
            nonlocal ranking, done, stored_any, n_errors
            for item, entries in finished:
                if scorer is not None and entries:
                    scorer(entries)
                versions = {e.model_version for e in entries if e.model_version}
                if versions:
                    ranking = f"symmetry+prior:{sorted(versions)[-1]}"
                stored = store.add_screened(entries, settings.to_dict(), run_id=run_id)
                _atomic_write(
                    chunk_dir / _page_name(item.start_cursor),
                    _chunk_json(
                        {
                            "ids": [e.id for e in entries],
                            "rows": candidate_rows(entries, ranking, stored),
                            "errors": [e.error for e in entries if e.error],
                            "skipped": item.page.skipped,
                        }
                    ),
                )
                done += len(entries)
                stored_any = True
                n_errors += sum(1 for e in entries if e.error)
                store.set_run_cursor(run_id, item.page.next_cursor)

        try:
            while True:
                fill()
                if not in_flight:
                    break
                t0 = time.perf_counter()
                with chunk_gc():
                    if pool is None:
                        chunks = list(in_flight)
                        in_flight.clear()
                        results = executor([c.records for c in chunks], settings)
                    else:
                        chunks = [in_flight.popleft()]
                        assert chunks[0].future is not None
                        results = [chunks[0].future.result()]
                        fill()  # keep the workers busy while this chunk is stored
                    t1 = time.perf_counter()
                    timings["analysis"] += t1 - t0
                    stored_chunks(list(zip(chunks, results, strict=True)))
                    # the chunks' structures, results and rows go here, before the next
                    # chunk's collection (chunk_gc) would walk them
                    del chunks, results
                timings["store"] += time.perf_counter() - t1
                if progress is not None:
                    progress(done, n_errors)
        except SourceError as exc:
            status = "failed"
            run_errors.append(str(exc))
            for item in in_flight:
                if item.future is not None:
                    item.future.cancel()
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    skipped: dict[str, int] = {}
    for p in sorted(chunk_dir.glob("*.json")):
        data = _read_chunk(p)
        rows += data["rows"]
        errors += data["errors"]
        for reason, n in data["skipped"].items():
            skipped[reason] = skipped.get(reason, 0) + n
    rows = _dedupe(rows)
    best = rank_rows(rows)  # each material by its most probable order, best first
    counts = _counts(rows, best, errors, skipped)
    record = store.finish_run(run_id, status=status, counts=counts, errors=run_errors or None)
    summary = {
        "run_id": run_id,
        "key": key,
        "source": source_name,
        "options": options,
        "settings": settings.to_dict(),
        "status": record.status,
        "counts": counts,
        "ranking": ranking,
        "errors": errors,
        "run_errors": run_errors,
        "seconds_this_invocation": round(time.perf_counter() - started, 2),
    }
    listed = (
        best
        if not all_orders and max_per_prototype is None
        else rank_rows(rows, all_orders=all_orders, max_per_prototype=max_per_prototype)
    )
    paths = write_candidates(listed, out_dir, summary)
    t1 = time.perf_counter()
    timings["tables"] = t1 - t0
    report = out_dir / "report.html"
    if stored_any or not report.is_file():
        paths.update(write_run_reports(store, run_id, out_dir, pages=report_pages, pool=pool))
    else:
        paths["report"] = report
    timings["reports"] = time.perf_counter() - t1
    top = [r for r in best if r["can_host_altermagnet"]][:20]
    return ScreeningOutcome(
        run_id,
        out_dir,
        paths,
        counts,
        top,
        errors + run_errors,
        {k: round(v, 3) for k, v in timings.items()},
    )


def _worker_init() -> None:
    """A pool worker uses one core: no thread pools inside it (BLAS, OpenMP, torch); it
    screens chunks, so it collects garbage as a screening does (:data:`SCREENING_GC_THRESHOLDS`);
    it ends with the screening (:func:`_exit_with_parent`)."""
    import sys

    _exit_with_parent()
    gc.set_threshold(*SCREENING_GC_THRESHOLDS)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def _exit_with_parent() -> None:
    """End this worker as soon as the process that started the pool is gone.

    A screening killed by SIGKILL or SIGTERM (the OOM killer, ``kill``, a batch system's limit)
    runs no clean-up, and its pool would outlive it forever: the workers are children of the
    fork server, not of the screening, and wait for chunks on a queue whose write end they
    hold themselves; the fork server and the resource tracker end only when the last of their
    clients (the workers among them) is gone. A worker therefore watches its parent's
    sentinel (``multiprocessing.parent_process()``: a pipe whose only write end the
    screening's process holds, so it reads as closed once that process ends, however it
    ended) on a daemon thread, and exits when it closes; the fork server and the resource
    tracker follow.
    """
    import multiprocessing
    import threading

    parent = multiprocessing.parent_process()
    if parent is None:  # not started by multiprocessing: nothing to follow
        return

    def watch() -> None:
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


#: Modules the pool's fork server imports once, so that every worker starts with them loaded:
#: the analysis, the limits it checks (``altermag.config``, which brings pydantic-settings),
#: the prior and the ranking by it, and what the material pages of the run's best candidates need
#: (the stored records they are drawn from, matplotlib, the Brillouin zone and its k-path),
#: which each worker would otherwise import again at the end of the run. Not the store
#: itself: workers write nothing, and SQLAlchemy is a third of a second to import.
_PRELOAD = [
    "altermag.screening",
    "altermag.symmetry.enumerate",
    "altermag.config",
    "altermag.ml.prior",
    "altermag.ranking",
    "altermag.store.records",
    "altermag.reports.stored",
    "altermag.reports.material",
    "altermag.reports.bz",
    "altermag.dft.kpath",
]


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@contextmanager
def worker_pool(workers: int | None = None) -> Iterator[ProcessPoolExecutor | None]:
    """A process pool of ``workers`` (default: the available cores) for :func:`run_screening`,
    or None for one worker (everything then runs in this process).

    Workers are forked from a ``forkserver`` that imported the analysis and the prior once,
    so starting them costs no imports and shares no state (locks, threads, database
    connections) with this process.
    """
    n = available_cores() if workers is None else workers
    if n <= 1:
        yield None
        return
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    with ProcessPoolExecutor(n, mp_context=ctx, initializer=_worker_init) as pool:
        yield pool


SourceName = Literal[
    "embedded", "known", "corpus", "local", "magndata", "optimade", "materials_project"
]
PAGED_BY_LIMIT = ("optimade", "materials_project")
"""Sources whose page size is the server's ``page_limit`` (the others have ``page_size``)."""


class ScreenRequest(BaseModel):
    """What one screening is asked to do: the object ``altermag screen``, the ``screen`` and
    ``discover`` flows and ``POST /screenings`` all build (defaults and limits stated here).

    Where the run writes (store, output folder) and which run row it resumes (``key``) are
    not part of the request: they belong to the machine that runs it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: SourceName = Field("embedded", description="Where the structures come from.")
    source_options: dict[str, Any] = Field(
        default_factory=dict,
        description='The source\'s options, e.g. {"path": "/data/cifs"} (local, magndata) or '
        '{"base_url": "https://...", "filter": "..."} (optimade, materials_project).',
    )
    limit: int | None = Field(None, ge=1, le=1_000_000, description="Screen at most N records.")
    symprec: Symprec = DEFAULT_SYMPREC
    magtol: Magtol = DEFAULT_MAGTOL
    cell: CellOption = DEFAULT_CELL
    max_orders: MaxOrders = DEFAULT_MAX_ORDERS
    score: bool = Field(
        True, description="Score every structure with the shipped ground-state prior."
    )
    chunk_size: int = Field(200, ge=1, le=5000, description="Records per chunk (source page).")
    all_orders: bool = Field(
        False, description="Candidate files list every order (default: one row per material)."
    )
    max_per_prototype: int | None = Field(
        None, ge=1, description="Candidate files keep at most N rows per structure prototype."
    )

    @field_validator("source", mode="before")
    @classmethod
    def _alias(cls, value: Any) -> Any:
        return "materials_project" if value == "mp" else value

    def settings(self) -> ScreenSettings:
        """The analysis settings (their hash keys the stored orders)."""
        return ScreenSettings(
            symprec=self.symprec,
            magtol=self.magtol,
            cell=self.cell,
            max_orders=self.max_orders,
            score=self.score,
        )

    def open_source(self, *, restricted: bool = False) -> Source:
        """The source connector, paged by :attr:`chunk_size`.

        ``restricted`` (a screening asked for over the network: the API, a served flow)
        first checks source, options, URLs and folders against the operator's allowlists
        and makes the connector check every URL it fetches (:mod:`altermag.sources.allow`).
        """
        size = "page_limit" if self.source in PAGED_BY_LIMIT else "page_size"
        if restricted:
            from altermag.sources.allow import check_request, url_guard

            check_request(self.source, self.source_options)
        source = get_source(self.source, **{**self.source_options, size: self.chunk_size})
        if restricted and hasattr(source, "url_guard"):
            source.url_guard = url_guard()
        return source

    def run_key(self) -> str:
        """The run identity: the same request resumes the same run."""
        return run_key(self.source, dict(self.source_options), self.settings(), self.limit)

    def run(
        self,
        store: Any,
        out_root: Path | None = None,
        *,
        key: str | None = None,
        window: int = 1,
        executor: ChunkExecutor | None = None,
        pool: Executor | None = None,
        progress: Callable[[int, int], None] | None = None,
        report_pages: int = REPORT_PAGES,
        restricted: bool = False,
    ) -> ScreeningOutcome:
        """Screen into ``store`` and write ``<out_root>/<run-id>/`` (:func:`run_screening`;
        ``out_root`` default: ``$ALTERMAG_HOME/candidates``; ``restricted``: see
        :meth:`open_source`)."""
        from altermag.config import get_settings

        return run_screening(
            self.open_source(restricted=restricted),
            store,
            self.settings(),
            out_root if out_root is not None else get_settings().candidates_dir,
            source_name=self.source,
            source_options=dict(self.source_options),
            limit=self.limit,
            window=window,
            executor=executor,
            pool=pool,
            progress=progress,
            key=key,
            report_pages=report_pages,
            all_orders=self.all_orders,
            max_per_prototype=self.max_per_prototype,
        )


def _material_page(material: Any, order_id: int | None) -> str:
    """One material's HTML page (figures included): the unit of work of a pool worker."""
    from altermag.reports.material import render_html
    from altermag.reports.stored import stored_material_report

    return render_html(stored_material_report(material, order_id))


def write_run_reports(
    store: Any,
    run_id: int,
    out_dir: Path,
    top: int = 20,
    *,
    pages: int = REPORT_PAGES,
    pool: Executor | None = None,
) -> dict[str, Path]:
    """``report.html`` of the run (its best ``top`` candidates) and ``materials/<id>.html``
    for the best ``pages`` of them (rendered on ``pool`` when given); the other rows name the
    ``altermag report`` command that draws theirs."""
    with _young_objects_only():
        return _write_run_reports(store, run_id, out_dir, top, pages, pool)


@contextmanager
def _young_objects_only() -> Iterator[None]:
    """Garbage collections inside the block look only at objects made inside it
    (``gc.freeze``): drawing the material pages makes many short-lived reference cycles, and
    every collection they trigger would otherwise walk all the screening still holds (store,
    results, imported modules) again."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _write_run_reports(
    store: Any, run_id: int, out_dir: Path, top: int, pages: int, pool: Executor | None
) -> dict[str, Path]:
    from altermag.reports.run import render_run_html, run_candidates, run_report

    record = store.run(run_id)
    candidates, n_candidates = run_candidates(store, run_id)
    report = run_report(
        record,
        candidates,
        top=top,
        material_link="materials/{material_id}.html",
        n_candidates=n_candidates,
    )
    (out_dir / "materials").mkdir(exist_ok=True)
    jobs: list[tuple[Path, Any]] = []
    for i, row in enumerate(report["candidates"]):
        target = out_dir / "materials" / f"{row['material_id']}.html"
        material = store.material(row["material_id"]) if i < pages else None
        if material is None:
            row["link"] = None
            continue
        if pool is None:
            _atomic_write(target, _material_page(material, row["order_id"]))
        else:
            jobs.append((target, pool.submit(_material_page, material, row["order_id"])))
    path = out_dir / "report.html"
    _atomic_write(path, render_run_html(report))
    for target, future in jobs:
        _atomic_write(target, future.result())
    return {"report": path}


def _dedupe(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of each material's latest chunk (a re-screened id replaces its old rows)."""
    latest: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        group = latest.setdefault(r["id"], [])
        if group and r.get("order_rank", 1) in {g.get("order_rank", 1) for g in group}:
            group.clear()
        group.append(r)
    return [r for group in latest.values() for r in group]


def _counts(
    rows: list[dict[str, Any]],
    best: list[dict[str, Any]],
    errors: list[str],
    skipped: dict[str, int],
) -> dict:
    """Counts per material: verdict of its most probable order (``best``: :func:`rank_rows` of
    ``rows``); candidates (materials that can host an altermagnetic order,
    :func:`~altermag.screening.count_candidates`) by the wave of their most probable
    altermagnetic order."""
    from altermag.screening import count_candidates

    by_verdict: dict[str, int] = {}
    by_wave: dict[str, int] = {}
    for r in best:
        by_verdict[r["verdict"]] = by_verdict.get(r["verdict"], 0) + 1
    best_am: dict[Any, dict[str, Any]] = {}
    for r in rows:
        if r["can_host_altermagnet"] and (r["verdict"] == "altermagnet"):
            material = r.get("material_id", r["id"])  # stored rows: one count per material
            cur = best_am.get(material)
            if cur is None or r.get("order_rank", 1) < cur.get("order_rank", 1):
                best_am[material] = r
    for r in best_am.values():
        by_wave[r["wave"]] = by_wave.get(r["wave"], 0) + 1
    return {
        "screened": len({r["id"] for r in rows}),
        "errors": len(errors),
        "skipped": skipped,
        "candidates": count_candidates(rows),
        "by_verdict": by_verdict,
        "by_wave": by_wave,
    }
