"""Labeled crystals for the classifier: symmetry-derived labels and curated materials.

Labels
------
* **Symmetry-derived** (the bulk of the data): for every corpus crystal the exact spin-group
  engine (:func:`altermag.analyze` without moments) enumerates the collinear k = 0 orders
  the crystal can host. Label 1 = at least one of them is altermagnetic; label 0 = none is
  (the crystal *cannot* host a k = 0 altermagnet). The labels are computed once
  (:func:`compute_corpus_labels`, ~3 min on one core for the shipped corpus) and shipped in
  ``checkpoints/corpus_labels.json.gz`` so that training does not repeat the analysis.
* **Curated** (when ``altermag.data.known_materials`` is available): known altermagnets are
  positives, known conventional antiferromagnets / ferromagnets are negatives.

Chemistry groups (for the domain-shift study) follow the anion: oxides and fluorides versus
pnictides and chalcogenides.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np

from altermag.errors import AltermagError
from altermag.ml.graphs import CrystalGraph, GraphConfig, GraphError, crystal_graph
from altermag.structure import MagneticStructure

LABELS_PATH = Path(__file__).parent / "checkpoints" / "corpus_labels.json.gz"

OXIDE_FLUORIDE = frozenset({"O", "F"})
PNICTIDE_CHALCOGENIDE = frozenset({"N", "P", "As", "Sb", "Bi", "S", "Se", "Te"})


def _element(symbol: str) -> str:
    return "".join(ch for ch in symbol if ch.isalpha())


def chemistry_group(structure: MagneticStructure) -> str:
    """``"oxide_fluoride"``, ``"pnictide_chalcogenide"`` or ``"other"`` from the anions."""
    elements = {_element(s) for s in structure.species}
    has_of = bool(elements & OXIDE_FLUORIDE)
    has_pc = bool(elements & PNICTIDE_CHALCOGENIDE)
    if has_of and not has_pc:
        return "oxide_fluoride"
    if has_pc and not has_of:
        return "pnictide_chalcogenide"
    return "other"


def symmetry_label(structure: MagneticStructure) -> int | None:
    """1 if the exact engine finds an altermagnetic k = 0 order the crystal can host, else 0.

    Moments are stripped first so that the engine enumerates orders. ``None`` when the
    analysis fails (e.g. the crystal has no magnetic site).
    """
    from altermag import analyze

    bare = structure.with_moments(None) if structure.magmoms is not None else structure
    try:
        result = analyze(bare)
    except AltermagError:  # a crystal the engine rejects simply gets no label
        return None
    if result.can_host_altermagnet is None:
        return None
    return int(bool(result.can_host_altermagnet))


def compute_corpus_labels(
    entries: Iterable[object] | None = None, path: Path | str | None = LABELS_PATH
) -> dict[str, int | None]:
    """Symmetry-derive a label for every corpus entry and (optionally) write them."""
    if entries is None:
        from altermag.data import corpus

        entries = corpus()
    labels = {e.id: symmetry_label(e.structure) for e in entries}  # type: ignore[attr-defined]
    if path is not None:
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            json.dump(labels, handle, sort_keys=True, separators=(",", ":"))
    return labels


def load_corpus_labels(path: Path | str = LABELS_PATH) -> dict[str, int | None]:
    """The shipped symmetry-derived corpus labels (id → 1, 0 or None)."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


@dataclass
class LabeledSet:
    """Crystals with graphs, 0/1 labels, provenance and chemistry groups."""

    ids: list[str] = field(default_factory=list)
    structures: list[MagneticStructure] = field(default_factory=list)
    graphs: list[CrystalGraph] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    origin: list[str] = field(default_factory=list)  # "corpus" or "curated"
    groups: list[str] = field(default_factory=list)

    def add(
        self,
        ident: str,
        structure: MagneticStructure,
        label: int,
        origin: str,
        graph_config: GraphConfig | None,
    ) -> None:
        try:
            graph = crystal_graph(structure, graph_config)
        except GraphError:
            return
        self.ids.append(ident)
        self.structures.append(structure)
        self.graphs.append(graph)
        self.labels.append(int(label))
        self.origin.append(origin)
        self.groups.append(chemistry_group(structure))

    @property
    def y(self) -> np.ndarray:
        return np.asarray(self.labels, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.ids)


def curated_materials() -> Iterator[tuple[str, MagneticStructure, int]]:
    """(id, structure, label) of the curated known set, if that data set is installed.

    Label 1 for materials whose recorded order the engine classifies as altermagnetic.
    """
    try:
        from altermag.data import known_materials
    except ImportError:
        return
    from altermag import analyze

    for item in known_materials():
        structure = cast(MagneticStructure, getattr(item, "structure", item))
        ident = getattr(item, "id", None) or getattr(structure, "label", "") or structure.formula
        try:
            verdict = analyze(structure).verdict
        except AltermagError:
            continue
        yield str(ident), structure, int(verdict == "altermagnet")


def labeled_set(
    graph_config: GraphConfig | None = None,
    include_curated: bool = True,
    limit: int | None = None,
) -> LabeledSet:
    """The fine-tuning set: labeled corpus crystals plus the curated known materials."""
    from altermag.data import corpus

    labels = load_corpus_labels()
    data = LabeledSet()
    for entry in corpus():
        label = labels.get(entry.id)
        if label is None:
            continue
        data.add(entry.id, entry.structure, label, "corpus", graph_config)
        if limit is not None and len(data) >= limit:
            break
    if include_curated:
        for ident, structure, label in curated_materials():
            data.add(ident, structure, label, "curated", graph_config)
    return data
