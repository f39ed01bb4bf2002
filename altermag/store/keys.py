"""API keys: 256-bit random tokens of which only the SHA-256 hash is stored.

Each key has a scope: ``read`` (reads, when the server makes them private), ``write`` (also
requests that change stored state) or ``admin`` (also creating, listing and revoking keys).
A name is used once: a revoked key keeps its row and its name.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from altermag.errors import SettingsError, StoreError
from altermag.store.database import Database
from altermag.store.models import ApiKey, utcnow
from altermag.store.records import ApiKeyRecord, as_utc

__all__ = ["SCOPES", "ApiKeyRepository", "hash_api_key"]

SCOPES: tuple[str, ...] = ("read", "write", "admin")
"""Key scopes, each including the ones before it."""


def hash_api_key(key: str) -> str:
    """SHA-256 of an API key (keys are 256-bit random tokens, so a plain hash is enough)."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyRepository:
    """Create, check and revoke the keys of the REST API."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, name: str, scope: str = "write") -> str:
        """Create a key called ``name`` with ``scope`` and return it; only its hash is stored.

        Raises
        ------
        StoreError
            When a key (active or revoked) is already called ``name`` (409 in the API).
        SettingsError
            For a scope other than ``read``, ``write``, ``admin``.
        """
        if scope not in SCOPES:
            raise SettingsError(f"unknown key scope {scope!r}; choose one of {', '.join(SCOPES)}")
        key = "am_" + secrets.token_urlsafe(32)
        try:
            with self.db.session() as s:
                if s.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
                    raise StoreError(_taken(name))
                s.add(ApiKey(name=name, key_hash=hash_api_key(key), scope=scope))
        except IntegrityError:  # created concurrently under the same name
            raise StoreError(_taken(name)) from None
        return key

    def find(self, name: str) -> ApiKeyRecord | None:
        """The key called ``name`` (active or revoked), or None."""
        with self.db.session() as s:
            row = s.scalar(select(ApiKey).where(ApiKey.name == name))
            return None if row is None else api_key_record(row)

    def verify(self, key: str) -> ApiKeyRecord | None:
        """The record of an active key, or None for an unknown or revoked one."""
        with self.db.session() as s:
            row = s.scalar(
                select(ApiKey).where(
                    ApiKey.key_hash == hash_api_key(key), ApiKey.revoked_at.is_(None)
                )
            )
            return None if row is None else api_key_record(row)

    def revoke(self, name: str) -> bool:
        """Revoke the key called ``name``; False if there is no such active key."""
        with self.db.session() as s:
            done = s.execute(
                update(ApiKey)
                .where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def all(self) -> list[ApiKeyRecord]:
        """Every key's name and dates (active and revoked)."""
        with self.db.session() as s:
            return [api_key_record(k) for k in s.scalars(select(ApiKey).order_by(ApiKey.id))]


def _taken(name: str) -> str:
    return f"an API key called {name!r} exists already (names of revoked keys are not reused)"


def api_key_record(k: ApiKey) -> ApiKeyRecord:
    """The plain record of a key row."""
    return ApiKeyRecord(
        id=k.id,
        name=k.name,
        created_at=as_utc(k.created_at),  # type: ignore[arg-type]
        revoked_at=as_utc(k.revoked_at),
        scope=k.scope or "write",
    )
