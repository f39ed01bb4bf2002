"""``GET /reports/materials/{id}`` and ``GET /reports/runs/{id}`` (HTML or JSON)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from altermag_api.deps import ReadAccess, StoreDep
from altermag_api.schemas import problems

router = APIRouter(tags=["reports"], responses=problems(401, 404, 503))

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Format = Annotated[Literal["html", "json"], Query(alias="format")]
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report: HTML (default) or JSON (`?format=json`).",
        "content": {"text/html": {"schema": {"type": "string"}}},
    },
}


@router.get("/reports/materials/{material_id}", response_model=None, responses=_RESPONSES)
def material_report(
    material_id: Id,
    store: StoreDep,
    _: ReadAccess,
    fmt: Format = "html",
    order_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Any:
    """Classification report of a stored material (figures embedded)."""
    from altermag.reports.material import render_html
    from altermag.reports.stored import stored_material_report

    record = store.material(material_id)
    if record is None:
        raise HTTPException(404, detail=f"no material {material_id}")
    try:
        report = stored_material_report(record, order_id)
    except LookupError as exc:
        raise HTTPException(404, detail=str(exc)) from None
    if fmt == "json":
        return JSONResponse(report)
    return HTMLResponse(render_html(report))


@router.get("/reports/runs/{run_id}", response_model=None, responses=_RESPONSES)
def run_report(
    run_id: Id,
    request: Request,
    store: StoreDep,
    _: ReadAccess,
    fmt: Format = "html",
    top: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Screening report: counts by verdict and wave, ranked table, errors."""
    from altermag.public import public_run
    from altermag.reports.run import render_run_html, run_candidates, run_report

    run = store.run(run_id)
    if run is None:
        raise HTTPException(404, detail=f"no screening run {run_id}")
    run = public_run(run)
    base = str(request.url_for("material_report", material_id=1).path).rsplit("/", 1)[0]
    link = base + "/{material_id}"
    candidates, n_candidates = run_candidates(store, run_id)
    report = run_report(run, candidates, top=top, material_link=link, n_candidates=n_candidates)
    if fmt == "json":
        return JSONResponse(report)
    return HTMLResponse(render_run_html(report))
