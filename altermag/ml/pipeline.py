"""The reproducible training recipe of the shipped model (pre-train → fine-tune → card)."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from altermag.ml.adapt import AdaptConfig, adapt_embeddings, stratified_subsample
from altermag.ml.checkpoint import DEFAULT_CHECKPOINT, save_checkpoint
from altermag.ml.dataset import LabeledSet, labeled_set
from altermag.ml.finetune import FinetuneConfig, embed_and_score, finetune, head_probability
from altermag.ml.graphs import GraphConfig
from altermag.ml.metrics import average_precision, roc_auc
from altermag.ml.model import CrystalEncoder, ModelConfig
from altermag.ml.pretrain import PretrainConfig, pretrain


@dataclass(frozen=True)
class Recipe:
    """Everything that defines a training run."""

    seed: int = 0
    test_fraction: float = 0.2
    pretrain_epochs: int = 8
    finetune_epochs: int = 25
    use_pretraining: bool = True
    width: int = 64
    depth: int = 3
    limit: int | None = None
    max_saved_source: int = 2000
    max_saved_reference: int = 2000


def stratified_split(
    labels: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Train / test indices with the class ratio kept in both."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    test = []
    for value in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == value))
        test.append(members[: round(test_fraction * members.size)])
    test_idx = np.sort(np.concatenate(test))
    train_idx = np.setdiff1d(np.arange(labels.size), test_idx)
    return train_idx, test_idx


def train_model(
    recipe: Recipe,
    out: Path | str = DEFAULT_CHECKPOINT,
    data: LabeledSet | None = None,
    encoder: CrystalEncoder | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the full recipe, write the checkpoint and model card, return the card."""
    t0 = time.perf_counter()
    graph_config = GraphConfig()
    model_config = ModelConfig(
        width=recipe.width,
        depth=recipe.depth,
        edge_dim=graph_config.n_gaussians,
        n_neighbors=graph_config.n_neighbors,
    )
    data = data if data is not None else labeled_set(graph_config, limit=recipe.limit)
    y = data.y
    train_idx, test_idx = stratified_split(y, recipe.test_fraction, recipe.seed)
    pre_history: list[dict[str, float]] = []
    if recipe.use_pretraining and encoder is None:
        pre_cfg = PretrainConfig(epochs=recipe.pretrain_epochs, seed=recipe.seed)
        encoder, pre_history = pretrain(data.graphs, model_config, pre_cfg, graph_config, log)
    ft_cfg = FinetuneConfig(epochs=recipe.finetune_epochs, seed=recipe.seed)
    train_graphs = [data.graphs[i] for i in train_idx]
    model, ft_history = finetune(
        train_graphs,
        y[train_idx],
        model_config,
        ft_cfg,
        encoder if recipe.use_pretraining else None,
        graph_config,
        log,
    )
    emb, prob = embed_and_score(model, data.graphs, graph_config)
    adapt_cfg = AdaptConfig()
    rng = np.random.default_rng(recipe.seed)
    keep_src = train_idx[stratified_subsample(y[train_idx], recipe.max_saved_source, rng)]
    corpus_idx = np.flatnonzero(np.asarray(data.origin) == "corpus")
    keep_ref = rng.choice(
        corpus_idx, size=min(recipe.max_saved_reference, corpus_idx.size), replace=False
    )
    # adapted = the held-out embeddings mapped onto the stored labeled embeddings, exactly
    # what a loaded checkpoint does (evaluate_checkpoint)
    adapted = head_probability(
        model, adapt_embeddings(emb[keep_src], y[keep_src], emb[test_idx], adapt_cfg)
    )
    metrics = {
        "test_roc_auc_raw": roc_auc(y[test_idx], prob[test_idx]),
        "test_pr_auc_raw": average_precision(y[test_idx], prob[test_idx]),
        "test_roc_auc_adapted": roc_auc(y[test_idx], adapted),
        "test_pr_auc_adapted": average_precision(y[test_idx], adapted),
        "train_roc_auc_raw": roc_auc(y[train_idx], prob[train_idx]),
        "test_positive_rate": float(y[test_idx].mean()),
    }
    card = {
        "name": "altermag-gnn",
        "task": "P(crystal can host a k=0 altermagnetic collinear order); a ranking prior",
        "data": {
            "n_total": len(data),
            "n_train": int(train_idx.size),
            "n_test": int(test_idx.size),
            "n_positive": int(y.sum()),
            "n_curated": int(sum(o == "curated" for o in data.origin)),
            "labels": "symmetry-derived on the shipped corpus (altermag.analyze, k=0 "
            "enumeration) + curated known materials when installed",
            "class_balance": "BCE pos_weight = n_negative / n_positive",
        },
        "recipe": {k: v for k, v in recipe.__dict__.items()},
        "pretrain": PretrainConfig(epochs=recipe.pretrain_epochs, seed=recipe.seed).to_dict(),
        "finetune": ft_cfg.to_dict(),
        "metrics": metrics,
        "history": {"pretrain": pre_history, "finetune": ft_history},
        "test_ids": [data.ids[i] for i in test_idx],
        "environment": {
            "torch": torch.__version__,
            "python": platform.python_version(),
            "threads": torch.get_num_threads(),
        },
        "train_seconds": time.perf_counter() - t0,
    }
    return save_checkpoint(
        out, model, graph_config, emb[keep_src], y[keep_src], emb[keep_ref], card, adapt_cfg
    )


def evaluate_checkpoint(
    path: Path | str = DEFAULT_CHECKPOINT, data: LabeledSet | None = None
) -> dict[str, float]:
    """Re-score a checkpoint's held-out crystals (ids in its model card) from scratch.

    Raw probabilities come from the network alone; adapted ones from minibatch OT of the
    held-out embeddings onto the labeled embeddings stored in the checkpoint.
    """
    from altermag.ml.checkpoint import Scorer

    scorer = Scorer(path)
    test_ids = scorer.card["test_ids"]
    data = data if data is not None else labeled_set(scorer.graph_config)
    where = {ident: i for i, ident in enumerate(data.ids)}
    idx = np.array([where[t] for t in test_ids if t in where], dtype=int)
    y = data.y[idx]
    emb, prob = embed_and_score(scorer.model, [data.graphs[i] for i in idx], scorer.graph_config)
    mapped = adapt_embeddings(scorer.source, scorer.source_labels, emb, scorer.adapt_config)
    adapted = head_probability(scorer.model, mapped)
    return {
        "test_roc_auc_raw": roc_auc(y, prob),
        "test_pr_auc_raw": average_precision(y, prob),
        "test_roc_auc_adapted": roc_auc(y, adapted),
        "test_pr_auc_adapted": average_precision(y, adapted),
        "test_found_fraction": idx.size / max(len(test_ids), 1),
        "test_positive_rate": float(y.mean()),
    }
