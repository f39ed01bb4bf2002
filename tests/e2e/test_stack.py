"""The deployable stack: docker-compose.yml is checked statically (there is no Docker engine
here), and every service's command and health check from that file is run for real against
the local PostgreSQL: Prefect server, the worker serving the flows, the API, and a screening
started through the API that runs on the deployment."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text

from altermag.result import VERDICTS
from tests.conftest import PG_ADMIN_URL
from tests.requirements import need

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_compose_declares_the_four_services_with_health_checks_and_order() -> None:
    assert set(SERVICES) == {"postgres", "prefect-server", "prefect-worker", "api"}
    assert SERVICES["postgres"]["image"].startswith("postgres:")
    for name in ("prefect-server", "prefect-worker", "api"):
        svc = SERVICES[name]
        assert svc["build"] == "." and svc["image"] == "altermag:latest"
        assert "outputs:/data/candidates" in svc["volumes"]
        assert svc["healthcheck"]["test"][:4] == ["CMD", "python", "-m", "altermag_api.healthcheck"]
        assert svc["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in SERVICES["postgres"]["healthcheck"]["test"][1]
    assert any(v.startswith("pgdata:") for v in SERVICES["postgres"]["volumes"])
    for name in ("prefect-worker", "api"):
        assert SERVICES[name]["depends_on"]["prefect-server"]["condition"] == "service_healthy"
        env = SERVICES[name]["environment"]
        assert env["PREFECT_API_URL"] == "http://prefect-server:4200/api"
        assert env["ALTERMAG_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["ALTERMAG_DATABASE_URL"].endswith("@postgres:5432/${POSTGRES_DB}")
    prefect_db = SERVICES["prefect-server"]["environment"]["PREFECT_API_DATABASE_CONNECTION_URL"]
    assert prefect_db.startswith("postgresql+asyncpg://") and prefect_db.endswith("/prefect")
    assert "CREATE DATABASE prefect" in (ROOT / "docker/postgres-init.sql").read_text()
    assert set(COMPOSE["volumes"]) == {"pgdata", "outputs"}


def test_only_the_api_port_is_published_and_the_backend_is_internal() -> None:
    """Reachability from outside the stack: the API's port is the one published; PostgreSQL
    and the Prefect server (whose API starts flow runs) are only on internal networks."""
    networks = COMPOSE["networks"]
    published = {name: svc["ports"] for name, svc in SERVICES.items() if svc.get("ports")}
    assert set(published) == {"api"}
    (mapping,) = published["api"]
    assert str(mapping).rsplit(":", 1)[1] == SERVICES["api"]["environment"]["ALTERMAG_API_PORT"]
    for name, svc in SERVICES.items():
        assert "network_mode" not in svc and "expose" not in svc, name
        assert svc.get("networks"), f"{name} is on the default (non-internal) network"
        for net in svc["networks"]:
            assert net in networks, f"{name}: undeclared network {net}"
    for name in ("postgres", "prefect-server"):
        assert all(networks[n].get("internal") is True for n in SERVICES[name]["networks"]), name
    # those two can still be reached from inside: by the worker and the API on "backend"
    for name in ("prefect-worker", "api"):
        assert "backend" in SERVICES[name]["networks"]
    # the Prefect server listens on all interfaces of its container only: no host port
    assert "ports" not in SERVICES["prefect-server"]


DOTENV = {
    k: v
    for k, _, v in (
        line.partition("=")
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
}
"""The variables of ``.env.example`` (what compose reads from ``.env``)."""


def test_env_example_documents_every_variable_the_compose_file_uses() -> None:
    used = set(re.findall(r"\$\{?\$?\{?([A-Z_]+)", (ROOT / "docker-compose.yml").read_text()))
    documented = set(DOTENV)
    assert used <= documented, used - documented


def test_dockerfile_installs_the_app_with_the_extras_the_services_need() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("# ") and "FROM python:3.11" in dockerfile
    extras = re.search(r'pip install "\.\[([a-z,]+)\]"', dockerfile)
    assert extras is not None and {"store", "api", "flows"} <= set(extras.group(1).split(","))
    for folder in ("altermag", "flows", "api"):
        assert f"COPY {folder} ./{folder}" in dockerfile


# ---------------------------------------------------------------------- the services, for real


def _interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ``${NAME}`` / ``${NAME:-default}`` substitution from the ``.env`` values."""
    return re.sub(
        r"\$\{(\w+)(?::-([^}]*))?\}",
        lambda m: variables.get(m.group(1)) or (m.group(2) or ""),
        value,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _argv(command: list[str]) -> list[str]:
    """A compose command with its executable taken from this virtualenv."""
    exe = sys.executable if command[0] == "python" else str(BIN / command[0])
    return [exe, *command[1:]]


def _healthy(name: str, env: dict[str, str], timeout: float) -> None:
    """Run the service's compose health check until it passes."""
    argv = _argv(SERVICES[name]["healthcheck"]["test"][1:])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if subprocess.run(argv, env=env, capture_output=True, timeout=30).returncode == 0:
            return
        time.sleep(1)
    raise AssertionError(f"{name} never became healthy")


def _stop(proc: subprocess.Popen[Any]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def databases() -> Iterator[dict[str, str]]:
    """Fresh store and Prefect databases on the local PostgreSQL (the compose postgres)."""
    need("postgres")
    tag = uuid.uuid4().hex[:10]
    names = {"store": f"stack_store_{tag}", "prefect": f"stack_prefect_{tag}"}
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for n in names.values():
            conn.execute(text(f'CREATE DATABASE "{n}"'))
    base = PG_ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0]
    try:
        yield {
            "store": f"postgresql+psycopg://{base}/{names['store']}",
            "prefect": f"postgresql+asyncpg://{base}/{names['prefect']}",
        }
    finally:
        with admin.connect() as conn:
            for n in names.values():
                conn.execute(text(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.slow
@pytest.mark.prefect
@pytest.mark.postgres
def test_compose_commands_run_the_stack_and_a_screening_through_the_api(
    databases: dict[str, str], tmp_path: Path
) -> None:
    prefect_port, api_port = _free_port(), _free_port()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    base_env |= {"PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_UI_ENABLED": "false"}
    api_url = f"http://127.0.0.1:{prefect_port}/api"

    def env_of(name: str, **local: str) -> dict[str, str]:
        """The service's compose environment, addresses pointed at this machine."""
        env = {
            k: _interpolate(str(v), DOTENV)
            for k, v in SERVICES[name].get("environment", {}).items()
        }
        assert set(local) <= set(env), set(local) - set(env)
        return {**base_env, **env, **local}

    procs: list[subprocess.Popen[Any]] = []
    logs = tmp_path / "logs"
    logs.mkdir()

    def start(name: str, env: dict[str, str], cwd: Path) -> None:
        cwd.mkdir(exist_ok=True)
        log = (logs / f"{name}.log").open("w")
        procs.append(
            subprocess.Popen(
                _argv(SERVICES[name]["command"]), env=env, cwd=cwd, stdout=log, stderr=log
            )
        )

    try:
        server_env = env_of(
            "prefect-server",
            PREFECT_SERVER_API_HOST="127.0.0.1",
            PREFECT_SERVER_API_PORT=str(prefect_port),
            PREFECT_API_DATABASE_CONNECTION_URL=databases["prefect"],
        )
        start("prefect-server", server_env, tmp_path / "server")
        _healthy("prefect-server", server_env, timeout=240)

        worker_env = env_of(
            "prefect-worker", ALTERMAG_DATABASE_URL=databases["store"], PREFECT_API_URL=api_url
        )
        start("prefect-worker", worker_env, tmp_path / "worker")
        _healthy("prefect-worker", worker_env, timeout=240)

        api_env = env_of(
            "api",
            ALTERMAG_API_PORT=str(api_port),
            ALTERMAG_DATABASE_URL=databases["store"],
            PREFECT_API_URL=api_url,
        )
        start("api", api_env, tmp_path / "api")
        _healthy("api", api_env, timeout=120)

        made = subprocess.run(
            [str(BIN / "altermag"), "apikey", "create", "stack-test"],
            env=api_env,
            capture_output=True,
            text=True,
            check=True,
        )
        key = made.stdout.strip()
        api = f"http://127.0.0.1:{api_port}"
        assert httpx.get(f"{api}/health").json()["screening_backend"] == "prefect"
        body = {"source": "known", "limit": 3}
        assert httpx.post(f"{api}/screenings", json=body).status_code == 401
        r = httpx.post(f"{api}/screenings", json=body, headers={"X-API-Key": key}, timeout=30)
        assert r.status_code == 202, r.text
        started = r.json()
        assert started["backend"] == "prefect" and started["flow_run_id"]
        deadline = time.monotonic() + 300
        run: dict[str, Any] = {}
        while time.monotonic() < deadline:
            run = httpx.get(f"{api}/screenings/{started['run_id']}").json()["run"]
            if run["status"] != "running":
                break
            time.sleep(1)
        assert run["status"] == "completed", (
            run,
            (logs / "prefect-worker.log").read_text()[-3000:],
        )
        assert run["n_inputs"] == 3
        cands = httpx.get(f"{api}/candidates", params={"run_id": started["run_id"]}).json()
        assert cands["items"] and {c["verdict"] for c in cands["items"]} <= set(VERDICTS)
        # the worker wrote the tables into its working folder (the outputs volume in compose)
        assert list((tmp_path / "worker" / "candidates").glob("*/candidates.csv"))
        # the flow itself finishes after the run row (it still writes the reports)
        state = None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            flow = httpx.get(f"{api_url}/flow_runs/{started['flow_run_id']}").json()
            state = flow["state"]["type"]
            if state not in ("RUNNING", "PENDING", "SCHEDULED"):
                break
            time.sleep(1)
        assert state == "COMPLETED"

        # a caller who reaches Prefect's API cannot choose the database, folders or source
        dep = httpx.get(f"{api_url}/deployments/name/screen/nightly-screen").json()
        hostile = [
            {"db_url": f"sqlite:///{tmp_path / 'attacker.db'}"},
            {"out_dir": str(tmp_path / "attacker-out")},
            {"request": {"source": "local", "source_options": {"path": "/etc"}}},
            {"request": {"source": "optimade", "source_options": {"base_url": api_url}}},
        ]
        runs = [
            httpx.post(
                f"{api_url}/deployments/{dep['id']}/create_flow_run",
                json={"parameters": params},
                timeout=10,
            ).json()["id"]
            for params in hostile
        ]
        for flow_run_id in runs:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                state = httpx.get(f"{api_url}/flow_runs/{flow_run_id}").json()["state"]["type"]
                if state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                    break
                time.sleep(1)
            assert state == "FAILED", flow_run_id
        assert not (tmp_path / "attacker.db").exists()
        assert not (tmp_path / "attacker-out").exists()
    finally:
        for proc in reversed(procs):
            _stop(proc)
