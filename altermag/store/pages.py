"""Candidate pages straight to JSON bytes: the API's computed-page path.

:meth:`OrderRepository.candidates <altermag.store.orders.OrderRepository.candidates>` builds
one :class:`~altermag.store.records.Candidate` per row through SQLAlchemy's result machinery,
decodes the JSON columns (nodal planes, moments) and lets the caller encode everything again.
For a page of 50 that is ≈ 2 ms of Python on this machine; the index range scan itself is a
fraction of it. :class:`PageReader` returns the same page, already as the JSON the API
sends, with the same rows, values and cursor:

* the page's ``SELECT`` (the very statement of
  :func:`~altermag.store.candidates.page_statement`, so filters, sort keys, keyset bounds and
  index use are the same) is compiled once per query shape to the driver's SQL string;
* it runs on a long-lived driver connection of the calling thread (autocommit: every page
  sees every committed write; no pool checkout or pre-ping round trip per page), or, from
  async code on PostgreSQL, on a connection of the event loop's asyncpg pool;
* a row's fields that change only when the order is stored again (17 of 26: the
  material's identity, the classification with its nodal planes and moments, the
  heuristic's rank) are read as one stored value, ``magnetic_orders.page_head``: the JSON
  members the page sends (:func:`page_head`, written with the row and by its upsert); the
  scores and DFT results, which change later, are read as columns, go through one
  ``orjson.dumps`` of the page, and each row's head is spliced in as it is stored (a page
  reads 11 columns per row, not 27, and encodes 9 fields, not 26; ≈ half the CPU of a top
  page). JSON column text is never decoded on the way.

The body is the one ``orjson.dumps(store.candidates(...).to_dict())`` gives, up to
insignificant whitespace inside the spliced JSON columns
(``tests/integration/test_api_fast_pages.py`` compares them on SQLite and PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from functools import lru_cache
from typing import Any, NamedTuple

import orjson
from sqlalchemy import JSON, Boolean, Engine
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from altermag.errors import SettingsError
from altermag.store.candidates import (
    CANDIDATE_COLUMNS,
    MAX_PAGE_SIZE,
    SORTS,
    CandidateQuery,
    decode_cursor,
    encode_cursor,
    page_columns,
    page_statement,
)
from altermag.store.engine import make_engine
from altermag.store.records import Candidate

__all__ = [
    "HEAD_FIELDS",
    "PAGE_CONNECTION_NAME",
    "PAGE_SESSION_SETTINGS",
    "SQLITE_PAGE_MMAP_BYTES",
    "PageReader",
    "page_head",
]

PAGE_CONNECTION_NAME = "altermag-pages"
"""``application_name`` of the async PostgreSQL page connections (``pg_stat_activity``)."""

PAGE_SESSION_SETTINGS: dict[str, str] = {
    "plan_cache_mode": "force_generic_plan",
    "jit": "off",
}
"""PostgreSQL settings of the page connections. A page statement is one prepared statement
per query shape whose only parameters are the filter values and the cursor's (sort value,
id), none of which changes the right plan (a backward walk of the ``(sort key, id)`` index
with nested-loop lookups); in the default mode the planner nevertheless plans it again on
every execution, because the generic plan's estimate is a little above the custom ones.
Reusing the generic plan spares the planner on every page. Pages are far below JIT's cost
threshold; ``jit`` off keeps a mis-estimate from ever compiling one."""

_RENAMED = {"elements": "element_list"}
"""Candidate fields read from a column of another name."""

_FIELDS = [f.name for f in fields(Candidate)]
HEAD_FIELDS: tuple[str, ...] = tuple(_FIELDS[1 : _FIELDS.index("model_version")])
"""The candidate fields of a row's stored JSON head (:func:`page_head`): those after the
order id up to the scores. Each is fixed when the order row is stored (the material's
identity, the classification) or changes only when it is stored again (the heuristic's rank,
score and reason, which the upsert rewrites with the head)."""
TAIL_FIELDS: tuple[str, ...] = tuple(_FIELDS[_FIELDS.index("model_version") :])
"""The candidate fields after the head, read as columns by every page: the scores, which
follow the latest model version, and the DFT results, which arrive after the row."""
_KINDS = {c.key: c.type for c in CANDIDATE_COLUMNS}
_JSON_FIELDS = frozenset(f for f in HEAD_FIELDS if isinstance(_KINDS[_RENAMED.get(f, f)], JSON))
_BOOL_FIELDS = frozenset(f for f in HEAD_FIELDS if isinstance(_KINDS[_RENAMED.get(f, f)], Boolean))
"""Head fields whose columns are JSON (spliced as stored) or booleans (SQLite stores 0/1),
read off the candidate columns' types."""
_MARK = "\x01"
"""Key standing for a row's head in the page that ``orjson`` writes (as ``"\\u0001":0``);
no string ``orjson`` writes holds an unescaped quote, so only this key matches."""
_MARK_JSON = b'"\\u0001":0'


def page_head(row: Mapping[Any, Any]) -> str:
    """The JSON members of :data:`HEAD_FIELDS` for an order row (column name → value), as
    ``orjson`` writes them inside the row's object in a page: ``"material_id":1,...``.

    JSON columns given as text (as stored) are spliced as they are; a Python value is
    encoded.
    """
    values: dict[str, Any] = {}
    for name in HEAD_FIELDS:
        value = row[_RENAMED.get(name, name)]
        if name == "elements":
            value = value.split() if value else []
        elif name in _JSON_FIELDS:
            value = _fragment(value)
        elif name in _BOOL_FIELDS and value is not None:
            value = bool(value)
        values[name] = value
    return orjson.dumps(values)[1:-1].decode()


def _row_encoder() -> Callable[[Sequence[Any]], dict[str, Any]]:
    """A function turning one page row into the dict of a :class:`Candidate` without its
    head: the order id, the head's marker key and :data:`TAIL_FIELDS` (field order).

    Row positions follow :func:`~altermag.store.candidates.page_columns`, then
    ``model_version``, ``score``, ``p_k0`` (``ScoreColumns.columns``), then the sort value.
    The function is generated once from the field list (one dict display per row is ~3×
    faster than a loop over converters).
    """
    labels = [c.key for c in page_columns("")] + ["model_version", "score", "p_k0"]
    score = labels.index("score")
    entries = [f"'order_id': r[{labels.index('order_id')}]", f"{_MARK!r}: 0"]
    for name in TAIL_FIELDS:
        pos = labels.index(name)
        if name == "model_version":
            expr = f"r[{pos}] if r[{score}] is not None else None"
        else:
            expr = f"r[{pos}]"
        entries.append(f"{name!r}: {expr}")
    source = "def encode(r):\n    return {" + ", ".join(entries) + "}\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, "<candidate row encoder>", "exec"), namespace)
    return namespace["encode"]


def _fragment(value: Any) -> Any:
    """Stored JSON text as it is (SQL NULL stays null)."""
    if value is None:
        return None
    if isinstance(value, str | bytes):
        # exact str or bytes (``orjson`` refuses subclasses such as ``EncodedJSON``)
        return orjson.Fragment(value if value.__class__ in (str, bytes) else str(value))
    return value  # a driver that decoded it already


_ASYNCPG = asyncpg_dialect()
"""SQLAlchemy's asyncpg dialect: compiles the page statements to asyncpg's ``$n`` SQL."""

SQLITE_PAGE_MMAP_BYTES = 1 << 30
"""How much of a SQLite store the page connections read through a memory map (``PRAGMA
mmap_size``) instead of ``read()`` calls into their own 2 MB page cache: pages deep in the
table touch rows all over the file, and every miss of that cache was a system call (deep
pages ≈ 20 % less CPU). The map shares the operating system's cache of the file between
the API's workers; it is address space, not memory, and SQLite maps no more than the file's
size."""

_SET_SESSION = (
    "SELECT set_config(s.name, s.value, false) "
    "FROM unnest(%s::text[], %s::text[]) AS s(name, value)"
)
_SESSION_VALUES = (list(PAGE_SESSION_SETTINGS), list(PAGE_SESSION_SETTINGS.values()))
"""Sets :data:`PAGE_SESSION_SETTINGS` on a new page connection (one round trip)."""


class _Compiled:
    """One page statement as driver SQL plus how to lay out its parameters."""

    def __init__(self, sql: str, names: Sequence[str] | None, params: dict[str, Any]) -> None:
        self.sql = sql
        self.names = names  # positional drivers (SQLite's qmark): parameter order
        self.params = params

    def bind(self, cursor_key: Any = None, cursor_id: int | None = None) -> Any:
        values = dict(self.params)
        if cursor_id is not None:
            values["cursor_key"] = cursor_key
            values["cursor_id"] = cursor_id
        if self.names is None:
            return values
        return tuple(values[n] for n in self.names)


@lru_cache(maxsize=512)
def _compile(
    query: CandidateQuery, sort: str, engine_dialect: Any, with_cursor: bool, limit: int
) -> _Compiled:
    stmt = page_statement(query, sort, engine_dialect.name, with_cursor, limit, json_head=True)
    if with_cursor:  # placeholders: the real values are bound per page
        stmt = stmt.params(cursor_key=0, cursor_id=0)
    compiled = stmt.compile(dialect=engine_dialect)
    state = compiled.construct_expanded_state()  # IN (...) lists rendered out
    params = {k: v for k, v in state.parameters.items() if k not in ("cursor_key", "cursor_id")}
    names = list(state.positiontup or ()) if compiled.positional else None
    return _Compiled(state.statement, names, params)


class PageReader:
    """JSON pages of the candidate table over long-lived per-thread driver connections.

    Parameters
    ----------
    url
        The store's URL. The reader has its own unpooled engine (same SQLite pragmas): each
        thread that reads keeps one connection, so callers bound the number of threads.
    async_connections
        PostgreSQL connections per event loop for :meth:`page_async` (a uvicorn worker has
        one loop, so this many per worker): an ``asyncpg`` pool of the loop, opened on
        demand.
    """

    def __init__(self, url: str, async_connections: int = 4) -> None:
        self.engine: Engine = make_engine(url, poolclass=NullPool)
        self.dialect = self.engine.dialect
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        self._encode = _row_encoder()
        self.async_connections = async_connections
        self._async_pools: weakref.WeakKeyDictionary[Any, asyncio.Task[_LoopPages]] = (
            weakref.WeakKeyDictionary()
        )

    def close(self) -> None:
        """Close every connection this reader opened (in any thread)."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(Exception):  # closing a dead connection
                conn.close()
        self._local = threading.local()
        pools, self._async_pools = list(self._async_pools.items()), weakref.WeakKeyDictionary()
        for loop, made in pools:
            _terminate(loop, made)
        self.engine.dispose()

    async def aclose(self, timeout: float = 5.0) -> None:
        """Close the running event loop's page connections in an orderly way (each says
        goodbye to the server, once its page is done; :meth:`close` drops them). Those still
        busy after ``timeout`` seconds are dropped."""
        made = self._async_pools.pop(asyncio.get_running_loop(), None)
        if made is not None and _ready(made):
            pool = made.result().pool
            try:
                await asyncio.wait_for(pool.close(), timeout)
            except Exception:  # a page still running, or a connection the server ended
                pool.terminate()

    def _connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.engine.raw_connection()  # connect events: the SQLite pragmas
            driver: Any = conn.driver_connection
            if self.dialect.name == "postgresql":
                driver.autocommit = True
                from psycopg.types.string import TextLoader

                for name in ("json", "jsonb"):  # stored text, spliced into the page as is
                    driver.adapters.register_loader(name, TextLoader)
                driver.execute(_SET_SESSION, _SESSION_VALUES)
            elif self.dialect.name == "sqlite":
                driver.isolation_level = None  # autocommit: every read sees the newest commit
                driver.execute(f"PRAGMA mmap_size = {SQLITE_PAGE_MMAP_BYTES}")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._lock:
                if conn in self._all:
                    self._all.remove(conn)
            with contextlib.suppress(Exception):
                conn.invalidate()

    def _rows(self, compiled: _Compiled, params: Any) -> list[Any]:
        for attempt in (0, 1):
            conn = self._connection()
            try:
                cur = conn.driver_connection.cursor()
                try:
                    cur.execute(compiled.sql, params)
                    return list(cur.fetchall())
                finally:
                    cur.close()
            except self.dialect.loaded_dbapi.Error as exc:
                self._drop()
                if attempt or not _disconnect(self.dialect, exc):
                    raise DBAPIError.instance(
                        compiled.sql, params, exc, self.dialect.loaded_dbapi.Error
                    ) from exc
        raise AssertionError("unreachable")

    def page(
        self,
        query: CandidateQuery,
        *,
        sort: str = "score",
        cursor: str | None = None,
        limit: int = 50,
    ) -> bytes:
        """The JSON body of one page, as ``orjson.dumps(store.candidates(...).to_dict())``.

        Raises
        ------
        InputError
            A malformed cursor, or one made for another sort.
        SettingsError
            An unknown sort or a limit below 1.
        """
        compiled, params, limit = self._statement(query, sort, cursor, limit)
        return self._body(self._rows(compiled, params), sort, limit)

    async def page_async(
        self,
        query: CandidateQuery,
        *,
        sort: str = "score",
        cursor: str | None = None,
        limit: int = 50,
    ) -> bytes:
        """:meth:`page` from async code, without a thread.

        On PostgreSQL the page query runs on one of ``async_connections`` ``asyncpg``
        connections of the running event loop (the loop serves other requests while the
        server works; a request waits for a free connection); elsewhere (SQLite: an
        in-process read of a few hundred µs, cheaper than any hop) the page is computed in
        place.

        ``asyncpg`` rather than the store's psycopg: the same page costs the worker about a
        fifth less CPU (asyncpg's protocol is compiled; psycopg's async execution runs
        through Python generators with several event-loop waits a page). Every statement is
        prepared on first use and kept per connection.
        """
        if self.dialect.name != "postgresql":
            return self.page(query, sort=sort, cursor=cursor, limit=limit)
        compiled, params, limit = self._statement(query, sort, cursor, limit, _ASYNCPG)
        return self._body(await self._rows_async(compiled, params), sort, limit)

    def _statement(
        self,
        query: CandidateQuery,
        sort: str,
        cursor: str | None,
        limit: int,
        dialect: Any = None,
    ) -> tuple[_Compiled, Any, int]:
        """The compiled page statement, its bound parameters and the page size (``dialect``:
        the SQL's, when not the engine's driver)."""
        if limit < 1:
            raise SettingsError(f"limit must be at least 1, got {limit}")
        limit = min(limit, MAX_PAGE_SIZE)
        if sort not in SORTS:
            raise SettingsError(f"unknown sort {sort!r}; choose one of {', '.join(SORTS)}")
        after = decode_cursor(cursor, sort) if cursor else None
        compiled = _compile(
            query.canonical(), sort, dialect or self.dialect, after is not None, limit + 1
        )
        params = compiled.bind(*after) if after is not None else compiled.bind()
        return compiled, params, limit

    def _body(self, rows: Sequence[Any], sort: str, limit: int) -> bytes:
        """The page's JSON from its ``limit + 1`` rows (the extra one: a next page exists).

        ``orjson`` writes the page with a marker key in each row's object, which is then
        replaced by the row's stored head (:func:`page_head`).
        """
        encode = self._encode
        page = rows[:limit]
        heads = [r[1] for r in page]  # the heads as UTF-8 bytes (page_columns)
        if not all(heads):
            raise ValueError(
                "candidate rows without their JSON head (magnetic_orders.page_head): "
                "the store was written by code that did not fill it"
            )
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = encode_cursor(sort, last[-1], last[0])
        body = orjson.dumps(
            {
                "items": [encode(row) for row in page],
                "next_cursor": next_cursor,
                "sort": sort,
                "limit": limit,
            }
        )
        parts = body.split(_MARK_JSON)
        if len(parts) != len(heads) + 1:
            raise AssertionError("a page row's head marker is missing or repeated")
        out = [parts[0]]
        for head, part in zip(heads, parts[1:], strict=True):
            out += (head, part)
        return b"".join(out)

    async def _rows_async(self, compiled: _Compiled, params: Any) -> list[Any]:
        import asyncpg

        pages = await self._loop_pool()
        for attempt in (0, 1):
            try:
                async with pages.turn, pages.pool.acquire() as conn:
                    try:
                        rows: list[Any] = await conn.fetch(compiled.sql, *params)
                    except Exception as exc:
                        if _gone(conn, exc):
                            # a restart ends every connection: the pool opens new ones
                            conn.terminate()
                            await pages.pool.expire_connections()
                        raise
                return rows
            except (
                asyncpg.PostgresError,
                asyncpg.InterfaceError,
                asyncpg.InternalClientError,
                OSError,
            ) as exc:
                # tried once more: a query the server refuses is refused again
                if attempt:
                    raise OperationalError(compiled.sql, params, exc) from exc
        raise AssertionError("unreachable")

    async def _loop_pool(self) -> _LoopPages:
        """The running event loop's ``asyncpg`` pool (made by the first page of the loop;
        pages arriving meanwhile wait for the same pool; a failed making is tried again by
        the next page)."""
        loop = asyncio.get_running_loop()
        made = self._async_pools.get(loop)
        if made is None:
            made = self._async_pools[loop] = loop.create_task(self._make_pool())
        if _ready(made):
            return made.result()
        try:
            return await asyncio.shield(made)
        except BaseException:
            if made.done() and self._async_pools.get(loop) is made:
                del self._async_pools[loop]
            raise

    async def _make_pool(self) -> _LoopPages:
        """An ``asyncpg`` pool of up to ``async_connections`` connections to the store's
        database, connections opened on demand.

        The store's URL is handed to asyncpg as a libpq connection URI, which it reads as
        libpq does (``sslmode``, ``passfile``, ...; other query parameters, such as libpq's
        ``options``, become startup parameters), except ``connect_timeout``, which is its
        ``timeout``. :data:`PAGE_SESSION_SETTINGS` are sent as startup parameters (no extra
        round trip). A connection goes back to the pool as it is: the page connections set
        nothing a reset would undo, and asyncpg's default reset is a round trip per page.
        """
        import asyncpg

        url = self.engine.url
        query = dict(url.query)
        timeout = query.pop("connect_timeout", None)
        dsn = url.set(drivername="postgresql", query=query).render_as_string(hide_password=False)
        pool = await asyncpg.create_pool(
            dsn,
            min_size=0,
            max_size=self.async_connections,
            reset=_keep_session,
            server_settings={"application_name": PAGE_CONNECTION_NAME, **PAGE_SESSION_SETTINGS},
            **({"timeout": float(str(timeout))} if timeout else {}),
        )
        return _LoopPages(pool, asyncio.Semaphore(self.async_connections))


def _gone(conn: Any, exc: Exception) -> bool:
    """Whether a page connection is no longer usable after ``exc``: closed, ended by the
    server (restart, idle timeout, ``pg_terminate_backend``: the server's goodbye may reach
    the connection while it is idle, which asyncpg then reports on the next query as a
    protocol out of step), or any failure that is not the server refusing the query."""
    import asyncpg
    from asyncpg import exceptions as pg

    if conn.is_closed() or not isinstance(exc, asyncpg.PostgresError):
        return True
    return isinstance(
        exc,
        pg.PostgresConnectionError
        | pg.AdminShutdownError
        | pg.CrashShutdownError
        | pg.CannotConnectNowError,
    )


class _LoopPages(NamedTuple):
    """The page connections of one event loop.

    ``turn`` admits as many pages as the pool has connections, first come first served:
    asyncpg's pool hands a released connection to whichever page asks next, and a page
    that just finished one asks at once, before the pages already waiting are woken; under
    50 clients that left some pages waiting 100–200 ms while the median waited 16–17 ms.
    """

    pool: Any
    turn: asyncio.Semaphore


async def _keep_session(conn: Any) -> None:
    """A page connection needs no reset between pages (see ``PageReader._make_pool``)."""


def _terminate(loop: asyncio.AbstractEventLoop, made: asyncio.Task[Any]) -> None:
    """Close the connections of an event loop's page pool from any thread: on its loop when
    that runs in another thread, here otherwise (on a closed loop they are dropped without
    the server's goodbye)."""
    if not _ready(made):
        return
    pool = made.result().pool
    if loop.is_running() and not _on(loop):
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(pool.terminate)
            return
    with contextlib.suppress(Exception):
        pool.terminate()


def _ready(made: asyncio.Task[Any]) -> bool:
    """Whether a pool's making has finished with the pool."""
    return made.done() and not made.cancelled() and made.exception() is None


def _on(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _disconnect(dialect: Any, exc: Exception) -> bool:
    try:
        return bool(dialect.is_disconnect(exc, None, None))
    except Exception:
        return False
