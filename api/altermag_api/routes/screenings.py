"""``POST /screenings`` (API key) starts a screening; ``GET /screenings/{id}`` follows it."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import APIRouter, HTTPException, Path, Request

from altermag.screening_run import ScreenRequest
from altermag_api.deps import ReadAccess, StoreDep, WriteAccess
from altermag_api.launch import QueueFull, open_run
from altermag_api.schemas import ScreeningStarted, ScreeningStatus, problems

router = APIRouter(tags=["screenings"], responses=problems(401, 403, 404, 422, 503))

RunId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _links(request: Request, run_id: int) -> dict[str, str]:
    return {
        "self": str(request.url_for("get_screening", run_id=run_id).path),
        "report": str(request.url_for("run_report", run_id=run_id).path),
        "candidates": f"{request.url_for('list_candidates').path}?run_id={run_id}",
    }


@router.post("/screenings", status_code=202, response_model=ScreeningStarted)
def start_screening(body: ScreenRequest, request: Request, store: StoreDep, _: WriteAccess) -> Any:
    """Start a screening on the Prefect deployment (if configured) or a background thread."""
    from altermag.errors import AltermagError
    from altermag.public import scrub_paths
    from altermag.sources.allow import check_request

    state = request.app.state
    try:  # the operator's allowlists (the served flow checks them again on the worker)
        check_request(body.source, body.source_options)
        if state.prefect is None:  # the source will be read here: refuse bad options now
            body.open_source(restricted=True)
    except (TypeError, ValueError, OSError, AltermagError) as exc:
        detail = scrub_paths(str(exc))
        raise HTTPException(422, detail=f"source {body.source!r}: {detail}") from None
    if state.prefect is None:
        try:
            state.background.check_capacity(store)
        except QueueFull as exc:
            raise HTTPException(
                503, detail=f"the screening queue is full: {exc}", headers={"Retry-After": "60"}
            ) from None
    run_id, key = open_run(store, body)
    flow_run_id = None
    if state.prefect is not None:
        try:
            flow_run_id = state.prefect.submit(key, body)
        except httpx.HTTPError as exc:
            store.finish_run(run_id, status="failed", errors=[f"Prefect: {exc}"])
            raise HTTPException(503, detail=f"Prefect refused the run: {exc}") from None
        state.flow_runs[run_id] = flow_run_id
        backend = "prefect"
    else:
        state.background.submit(run_id, key, body)
        backend = "thread"
    return {
        "run_id": run_id,
        "status": "queued" if backend == "thread" else "running",
        "backend": backend,
        "flow_run_id": flow_run_id,
        "links": _links(request, run_id),
    }


@router.get("/screenings/{run_id}", response_model=ScreeningStatus)
def get_screening(run_id: RunId, request: Request, store: StoreDep, _: ReadAccess) -> Any:
    """Status (running, completed, failed), counts and errors of a screening run."""
    run = store.run(run_id)
    if run is None:
        raise HTTPException(404, detail=f"no screening run {run_id}")
    from altermag.public import public_run

    return {
        "run": public_run(run),
        "flow_run_id": request.app.state.flow_runs.get(run_id),
        "links": _links(request, run_id),
    }
