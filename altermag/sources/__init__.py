"""Where structures come from: one small protocol and its connectors.

A source yields :class:`Page` objects: a list of :class:`Record` (an id, a structure or an
error, metadata) and the *cursor* that resumes right after that page. A consumer that stores
each page's records together with its cursor can be killed at any point and resume with
nothing lost and nothing duplicated.

Connectors: ``local`` (a folder of structure files), ``magndata`` (a folder or zip of MAGNDATA
mCIF files), ``optimade`` (any OPTIMADE provider) and ``materials_project`` (its own API with
``MP_API_KEY``, or its OPTIMADE endpoint).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from altermag.errors import SettingsError
from altermag.errors import SourceError as _SourceError
from altermag.structure import MagneticStructure

__all__ = ["Page", "Record", "Source", "SourceError", "get_source", "iter_records"]


class SourceError(_SourceError):
    """A source could not be read; ``cursor`` is where a retry should resume."""

    def __init__(self, message: str, cursor: str | None = None) -> None:
        super().__init__(message)
        self.cursor = cursor


@dataclass
class Record:
    """One entry of a source: a structure, or the reason it could not be turned into one."""

    id: str
    structure: MagneticStructure | None
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Page:
    """Records fetched together, and the cursor that resumes after them (None at the end)."""

    records: list[Record]
    next_cursor: str | None
    skipped: dict[str, int] = field(default_factory=dict)


@runtime_checkable
class Source(Protocol):
    """Anything that can page through records from a cursor."""

    name: str

    def pages(self, cursor: str | None = None) -> Iterator[Page]:
        """Pages from ``cursor`` (None: from the start) to the end."""
        ...


def iter_records(source: Source, cursor: str | None = None) -> Iterator[Record]:
    """All records of a source, page after page."""
    for page in source.pages(cursor):
        yield from page.records


def get_source(name: str, **options: Any) -> Source:
    """A connector by name: ``local``, ``magndata``, ``optimade``, ``materials_project``."""
    if name == "local":
        from altermag.sources.local import LocalSource

        return LocalSource(**options)
    if name == "magndata":
        from altermag.sources.magndata import MagndataSource

        return MagndataSource(**options)
    if name in ("embedded", "known", "corpus"):
        from altermag.sources.embedded import EmbeddedSource

        which = {"embedded": options.pop("which", "all"), "known": "known", "corpus": "corpus"}
        return EmbeddedSource(which=which[name], **options)
    if name == "optimade":
        from altermag.sources.optimade import OptimadeSource

        return OptimadeSource(**options)
    if name in ("materials_project", "mp"):
        from altermag.sources.materials_project import MaterialsProjectSource

        return MaterialsProjectSource(**options)
    raise SettingsError(
        f"unknown source {name!r}: use local, magndata, optimade or materials_project"
    )
