"""How ``POST /screenings`` starts a screening: a Prefect deployment run, or a local thread.

Either way the store's run row is opened first under a fresh key, and the screening resumes
that row (``run_screening(key=...)``), so the API can hand back the run id at once.
"""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from altermag.public import scrub_paths
from altermag.screening_run import ScreenRequest
from altermag.store import Store

__all__ = ["BackgroundScreenings", "PrefectLauncher", "open_run"]

log = logging.getLogger(__name__)


def open_run(store: Store, request: ScreenRequest) -> tuple[int, str]:
    """Open the run row the screening will fill; returns (run id, key)."""
    key = f"api-{uuid.uuid4().hex}"
    params = {
        "options": request.source_options,
        "settings": request.settings().to_dict(),
        "limit": request.limit,
        "key": key,
        "content_key": request.run_key(),
    }
    return store.start_run(request.source, params, key=key), key


class BackgroundScreenings:
    """One worker thread running :func:`run_screening` for the API (no Prefect server)."""

    def __init__(self, db_url: str | None, out_root: Path) -> None:
        self.db_url = db_url
        self.out_root = out_root
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="screening")
        self.futures: dict[int, Future[Any]] = {}

    def submit(self, run_id: int, key: str, request: ScreenRequest) -> None:
        self.futures[run_id] = self.pool.submit(self._run, run_id, key, request)

    def _run(self, run_id: int, key: str, request: ScreenRequest) -> None:
        store = Store(self.db_url)
        try:
            request.run(store, self.out_root, key=key, restricted=True)
        except Exception as exc:  # recorded on the run: GET /screenings/{id} shows it
            log.exception("screening run %s failed", run_id)
            message = scrub_paths(f"{type(exc).__name__}: {exc}")
            store.finish_run(run_id, status="failed", errors=[message])
        finally:
            store.close()

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class PrefectLauncher:
    """Creates a flow run of the screen deployment through Prefect's REST API."""

    def __init__(self, api_url: str, deployment: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.deployment = deployment

    def submit(self, key: str, request: ScreenRequest) -> str:
        """The new flow run's id; the worker's own ``$ALTERMAG_DATABASE_URL`` is the store."""
        with httpx.Client(base_url=self.api_url, timeout=10) as client:
            dep = client.get(f"/deployments/name/{self.deployment}")
            dep.raise_for_status()
            params = {"request": request.model_dump(mode="json"), "key": key}
            run = client.post(
                f"/deployments/{dep.json()['id']}/create_flow_run", json={"parameters": params}
            )
            run.raise_for_status()
            return str(run.json()["id"])

    def state(self, flow_run_id: str) -> str | None:
        try:
            r = httpx.get(f"{self.api_url}/flow_runs/{flow_run_id}", timeout=5)
            r.raise_for_status()
            return str(r.json()["state"]["type"])
        except (httpx.HTTPError, KeyError, TypeError):
            return None
