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
from altermag.screening_run import ScreenRequest, screen_chunk
from altermag.sources import Record

__all__ = ["screen", "screen_chunk_task", "task_runner_for"]


# The task wraps the library function itself, so Dask pickles it by reference
# (altermag.screening_run.screen_chunk) and a worker imports it instead of receiving a copy.
screen_chunk_task = task(name="screen-chunk", retries=1, retry_delay_seconds=2)(screen_chunk)


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
    request: ScreenRequest | None = None,
    db_url: str | None = None,
    out_dir: str | None = None,
    window: int = 2,
    key: str | None = None,
) -> dict[str, Any]:
    """Screen a source: read → analyze/enumerate → rank → store → candidates tables.

    ``request`` says what to screen (default: the embedded data); ``db_url`` and ``out_dir``
    where (default: ``$ALTERMAG_DATABASE_URL``, ``$ALTERMAG_HOME/candidates``); ``window``
    source pages are analyzed at once (one task each); ``key`` resumes a given run row.
    A run started from a deployment has its parameters checked first
    (:mod:`altermag_flows.guard`): no database, folder, source or URL of the caller's choosing.
    """
    from altermag.store import Store
    from altermag_flows.guard import check_screen, served_run

    logger = get_run_logger()
    served = served_run()
    if served:
        check_screen(request, db_url, out_dir, window, key)
    request = request or ScreenRequest()

    def executor(chunks: Sequence[list[Record]], s: ScreenSettings) -> list[list[ScreenedEntry]]:
        futures = [screen_chunk_task.submit(c, s) for c in chunks]
        return [f.result() for f in futures]

    def progress(done: int, errors: int) -> None:
        logger.info("screened %d records (%d errors)", done, errors)

    store = Store(db_url)
    try:
        outcome = request.run(
            store,
            Path(out_dir) if out_dir else None,
            key=key,
            window=window,
            executor=executor,
            progress=progress,
            restricted=served,
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
