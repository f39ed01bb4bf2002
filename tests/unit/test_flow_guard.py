"""Served flow runs cannot choose the database, folders, sources, keys or Slurm resources.

The checks run inside the flows when Prefect started them from a deployment; here they are
called as the flows call them, with the operator's parameters in the environment as
``serve_flows`` puts them there.
"""

from __future__ import annotations

import json

import pytest
from altermag_flows.guard import SERVED_ENV, check_discover, check_screen, served_run

from altermag.errors import AltermagError
from altermag.screening_run import ScreenRequest
from tests.requirements import requires

OPERATOR = {
    "request": {"source": "local", "source_options": {"path": "/data/cifs"}},
    "db_url": "postgresql+psycopg://altermag@postgres/altermag",
    "out_dir": "/data/candidates",
}
DISCOVER = {"code": "auto", "preset": "fast", "runner": "auto", "wait_s": 3600.0}


@pytest.fixture(autouse=True)
def operator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SERVED_ENV, json.dumps({"screen": OPERATOR, "discover": OPERATOR}))


@requires("prefect")
def test_a_direct_call_is_not_a_served_run() -> None:
    assert served_run() is False


def test_the_operators_own_parameters_pass() -> None:
    check_screen(OPERATOR["request"], OPERATOR["db_url"], OPERATOR["out_dir"], 2, None)
    check_screen(None, None, None, 2, "api-" + "0" * 32)
    check_screen({"source": "known", "limit": 5}, None, None, 2, None)
    check_discover(None, 5, None, None, None, **DISCOVER, slurm_resources=None)
    check_discover(
        None, 5, None, None, None, **DISCOVER, slurm_resources={"ntasks": 8, "time": "02:00:00"}
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("db_url", "sqlite:////tmp/attacker.db"),
        ("out_dir", "/etc/cron.d"),
        ("key", "0123456789abcdef01234567"),
        ("window", 10_000),
        ("request", {"source": "local", "source_options": {"path": "/etc"}}),
        ("request", {"source": "optimade", "source_options": {"base_url": "http://10.0.0.1"}}),
        ("request", {"source": "known", "source_options": {"headers": {"X": "1"}}}),
    ],
)
def test_a_served_screen_refuses_what_the_caller_may_not_choose(name: str, value: object) -> None:
    params: dict = {"request": None, "db_url": None, "out_dir": None, "window": 2, "key": None}
    params[name] = value
    with pytest.raises(AltermagError):
        check_screen(**params)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("workdir", "/root"),
        ("top", 10_000),
        ("preset", "/tmp/evil.yaml"),
        ("runner", "sh"),
        ("wait_s", -1),
        ("slurm_resources", {"partition": "gpu-priority"}),
        ("slurm_resources", {"extra": ["--uid=0"]}),
        ("slurm_resources", {"ntasks": 100_000}),
        ("slurm_resources", {"time": "30-00:00:00"}),
        ("slurm_resources", {"time": "01:00:00\nrm -rf ~"}),
    ],
)
def test_a_served_discover_refuses_what_the_caller_may_not_choose(name: str, value: object) -> None:
    params: dict = {
        "request": None,
        "top": 5,
        "db_url": None,
        "out_dir": None,
        "workdir": None,
        **DISCOVER,
        "slurm_resources": None,
    }
    params[name] = value
    with pytest.raises(AltermagError):
        check_discover(**params)


def test_a_request_object_is_checked_like_its_json() -> None:
    with pytest.raises(AltermagError):
        check_screen(
            ScreenRequest(source="magndata", source_options={"path": "/"}), None, None, 1, None
        )
