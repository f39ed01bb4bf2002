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
``allowed_sources``    sources a screening asked for over the network may read
``allowed_urls``       provider URL prefixes it may fetch (``*``: any public host)
``allowed_paths``      server folders its ``local``/``magndata`` source may read
``screening_queue``    screenings the API holds queued or running at once
=====================  ===========================================================

The four last ones bound what ``POST /screenings`` and served Prefect deployments may do
(:mod:`altermag.sources.allow`); the command line, run by the operator, is not limited.

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

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
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
    max_site_operations: int = Field(20_000_000, ge=1)
    """Symmetry operations × sites: the size of the site-permutation tables of the search
    (int32, 80 MB at the limit; a 1,512-atom MnF2 supercell kept as given needs 6.1 million)."""
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
    allowed_sources: str = "embedded,known,corpus,optimade,materials_project"
    """Comma-separated sources a screening requested over the network may read;
    ``ALTERMAG_ALLOWED_SOURCES`` (``local`` and ``magndata`` read server folders: off)."""
    allowed_urls: str = "https://optimade.materialsproject.org,https://api.materialsproject.org"
    """Comma-separated URL prefixes such a screening may fetch; ``*`` allows any public host
    (internal addresses stay refused unless listed); ``ALTERMAG_ALLOWED_URLS``."""
    allowed_paths: str = ""
    """Comma-separated folders such a screening's ``local``/``magndata`` source may read;
    ``ALTERMAG_ALLOWED_PATHS`` (default: none)."""
    screening_queue: int = Field(8, ge=1, le=10_000)
    """Screenings the API holds at once (queued and running); more are answered 503;
    ``ALTERMAG_SCREENING_QUEUE``."""

    @property
    def allowed_source_list(self) -> list[str]:
        """:attr:`allowed_sources` as a list (``mp`` read as ``materials_project``)."""
        names = [x.strip() for x in self.allowed_sources.split(",") if x.strip()]
        return ["materials_project" if n == "mp" else n for n in names]

    @property
    def allowed_url_list(self) -> list[str]:
        """:attr:`allowed_urls` as a list."""
        return [x.strip() for x in self.allowed_urls.split(",") if x.strip()]

    @property
    def allowed_path_list(self) -> list[str]:
        """:attr:`allowed_paths` as a list."""
        return [x.strip() for x in self.allowed_paths.split(",") if x.strip()]

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
    """The limits in force: those set by :func:`use_limits`, else ``Settings.limits``.

    ``Settings.limits`` depends on the ``ALTERMAG_*`` environment variables alone; it is
    rebuilt only when they change (building the settings costs about a millisecond, more
    than a whole cached analysis of a small cell).
    """
    limits = _ACTIVE.get()
    if limits is not None:
        return limits
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith("ALTERMAG_")))
    return _settings_limits(env)


@lru_cache(maxsize=8)
def _settings_limits(env: tuple[tuple[str, str], ...]) -> Limits:
    """``Settings.limits`` for one set of ``ALTERMAG_*`` variables (the cache key)."""
    return get_settings().limits


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
