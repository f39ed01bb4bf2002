"""Checkpoint I/O, the model card and the scorer used by the CLI and the screening flow.

A checkpoint (``*.pt``, loaded with ``torch.load(weights_only=True)``) holds the classifier
weights, the graph and model configs, the labeled-set embeddings with their labels (the OT
*source* domain) and a sample of the screened corpus' embeddings (the OT *reference*
target domain, so that a handful of structures can be adapted on their own). Next to it a
JSON model card records the data, the settings, the metrics and a version hash (SHA-256 of
the checkpoint bytes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from altermag.ml.adapt import AdaptConfig, adapt_embeddings
from altermag.ml.finetune import embed_and_score, head_probability
from altermag.ml.graphs import GraphConfig, crystal_graphs
from altermag.ml.model import AltermagnetClassifier, ModelConfig
from altermag.structure import MagneticStructure

CHECKPOINT_DIR = Path(__file__).parent / "checkpoints"
DEFAULT_CHECKPOINT = CHECKPOINT_DIR / "altermag-gnn.pt"


def card_path(checkpoint: Path | str) -> Path:
    """The model card that belongs to a checkpoint (same name, ``.json``)."""
    return Path(checkpoint).with_suffix(".json")


def file_hash(path: Path | str) -> str:
    """SHA-256 of a file (hex)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_checkpoint(
    path: Path | str,
    model: AltermagnetClassifier,
    graph_config: GraphConfig,
    source_embeddings: np.ndarray,
    source_labels: np.ndarray,
    reference_embeddings: np.ndarray,
    card: dict[str, Any],
    adapt_config: AdaptConfig | None = None,
) -> dict[str, Any]:
    """Write a checkpoint and its model card; returns the card (with ``version_hash``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": 1,
        "model_config": model.config.to_dict(),
        "graph_config": graph_config.to_dict(),
        "adapt_config": (adapt_config or AdaptConfig()).to_dict(),
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "source_embeddings": torch.from_numpy(np.asarray(source_embeddings, np.float16)),
        "source_labels": torch.from_numpy(np.asarray(source_labels, np.int8)),
        "reference_embeddings": torch.from_numpy(np.asarray(reference_embeddings, np.float16)),
    }
    torch.save(payload, path)
    full = dict(card)
    full.update(
        {
            "checkpoint": path.name,
            "version_hash": file_hash(path)[:16],
            "size_bytes": path.stat().st_size,
            "model_config": payload["model_config"],
            "graph_config": payload["graph_config"],
            "adapt_config": payload["adapt_config"],
        }
    )
    card_path(path).write_text(json.dumps(full, indent=2, sort_keys=True) + "\n")
    return full


@dataclass(frozen=True)
class Score:
    """Altermagnet probability of one crystal: raw and after OT domain adaptation."""

    raw: float
    adapted: float


class Scorer:
    """A loaded checkpoint that scores crystals (raw and OT-adapted probabilities)."""

    def __init__(self, path: Path | str = DEFAULT_CHECKPOINT) -> None:
        self.path = Path(path)
        payload = torch.load(self.path, weights_only=True)
        self.model_config = ModelConfig.from_dict(payload["model_config"])
        self.graph_config = GraphConfig(**payload["graph_config"])
        self.adapt_config = AdaptConfig(**payload["adapt_config"])
        self.model = AltermagnetClassifier(self.model_config)
        self.model.load_state_dict(payload["state_dict"])
        self.model.eval()
        self.source = payload["source_embeddings"].float().numpy()
        self.source_labels = payload["source_labels"].long().numpy()
        self.reference = payload["reference_embeddings"].float().numpy()
        card = card_path(self.path)
        self.card: dict[str, Any] = json.loads(card.read_text()) if card.exists() else {}

    def embed(self, structures: Sequence[MagneticStructure]) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings and raw probabilities (graph building included)."""
        graphs = crystal_graphs(structures, self.graph_config)
        return embed_and_score(self.model, graphs, self.graph_config)

    def adapt(self, embeddings: np.ndarray, use_reference: bool | None = None) -> np.ndarray:
        """OT-adapted probabilities of embeddings from one target domain.

        A large target (≥ ``adapt_config.batch_size``) is its own domain; a smaller one is
        coupled together with the shipped reference sample of the screening corpus.
        """
        if use_reference is None:
            use_reference = embeddings.shape[0] < self.adapt_config.batch_size
        mapped = adapt_embeddings(
            self.source,
            self.source_labels,
            embeddings,
            self.adapt_config,
            reference=self.reference if use_reference else None,
        )
        return head_probability(self.model, mapped)

    def score(self, structures: Sequence[MagneticStructure]) -> list[Score]:
        """Raw and adapted P(altermagnet) for each crystal."""
        if not structures:
            return []
        embeddings, raw = self.embed(structures)
        adapted = self.adapt(embeddings)
        return [Score(float(r), float(a)) for r, a in zip(raw, adapted, strict=True)]


def load_scorer(path: Path | str | None = None) -> Scorer:
    """The scorer of a checkpoint (default: the shipped one)."""
    return Scorer(path or DEFAULT_CHECKPOINT)
