"""Warm-up at start: the analysis workers exist, are imported and idle before the first
``POST /analyze``, and that request is answered by one of them (no process started for it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from altermag_api.app import create_app
from fastapi.testclient import TestClient

EXAMPLES = Path(__file__).resolve().parents[2] / "altermag" / "data" / "examples"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_first_analysis_after_start_runs_on_a_warm_worker(db_url: str, tmp_path: Path) -> None:
    app = create_app(db_url, prefect_api_url=None, out_root=tmp_path, warm_up=True)
    pool = app.state.analysis_pool
    assert not pool._all  # nothing started before the app starts
    with TestClient(app) as client:
        started = set(pool._all)
        assert len(started) == pool.workers  # every worker spawned during the start
        assert all(w.proc.is_alive() for w in started) and len(pool._idle) == pool.workers
        data = (EXAMPLES / "Fe2O3.mcif").read_bytes()
        r = client.post("/analyze", files={"file": ("Fe2O3.mcif", data)})
        assert r.status_code == 200, r.text
        # hematite in its magnetic cell (moments given): a g-wave altermagnet
        assert (r.json()["verdict"], r.json()["wave"]) == ("altermagnet", "g")
        assert set(pool._all) == started  # answered by a worker that was already warm


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_warm_up_unless_asked(db_url: str, tmp_path: Path) -> None:
    app = create_app(db_url, prefect_api_url=None, out_root=tmp_path, warm_up=False)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert not app.state.analysis_pool._all  # workers start on first use only


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_start_leaves_its_heap_out_of_the_collectors_walks(db_url: str, tmp_path: Path) -> None:
    """What the start made lives as long as the process: frozen (``gc.freeze``), so a full
    collection under load does not walk it again (the event loop stalled 50–350 ms)."""
    import gc

    gc.unfreeze()
    app = create_app(db_url, prefect_api_url=None, out_root=tmp_path, warm_up=False)
    assert gc.get_freeze_count() == 0
    try:
        with TestClient(app) as client:
            # the app, its routes and the imported framework are all in the frozen set
            assert gc.get_freeze_count() > 10_000
            assert client.get("/health").status_code == 200
    finally:
        gc.unfreeze()
