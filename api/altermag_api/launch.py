"""How ``POST /screenings`` starts a screening: a Prefect deployment run, or a local thread.

Either way the store's run row is opened first under a fresh key, and the screening resumes
that row (``run_screening(key=...)``), so the API can hand back the run id at once. Runs the
API executes itself are leased, bounded and resumed after a restart (:class:`BackgroundScreenings`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from altermag.public import scrub_paths
from altermag.screening_run import ScreenRequest
from altermag.store import Store

__all__ = ["BackgroundScreenings", "PrefectLauncher", "QueueFull", "open_run"]

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
        "request": request.model_dump(mode="json"),  # to resume it after a restart
    }
    return store.start_run(request.source, params, key=key), key


class QueueFull(Exception):
    """The API already holds as many unfinished screenings as ``ALTERMAG_SCREENING_QUEUE``."""


class _Stopped(Exception):
    """The API is shutting down: the screening stops between chunks and stays queued."""


API_KEY_PREFIX = "api-"


class BackgroundScreenings:
    """Screenings the API runs itself (no Prefect server): one worker thread, leased runs.

    Every run this process takes it holds by a lease in the store
    (:meth:`~altermag.store.runs.RunRepository.claim`), renewed every ``lease_s / 3`` seconds
    by a heartbeat thread, which also takes over any queued or running API screening whose
    lease lapsed: after a restart (or a killed process) the runs resume from their stored
    cursor, and with several API processes each run is taken by one. At most
    ``queue_limit`` API screenings are unfinished at once (:class:`QueueFull` beyond).

    :meth:`shutdown` (SIGTERM) does not wait for a screening to finish: the running one
    stops before its next chunk and goes back to ``queued`` with its lease released, so the
    next process resumes it at once. Screenings run in threads of this process, so a killed
    API leaves no child process behind.
    """

    def __init__(
        self,
        db_url: str | None,
        out_root: Path,
        *,
        queue_limit: int | None = None,
        lease_s: float = 60.0,
    ) -> None:
        self.db_url = db_url
        self.out_root = out_root
        self.queue_limit = queue_limit
        self.lease_s = lease_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="screening")
        self.futures: dict[int, Future[Any]] = {}
        self.held: set[int] = set()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._store = Store(db_url)
        self._beat: threading.Thread | None = None

    def start(self) -> None:
        """Start the heartbeat: resume lapsed API screenings now, then renew and look again
        every ``lease_s / 3`` seconds (the application's startup calls it)."""
        if self._beat is None:
            self._beat = threading.Thread(
                target=self._heartbeat, name="screening-leases", daemon=True
            )
            self._beat.start()

    @property
    def limit(self) -> int:
        """The queue bound (``ALTERMAG_SCREENING_QUEUE`` unless given)."""
        if self.queue_limit is not None:
            return self.queue_limit
        from altermag.config import get_settings

        return get_settings().screening_queue

    def check_capacity(self, store: Store) -> None:
        """Raise :class:`QueueFull` when the API's unfinished screenings fill the queue."""
        if store.screening_runs.active_count(API_KEY_PREFIX) >= self.limit:
            raise QueueFull(f"{self.limit} screenings are already queued or running")

    def submit(self, run_id: int, key: str, request: ScreenRequest) -> None:
        """Queue an opened run (:func:`open_run`) on this process."""
        self._store.screening_runs.queue(run_id)
        self._take(run_id, key, request)

    def _take(self, run_id: int, key: str, request: ScreenRequest) -> bool:
        if self.stopping.is_set():
            return False
        if not self._store.screening_runs.claim(run_id, self.owner, self.lease_s):
            return False
        with self.lock:
            if run_id in self.held:
                return True
            self.held.add(run_id)
            self.futures[run_id] = self.pool.submit(self._run, run_id, key, request)
        return True

    def _executor(self, chunks: Any, settings: Any) -> list[Any]:
        from altermag.screening_run import screen_chunk

        out = []
        for chunk in chunks:
            if self.stopping.is_set():
                raise _Stopped
            out.append(screen_chunk(chunk, settings))
        return out

    def _run(self, run_id: int, key: str, request: ScreenRequest) -> None:
        store = Store(self.db_url)
        try:
            if self.stopping.is_set():
                raise _Stopped
            request.run(store, self.out_root, key=key, restricted=True, executor=self._executor)
        except _Stopped:
            store.screening_runs.queue(run_id)  # the next process resumes it
        except Exception as exc:  # recorded on the run: GET /screenings/{id} shows it
            log.exception("screening run %s failed", run_id)
            message = scrub_paths(f"{type(exc).__name__}: {exc}")
            store.finish_run(run_id, status="failed", errors=[message])
        finally:
            with self.lock:
                self.held.discard(run_id)
            store.screening_runs.release(run_id, self.owner)
            store.close()

    def resume_lapsed(self) -> list[int]:
        """Take the API screenings nobody holds (a stopped or killed process's); their ids."""
        taken = []
        for run_id in self._store.screening_runs.claimable(API_KEY_PREFIX):
            run = self._store.run(run_id)
            if run is None or run.key is None:
                continue
            raw = (run.parameters or {}).get("request")
            try:
                request = ScreenRequest.model_validate(raw)
            except ValueError:
                self._store.finish_run(
                    run_id,
                    status="failed",
                    errors=["cannot resume: the run's request was not stored (older version)"],
                )
                continue
            if self._take(run_id, run.key, request):
                taken.append(run_id)
        return taken

    def _heartbeat(self) -> None:
        period = max(0.2, self.lease_s / 3)
        first = True
        while first or not self.stopping.wait(period):
            first = False
            try:
                with self.lock:
                    held = sorted(self.held)
                for run_id in held:
                    self._store.screening_runs.claim(run_id, self.owner, self.lease_s)
                self.resume_lapsed()
            except Exception:  # the database may be briefly away: try again next beat
                log.exception("screening lease heartbeat failed")

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop taking runs, stop the running one before its next chunk, release leases.

        Returns within about one chunk's analysis (at most ``timeout`` seconds of waiting);
        runs not finished stay ``queued`` for the next process.
        """
        self.stopping.set()
        self.pool.shutdown(wait=False, cancel_futures=True)
        with self.lock:
            futures = dict(self.futures)
        for run_id, future in futures.items():
            if future.cancelled():
                self._store.screening_runs.queue(run_id)
                with self.lock:
                    self.held.discard(run_id)
        deadline = time.monotonic() + timeout
        for future in futures.values():
            if not future.done():
                with contextlib.suppress(Exception):
                    future.result(timeout=max(0.0, deadline - time.monotonic()))
        with self.lock:
            held = sorted(self.held)
        for run_id in held:
            self._store.screening_runs.release(run_id, self.owner)
        self._store.close()


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
