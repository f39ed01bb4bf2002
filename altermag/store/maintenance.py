"""Compacting a store: ``VACUUM`` on SQLite (with the store's page size) and on PostgreSQL.

A store that was re-screened, re-scored and re-checked many times keeps the space of the rows
it replaced: SQLite keeps free pages in its file, PostgreSQL keeps dead row versions until a
vacuum reclaims them (its autovacuum does so on a server where it is on). :func:`vacuum`
rewrites the store:

* **SQLite**: ``VACUUM`` rebuilds the file without its free pages, with each table and index
  stored contiguously, and with :data:`~altermag.store.engine.SQLITE_PAGE_SIZE` pages. A store
  created before that page size was the default keeps SQLite's 4 kB pages, where an order row
  (≈ 2.5 kB with its stored result and page head) fills a page alone; only a ``VACUUM`` can
  change the page size of an existing file, and only outside write-ahead logging, so the
  journal mode is switched to ``DELETE`` for it and back to ``WAL`` after. SQLite's
  ``ANALYZE`` is not run: its statistics would change the plans the candidate pages are built
  on.
* **PostgreSQL**: ``VACUUM (ANALYZE)`` of the store's tables (those on the connection's
  search path): dead row versions reclaimed, the visibility map set (index-only scans), the
  planner's statistics renewed. The files are not rewritten (that would be ``VACUUM FULL``,
  which locks every table), so the size on disk usually stays.

Changing the page size needs the SQLite file to itself: with another connection open (the
API, a flow) it stops at once with a :class:`~altermag.errors.StoreError`. A vacuum that keeps
the page size runs beside readers (write-ahead logging), but the checkpoint that returns the
space to the disk waits for them up to the busy timeout; if they are still reading then, the
file shrinks at a later checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, inspect
from sqlalchemy.exc import OperationalError

from altermag.errors import StoreError
from altermag.store.engine import SQLITE_PAGE_SIZE, database_url, make_engine

__all__ = ["Vacuumed", "vacuum"]


@dataclass(frozen=True)
class Vacuumed:
    """What :func:`vacuum` did: the store's size on disk (bytes) and, on SQLite, its page size
    (bytes) before and after."""

    dialect: str
    bytes_before: int
    bytes_after: int
    page_size_before: int | None = None
    page_size_after: int | None = None


def vacuum(url: str | None = None) -> Vacuumed:
    """Compact the store at ``database_url(url)`` (module docstring).

    Raises
    ------
    StoreError
        The database is locked by another connection (SQLite) or refused the vacuum.
    """
    engine = make_engine(database_url(url))
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "sqlite":
                return _vacuum_sqlite(conn)
            return _vacuum_postgresql(conn)
    except OperationalError as exc:
        raise StoreError(
            f"the store could not be vacuumed ({exc.orig}); stop the API, flows and "
            "screenings that use it and try again"
        ) from None
    finally:
        engine.dispose()


def _sqlite_size(conn: Connection) -> tuple[int, int]:
    """(page size, bytes of the database: pages × page size) of a SQLite connection."""
    page_size = int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())
    pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())
    return page_size, page_size * pages


def _vacuum_sqlite(conn: Connection) -> Vacuumed:
    page_before, bytes_before = _sqlite_size(conn)
    journal = str(conn.exec_driver_sql("PRAGMA journal_mode").scalar_one()).lower()
    resize = page_before != SQLITE_PAGE_SIZE
    if resize and journal == "wal":
        # a database in WAL mode cannot change its page size; leaving WAL needs the file alone
        mode = conn.exec_driver_sql("PRAGMA journal_mode = DELETE").scalar_one()
        if str(mode).lower() != "delete":
            raise StoreError(
                "the store is in use (it could not leave write-ahead logging to change its "
                "page size); stop the API, flows and screenings that use it and try again"
            )
    try:
        # the engine's connect hook set ``PRAGMA page_size`` (SQLITE_PAGE_SIZE) on this
        # connection: the VACUUM writes the file with it
        conn.exec_driver_sql("VACUUM")
    finally:
        if resize and journal == "wal":
            conn.exec_driver_sql("PRAGMA journal_mode = WAL")
    if journal == "wal":  # the rewritten pages into the file, which shrinks now, not later
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    page_after, bytes_after = _sqlite_size(conn)
    return Vacuumed("sqlite", bytes_before, bytes_after, page_before, page_after)


def _store_tables(conn: Connection) -> list[str]:
    """The store's tables that exist in the connection's schema (the search path's first),
    quoted."""
    from altermag.store.models import Base

    present = set(inspect(conn).get_table_names())
    preparer = conn.dialect.identifier_preparer
    return [preparer.quote(t.name) for t in Base.metadata.sorted_tables if t.name in present]


def _pg_size(conn: Connection, tables: list[str]) -> int:
    if not tables:
        return 0
    total = " + ".join(f"pg_total_relation_size('{t}')" for t in tables)
    return int(conn.exec_driver_sql(f"SELECT {total}").scalar_one())


def _vacuum_postgresql(conn: Connection) -> Vacuumed:
    tables = _store_tables(conn)
    before = _pg_size(conn, tables)
    if tables:
        conn.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(tables)}")
    return Vacuumed("postgresql", before, _pg_size(conn, tables))
