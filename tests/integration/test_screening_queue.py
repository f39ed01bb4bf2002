"""API screenings are leased, bounded and resumed: none stays "running" for ever.

* a run held by a process that died (its lease lapsed) is taken over and finished;
* the queue is bounded (``ALTERMAG_SCREENING_QUEUE``): one more is a 503 with Retry-After;
* SIGTERM to a real ``altermag api`` while a screening runs ends the server in seconds, the
  run goes back to ``queued``, and the next server start finishes it with exactly ``limit``
  inputs; the screening ran in the server's own process (no child left behind).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from altermag_api.app import create_app
from altermag_api.launch import BackgroundScreenings, open_run
from fastapi.testclient import TestClient

from altermag.screening_run import ScreenRequest
from altermag.store import Store


def _wait(store: Store, run_id: int, timeout: float = 300) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = store.run(run_id)
        if run is not None and run.status not in ("queued", "running"):
            return run
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} still {store.run(run_id).status}")


def test_a_run_whose_holder_died_is_taken_over_and_finished(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with Store(url) as store:
        request = ScreenRequest(source="known", limit=3, chunk_size=1, score=False)
        run_id, _ = open_run(store, request)
        store.screening_runs.queue(run_id)
        assert store.screening_runs.claim(run_id, "dead-process", ttl_s=1.0)
        background = BackgroundScreenings(url, tmp_path / "out", lease_s=1.5)
        try:
            assert background.resume_lapsed() == []  # the dead process's lease still holds
            assert not store.screening_runs.claim(run_id, "someone-else", ttl_s=1.0)
            time.sleep(1.2)
            background.start()
            run = _wait(store, run_id)
        finally:
            background.shutdown()
        assert run.status == "completed" and run.n_inputs == 3


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, dict]]:
    monkeypatch.setenv("ALTERMAG_SCREENING_QUEUE", "2")
    url = f"sqlite:///{tmp_path / 'q.db'}"
    with Store(url) as store:
        key = store.create_api_key("tester")
    app = create_app(url, prefect_api_url=None, out_root=tmp_path / "out")
    with TestClient(app) as client:
        yield client, {"X-API-Key": key}


def test_the_queue_is_bounded(api: tuple[TestClient, dict]) -> None:
    client, h = api
    big = {"source": "corpus", "limit": 2000, "chunk_size": 1, "score": False}
    assert client.post("/screenings", json=big, headers=h).status_code == 202
    assert client.post("/screenings", json=big, headers=h).status_code == 202
    r = client.post("/screenings", json=big, headers=h)
    assert r.status_code == 503, r.text
    assert "queue is full" in r.json()["detail"] and r.headers["Retry-After"].isdigit()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(db: str, port: int, out: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
        "ALTERMAG_DATABASE_URL": db,
        "ALTERMAG_OUT_DIR": str(out),
        "ALTERMAG_API_WORKERS": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "altermag.cli", "api", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.3)
    proc.kill()
    raise AssertionError(log.read_text()[-2000:])


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


@pytest.mark.slow
def test_sigterm_during_a_screening_ends_the_server_and_the_run_resumes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    with Store(db) as store:
        key = store.create_api_key("tester")
    port, log, out = _free_port(), tmp_path / "api.log", tmp_path / "out"
    server = _serve(db, port, out, log)
    limit = 60
    body = {"source": "corpus", "limit": limit, "chunk_size": 1, "score": False}
    try:
        r = httpx.post(f"http://127.0.0.1:{port}/screenings", json=body, headers={"X-API-Key": key})
        assert r.status_code == 202, r.text
        run_id = r.json()["run_id"]
        with Store(db) as store:
            deadline = time.monotonic() + 120
            while store.run(run_id).n_inputs < 3 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert 0 < store.run(run_id).n_inputs < limit, "the screening must still run"
        before = set(_children(server.pid))
        t0 = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        stopped_in = time.monotonic() - t0
    finally:
        if server.poll() is None:
            server.kill()
    assert stopped_in < 30, f"SIGTERM took {stopped_in:.1f} s"
    for pid in before:  # the server's children (analysis workers) ended with it
        assert (
            not Path(f"/proc/{pid}").exists()
            or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
        )
    with Store(db) as store:
        run = store.run(run_id)
        assert run.status == "queued", run.status
        partial = run.n_inputs
    assert partial < limit
    server = _serve(db, port, out, log)  # a fresh start takes the queued run over at once
    try:
        with Store(db) as store:
            run = _wait(store, run_id)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    assert run.status == "completed"
    assert run.n_inputs == limit  # resumed, not restarted and not screened twice
