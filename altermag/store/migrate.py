"""Alembic migrations of the store, run programmatically.

The migration scripts live inside the package (``altermag/store/migrations``), so
``upgrade(url)`` works from an installed wheel as well as from a checkout, without an
``alembic.ini``. The URL travels in ``Config.attributes`` (not the ini parser, which would
mangle ``%`` in passwords).

Alembic is imported only to migrate: :func:`head` reads the revision chain from the migration
files and :func:`current_revision` reads ``alembic_version`` with SQLAlchemy, so opening a
store that is already at the head costs no Alembic import. An empty database is not migrated
but created at the head (:func:`create_schema`): the models' tables, the store's state row and the
head revision in one transaction, as Alembic's documentation advises for new databases; the
migrations are for databases made by an earlier version.
"""

from __future__ import annotations

import ast
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from altermag.store.engine import database_url, make_engine

if TYPE_CHECKING:
    from collections.abc import Iterator

    from alembic.config import Config
    from sqlalchemy import Connection, Table

__all__ = [
    "MIGRATIONS",
    "alembic_config",
    "create_schema",
    "current_revision",
    "downgrade",
    "head",
    "upgrade",
]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LOCK_KEY = 0x616C746D
"""PostgreSQL advisory lock (``"altm"``) held while a schema is created or migrated: several
processes opening a store on a new database (the API's workers) take turns, and the later
ones find the schema at the head."""


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` for the packaged migrations and ``database_url(url)``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = database_url(url)
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Create or update the schema (``alembic upgrade head``)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    """Step the schema back (``base`` drops every table of the store)."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)


@cache
def head() -> str:
    """The newest revision shipped with this version of altermag: the one revision of the
    packaged migrations that no other revises (their ``revision`` and ``down_revision``)."""
    revised: set[str] = set()
    revisions: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        names: dict[str, ast.expr] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target: ast.expr | None = node.target if isinstance(node, ast.AnnAssign) else None
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
            value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
            if isinstance(target, ast.Name) and value is not None:
                names[target.id] = value
        if "revision" not in names:
            continue
        revisions.add(ast.literal_eval(names["revision"]))
        down = ast.literal_eval(names["down_revision"]) if "down_revision" in names else None
        revised.update([down] if isinstance(down, str) else down or ())
    heads = revisions - revised
    if len(heads) != 1:
        raise RuntimeError(f"the packaged migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def current_revision(url: str | None = None) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from sqlalchemy import inspect, text

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    finally:
        engine.dispose()
    if len(rows) > 1:
        raise RuntimeError(f"the database is at {len(rows)} revisions: {sorted(rows)}")
    return str(rows[0]) if rows else None


def create_schema(url: str | None = None) -> bool:
    """Create the store's schema in an empty database, at the head revision.

    The tables of :mod:`altermag.store.models` (``create_all``), the one row of
    ``store_state`` and Alembic's ``alembic_version`` at :func:`head`, in one transaction:
    an interrupted creation leaves the database empty. Returns False, creating nothing, when
    the database already has tables (a store of an earlier version, to be migrated by
    :func:`upgrade`, or one another process has just created).
    """
    from sqlalchemy import insert, inspect

    from altermag.store.models import Base, StoreState

    engine = make_engine(url)
    try:
        with engine.connect() as conn, _schema_transaction(conn):
            if inspect(conn).get_table_names():
                return False
            Base.metadata.create_all(conn)
            conn.execute(insert(StoreState).values(id=1, revision=0))
            version = _version_table()
            version.create(conn)
            conn.execute(insert(version).values(version_num=head()))
        return True
    finally:
        engine.dispose()


def _version_table() -> Table:
    """Alembic's ``alembic_version`` table, as Alembic creates it."""
    from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table

    return Table(
        "alembic_version",
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )


@contextmanager
def _schema_transaction(conn: Connection) -> Iterator[None]:
    """One transaction that DDL is part of, holding the schema lock: PostgreSQL's own with
    :data:`LOCK_KEY`; on SQLite ``BEGIN IMMEDIATE`` (the driver would run each ``CREATE`` on
    its own, and the write lock makes a second creator wait, then find the tables)."""
    from sqlalchemy import text

    if conn.dialect.name == "postgresql":
        with conn.begin():
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
            yield
        return
    conn.execution_options(isolation_level="AUTOCOMMIT")
    conn.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.exec_driver_sql("ROLLBACK")
        raise
    conn.exec_driver_sql("COMMIT")
