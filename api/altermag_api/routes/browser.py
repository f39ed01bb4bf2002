"""The candidate browser: server-rendered HTML pages over the store, and offline API docs.

* ``GET /`` — the candidates: filters (verdict, wave, elements, formula, lowest model
  probability, DFT status, every order or one row per material), sort, keyset pages
  (next/previous), each row linking to its classification report;
* ``GET /runs`` — the screenings, linking to their reports and to their candidates;
* ``GET /docs`` — Swagger UI from the assets of the ``swagger-ui-bundle-v2`` package, served
  here (no CDN).

Pages are plain HTML forms and links: no script at all, no inline style, every asset from
``/static``, so they work under a strict Content-Security-Policy (which they also declare).
The candidate rows come from :func:`candidate_page`, the one place that asks the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from altermag import __version__
from altermag.result import VERDICTS
from altermag.store import SORTS, CandidatePage, CandidateQuery, Store
from altermag.store.candidates import order_cap
from altermag_api.deps import ReadAccess, StoreDep

__all__ = ["CSP", "candidate_page", "router"]

HERE = Path(__file__).resolve().parents[1]
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'"
)
"""The policy the pages declare (``<meta http-equiv>``): everything from this server."""

WAVES = ("d", "g", "i")
DFT_STATUSES = ("confirmed", "contradicted", "inconclusive", "unchecked")
PAGE_SIZES = (25, 50, 100)
MAX_BACK = 100
"""How many earlier pages the "previous" links remember (cursors carried in the URL)."""


def candidate_page(
    store: Store, query: CandidateQuery, sort: str, cursor: str | None, limit: int
) -> CandidatePage:
    """One page of candidates for the browser (the store's candidate query and ranking)."""
    return store.candidates(query, sort=sort, cursor=cursor, limit=limit)


@dataclass
class Filters:
    """The browser's filters as they appear in the page's query string."""

    verdict: list[str]
    wave: list[str]
    elements: str
    formula: str
    min_score: float | None
    dft: list[str]
    all_orders: bool
    """Every order of every material; by default one row per material (its most probable
    order), the ranking of :func:`altermag.ranking.rank_candidates`."""
    run: int | None

    def query(self) -> CandidateQuery:
        return CandidateQuery(
            verdict=self.verdict or None,
            wave=self.wave or None,
            elements=tuple(self.elements.replace(",", " ").split()),
            formula=self.formula.strip() or None,
            min_score=self.min_score,
            dft_status=self.dft or None,
            max_rank=order_cap(None, self.all_orders),
            run_id=self.run,
        )

    def params(self) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = [("verdict", v) for v in self.verdict]
        out += [("wave", w) for w in self.wave]
        out += [("dft", d) for d in self.dft]
        for key, value in (
            ("elements", self.elements.strip()),
            ("formula", self.formula.strip()),
            ("min_score", self.min_score),
            ("all", "1" if self.all_orders else None),
            ("run", self.run),
        ):
            if value not in (None, ""):
                out.append((key, value))
        return out


def _url(path: str, params: list[tuple[str, Any]]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def _page(request: Request, template: str, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request, template, {"csp": CSP, "version": __version__, **context}
    )


@router.get("/", response_class=HTMLResponse)
async def candidates_page(
    request: Request,
    store: StoreDep,
    _: ReadAccess,
    verdict: Annotated[list[str] | None, Query()] = None,
    wave: Annotated[list[str] | None, Query()] = None,
    dft: Annotated[list[str] | None, Query()] = None,
    elements: Annotated[str, Query(max_length=200)] = "",
    formula: Annotated[str, Query(max_length=200)] = "",
    min_score: Annotated[str, Query(max_length=20)] = "",
    all: Annotated[str, Query(max_length=5)] = "",
    run: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    sort: Annotated[str, Query(max_length=40)] = "score",
    limit: Annotated[int, Query()] = PAGE_SIZES[0],
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
    back: Annotated[list[str] | None, Query()] = None,
) -> HTMLResponse:
    """The candidate table with its filters."""
    verdict, wave, dft, back = verdict or [], wave or [], dft or [], back or []
    problems: list[str] = []
    try:
        low = float(min_score) if min_score.strip() else None
        if low is not None and not 0.0 <= low <= 1.0:
            raise ValueError
    except ValueError:
        problems.append(f"lowest probability {min_score!r} is not a number from 0 to 1")
        low = None
    filters = Filters(
        verdict=[v for v in verdict if v in VERDICTS],
        wave=[w for w in wave if w in WAVES],
        elements=elements,
        formula=formula,
        min_score=low,
        dft=[d for d in dft if d in DFT_STATUSES],
        all_orders=bool(all),
        run=run,
    )
    sort = sort if sort in SORTS else "score"
    limit = limit if limit in PAGE_SIZES else PAGE_SIZES[0]
    back = back[-MAX_BACK:]
    try:
        page = await run_in_threadpool(
            candidate_page, store, filters.query(), sort, cursor or None, limit
        )
    except ValueError as exc:  # a cursor made for another sort, or a damaged one
        problems.append(f"{exc}; showing the first page")
        cursor, back = None, []
        page = await run_in_threadpool(candidate_page, store, filters.query(), sort, None, limit)
    base = [*filters.params(), ("sort", sort), ("limit", limit)]
    next_url = (
        _url(
            "/",
            [*base, ("cursor", page.next_cursor), *(("back", b) for b in [*back, cursor or ""])],
        )
        if page.next_cursor
        else None
    )
    prev_url = None
    if cursor:
        prev_cursor = back[-1] if back else ""
        prev_params = [*base, *(("back", b) for b in back[:-1])]
        if prev_cursor:
            prev_params.append(("cursor", prev_cursor))
        prev_url = _url("/", prev_params)
    return _page(
        request,
        "candidates.html",
        page=page,
        filters=filters,
        sort=sort,
        limit=limit,
        sorts=SORTS,
        verdicts=VERDICTS,
        waves=WAVES,
        dft_statuses=DFT_STATUSES,
        page_sizes=PAGE_SIZES,
        page_number=len(back) + 1 if cursor else 1,
        next_url=next_url,
        prev_url=prev_url,
        first_url=_url("/", base) if cursor else None,
        problems=problems,
    )


@router.get("/runs", response_class=HTMLResponse)
async def runs_page(
    request: Request,
    store: StoreDep,
    _: ReadAccess,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> HTMLResponse:
    """The most recent screenings with their status and counts."""
    runs = await run_in_threadpool(store.runs, limit)
    return _page(request, "runs.html", runs=runs)


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    """The site icon, for pages that do not name one (reports)."""
    return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")


@router.get("/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI over ``/openapi.json``, every asset from this server."""
    return _page(request, "docs.html")
