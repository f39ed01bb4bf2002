"""Data shipped with altermag.

* :func:`corpus`: the screening corpus of hypothetical magnetic compounds made by data-mined
  ionic substitution into the AFLOW prototypes (``altermag/data/corpus/``).
"""

from __future__ import annotations

from altermag.data.screening_corpus import CorpusEntry, corpus, corpus_size

__all__ = ["CorpusEntry", "corpus", "corpus_size"]
