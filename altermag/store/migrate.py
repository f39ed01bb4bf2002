"""Alembic migrations of the store, run programmatically.

The migration scripts live inside the package (``altermag/store/migrations``), so
``upgrade(url)`` works from an installed wheel as well as from a checkout, without an
``alembic.ini``. The URL travels in ``Config.attributes`` (not the ini parser, which would
mangle ``%`` in passwords).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from altermag.store.engine import database_url, make_engine

__all__ = ["MIGRATIONS", "alembic_config", "current_revision", "downgrade", "head", "upgrade"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` for the packaged migrations and ``database_url(url)``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = database_url(url)
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Create or update the schema (``alembic upgrade head``)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    """Step the schema back (``base`` drops every table of the store)."""
    command.downgrade(alembic_config(url), revision)


def head() -> str:
    """The newest revision shipped with this version of altermag."""
    rev = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert rev is not None
    return rev


def current_revision(url: str | None = None) -> str | None:
    """The revision the database is at (None for an empty database)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
