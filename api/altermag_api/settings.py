"""Runtime configuration of the REST API (constructor arguments, else environment variables)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from altermag.config import Limits

__all__ = ["MAX_UPLOAD_BYTES", "ApiSettings"]

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""Largest structure file ``POST /analyze`` accepts by default (5 MB; the public limits'
``max_file_bytes``)."""


def _env_list(name: str) -> list[str]:
    return [v.strip() for v in os.environ.get(name, "").split(",") if v.strip()]


def _out_root() -> Path:
    """``$ALTERMAG_OUT_DIR``, else ``$ALTERMAG_HOME/candidates``."""
    from altermag.config import get_settings

    value = os.environ.get("ALTERMAG_OUT_DIR")
    return Path(value) if value else get_settings().candidates_dir


def _public_limits() -> Limits:
    from altermag.config import get_settings

    return get_settings().public_limits


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class ApiSettings:
    """How one API instance behaves.

    Parameters
    ----------
    db_url
        Store URL (None: ``$ALTERMAG_DATABASE_URL``, else ``./altermag.db``).
    require_key_for_reads
        Also demand an API key for reads and ``POST /analyze`` (``$ALTERMAG_API_PRIVATE``).
    cors_origins
        Origins allowed by CORS (``$ALTERMAG_CORS_ORIGINS``, comma separated; none by default).
    prefect_api_url
        Prefect server; when set, ``POST /screenings`` starts the deployment
        ``deployment`` there instead of a background thread (``$PREFECT_API_URL``).
    deployment
        ``flow-name/deployment-name`` of the screen deployment (``$ALTERMAG_DEPLOYMENT``).
    out_root
        Where background screenings write their candidate tables (``$ALTERMAG_OUT_DIR``,
        else ``$ALTERMAG_HOME/candidates``).
    max_upload_bytes
        Upload limit of ``POST /analyze``, enforced while the body streams in (default:
        ``limits.max_file_bytes``).
    page_cache
        Keep up to this many ``GET /candidates`` pages in memory
        (``$ALTERMAG_API_PAGE_CACHE``; 0 turns it off). A cached page is served only while
        the store's revision (bumped by every committed write, from any process) is the one
        it was computed at, so cached pages are never stale; a repeat costs one primary-key
        read instead of the page query.
    page_cache_bytes
        ... and at most this many bytes of them (``$ALTERMAG_API_PAGE_CACHE_MB``, default
        64 MB): the oldest pages go first.
    limits
        What one ``POST /analyze`` may cost (atoms, operations × sites, moments, bytes,
        seconds, memory): ``altermag.config.Settings.public_limits``
        (``$ALTERMAG_PUBLIC_LIMITS__MAX_ATOMS``...), stricter than the command line's.
    analysis_workers
        Worker processes that run the analyses of ``POST /analyze``
        (``$ALTERMAG_API_ANALYSIS_WORKERS``, default 2); a request waits for a free one
        while at most ``analysis_queue`` others wait (``$ALTERMAG_API_ANALYSIS_QUEUE``,
        default 8), past that it gets 429.
    page_connections
        PostgreSQL connections per worker process for computed candidate pages
        (``$ALTERMAG_API_PAGE_CONNECTIONS``, default 4). Pages are read on the worker's event
        loop through an ``asyncpg`` pool of this size (no thread hop); a page waits for a free
        connection, so a server with W workers holds at most W × this many page connections.
        SQLite pages are computed on the event loop (an in-process read of a few hundred µs).
    telemetry
        FastAPI's OpenTelemetry spans, metrics and logs per request
        (``$ALTERMAG_API_TELEMETRY``; off by default). Off, FastAPI skips its per-request
        check for a configured OpenTelemetry provider (≈ 18 µs, a fifth of a cached page).
    db_connections
        Pooled database connections per worker process for requests that go through the
        routes (``$ALTERMAG_API_DB_CONNECTIONS``, default 8; a hard bound: a request waits
        for a free one; the store's revision reader keeps one of them). With
        ``page_connections`` a worker holds at most ``db_connections + page_connections``
        PostgreSQL connections; size both so that workers × that stays under the server's
        ``max_connections`` (100 by default; 2 workers hold at most 24).
    warm_up
        Spawn the analysis workers and import the analysis stack at start, before the
        server answers (``$ALTERMAG_API_WARM_UP``; ``altermag api`` turns it on): the first
        ``POST /analyze`` then costs what the next ones do.
    """

    db_url: str | None = None
    require_key_for_reads: bool = field(default_factory=lambda: _env_flag("ALTERMAG_API_PRIVATE"))
    cors_origins: list[str] = field(default_factory=lambda: _env_list("ALTERMAG_CORS_ORIGINS"))
    prefect_api_url: str | None = field(default_factory=lambda: os.environ.get("PREFECT_API_URL"))
    deployment: str = field(
        default_factory=lambda: os.environ.get("ALTERMAG_DEPLOYMENT", "screen/nightly-screen")
    )
    out_root: Path = field(default_factory=_out_root)
    max_upload_bytes: int = field(default_factory=lambda: _public_limits().max_file_bytes)
    page_cache: int = field(
        default_factory=lambda: int(os.environ.get("ALTERMAG_API_PAGE_CACHE", "4096") or 0)
    )
    page_cache_bytes: int = field(
        default_factory=lambda: int(
            float(os.environ.get("ALTERMAG_API_PAGE_CACHE_MB", "64") or 0) * 1024 * 1024
        )
    )
    limits: Limits = field(default_factory=lambda: _public_limits())
    analysis_workers: int = field(
        default_factory=lambda: int(os.environ.get("ALTERMAG_API_ANALYSIS_WORKERS", "2") or 1)
    )
    analysis_queue: int = field(
        default_factory=lambda: int(os.environ.get("ALTERMAG_API_ANALYSIS_QUEUE", "8") or 0)
    )
    warm_up: bool = field(default_factory=lambda: _env_flag("ALTERMAG_API_WARM_UP"))
    page_connections: int = field(
        default_factory=lambda: int(os.environ.get("ALTERMAG_API_PAGE_CONNECTIONS", "4") or 4)
    )
    db_connections: int = field(
        default_factory=lambda: int(os.environ.get("ALTERMAG_API_DB_CONNECTIONS", "8") or 8)
    )
    telemetry: bool = field(default_factory=lambda: _env_flag("ALTERMAG_API_TELEMETRY"))
