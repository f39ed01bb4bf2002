"""Request dependencies: the store, the settings and API-key checks.

Keys have scopes (``read`` < ``write`` < ``admin``): ``WriteAccess`` needs ``write``,
``AdminAccess`` needs ``admin``; a valid key of a smaller scope gets 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader

from altermag.store import ApiKeyRecord, Store
from altermag_api.settings import ApiSettings

__all__ = [
    "AdminAccess",
    "KeyAccess",
    "ReadAccess",
    "StoreDep",
    "WriteAccess",
    "get_settings",
    "get_store",
]

_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


# Dependencies are ``async def``: they do no I/O, and FastAPI would otherwise run each sync one
# in the thread pool (a thread hop per dependency per request).
async def get_store(request: Request) -> Store:
    """The application's store (one engine and connection pool per app)."""
    return request.app.state.store  # type: ignore[no-any-return]


def get_settings(request: Request) -> ApiSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


StoreDep = Annotated[Store, Depends(get_store)]


def _check(store: Store, key: str | None) -> ApiKeyRecord:
    record = store.verify_api_key(key) if key else None
    if record is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="a valid API key is required in the X-API-Key header",
            headers={"WWW-Authenticate": "APIKey"},
        )
    return record


def _scoped(record: ApiKeyRecord, scope: str) -> ApiKeyRecord:
    if not record.allows(scope):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"this API key has scope {record.scope!r}; the request needs {scope!r}",
        )
    return record


def require_key(store: StoreDep, key: Annotated[str | None, Security(_key_header)]) -> ApiKeyRecord:
    """Every request that changes stored state needs an active (unrevoked) ``write`` key."""
    return _scoped(_check(store, key), "write")


def require_any_key(
    store: StoreDep, key: Annotated[str | None, Security(_key_header)]
) -> ApiKeyRecord:
    """An active key of any scope (what a key may do with itself)."""
    return _check(store, key)


def require_admin(
    store: StoreDep, key: Annotated[str | None, Security(_key_header)]
) -> ApiKeyRecord:
    """Creating, listing and revoking other keys needs an ``admin`` key."""
    return _scoped(_check(store, key), "admin")


async def read_access(
    request: Request, store: StoreDep, key: Annotated[str | None, Security(_key_header)]
) -> ApiKeyRecord | None:
    """Reads are public unless the app was configured with ``require_key_for_reads``."""
    if get_settings(request).require_key_for_reads:
        # the key lookup is a database query: off the event loop
        return await run_in_threadpool(_check, store, key)
    return None


WriteAccess = Annotated[ApiKeyRecord, Depends(require_key)]
AdminAccess = Annotated[ApiKeyRecord, Depends(require_admin)]
KeyAccess = Annotated[ApiKeyRecord, Depends(require_any_key)]
ReadAccess = Annotated[ApiKeyRecord | None, Depends(read_access)]
