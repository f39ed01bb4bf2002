"""The unit every repository of the store shares: engine, transactions and the revision counter.

A :class:`Database` owns the SQLAlchemy engine and session factory of one store. Every
transaction that writes bumps ``store_state.revision`` just before it commits (session
events), so a reader can tell from two equal revisions that nothing changed in between —
the API caches candidate pages on that. Upserts use the dialect's own ``INSERT ... ON
CONFLICT`` (:meth:`Database.insert`), so SQLite and PostgreSQL behave the same; the bulk ones
(a screened chunk's materials, orders, scores and run inputs) run through
:class:`BulkInsert`, compiled once and handed to the driver's ``executemany``.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from altermag.store.engine import database_url, make_engine
from altermag.store.migrate import create_schema, current_revision, head, upgrade
from altermag.store.models import Base, StoreState

__all__ = ["BulkInsert", "Database", "batches", "opt_float"]


class Database:
    """Engine, transactions and revision counter of one store.

    Parameters
    ----------
    url
        SQLAlchemy URL; default ``$ALTERMAG_DATABASE_URL``, else ``sqlite:///altermag.db``.
    migrate
        Bring the schema to the newest Alembic revision first (creates it on an empty
        database). Readers that must not run DDL pass ``False``.
    pool_size
        At most this many pooled connections (None: SQLAlchemy's default, 5 plus 10 more
        under load). A server with several processes sizes it so that all of them together
        stay under the database's ``max_connections``.
    """

    def __init__(
        self, url: str | None = None, *, migrate: bool = True, pool_size: int | None = None
    ) -> None:
        self.url = database_url(url)
        revision = current_revision(self.url) if migrate else head()
        # an empty database is created at the head; an older store is migrated to it
        if revision != head() and (revision is not None or not create_schema(self.url)):
            upgrade(self.url)
        # pool_size: a hard bound (no overflow) on the connections of this engine
        sizing = {} if pool_size is None else {"pool_size": pool_size, "max_overflow": 0}
        self.engine: Engine = make_engine(self.url, **sizing)
        # one long-lived autocommit connection for revision reads (one round trip each)
        self._reader: Connection | None = None
        self._reader_lock = threading.Lock()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self._sessions, "do_orm_execute", _note_write)
        event.listen(self._sessions, "before_flush", _note_flush)
        event.listen(self._sessions, "before_commit", _bump_revision)

    def close(self) -> None:
        """Close every pooled connection."""
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction (committed on success, rolled back on error)."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A pooled connection in autocommit mode for one read-only statement (no
        BEGIN/COMMIT round trips on PostgreSQL; still checked by the pool's pre-ping)."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            yield conn

    def insert(self, model: type[Base]) -> Any:
        """The dialect's ``INSERT`` (with ``on_conflict_do_*``) on the model's table.

        Statements are built without values and executed with a list of parameter dicts
        (DB-API ``executemany``), so a chunk of thousands of rows costs one statement.
        """
        table = cast(Table, model.__table__)
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        if self.dialect == "sqlite":
            return sqlite.insert(table)
        raise NotImplementedError(f"the store supports SQLite and PostgreSQL, not {self.dialect}")

    def revision(self) -> int:
        """The store's revision: it grows with every committed write (any process).

        Two equal readings mean nothing was written in between, so a view computed at the
        first (a cached candidate page) is still exact at the second.
        """
        with self._reader_lock:
            try:
                return self._read_revision()
            except DBAPIError:  # the server went away: reconnect once
                if self._reader is not None:
                    self._reader.invalidate()
                self._reader = None
                return self._read_revision()

    def _read_revision(self) -> int:
        if self._reader is None or self._reader.invalidated or self._reader.closed:
            self._reader = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return int(self._reader.execute(_REVISION).scalar_one())

    def row_counts(self) -> dict[str, int]:
        """Number of rows in every table of the store."""
        with self.session() as s:
            return {
                table.name: int(s.scalar(select(func.count()).select_from(table)) or 0)
                for table in Base.metadata.sorted_tables
            }


class BulkInsert:
    """An ``INSERT`` (:meth:`Database.insert`) run for many rows of one shape at once: the
    statement is compiled once per set of row keys and each row goes to the driver's
    ``executemany`` as a tuple (or dict) of its values.

    The same SQL and the same stored values as ``session.execute(statement, rows)``, without
    SQLAlchemy assembling a full parameter set per row in Python, which for the store's bulk
    writes (a screened chunk is thousands of rows of up to 30 columns) costs more than the
    database's own work. Values still pass through their column type's bind processor for
    the dialect (JSON, dates, booleans), and the session's transaction counts as a write
    (the store's revision).

    Parameters
    ----------
    db
        The store's database.
    statement
        An ``INSERT`` of :meth:`Database.insert`, with ``ON CONFLICT`` as needed, built once
        by the repository that owns it. The rows give a value for every column they insert
        (columns with Python-side defaults are refused).
    """

    def __init__(self, db: Database, statement: Any) -> None:
        self.db, self.statement = db, statement
        self._prepared: dict[tuple[str, ...], _Prepared] = {}

    def __call__(self, s: Session, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows`` (all with the keys of the first) in ``s``'s transaction."""
        if not rows:
            return
        keys = tuple(rows[0])
        prepared = self._prepared.get(keys) or self._prepare(keys)
        values = prepared.values
        processors = prepared.processors
        params: list[Any]
        if prepared.positional:
            params = []
            for row in rows:
                v = values(row)
                if processors:
                    v = list(v)
                    for i, process in processors:
                        v[i] = process(v[i])
                params.append(tuple(v))
        else:
            params = [
                {**row, **{name: process(row[name]) for name, process in processors}}
                for row in rows
            ]
        s.info["wrote"] = True  # the revision bump (_note_write sees ORM statements only)
        s.connection().exec_driver_sql(prepared.sql, params)

    def _prepare(self, keys: tuple[str, ...]) -> _Prepared:
        dialect = self.db.engine.dialect
        compiled = self.statement.compile(
            dialect=dialect, column_keys=list(keys), for_executemany=True
        )
        table = self.statement.table
        if set(compiled.binds) != set(keys):  # a Python-side default: not handled here
            raise ValueError(
                f"the rows inserted into {table.name} give {sorted(keys)}, its INSERT takes "
                f"{sorted(compiled.binds)}"
            )
        names = list(compiled.positiontup) if dialect.positional else list(keys)
        processors = []
        for i, name in enumerate(names):
            process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors.append((i if dialect.positional else name, process))
        values = operator.itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
        prepared = _Prepared(compiled.string, values, processors, dialect.positional)
        self._prepared[keys] = prepared
        return prepared


@dataclass(frozen=True)
class _Prepared:
    """A :class:`BulkInsert` compiled for one set of row keys: its SQL, how a row becomes its
    parameters (in the statement's order when the driver's parameters are positional) and
    the bind processors of the columns that have one."""

    sql: str
    values: Callable[[Mapping[str, Any]], Any]
    processors: list[tuple[Any, Callable[[Any], Any]]]
    positional: bool


def opt_float(value: float | None) -> float | None:
    """``float(value)``, keeping None."""
    return None if value is None else float(value)


def batches(values: list[Any], size: int = 500) -> Iterator[list[Any]]:
    """Slices of ``values`` short enough for an ``IN (...)`` list on every database."""
    for i in range(0, len(values), size):
        yield values[i : i + size]


_REVISION = select(StoreState.revision).where(StoreState.id == 1)


def _note_write(state: ORMExecuteState) -> None:
    """Session event: remember that this transaction ran an INSERT, UPDATE or DELETE."""
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


def _note_flush(session: Session, *_: Any) -> None:
    """Session event: a flush of new, changed or deleted objects is a write too."""
    if session.new or session.dirty or session.deleted:
        session.info["wrote"] = True


def _bump_revision(session: Session) -> None:
    """Session event: increment ``store_state.revision`` in a transaction that wrote.

    The increment is the transaction's last statement, so concurrent writers on PostgreSQL
    queue on the one row only for the instant before their commits.
    """
    if session.info.pop("wrote", False):
        session.execute(update(StoreState).values(revision=StoreState.revision + 1))
        session.info.pop("wrote", None)
