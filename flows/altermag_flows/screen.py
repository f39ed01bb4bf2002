"""Prefect flow ``screen``: a thin wrapper over :func:`altermag.screening_run.run_screening`.

Chunks of source records run as Prefect tasks; with ``dask_address`` (a running
``distributed`` scheduler) or ``dask_workers`` (a local cluster) they run on Dask through
prefect-dask. Point Dask workers at a real Prefect server (``PREFECT_API_URL``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from altermag.screening import ScreenedEntry, ScreenSettings
from altermag.screening_run import run_screening, screen_chunk
from altermag.sources import Record, get_source
from altermag.symmetry import DEFAULT_MAGTOL, DEFAULT_SYMPREC

__all__ = ["screen", "screen_chunk_task", "task_runner_for"]


# The task wraps the library function itself, so Dask pickles it by reference
# (altermag.screening_run.screen_chunk) and a worker imports it instead of receiving a copy.
screen_chunk_task = task(screen_chunk, name="screen-chunk", retries=1, retry_delay_seconds=2)


def task_runner_for(dask_address: str | None, dask_workers: int | None) -> Any:
    """DaskTaskRunner for an address or a local cluster of N workers; else None (default)."""
    if not dask_address and not dask_workers:
        return None
    from prefect_dask import DaskTaskRunner

    if dask_address:
        return DaskTaskRunner(address=dask_address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": int(dask_workers or 1),
            "threads_per_worker": 1,
            "processes": True,
        }
    )


@flow(name="screen")
def screen(
    source: str = "embedded",
    source_options: dict[str, Any] | None = None,
    limit: int | None = None,
    db_url: str | None = None,
    out_dir: str = "candidates",
    chunk_size: int = 200,
    window: int = 2,
    symprec: float = DEFAULT_SYMPREC,
    magtol: float = DEFAULT_MAGTOL,
    key: str | None = None,
) -> dict[str, Any]:
    """Screen a source: read → analyze/enumerate → rank → store → candidates tables."""
    from altermag.store import Store

    logger = get_run_logger()
    options = dict(source_options or {})
    src = get_source(
        source,
        **{
            **options,
            "page_size"
            if source in ("embedded", "known", "corpus", "local", "magndata")
            else "page_limit": chunk_size,
        },
    )
    settings = ScreenSettings(symprec=symprec, magtol=magtol)

    def executor(chunks: Sequence[list[Record]], s: ScreenSettings) -> list[list[ScreenedEntry]]:
        futures = [screen_chunk_task.submit(c, s) for c in chunks]
        return [f.result() for f in futures]

    def progress(done: int, errors: int) -> None:
        logger.info("screened %d records (%d errors)", done, errors)

    store = Store(db_url)
    try:
        outcome = run_screening(
            src,
            store,
            settings,
            Path(out_dir),
            source_name=source,
            source_options=options,
            limit=limit,
            window=window,
            executor=executor,
            progress=progress,
            key=key,
        )
    finally:
        store.close()
    logger.info("run %s: %s → %s", outcome.run_id, outcome.counts, outcome.out_dir)
    return {
        "run_id": outcome.run_id,
        "counts": outcome.counts,
        "paths": {k: str(v) for k, v in outcome.paths.items()},
        "top": outcome.top,
    }
