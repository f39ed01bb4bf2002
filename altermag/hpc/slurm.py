"""Job scripts and a small Slurm client (``sbatch``, ``squeue``, ``sacct``/``scontrol``).

The client shells out to the Slurm commands on PATH, so it works with any cluster the user
can submit to; ``SLURM_CONF`` and the usual ``SBATCH_*`` environment variables apply.

Every value written into a script is checked or quoted, because a script is a shell program
and some values (a structure label in the job name, resources from a preset, a flow parameter
or ``--slurm``) come from users: the job name keeps only ``[A-Za-z0-9._+-]``, resources and
module names must match strict patterns (no whitespace, no shell syntax) or a
:class:`~altermag.errors.SettingsError` is raised, environment values are shell-quoted and
no command may span lines.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from altermag.errors import DftError, SettingsError

__all__ = [
    "JobState",
    "Resources",
    "SlurmClient",
    "SlurmError",
    "job_name",
    "local_script",
    "slurm_script",
]

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+,@%/=-]{0,127}")
"""A partition, account, QOS, memory or option value: one word, no shell syntax."""
_TIME = re.compile(r"[0-9]{1,6}([-:][0-9]{1,2}){0,3}")
"""Slurm's ``--time``: minutes, ``MM:SS``, ``HH:MM:SS``, ``D-HH``, ``D-HH:MM(:SS)``."""
_OPTION = re.compile(r"--[A-Za-z][A-Za-z0-9-]{0,63}(=[A-Za-z0-9._:+,@%/=-]{1,128})?")
"""One extra ``#SBATCH`` option, ``--flag`` or ``--name=value``."""
_MODULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/+:-]{0,127}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_NAME_CHARS = re.compile(r"[^A-Za-z0-9._+-]")
_MAX_COUNT = 1_000_000

SLURM_WAIT_S = 3600.0
"""Seconds a caller polls its submitted Slurm jobs when none is said; jobs still queued or
running then are reported as submitted, and a later call polls the same jobs again."""


def _word(name: str, value: str, pattern: re.Pattern[str] = _WORD) -> str:
    text = str(value)
    if not pattern.fullmatch(text):
        raise SettingsError(
            f"Slurm {name} {text[:40]!r} is not allowed: one word of letters, digits and "
            "._:+,@%/=- (no spaces, newlines or shell syntax)"
        )
    return text


def _count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SettingsError(f"Slurm {name} must be a whole number, got {value!r}")
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= _MAX_COUNT:
        raise SettingsError(f"Slurm {name} must be a whole number from 1, got {text[:40]!r}")
    return int(text)


def job_name(text: str) -> str:
    """``text`` as a safe Slurm job name: other characters become ``_``, at most 128."""
    return _NAME_CHARS.sub("_", text)[:128] or "altermag"


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

    def __post_init__(self) -> None:
        self.nodes = _count("nodes", self.nodes)
        self.ntasks = _count("ntasks", self.ntasks)
        self.cpus_per_task = _count("cpus_per_task", self.cpus_per_task)
        self.time = _word("time", self.time, _TIME)
        for opt in ("mem", "partition", "account", "qos"):
            value = getattr(self, opt)
            if value is not None and value != "":
                setattr(self, opt, _word(opt, value))
        if isinstance(self.extra, str) or not isinstance(self.extra, list | tuple):
            raise SettingsError("Slurm extra must be a list of --options")
        self.extra = [_word("option", x, _OPTION) for x in self.extra]

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
    lines += [
        f"export {_word('environment name', k, _ENV_NAME)}={shlex.quote(str(v))}"
        for k, v in (env or {}).items()
    ]
    for command in commands:
        if any(c in command for c in "\n\r\0"):
            raise SettingsError(f"a job command must be one line: {command[:60]!r}")
    return lines + list(commands)


_safe_name = job_name


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
    """An ``sbatch`` script: ``#SBATCH`` directives, optional ``module load``, the commands.

    ``job_name`` is reduced to safe characters (:func:`job_name`); resources and module names
    that are not one plain word raise :class:`~altermag.errors.SettingsError`.
    """
    res = resources or Resources()
    head = [
        "#!/usr/bin/env bash",
        f"#SBATCH --job-name={_safe_name(job_name)}",
        "#SBATCH --output=slurm-%j.out",
        "#SBATCH --error=slurm-%j.err",
    ]
    head += [f"#SBATCH {d}" for d in res.directives()]
    mods = [f"module load {_word('module', m, _MODULE)}" for m in (modules or [])]
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

    def wait(self, job_id: str, timeout: float = SLURM_WAIT_S) -> JobState:
        """Poll until the job finishes or ``timeout`` seconds pass (then the last state)."""
        deadline = time.monotonic() + timeout
        state = self.state(job_id)
        while not state.finished and time.monotonic() < deadline:
            time.sleep(self.poll_interval)
            state = self.state(job_id)
        return state

    def cancel(self, job_id: str) -> None:
        self._run(["scancel", job_id])
