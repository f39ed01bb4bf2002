"""Supervised fine-tuning of the altermagnet classifier, and batched inference.

Labels are very unbalanced (a handful of known altermagnets against thousands of crystals
that cannot host one), so the binary cross-entropy weighs each positive by
n_negative / n_positive (``pos_weight``): both classes then contribute equally to the loss and
the classifier is not rewarded for calling everything "not altermagnet". Probabilities are a
ranking prior, never a verdict (the exact spin-group test decides).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from altermag.ml.graphs import CrystalGraph, GraphConfig, collate
from altermag.ml.model import AltermagnetClassifier, CrystalEncoder, ModelConfig
from altermag.ml.training import iterate_batches, set_seed


@dataclass(frozen=True)
class FinetuneConfig:
    """Settings of the supervised fine-tuning."""

    epochs: int = 20
    batch_size: int = 64
    lr: float = 1e-3
    encoder_lr_scale: float = 0.3
    weight_decay: float = 1e-4
    seed: int = 0

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def positive_weight(labels: np.ndarray) -> float:
    """n_negative / n_positive: the BCE weight that balances the two classes."""
    labels = np.asarray(labels)
    n_pos = float((labels > 0.5).sum())
    n_neg = float((labels <= 0.5).sum())
    return n_neg / n_pos if n_pos > 0 else 1.0


def finetune(
    graphs: Sequence[CrystalGraph],
    labels: np.ndarray,
    model_config: ModelConfig,
    config: FinetuneConfig | None = None,
    encoder: CrystalEncoder | None = None,
    graph_config: GraphConfig | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[AltermagnetClassifier, list[dict[str, float]]]:
    """Train the classifier (from a pre-trained encoder when one is given).

    The pre-trained encoder is updated with a smaller learning rate
    (``encoder_lr_scale``) than the freshly initialised head.
    """
    cfg = config or FinetuneConfig()
    set_seed(cfg.seed)
    model = AltermagnetClassifier(model_config)
    if encoder is not None:
        model.encoder.load_state_dict(encoder.state_dict())
    scale = cfg.encoder_lr_scale if encoder is not None else 1.0
    optimiser = torch.optim.AdamW(
        [
            {"params": model.encoder.parameters(), "lr": cfg.lr * scale},
            {"params": model.head.parameters(), "lr": cfg.lr},
        ],
        weight_decay=cfg.weight_decay,
    )
    labels = np.asarray(labels, dtype=np.float32)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(positive_weight(labels)))
    rng = np.random.default_rng(cfg.seed)
    history: list[dict[str, float]] = []
    for epoch in range(cfg.epochs):
        model.train()
        t0 = time.perf_counter()
        total, n_batches = 0.0, 0
        for batch in iterate_batches(graphs, cfg.batch_size, graph_config, y=labels, rng=rng):
            if batch.num_graphs < 2:
                continue
            loss = loss_fn(model(batch), batch.y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item()
            n_batches += 1
        row = {"epoch": epoch, "loss": total / max(n_batches, 1)}
        row["seconds"] = time.perf_counter() - t0
        history.append(row)
        if log is not None:
            log(f"finetune epoch {epoch}: loss {row['loss']:.4f} {row['seconds']:.1f}s")
    model.eval()
    return model, history


@torch.inference_mode()
def embed_and_score(
    model: AltermagnetClassifier,
    graphs: Sequence[CrystalGraph],
    graph_config: GraphConfig | None = None,
    batch_size: int = 128,
) -> tuple[np.ndarray, np.ndarray]:
    """Crystal embeddings (n, embedding_dim) and raw P(altermagnet) (n,) in eval mode.

    Batches of ``batch_size`` crystals (about 1,200 atoms at the corpus' ≤ 20-atom cells)
    keep each convolution's per-edge arrays in the processor cache; edge lengths are
    expanded once per distinct length (:func:`altermag.ml.graphs.collate`).
    """
    model.eval()
    embeddings, probs = [], []
    for start in range(0, len(graphs), batch_size):
        batch = collate(graphs[start : start + batch_size], graph_config, unique_distances=True)
        emb = model.embed(batch)
        embeddings.append(emb.numpy())
        probs.append(torch.sigmoid(model.head(emb)).numpy())
    if not embeddings:
        return np.zeros((0, model.config.embedding_dim), np.float32), np.zeros(0, np.float32)
    return np.concatenate(embeddings), np.concatenate(probs)


@torch.no_grad()
def head_probability(model: AltermagnetClassifier, embeddings: np.ndarray) -> np.ndarray:
    """P(altermagnet) from (possibly OT-adapted) embeddings."""
    model.eval()
    logits = model.head(torch.as_tensor(np.asarray(embeddings, dtype=np.float32)))
    return torch.sigmoid(logits).numpy()
