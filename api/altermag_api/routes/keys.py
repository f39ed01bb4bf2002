"""API-key management: create, list, revoke.

The first (admin) key comes from the command line
(``altermag apikey create NAME --scope admin``). Creating keys, listing them and revoking
another key need an ``admin`` key; any key may revoke itself.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from altermag.errors import StoreError
from altermag.store import ApiKeyRecord
from altermag_api.deps import AdminAccess, KeyAccess, StoreDep
from altermag_api.schemas import ApiKeyCreated, problems

router = APIRouter(tags=["api keys"], responses=problems(401, 403, 404, 503))

KeyName = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")]


class NewKey(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")
    scope: Literal["read", "write", "admin"] = Field(
        "write",
        description="read: reads (when private); write: also screenings; admin: also keys.",
    )


@router.post("/keys", status_code=201, response_model=ApiKeyCreated, responses=problems(409, 422))
async def create_key(body: NewKey, store: StoreDep, _: AdminAccess) -> Any:
    """A new key (admin only); the answer is the only time it is shown. 409 when the name
    is taken (names of revoked keys are not reused)."""
    try:
        key = await run_in_threadpool(store.create_api_key, body.name, body.scope)
    except StoreError as exc:
        raise HTTPException(409, detail=str(exc)) from None
    return {"name": body.name, "key": key, "scope": body.scope}


@router.get("/keys", response_model=list[ApiKeyRecord])
def list_keys(store: StoreDep, _: AdminAccess) -> Any:
    """Names, scopes and dates of every key (never the keys; admin only)."""
    return store.api_keys()


@router.delete("/keys/{name}", status_code=204)
def revoke_key(name: KeyName, store: StoreDep, me: KeyAccess) -> None:
    """Revoke the key called ``name`` (an admin key: any key; other keys: only themselves);
    requests with it get 401 from then on."""
    if name != me.name and not me.allows("admin"):
        raise HTTPException(403, detail="only an admin key may revoke another key")
    if not store.revoke_api_key(name):
        raise HTTPException(404, detail=f"no active key named {name!r}")
