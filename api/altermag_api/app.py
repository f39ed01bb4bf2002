"""The FastAPI application factory.

``create_app()`` wires the store (one engine per app), the screening launcher (Prefect
deployment when ``PREFECT_API_URL`` is set, else one background thread), CORS and the
routers. Run it with ``altermag api`` (uvicorn) or any ASGI server
(``uvicorn --factory altermag_api.app:create_app``).
"""

from __future__ import annotations

import gc
import inspect
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError

from altermag import __version__
from altermag.errors import AltermagError
from altermag.store import Store
from altermag_api.analysis_pool import AnalysisPool
from altermag_api.deps import read_access
from altermag_api.fast_pages import CandidatePagesMiddleware
from altermag_api.launch import BackgroundScreenings, PrefectLauncher
from altermag_api.nul_guard import NulGuardMiddleware
from altermag_api.page_cache import CachedPagesMiddleware, PageCache, RevisionReader
from altermag_api.routes import (
    analyze,
    browser,
    candidates,
    health,
    keys,
    materials,
    reports,
    screenings,
)
from altermag_api.schemas import problems
from altermag_api.security import (
    BodyLimitMiddleware,
    SecurityHeadersMiddleware,
    altermag_error,
    invalid_request,
    optional_auth_openapi,
    uses_dependency,
)
from altermag_api.settings import ApiSettings
from altermag_api.warmup import warm_up

__all__ = ["create_app"]

log = logging.getLogger(__name__)

DESCRIPTION = """\
Altermagnet discovery service: ranked candidates from screenings, single-structure spin-group
analyses, screenings to start and follow, HTML/JSON reports.

Reads and `POST /analyze` are public unless the server is configured otherwise; every
request that changes stored state needs an API key with scope `write` in the `X-API-Key`
header, managing keys one with scope `admin` (`altermag apikey create NAME --scope admin`).
`POST /analyze` is bounded (upload bytes, atoms, operations × sites, moments, time,
memory): 413 past a limit.
"""


def _telemetry_options(on: bool) -> dict[str, Any]:
    """FastAPI's arguments turning its OpenTelemetry hooks off unless ``on``
    (``ApiSettings.telemetry``); none for a FastAPI without them."""
    if on or "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


def freeze_startup_heap() -> None:
    """Move everything the start made (≈ 260,000 objects: FastAPI, pydantic, SQLAlchemy,
    OPTIMADE...) out of the garbage collector's sight (:func:`gc.freeze`).

    They live as long as the process, yet every full collection walked them all: under
    load a full collection stalled the event loop for 50–350 ms, the p99 of every request
    waiting meanwhile. Frozen, a full collection walks only what requests made since.
    """
    gc.collect()
    gc.freeze()


def create_app(
    db_url: str | None = None,
    *,
    settings: ApiSettings | None = None,
    **overrides: Any,
) -> FastAPI:
    """Build the API over the store at ``db_url``.

    Parameters
    ----------
    db_url
        Store URL (default ``$ALTERMAG_DATABASE_URL`` or ``./altermag.db``); migrated on start.
    settings
        Full configuration; ``overrides`` replace single fields of it
        (``require_key_for_reads=True``, ``cors_origins=[...]``, ``prefect_api_url=None``...).
    """
    settings = replace(settings or ApiSettings(), **overrides)
    if db_url is not None:
        settings = replace(settings, db_url=db_url)
    store = Store(settings.db_url, pool_size=max(1, settings.db_connections))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.warm_up:  # spawn and import the analysis workers before serving
            await warm_up(app.state.analysis_pool)
        if app.state.prefect is None:  # resume the API's own lapsed screenings, keep leases
            app.state.background.start()
        freeze_startup_heap()
        yield
        app.state.background.shutdown()
        app.state.analysis_pool.close()
        await store.aclose()

    app = FastAPI(
        title="altermag",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # /docs is served from local assets by the browser routes
        redoc_url=None,
        responses=problems(400),  # NulGuardMiddleware answers any path or query with NUL in it
        **_telemetry_options(settings.telemetry),
    )
    app.state.settings = settings
    app.state.store = store
    app.state.background = BackgroundScreenings(settings.db_url, settings.out_root)
    app.state.prefect = (
        PrefectLauncher(settings.prefect_api_url, settings.deployment)
        if settings.prefect_api_url
        else None
    )
    app.state.flow_runs = {}
    app.state.analysis_pool = AnalysisPool(
        settings.limits, settings.analysis_workers, settings.analysis_queue
    )
    app.state.page_cache = (
        PageCache(settings.page_cache, settings.page_cache_bytes)
        if settings.page_cache > 0 and settings.page_cache_bytes > 0
        else None
    )
    app.state.revisions = RevisionReader(store.revision, batched=store.dialect != "sqlite")
    store.page_reader.async_connections = max(1, settings.page_connections)
    if not settings.require_key_for_reads:
        # inside the page cache (added before it): a miss goes on to the computed-page path
        app.add_middleware(
            CandidatePagesMiddleware,
            store=store,
            cache=app.state.page_cache,
            revisions=app.state.revisions,
        )
    if app.state.page_cache is not None and not settings.require_key_for_reads:
        # inside CORS (added after it, so CORS wraps it): cached answers get CORS headers too
        app.add_middleware(
            CachedPagesMiddleware, cache=app.state.page_cache, revisions=app.state.revisions
        )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["X-API-Key", "Content-Type"],
        )

    app.add_middleware(NulGuardMiddleware)  # before the page cache and routing
    app.add_middleware(BodyLimitMiddleware, upload_bytes=settings.max_upload_bytes)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: on every answer
    app.add_exception_handler(AltermagError, altermag_error)
    app.add_exception_handler(RequestValidationError, invalid_request)

    @app.exception_handler(OperationalError)
    async def database_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database error on %s: %s", request.url.path, exc)
        return JSONResponse({"detail": "database unavailable"}, status_code=503)

    modules = (health, candidates, materials, analyze, screenings, reports, keys, browser)
    for module in modules:
        app.include_router(module.router)
    if not settings.require_key_for_reads:  # public reads: the key is optional there
        optional_auth_openapi(
            app,
            [r for m in modules for r in m.router.routes],
            lambda route: uses_dependency(route, read_access),
        )
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/static/swagger-ui", StaticFiles(directory=swagger_ui_path), "swagger-ui")
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), "static")
    from altermag_api.optimade import optimade_app

    app.mount(
        "/optimade", optimade_app(store, require_key=settings.require_key_for_reads), "optimade"
    )
    return app
