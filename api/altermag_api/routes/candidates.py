"""``GET /candidates`` (JSON pages) and ``GET /candidates.csv`` (every matching row).

Filters map one to one onto :class:`altermag.store.CandidateQuery`; pages use the store's
keyset cursor, so concurrent inserts never shift or repeat rows. By default a page has one row
per material (its most probable order) and ``sort=score`` ranks by P(altermagnetic ground
state), ties by order id: the rule of :func:`altermag.ranking.rank_candidates`, so the API
lists what the screening's files list; ``all_orders=true`` lists every order.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import fields
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

from altermag.result import VERDICTS, Wave
from altermag.store import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Candidate, CandidateQuery, Store
from altermag.store.candidates import order_cap
from altermag_api.deps import ReadAccess, StoreDep
from altermag_api.page_cache import PageCache, cache_key
from altermag_api.schemas import CandidateList, problems

router = APIRouter(tags=["candidates"], responses=problems(401, 503))

Verdict = Literal[tuple(VERDICTS)]  # type: ignore[valid-type]
DftStatus = Literal["confirmed", "contradicted", "inconclusive", "unchecked"]
Sort = Literal[
    "score",
    "dft_splitting",
    "dft_ground_state",
    "heuristic_score",
    "formula",
    "newest",
]
MAX_INT = 2**31 - 1


async def candidate_query(
    verdict: Annotated[list[Verdict] | None, Query(description="Verdict(s) to keep.")] = None,
    wave: Annotated[list[Wave] | None, Query(description="Altermagnetic wave(s) to keep.")] = None,
    element: Annotated[
        list[Annotated[str, Query(min_length=1, max_length=3, pattern=r"^[A-Za-z]{1,3}$")]] | None,
        Query(description="The material must contain every one of these elements."),
    ] = None,
    source: Annotated[str | None, Query(max_length=200)] = None,
    run_id: Annotated[int | None, Query(ge=1, le=MAX_INT, description="Screening run.")] = None,
    min_score: Annotated[
        float | None,
        Query(ge=0.0, le=1.0, description="Lowest P(altermagnetic ground state) kept."),
    ] = None,
    max_rank: Annotated[
        int | None,
        Query(ge=1, le=1000, description="Keep enumerated orders ranked at most this."),
    ] = None,
    all_orders: Annotated[
        bool,
        Query(
            description="Every order of every material; by default one row per material "
            "(its most probable order), as the screening's candidate files."
        ),
    ] = False,
    formula: Annotated[
        str | None,
        Query(max_length=200, description="Reduced formula, any element order (F2Mn = MnF2)."),
    ] = None,
    dft_status: Annotated[
        list[DftStatus] | None,
        Query(description="Latest DFT check of the order; `unchecked`: none yet."),
    ] = None,
    max_per_prototype: Annotated[
        int | None,
        Query(
            ge=1,
            le=1000,
            description="At most N rows per structure prototype (anonymous formula and space "
            "group), the best ranked ones, as `altermag screen --max-per-prototype`.",
        ),
    ] = None,
) -> CandidateQuery:
    """The query parameters as the store's query object."""
    return CandidateQuery(
        verdict=verdict,
        wave=wave,
        elements=tuple(element or ()),
        source=source,
        run_id=run_id,
        min_score=min_score,
        max_rank=order_cap(max_rank, all_orders),
        formula=formula,
        dft_status=dft_status,
        max_per_prototype=max_per_prototype,
    )


QueryDep = Annotated[CandidateQuery, Depends(candidate_query)]


@router.get("/candidates", response_model=CandidateList)
async def list_candidates(
    request: Request,
    store: StoreDep,
    _: ReadAccess,
    query: QueryDep,
    sort: Annotated[Sort, Query(description="Sort key; ties broken by order id.")] = "score",
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Any:
    """A page of candidates (a magnetic order with its material and model score)."""
    cache: PageCache | None = request.app.state.page_cache
    if cache is None:
        body = await run_in_threadpool(_page, store, query, sort, cursor, limit)
        return Response(body, media_type="application/json")
    # With public reads, repeats are answered by CachedPagesMiddleware before they get here.
    # With private reads they come here, after the key check above: a cached page is only
    # ever served to a request whose key passed (a page holds nothing that depends on which
    # key asked). The revision is read before the page, so the page is at least as new as
    # its label.
    revision = await request.app.state.revisions.get()
    key = cache_key(request.scope)
    cached = cache.get(revision, key)
    if cached is not None:
        return Response(cached, media_type="application/json")
    body = await run_in_threadpool(_page, store, query, sort, cursor, limit)
    cache.put(revision, key, body)
    return Response(body, media_type="application/json")


def _page(store: Store, query: CandidateQuery, sort: str, cursor: str | None, limit: int) -> bytes:
    """The JSON body of one page (the records serialise themselves: re-validating 500 rows
    through pydantic would cost more than the query; the documented schema is the same)."""
    try:
        page = store.candidates(query, sort=sort, cursor=cursor, limit=limit)
    except ValueError as exc:  # a malformed cursor, or one made for another sort
        raise HTTPException(400, detail=str(exc)) from None
    return orjson.dumps(page.to_dict())


CSV_COLUMNS = [f.name for f in fields(Candidate)]


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        if value and isinstance(value[0], dict):  # nodal planes
            return "; ".join(str(v.get("equation", v)) for v in value)
        return " ".join(str(v) for v in value)
    return "" if value is None else value


def _csv_rows(rows: Iterator[Candidate]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for i, row in enumerate(rows):
        writer.writerow([_cell(getattr(row, c)) for c in CSV_COLUMNS])
        if i % 500 == 499:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


@router.get(
    "/candidates.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "Every matching candidate."}},
)
def candidates_csv(
    store: StoreDep,
    _: ReadAccess,
    query: QueryDep,
    sort: Annotated[Sort, Query()] = "score",
) -> StreamingResponse:
    """Every candidate matching the filters as CSV (streamed, page by page)."""
    return StreamingResponse(
        _csv_rows(store.iter_candidates(query, sort=sort)),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="candidates.csv"'},
    )
