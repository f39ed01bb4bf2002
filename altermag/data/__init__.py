"""Data shipped with altermag.

* :func:`corpus`: the screening corpus of hypothetical magnetic compounds made by data-mined
  ionic substitution into the AFLOW prototypes (``altermag/data/corpus/``).
* :func:`known_materials`: curated known magnets with their literature labels and references
  (``altermag/data/known/``).
"""

from __future__ import annotations

from altermag.data.known import KnownMaterial, known_material, known_materials
from altermag.data.screening_corpus import CorpusEntry, corpus, corpus_size

__all__ = [
    "CorpusEntry",
    "KnownMaterial",
    "corpus",
    "corpus_size",
    "known_material",
    "known_materials",
]
