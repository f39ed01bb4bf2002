"""``GET /health``: liveness and a database round trip (the compose health check)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from altermag import __version__
from altermag_api.deps import StoreDep, get_settings
from altermag_api.schemas import Health, problems

router = APIRouter(tags=["service"], responses=problems(503))


@router.get("/health", response_model=Health)
def health(request: Request, store: StoreDep) -> Health:
    """``ok`` when the API can reach its database."""
    try:
        with store.session() as s:
            s.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise HTTPException(503, detail=f"database unreachable: {type(exc).__name__}") from None
    backend = "prefect" if get_settings(request).prefect_api_url else "thread"
    return Health(
        status="ok", version=__version__, database=store.dialect, screening_backend=backend
    )
