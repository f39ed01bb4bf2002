"""Shared fixtures: databases (SQLite file / fresh PostgreSQL schema) and a temporary Prefect
server for the flow tests (started once, lazily); the ``requires`` marker's check
(:mod:`tests.requirements`: skip on a developer's machine, fail under ``CI=true``)."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from tests.requirements import in_ci, need, requires

__all__ = ["need", "requires"]


@pytest.fixture
def debian_pseudos(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Use Debian's quantum-espresso-data folder as the user's own pseudopotential library
    (``ALTERMAG_PSEUDO_DIR``): the tests that reproduce the recorded PAW runs of
    ``tests/data/qe`` (the shipped default is the SG15 norm-conserving set)."""
    from altermag.dft.qe.pseudo import DEBIAN_PSEUDO_DIR

    monkeypatch.setenv("ALTERMAG_PSEUDO_DIR", str(DEBIAN_PSEUDO_DIR))
    return DEBIAN_PSEUDO_DIR


PG_ADMIN_URL = os.environ.get(
    "ALTERMAG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Check the tools a ``requires(...)``-marked test needs before it runs."""
    for mark in item.iter_markers("requires"):
        need(*mark.args)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI no test may skip, whatever called ``pytest.skip``: the skip is a failure."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"CI=true: tests may not skip ({report.longrepr})"


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Prefect's test harness (a temporary local server and database) for the whole session."""
    home = tempfile.mkdtemp(prefix="prefect-home-")
    os.environ["PREFECT_HOME"] = home
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def _postgres_reachable() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except (SQLAlchemyError, OSError):
        return False


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    need("postgres")
    name = f"altermag_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: an SQLite file, or a fresh PostgreSQL schema on the search path."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'altermag.db'}"
    base = request.getfixturevalue("postgres_database")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return f"{base}?options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real single-node Slurm cluster (munge + slurmctld + slurmd) for the whole session."""
    from tests.slurm_cluster import SlurmCluster

    need("slurm")
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    cluster.start()
    yield cluster
    cluster.stop()
