"""The screening corpus: hypothetical magnetic compounds to screen when no database is at hand.

Each entry is a charge-balanced compound made by data-mined ionic substitution into one of the
AFLOW crystal prototypes shipped with pymatgen (see :mod:`altermag.data.corpus_build`, which
rebuilds the file byte for byte). Structures carry no moments: :func:`altermag.analyze`
enumerates the collinear k = 0 orders each one can host.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from altermag.data.corpus_build import CORPUS_FILE, count_records, read_records
from altermag.structure import MagneticStructure

__all__ = ["CORPUS_FILE", "CorpusEntry", "corpus", "corpus_size", "entry_from_record"]


@dataclass(frozen=True)
class CorpusEntry:
    """One hypothetical compound of the screening corpus.

    Parameters
    ----------
    id
        Stable name, ``<formula>_<AFLOW prototype label>`` (``-2``, ``-3`` ... for a second
        distinct structure of the same formula and prototype label).
    structure
        The crystal (primitive cell of the prototype, volume scaled from ionic radii),
        ``magmoms=None``.
    oxidation_states
        Formal oxidation state of every site (they sum to zero).
    provenance
        Prototype (AFLOW label, its formula, mineral name), parent species, the substitution
        made and its conditional probability.
    """

    id: str
    structure: MagneticStructure
    oxidation_states: tuple[float, ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def formula(self) -> str:
        return self.structure.formula


def entry_from_record(record: dict[str, Any]) -> CorpusEntry:
    """A :class:`CorpusEntry` from one line of the corpus file."""
    structure = MagneticStructure(
        np.array(record["lattice"], dtype=float),
        tuple(record["species"]),
        np.array(record["frac_coords"], dtype=float),
        None,
        record["id"],
        {"source": "altermag-corpus", "id": record["id"]},
    )
    return CorpusEntry(
        record["id"],
        structure,
        tuple(record["oxidation_states"]),
        dict(record["provenance"]),
    )


def corpus(path: Path | str | None = None) -> Iterator[CorpusEntry]:
    """Iterate over the screening corpus (streamed from the gzip'd JSON-lines file).

    Parameters
    ----------
    path
        Another corpus file (e.g. one written by ``altermag data build-corpus --out``);
        default: the shipped one.
    """
    for record in read_records(CORPUS_FILE if path is None else path):
        yield entry_from_record(record)


def corpus_size(path: Path | str | None = None) -> int:
    """Number of entries (one per non-blank line), counted without parsing them."""
    return count_records(CORPUS_FILE if path is None else path)
