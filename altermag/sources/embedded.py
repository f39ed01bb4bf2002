"""The data shipped with altermag as a source: the curated known materials and the corpus.

``which="known"`` (literature structures with their magnetic orders), ``"corpus"``
(hypothetical compounds without moments, enumerated by the analysis) or ``"all"`` (both, known
first). The cursor is the number of entries consumed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from altermag.errors import SettingsError
from altermag.sources import Page, Record

__all__ = ["EmbeddedSource"]


def _known() -> Iterator[Record]:
    try:
        from altermag.data import known_materials
    except ImportError:  # the curated set is optional in a partial checkout
        return
    for m in known_materials():
        meta: dict[str, Any] = {
            "source": "known",
            "label": m.label,
            "wave": m.wave,
            "reference": getattr(m, "reference", None),
        }
        yield Record(f"known:{m.id}", m.structure, meta)


def _corpus() -> Iterator[Record]:
    from altermag.data import corpus

    for e in corpus():
        structure = e.structure
        if e.oxidation_states:
            structure.properties["oxidation_states"] = list(e.oxidation_states)
        yield Record(f"corpus:{e.id}", structure, {"source": "corpus", **dict(e.provenance)})


@dataclass
class EmbeddedSource:
    which: str = "all"
    page_size: int = 200
    name: str = "embedded"

    def __post_init__(self) -> None:
        if self.which not in ("known", "corpus", "all"):
            raise SettingsError("which must be 'known', 'corpus' or 'all'")

    def _records(self) -> Iterator[Record]:
        if self.which in ("known", "all"):
            yield from _known()
        if self.which in ("corpus", "all"):
            yield from _corpus()

    def pages(self, cursor: str | None = None) -> Iterator[Page]:
        start = int(cursor or 0)
        it: Iterator[Record] = islice(self._records(), start, None)
        done = start
        while True:
            chunk = list(islice(it, self.page_size))
            if not chunk:
                return
            done += len(chunk)
            peek = list(islice(it, 1))
            if peek:
                it = _chain(peek, it)
            yield Page(chunk, str(done) if peek else None)


def _chain(head: list[Record], tail: Iterator[Record]) -> Iterator[Record]:
    yield from head
    yield from tail
