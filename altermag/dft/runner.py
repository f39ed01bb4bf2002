"""The shared part of a local DFT run: time limits, one subprocess per step, the run record.

Every code runs the same two steps here, an SCF and then a bands step on the frozen density,
each under a wall-clock limit; the bands step only after an SCF that converged (an
unconverged density fakes large splittings). What differs per code — the command line, the
output files, how convergence is read — lives in the code's own ``run`` module
(:mod:`altermag.dft.qe.run`, :mod:`altermag.dft.vasp.run`); both return one
:class:`RunRecord`, written as ``run.json`` into the run folder.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

__all__ = ["Recorder", "RunRecord", "RunStatus", "StepRecord", "run_process", "start_run"]

RunStatus = Literal["completed", "unconverged", "failed", "timeout", "missing_executable"]


@dataclass
class StepRecord:
    """One step (``scf`` or ``bands``) of a local run."""

    name: str
    command: list[str]
    returncode: int | None
    wall_s: float
    timed_out: bool
    converged: bool | None
    """SCF only: the code reported electronic convergence."""
    job_done: bool
    output: str
    """Path of the text output, relative to the run folder."""
    errors: list[str] = field(default_factory=list)


@dataclass
class RunRecord:
    """Status of a local run of either code (JSON-serialisable for the store)."""

    directory: str
    status: RunStatus
    message: str
    started_at: str
    finished_at: str
    steps: list[StepRecord] = field(default_factory=list)
    code: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "completed"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunRecord:
        return cls(**{**d, "steps": [StepRecord(**s) for s in d.get("steps", [])]})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


Recorder = Callable[[RunStatus, str, list[StepRecord]], RunRecord]


def start_run(
    directory: Path,
    timeout_scf_s: float | None,
    timeout_bands_s: float | None,
    code: str = "",
) -> tuple[dict[str, Any], float, float, Recorder]:
    """What every local run starts with.

    Returns the folder's ``settings.json`` (empty when absent), the SCF and bands time
    limits (the arguments, else ``timeout_scf_s``/``timeout_bands_s`` of the settings, else
    one hour each) and ``record(status, message, steps)``, which writes ``run.json`` and
    returns the run record.
    """
    settings: dict[str, Any] = {}
    if (directory / "settings.json").is_file():
        settings = json.loads((directory / "settings.json").read_text())
    t_scf = timeout_scf_s or float(settings.get("timeout_scf_s", 3600))
    t_bands = timeout_bands_s or float(settings.get("timeout_bands_s", 3600))
    started = _now()

    def record(status: RunStatus, message: str, steps: list[StepRecord]) -> RunRecord:
        rec = RunRecord(str(directory), status, message, started, _now(), steps, code)
        (directory / "run.json").write_text(json.dumps(rec.to_dict(), indent=1))
        return rec

    return settings, t_scf, t_bands, record


def run_process(
    command: Sequence[str] | str,
    cwd: Path,
    log: Path,
    timeout: float,
    env: dict[str, str],
) -> tuple[int | None, bool, float]:
    """Run ``command`` in ``cwd`` with stdout and stderr into ``log``, killed after ``timeout``.

    A string is run by the shell (a site's VASP command line), a sequence directly. Returns
    (return code or None when killed, timed out, wall seconds).
    """
    t0 = time.perf_counter()
    timed_out = False
    with log.open("w") as fh:
        proc = subprocess.Popen(
            command,
            shell=isinstance(command, str),
            cwd=cwd,
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            rc: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            rc, timed_out = None, True
    return rc, timed_out, round(time.perf_counter() - t0, 2)
