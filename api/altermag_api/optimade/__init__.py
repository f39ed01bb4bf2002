"""An OPTIMADE API over the candidate store, mounted at ``/optimade``.

Built on the ``optimade`` package (optimade-python-tools): its server routers, JSON:API
response models, middleware (version checks, query validation, warnings) and exception
handlers, with the store as the ``structures`` collection
(:class:`~altermag_api.optimade.collection.StoreStructures`). Any OPTIMADE client can then
query the candidates as it queries the big databases::

    GET /optimade/v1/structures?filter=_altermag_verdict="altermagnet" AND elements HAS "Mn"
    GET /optimade/v1/info/structures      # every property, provider fields described
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request

from altermag import __version__
from altermag.store import Store

__all__ = ["PREFIX", "optimade_app"]

PREFIX = "altermag"
"""Provider prefix: provider fields are ``_altermag_<name>``."""

LANDING_PAGE = Path(__file__).resolve().parent / "landing.html"


class _VersionedBaseUrl(BaseHTTPMiddleware):
    """``553 Version Not Supported`` for an unknown versioned base URL (``/v123/...``) below
    the mount point (the package's own check compares with the host's root)."""

    async def dispatch(self, request: Request, call_next: Any) -> Any:
        from optimade.exceptions import VersionNotSupported
        from optimade.server.routers.utils import BASE_URL_PREFIXES

        path = request.scope["path"][len(request.scope.get("root_path", "")) :]
        match = re.match(r"^/v[0-9]+(\.[0-9]+){0,2}(?=/|$)", path)
        if match is not None and match.group(0) not in BASE_URL_PREFIXES.values():
            raise VersionNotSupported(
                detail=f"versioned base URL {match.group(0)!r} is not supported; supported: "
                + ", ".join(BASE_URL_PREFIXES.values())
            )
        return await call_next(request)


class _RequireKey(BaseHTTPMiddleware):
    """A private server (``require_key_for_reads``) guards OPTIMADE like its other reads."""

    def __init__(self, app: Any, store: Store) -> None:
        super().__init__(app)
        self.store = store

    async def dispatch(self, request: Request, call_next: Any) -> Any:
        from starlette.concurrency import run_in_threadpool

        key = request.headers.get("x-api-key")
        if not key or await run_in_threadpool(self.store.verify_api_key, key) is None:
            return JSONResponse(
                {"detail": "a valid API key is required in the X-API-Key header"},
                status_code=401,
                headers={"WWW-Authenticate": "APIKey"},
            )
        return await call_next(request)


def optimade_app(
    store: Store,
    *,
    require_key: bool = False,
    report_path: str = "/reports/materials",
    log_dir: Path | None = None,
) -> FastAPI:
    """The OPTIMADE application over ``store`` (mount it at ``/optimade``).

    Parameters
    ----------
    require_key
        Answer only requests with a valid API key (``X-API-Key``).
    report_path
        Path of the material reports, for each entry's ``_altermag_report``.
    log_dir
        Where the ``optimade`` package writes its log files (default
        ``<ALTERMAG_HOME>/logs/optimade``; never ``/var/log``).
    """
    from altermag.config import get_settings

    os.environ.setdefault(
        "OPTIMADE_LOG_DIR", str(log_dir or get_settings().home / "logs" / "optimade")
    )
    from optimade.models import Implementation, Provider
    from optimade.server.config import ServerConfig
    from optimade.server.create_app import create_app

    from altermag_api.optimade.collection import PROVIDER_FIELDS, StoreStructures

    config = ServerConfig(
        provider=Provider(
            prefix=PREFIX,
            name="altermag",
            description="Altermagnet candidates: crystals with their collinear magnetic "
            "orders, exact spin-group verdicts, ground-state-prior probabilities and DFT checks.",
            homepage=None,
        ),
        implementation=Implementation(name="altermag", version=__version__),
        provider_fields={"structures": PROVIDER_FIELDS},
        database_backend="mongomock",
        insert_test_data=False,
        page_limit=20,
        page_limit_max=500,
        custom_landing_page=LANDING_PAGE,
        log_dir=Path(os.environ["OPTIMADE_LOG_DIR"]),
    )
    app = create_app(config, logger_tag="altermag")
    app.state.entry_collections["structures"] = StoreStructures(store, config, report_path)
    # its interactive docs load their assets from a CDN: served offline at /docs instead
    offline = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    app.router.routes = [r for r in app.router.routes if getattr(r, "path", None) not in offline]
    app.add_middleware(_VersionedBaseUrl)
    if require_key:
        app.add_middleware(_RequireKey, store=store)
    return app
