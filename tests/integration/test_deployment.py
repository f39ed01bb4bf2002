"""A real Prefect server (PostgreSQL backend), the screen deployment served with a cron
schedule, a run triggered through Prefect's HTTP API, and its completion."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_ADMIN_URL

pytestmark = [pytest.mark.prefect, pytest.mark.postgres, pytest.mark.slow]
EXAMPLES = Path(__file__).resolve().parents[2] / "altermag" / "data" / "examples"
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up")


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("prefect")
    dbname = f"prefect_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    port = _free_port()
    base = PG_ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0]
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_API_DATABASE_CONNECTION_URL": f"postgresql+asyncpg://{base}/{dbname}",
    }
    log = (home / "server.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=log,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        _wait(f"{api}/health", timeout=180)
        yield {**env, "PREFECT_API_URL": api}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        admin.dispose()


def test_served_deployment_runs_when_triggered(
    prefect_server: dict[str, str], tmp_path: Path
) -> None:
    api = prefect_server["PREFECT_API_URL"]
    inputs = tmp_path / "inputs"
    shutil.copytree(EXAMPLES, inputs)
    params = {
        "request": {"source": "local", "source_options": {"path": str(inputs)}},
        "db_url": f"sqlite:///{tmp_path / 'served.db'}",
        "out_dir": str(tmp_path / "out"),
    }
    server = subprocess.Popen(
        [
            str(BIN / "altermag"),
            "serve-flows",
            "--cron",
            "0 2 * * *",
            "--name",
            "test-nightly",
            "--parameters",
            json.dumps(params),
        ],
        # a run's own request is checked against the operator's allowlists (the served
        # parameters' own request, db_url and out_dir are the operator's and pass as they are)
        env={
            **prefect_server,
            "ALTERMAG_ALLOWED_SOURCES": "local",
            "ALTERMAG_ALLOWED_PATHS": str(inputs),
        },
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        dep = None
        while time.monotonic() < deadline:
            try:  # a busy machine: the server may answer slowly while it starts
                r = httpx.get(f"{api}/deployments/name/screen/test-nightly", timeout=30)
            except httpx.TimeoutException:
                continue
            if r.status_code == 200:
                dep = r.json()
                break
            time.sleep(1)
        assert dep is not None, "deployment was not created"
        assert dep["schedules"][0]["schedule"]["cron"] == "0 2 * * *"
        for _ in range(60):  # served one after the other
            disc = httpx.get(f"{api}/deployments/name/discover/weekly-discover", timeout=5)
            if disc.status_code == 200:
                break
            time.sleep(1)
        assert disc.status_code == 200, "discover is served beside screen"
        assert disc.json()["schedules"][0]["schedule"]["cron"] == "0 3 * * 0"
        run = httpx.post(
            f"{api}/deployments/{dep['id']}/create_flow_run",
            json={"parameters": {"request": {**params["request"], "limit": 4}}},
            timeout=10,
        ).json()
        state = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            state = httpx.get(f"{api}/flow_runs/{run['id']}", timeout=5).json()["state"]["type"]
            if state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                break
            time.sleep(1)
        assert state == "COMPLETED"
        csvs = list((tmp_path / "out").glob("*/candidates.csv"))
        assert len(csvs) == 1 and csvs[0].read_text().count("\n") == 5  # header + 4 records
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def test_screen_on_a_local_dask_cluster(prefect_server: dict[str, str], tmp_path: Path) -> None:
    """Chunks run as Prefect tasks on two Dask worker processes (prefect-dask)."""
    out = subprocess.run(
        [
            str(BIN / "altermag"),
            "screen",
            "--source",
            "corpus",
            "--limit",
            "60",
            "--chunk-size",
            "15",
            "--dask-workers",
            "2",
            "--db",
            f"sqlite:///{tmp_path / 'd.db'}",
            "--out",
            str(tmp_path / "out"),
        ],
        env={**prefect_server, "COLUMNS": "150"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    rows = json.loads(next((tmp_path / "out").glob("*/candidates.json")).read_text())
    assert len(rows) == 60
    assert "60 screened" in out.stdout
