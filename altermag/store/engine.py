"""Database URL and engine: SQLite by default, PostgreSQL by URL.

The URL comes from the caller, else ``ALTERMAG_DATABASE_URL``, else the SQLite file
``altermag.db`` in ``ALTERMAG_HOME`` (the working directory by default; :mod:`altermag.config`).
SQLite connections get ``PRAGMA foreign_keys = ON`` (SQLite ignores foreign keys otherwise),
write-ahead logging (readers do not block the writer) and a busy timeout, so that a flow
writing and an API reading can share the file. A new SQLite file gets 8 KB pages.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

try:  # optional (the api extra): a faster JSON decoder for JSON columns
    import orjson
except ImportError:  # pragma: no cover - the plain json module is used instead
    orjson = None  # type: ignore[assignment]
from sqlalchemy.engine import make_url

_ORJSON_OPTIONS = 0 if orjson is None else orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS

__all__ = [
    "DB_FILE",
    "ENV_VAR",
    "SQLITE_PAGE_SIZE",
    "EncodedJSON",
    "database_url",
    "encode_json",
    "make_engine",
]

ENV_VAR = "ALTERMAG_DATABASE_URL"
DB_FILE = "altermag.db"
"""The default store: this SQLite file in ``ALTERMAG_HOME``."""

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_PAGE_SIZE = 8192
"""Page size of a new SQLite store (SQLite's default is 4096). An order row with its stored
result and page head is ≈ 2.5 kB: one fits in a 4 kB page, three in an 8 kB one, so the
smaller pages left a third of the table empty and wrote twice the pages a row (storing the
5,959 embedded structures: ≈ 25 % less CPU with 8 kB pages, and deep API pages ≈ 20 %
less). It applies when the file is created; an existing store keeps its page size until it
is rewritten (:func:`altermag.store.vacuum`, ``altermag db vacuum``)."""


class EncodedJSON(str):
    """The JSON text of a value, encoded once by :func:`encode_json`: a JSON column given one
    stores the text as it is (the engine's serializer passes it through), so a bulk insert
    does no per-row encoding of its own."""

    __slots__ = ()


def _fields_of(value: Any) -> dict[str, Any]:
    """A dataclass as its fields (the json module's fallback; orjson does this natively)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode_json(value: Any) -> EncodedJSON:
    """The JSON text of ``value`` (plain data or dataclasses of it, as
    :func:`dataclasses.asdict` would give), for a JSON column."""
    if isinstance(value, EncodedJSON):
        return value
    if orjson is not None:
        try:
            return EncodedJSON(orjson.dumps(value, option=_ORJSON_OPTIONS).decode())
        except TypeError:  # what orjson cannot encode (integers beyond 64 bits): json's way
            pass
    return EncodedJSON(json.dumps(value, default=_fields_of))


def _serialize_json(value: Any) -> str:
    """The engine's ``json_serializer``: pre-encoded text as it is, anything else encoded."""
    return encode_json(value)


def database_url(url: str | None = None) -> str:
    """The database URL to use: ``url``, else ``$ALTERMAG_DATABASE_URL``, else
    ``sqlite:///$ALTERMAG_HOME/altermag.db``.

    A bare ``postgresql://`` URL is given the psycopg 3 driver (the one installed).
    """
    from altermag.config import get_settings

    settings = get_settings()
    chosen = url or settings.database_url or f"sqlite:///{settings.home / DB_FILE}"
    if chosen.startswith(("postgresql://", "postgres://")):
        chosen = "postgresql+psycopg://" + chosen.split("://", 1)[1]
    return chosen


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """A SQLAlchemy engine for ``database_url(url)`` with the SQLite pragmas switched on."""
    resolved = make_url(database_url(url))
    if orjson is not None:  # JSON columns (results, moments, nodal planes) decode ~4× faster
        kwargs.setdefault("json_deserializer", orjson.loads)
    kwargs.setdefault("json_serializer", _serialize_json)
    if resolved.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        engine = create_engine(resolved, **kwargs)
        in_memory = resolved.database in (None, "", ":memory:")
        if not in_memory and not str(resolved.database).startswith("file:"):
            Path(str(resolved.database)).parent.mkdir(parents=True, exist_ok=True)
        event.listen(engine, "connect", _sqlite_pragmas(in_memory))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(resolved, **kwargs)


def _sqlite_pragmas(in_memory: bool) -> Callable[[Any, Any], None]:
    """The connect-event listener that sets the pragmas on every new SQLite connection."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        # before the journal mode: a database in WAL mode cannot change its page size
        cursor.execute(f"PRAGMA page_size = {SQLITE_PAGE_SIZE}")
        if not in_memory:
            _wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    return on_connect


def _wal(cursor: Any) -> None:
    """``PRAGMA journal_mode = WAL``, tried again while the file is locked.

    Switching a new database file to write-ahead logging needs the file to itself, and SQLite
    answers "database is locked" at once, without its busy handler, when another connection
    is creating the schema there (stores opened together on a new file). Tried every 10 ms
    for up to :data:`SQLITE_BUSY_TIMEOUT_MS`, as a busy handler would.
    """
    import sqlite3
    import time

    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
