"""Where altermag reads its data and writes its outputs: one typed, validated settings object.

Values come from the environment (``ALTERMAG_<NAME>``, e.g. ``ALTERMAG_HOME``), else the
defaults below. Every file altermag writes goes under :attr:`Settings.home` (the working
directory unless ``ALTERMAG_HOME`` says otherwise) — never into the installed package or the
source tree — so a wheel, the Docker image and a checkout behave the same:

=====================  ===========================================================
``home``               root of all outputs (default: the working directory)
``candidates_dir``     ranked tables and reports (``<home>/candidates``)
``dft_dir``            generated DFT job folders (``<home>/dft_inputs/generated``)
``data_dir``           data sets built here (corpus, labels; ``<home>/data``)
``database_url``       the store (default ``sqlite:///<home>/altermag.db``)
``magndata_dir``       a folder of MAGNDATA mCIF files (not shipped: licence)
``pseudo_dir``         the user's own QE pseudopotential library (default: shipped SG15)
=====================  ===========================================================

Read them with :func:`get_settings`; it reads the environment on every call, so a test or a
long-running service that changes a variable sees the change.

:class:`Limits` bounds what one analysis may cost (atoms, site × operation tables, expanded
moment lists, file size, time, memory). ``Settings.limits`` applies to the command line
(``ALTERMAG_LIMITS__MAX_ATOMS=...``), ``Settings.public_limits`` — stricter — to the REST
API's public ``POST /analyze`` (``ALTERMAG_PUBLIC_LIMITS__MAX_ATOMS=...``). The readers and
the symmetry search check them *before* they allocate: :func:`active_limits` is what they
read, :func:`use_limits` sets it for a block of code (the API's analysis workers do).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "PUBLIC_LIMITS",
    "Limits",
    "PublicLimits",
    "Settings",
    "active_limits",
    "check_limit",
    "get_settings",
    "prefect_environment",
    "use_limits",
]


class Limits(BaseModel):
    """What one structure analysis may cost; anything larger is refused (LimitError, 413).

    The defaults are the command line's; :data:`PUBLIC_LIMITS` are the public endpoint's.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_atoms: int = Field(10_000, ge=1)
    """Sites in the cell as read (declared counts are checked before anything is built)."""
    max_site_operations: int = Field(5_000_000, ge=1)
    """Symmetry operations × sites: the size of the site-permutation tables of the search."""
    max_moment_values: int = Field(30_000, ge=1)
    """Values of an expanded moment string (``100000000*5`` counts 10^8) or moment list."""
    max_file_bytes: int = Field(200 * 1024 * 1024, ge=1)
    """Bytes of one structure file."""
    analysis_seconds: float | None = Field(None, gt=0)
    """Wall time of one analysis (None: unbounded; enforced by the API's worker processes)."""
    analysis_memory_mb: int | None = Field(None, ge=64)
    """Memory of one analysis worker process (None: unbounded; API workers only)."""


class PublicLimits(Limits):
    """The public ``POST /analyze`` endpoint's limits: the same fields, stricter defaults
    (an environment variable that sets one of them keeps the others' public defaults)."""

    max_atoms: int = Field(1_000, ge=1)
    max_site_operations: int = Field(200_000, ge=1)
    max_moment_values: int = Field(3_000, ge=1)
    max_file_bytes: int = Field(5 * 1024 * 1024, ge=1)
    analysis_seconds: float | None = Field(20.0, gt=0)
    analysis_memory_mb: int | None = Field(1_536, ge=64)


PUBLIC_LIMITS = PublicLimits()
"""The public endpoint's defaults."""


class Settings(BaseSettings):
    """Locations of altermag's inputs and outputs (environment prefix ``ALTERMAG_``)."""

    model_config = SettingsConfigDict(
        env_prefix="ALTERMAG_", extra="ignore", frozen=True, env_nested_delimiter="__"
    )

    home: Path = Field(default_factory=Path.cwd)
    """Root of every output; ``ALTERMAG_HOME``."""
    database_url: str | None = None
    """Store URL; ``ALTERMAG_DATABASE_URL`` (None: ``sqlite:///<home>/altermag.db``)."""
    magndata_dir: Path = Path("../shared/data/magndata")
    """Folder of MAGNDATA ``.mcif`` files (relative paths are taken from the working
    directory); ``ALTERMAG_MAGNDATA_DIR``."""
    pseudo_dir: Path | None = None
    """The user's QE pseudopotential folder, files matched by element;
    ``ALTERMAG_PSEUDO_DIR`` (None: the SG15 set shipped with the package)."""
    limits: Limits = Limits()
    """Limits of the command line (``ALTERMAG_LIMITS__MAX_ATOMS`` ...)."""
    public_limits: PublicLimits = PUBLIC_LIMITS
    """Limits of the public ``POST /analyze`` (``ALTERMAG_PUBLIC_LIMITS__MAX_ATOMS`` ...)."""
    telemetry: bool = False
    """Let Prefect send its anonymous usage data; ``ALTERMAG_TELEMETRY`` (off by default)."""

    @property
    def candidates_dir(self) -> Path:
        """Ranked candidate tables and reports."""
        return self.home / "candidates"

    @property
    def dft_dir(self) -> Path:
        """Generated DFT job folders."""
        return self.home / "dft_inputs" / "generated"

    @property
    def data_dir(self) -> Path:
        """Data sets built on this machine (corpus, training labels)."""
        return self.home / "data"


def get_settings() -> Settings:
    """The settings as the environment gives them now."""
    return Settings()


def prefect_environment(*, quiet: bool = False) -> None:
    """Prefect's environment before it is imported: its telemetry (client and server
    analytics, orchestration telemetry) off unless ``ALTERMAG_TELEMETRY`` turns it on, and
    with ``quiet`` only its warnings and errors on the terminal (a progress bar is drawn
    there). A variable the user set explicitly is kept.
    """
    import os

    if not get_settings().telemetry:
        os.environ.setdefault("DO_NOT_TRACK", "1")
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        os.environ.setdefault("PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY", "false")
    if quiet:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


_ACTIVE: ContextVar[Limits | None] = ContextVar("altermag_limits", default=None)


def active_limits() -> Limits:
    """The limits in force: those set by :func:`use_limits`, else ``Settings.limits``."""
    limits = _ACTIVE.get()
    return limits if limits is not None else get_settings().limits


@contextmanager
def use_limits(limits: Limits) -> Iterator[Limits]:
    """Apply ``limits`` to every read and analysis inside the block (this thread/task)."""
    token = _ACTIVE.set(limits)
    try:
        yield limits
    finally:
        _ACTIVE.reset(token)


def check_limit(what: str, value: int, limit_name: str, limits: Limits | None = None) -> None:
    """Raise :class:`~altermag.errors.LimitError` when ``value`` exceeds the named limit.

    ``what`` says what was counted (``"the file declares 10^12 atoms"``-style sentences are
    built from it).
    """
    from altermag.errors import LimitError

    lim = limits if limits is not None else active_limits()
    bound = getattr(lim, limit_name)
    if value > bound:
        raise LimitError(f"{what}: {value:,} exceeds the limit of {bound:,} ({limit_name})")
