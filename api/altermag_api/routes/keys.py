"""API-key management (itself behind a valid key): create, list, revoke.

The first key comes from the command line (``altermag apikey create NAME``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field

from altermag.store import ApiKeyRecord
from altermag_api.deps import StoreDep, WriteAccess
from altermag_api.schemas import ApiKeyCreated, problems

router = APIRouter(tags=["api keys"], responses=problems(401, 404, 503))

KeyName = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")]


class NewKey(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")


@router.post("/keys", status_code=201, response_model=ApiKeyCreated)
def create_key(body: NewKey, store: StoreDep, _: WriteAccess) -> Any:
    """A new key; the answer is the only time it is shown."""
    return {"name": body.name, "key": store.create_api_key(body.name)}


@router.get("/keys", response_model=list[ApiKeyRecord])
def list_keys(store: StoreDep, _: WriteAccess) -> Any:
    """Names and dates of every key (never the keys)."""
    return store.api_keys()


@router.delete("/keys/{name}", status_code=204)
def revoke_key(name: KeyName, store: StoreDep, _: WriteAccess) -> None:
    """Revoke the key called ``name``; requests with it get 401 from then on."""
    if not store.revoke_api_key(name):
        raise HTTPException(404, detail=f"no active key named {name!r}")
