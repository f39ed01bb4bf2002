"""Worker processes for ``POST /analyze``: one request cannot starve the others.

Reading and classifying an uploaded structure runs in a separate process, never in the API
process: the API's event loop and thread pool stay free (``/health`` and the other routes
answer while analyses run), and each analysis is bounded

* in **time**: a worker that has not answered within ``limits.analysis_seconds`` is killed
  and replaced, and the request gets 413;
* in **memory**: each worker runs under an address-space limit of
  ``limits.analysis_memory_mb`` (``RLIMIT_AS``), so an allocation beyond it fails inside
  the worker (413) instead of taking the machine's memory;
* in **size**: inside the worker the readers and the symmetry search apply ``limits``
  (atoms, operations × sites, moments) before they allocate (413 with the reason).

At most ``workers`` analyses run at once; up to ``queue`` more wait for a free worker, and
past that a request gets 429 with ``Retry-After`` at once. Workers are started on first use,
run at a lower CPU priority than the API process, and are reused between requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing as mp
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from altermag.config import Limits
from altermag.errors import AltermagError

__all__ = ["AnalysisBusy", "AnalysisPool", "WorkerFailure"]

log = logging.getLogger(__name__)


class AnalysisBusy(Exception):
    """Every worker is busy and the queue is full (429)."""


class WorkerFailure(AltermagError):
    """The analysis did not answer within its limits, or it failed: its status and reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _serve(conn: Connection, limits_json: str) -> None:  # pragma: no cover - child process
    """A worker's loop: read (name, data, options) jobs, answer ("ok", dict) or an error."""
    import resource
    import tempfile
    from pathlib import Path

    limits = Limits.model_validate_json(limits_json)
    with contextlib.suppress(OSError):
        os.nice(5)  # the API process answers first
    # the parsers' imports before "ready": an analysis's time cap counts the analysis only
    import ase.io  # noqa: F401
    import pymatgen.io.cif
    import pymatgen.io.vasp  # noqa: F401

    import altermag.symmetry  # noqa: F401
    from altermag.config import use_limits
    from altermag.io import StructureReadError
    from altermag.symmetry.request import AnalyzeRequest

    if limits.analysis_memory_mb:
        cap = limits.analysis_memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    conn.send(("ready",))
    with use_limits(limits):
        while True:
            try:
                name, data, options = conn.recv()
            except (EOFError, OSError):
                return
            try:
                request = AnalyzeRequest(**options)
                with tempfile.TemporaryDirectory(prefix="altermag-upload-") as tmp:
                    path = Path(tmp) / name
                    path.write_bytes(data)
                    try:
                        structure, result = request.read_and_analyze(path)
                        answer: tuple[Any, ...] = (
                            "ok",
                            {"formula": structure.formula, **result.to_dict()},
                        )
                    except StructureReadError as exc:
                        answer = ("error", exc.status, str(exc).replace(tmp + "/", ""))
                    except AltermagError as exc:
                        answer = ("error", exc.status, f"{name}: {exc}".replace(tmp + "/", ""))
            except MemoryError:
                conn.send(("exhausted", 413, f"{name}: {_memory_message(limits)}"))
                return  # a fresh worker after an exhausted one
            except Exception as exc:  # the analysis refuses the input: a 4xx with its reason
                answer = ("error", 422, f"{name}: {type(exc).__name__}: {exc}")
            conn.send(answer)


def _memory_message(limits: Limits) -> str:
    return (
        f"the analysis needs more than the {limits.analysis_memory_mb} MB of memory this "
        "service allows per structure (analysis_memory_mb); run it with the command line"
    )


STARTUP_SECONDS = 300.0
"""How long a new worker may take to import its libraries (not counted as analysis time)."""


class _Worker:
    def __init__(self, ctx: Any, limits: Limits) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, limits.model_dump_json()), daemon=True)
        self.proc.start()
        child.close()
        self.ready = False

    def wait_ready(self) -> bool:
        """Wait for the worker's imports; False if it died or never got ready."""
        if not self.ready:
            try:
                self.ready = self.conn.poll(STARTUP_SECONDS) and self.conn.recv() == ("ready",)
            except (EOFError, OSError):
                self.ready = False
        return self.ready

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(timeout=5)
        self.conn.close()


class AnalysisPool:
    """``workers`` analysis processes under ``limits``, with a wait queue of ``queue``."""

    def __init__(self, limits: Limits, workers: int = 2, queue: int = 8) -> None:
        self.limits = limits
        self.workers = max(1, workers)
        self.queue = max(0, queue)
        self._ctx = mp.get_context("spawn")
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="analysis")
        self._pending = 0
        self._closed = False

    async def analyze(self, name: str, data: bytes, options: dict[str, Any]) -> dict[str, Any]:
        """Read and classify the file ``name`` with contents ``data`` in a worker.

        Raises
        ------
        AnalysisBusy
            When ``workers`` analyses run and ``queue`` wait already.
        WorkerFailure
            The reader's or the analysis's refusal (its status: 413 for a limit, 422), or
            a 413 for the time or memory cap.
        """
        if self._pending >= self.workers + self.queue:
            raise AnalysisBusy
        self._pending += 1  # only ever changed on the event loop
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._threads, self._run, name, data, options)
        finally:
            self._pending -= 1

    def _take(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        worker = _Worker(self._ctx, self.limits)
        with self._lock:
            self._all.add(worker)
        return worker

    def _drop(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)

    def _run(self, name: str, data: bytes, options: dict[str, Any]) -> dict[str, Any]:
        worker = self._take()
        if not worker.wait_ready():
            self._drop(worker)
            raise RuntimeError("an analysis worker process did not start")  # a 500: a bug
        try:
            worker.conn.send((name, data, options))
            timeout = self.limits.analysis_seconds
            if not worker.conn.poll(timeout):
                self._drop(worker)
                raise WorkerFailure(
                    413,
                    f"{name}: the analysis takes longer than the {timeout:g} s this service "
                    "allows per structure (analysis_seconds); run it with the command line",
                )
            answer = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            # the worker died: killed by the kernel for memory, or crashed in native code
            self._drop(worker)
            raise WorkerFailure(413, f"{name}: {_memory_message(self.limits)}") from None
        if answer[0] == "exhausted" or not worker.proc.is_alive():
            self._drop(worker)  # it exits after a MemoryError: a fresh one next time
            answer = ("error", *answer[1:])
        else:
            with self._lock:
                if self._closed:
                    worker.kill()
                else:
                    self._idle.append(worker)
        if answer[0] == "ok":
            return answer[1]  # type: ignore[no-any-return]
        raise WorkerFailure(answer[1], answer[2])

    def warm(self, name: str, data: bytes, timeout: float = 600.0) -> list[dict[str, Any]]:
        """Start every worker and run one analysis of ``name`` on each, all at once (the
        app's warm-up, :mod:`altermag_api.warmup`); their answers.

        A worker's first job includes its start and imports (seconds, more under load), so it
        gets ``timeout`` rather than the per-request ``limits.analysis_seconds``. Workers that
        answer are left idle for the requests to come.
        """
        with self._lock:
            missing = self.workers - len(self._all)
        started = [self._take() for _ in range(max(0, missing))]
        answers: list[Any] = []
        for worker in started:
            if not worker.wait_ready():  # its ("ready",) first: imports done
                self._drop(worker)
                raise WorkerFailure(503, f"{name}: an analysis worker did not start")
            worker.conn.send((name, data, {}))
        for worker in started:
            try:
                if not worker.ready:  # its imports first ("ready"), then the answer
                    if not worker.conn.poll(timeout) or worker.conn.recv() != ("ready",):
                        raise EOFError
                    worker.ready = True
                if not worker.conn.poll(timeout):
                    raise EOFError
                answer = worker.conn.recv()
            except (EOFError, OSError):
                self._drop(worker)
                raise WorkerFailure(503, f"{name}: an analysis worker did not start") from None
            with self._lock:
                self._idle.append(worker)
            if answer[0] != "ok":
                raise WorkerFailure(answer[1], answer[2])
            answers.append(answer[1])
        return answers

    def close(self) -> None:
        """Stop every worker (the API's shutdown)."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
        for w in workers:
            w.kill()
        self._threads.shutdown(wait=False, cancel_futures=True)
