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
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Locations of altermag's inputs and outputs (environment prefix ``ALTERMAG_``)."""

    model_config = SettingsConfigDict(env_prefix="ALTERMAG_", extra="ignore", frozen=True)

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
