"""``GET /health``: liveness and a database round trip (the compose health check).

The round trip is a read of the store's revision through the app's
:class:`~altermag_api.page_cache.RevisionReader` (on PostgreSQL batched off the event loop:
requests that arrive while a read is in flight share the next one), and the answer is
encoded once per app: the endpoint does no per-request validation or serialisation work.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.exc import SQLAlchemyError

from altermag import __version__
from altermag_api.schemas import Health, problems

router = APIRouter(tags=["service"], responses=problems(503))


@router.get("/health", response_model=Health)
async def health(request: Request) -> Any:
    """``ok`` when the API can reach its database."""
    state = request.app.state
    try:
        await state.revisions.get()
    except SQLAlchemyError as exc:
        raise HTTPException(503, detail=f"database unreachable: {type(exc).__name__}") from None
    body: bytes | None = getattr(state, "health_body", None)
    if body is None:
        backend = "prefect" if state.settings.prefect_api_url else "thread"
        body = orjson.dumps(
            Health(
                status="ok",
                version=__version__,
                database=state.store.dialect,
                screening_backend=backend,
            ).model_dump()
        )
        state.health_body = body
    return Response(body, media_type="application/json")
