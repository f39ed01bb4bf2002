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
