"""Job scripts and a small Slurm client (``sbatch``, ``squeue``, ``sacct``/``scontrol``).

The client shells out to the Slurm commands on PATH, so it works with any cluster the user
can submit to; ``SLURM_CONF`` and the usual ``SBATCH_*`` environment variables apply.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from altermag.errors import DftError

__all__ = ["JobState", "Resources", "SlurmClient", "SlurmError", "local_script", "slurm_script"]


class SlurmError(DftError, RuntimeError):
    """A Slurm command failed (message includes its stderr)."""


class JobState(StrEnum):
    """Slurm job states altermag distinguishes (others map to the closest one)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN = "UNKNOWN"

    @property
    def finished(self) -> bool:
        return self in (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.TIMEOUT)

    @classmethod
    def parse(cls, text: str) -> JobState:
        word = text.strip().split()[0].rstrip("+").upper() if text.strip() else ""
        aliases = {
            "CONFIGURING": cls.PENDING,
            "REQUEUED": cls.PENDING,
            "SUSPENDED": cls.PENDING,
            "COMPLETING": cls.RUNNING,
            "NODE_FAIL": cls.FAILED,
            "OUT_OF_MEMORY": cls.FAILED,
            "BOOT_FAIL": cls.FAILED,
            "DEADLINE": cls.TIMEOUT,
            "PREEMPTED": cls.CANCELLED,
        }
        if word in aliases:
            return aliases[word]
        try:
            return cls(word)
        except ValueError:
            return cls.UNKNOWN


@dataclass
class Resources:
    """Batch resources (``#SBATCH`` lines); ``extra`` adds raw ``#SBATCH`` options."""

    nodes: int = 1
    ntasks: int = 1
    cpus_per_task: int = 1
    time: str = "01:00:00"
    mem: str | None = None
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    extra: list[str] = field(default_factory=list)

    def directives(self) -> list[str]:
        out = [
            f"--nodes={self.nodes}",
            f"--ntasks={self.ntasks}",
            f"--cpus-per-task={self.cpus_per_task}",
            f"--time={self.time}",
        ]
        for opt, value in (
            ("mem", self.mem),
            ("partition", self.partition),
            ("account", self.account),
            ("qos", self.qos),
        ):
            if value:
                out.append(f"--{opt}={value}")
        return out + list(self.extra)


def _body(commands: list[str], env: dict[str, str] | None) -> list[str]:
    lines = ["set -euo pipefail", 'cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")}"']
    lines += [f"export {k}={shlex.quote(v)}" for k, v in (env or {}).items()]
    return lines + list(commands)


def local_script(commands: list[str], env: dict[str, str] | None = None) -> str:
    """A bash script running ``commands`` in its own folder (for a workstation)."""
    return "\n".join(["#!/usr/bin/env bash", *_body(commands, env)]) + "\n"


def slurm_script(
    commands: list[str],
    resources: Resources | None = None,
    job_name: str = "altermag",
    env: dict[str, str] | None = None,
    modules: list[str] | None = None,
) -> str:
    """An ``sbatch`` script: ``#SBATCH`` directives, optional ``module load``, the commands."""
    res = resources or Resources()
    head = [
        "#!/usr/bin/env bash",
        f"#SBATCH --job-name={job_name}",
        "#SBATCH --output=slurm-%j.out",
        "#SBATCH --error=slurm-%j.err",
    ]
    head += [f"#SBATCH {d}" for d in res.directives()]
    mods = [f"module load {m}" for m in (modules or [])]
    return "\n".join([*head, *mods, *_body(commands, env)]) + "\n"


@dataclass
class SlurmClient:
    """Submit and follow batch jobs with the Slurm commands on PATH."""

    env: dict[str, str] | None = None
    poll_interval: float = 2.0

    def _run(self, args: list[str], cwd: Path | None = None) -> str:
        environ = {**os.environ, **(self.env or {})}
        try:
            out = subprocess.run(
                args, cwd=cwd, capture_output=True, text=True, env=environ, timeout=60
            )
        except FileNotFoundError:
            raise SlurmError(f"{args[0]} not found: is Slurm installed and on PATH?") from None
        if out.returncode != 0:
            raise SlurmError(f"{' '.join(args)} failed ({out.returncode}): {out.stderr.strip()}")
        return out.stdout

    def submit(self, script: Path) -> str:
        """``sbatch --parsable`` in the script's folder; returns the job id."""
        script = Path(script).resolve()
        out = self._run(["sbatch", "--parsable", script.name], cwd=script.parent)
        return out.strip().split(";")[0]

    def state(self, job_id: str) -> JobState:
        """State from ``squeue``; for a job that left the queue, ``sacct`` or ``scontrol``."""
        queued = self._run(["squeue", "-h", "-j", job_id, "-o", "%T"]).strip()
        if queued:
            return JobState.parse(queued)
        try:
            acct = self._run(["sacct", "-n", "-X", "-P", "-j", job_id, "-o", "State"]).strip()
            if acct:
                return JobState.parse(acct.splitlines()[0])
        except SlurmError:
            pass  # accounting disabled on this cluster
        try:
            info = self._run(["scontrol", "show", "job", job_id])
        except SlurmError:
            return JobState.UNKNOWN
        for token in info.split():
            if token.startswith("JobState="):
                return JobState.parse(token.split("=", 1)[1])
        return JobState.UNKNOWN

    def wait(self, job_id: str, timeout: float = 3600.0) -> JobState:
        """Poll until the job finishes or ``timeout`` seconds pass (then the last state)."""
        deadline = time.monotonic() + timeout
        state = self.state(job_id)
        while not state.finished and time.monotonic() < deadline:
            time.sleep(self.poll_interval)
            state = self.state(job_id)
        return state

    def cancel(self, job_id: str) -> None:
        self._run(["scancel", job_id])
