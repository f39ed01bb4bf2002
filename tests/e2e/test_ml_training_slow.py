"""A short real training run on shipped corpus crystals (slow)."""

from __future__ import annotations

import json

import pytest

from tests.requirements import need

need("torch_geometric")


@pytest.mark.slow
def test_short_training_learns_symmetry_labels(tmp_path) -> None:
    import torch

    from altermag.ml.dataset import labeled_set
    from altermag.ml.pipeline import Recipe, evaluate_checkpoint, train_model

    torch.set_num_threads(1)
    data = labeled_set(limit=500, include_curated=False)
    out = tmp_path / "small.pt"
    card = train_model(Recipe(pretrain_epochs=2, finetune_epochs=6), out, data=data)
    assert out.stat().st_size < 5 * 1024 * 1024
    assert card["metrics"]["test_roc_auc_raw"] > 0.65
    loaded = json.loads(out.with_suffix(".json").read_text())
    assert loaded["version_hash"] == card["version_hash"]
    again = evaluate_checkpoint(out, data=data)
    assert again["test_roc_auc_raw"] == pytest.approx(card["metrics"]["test_roc_auc_raw"], 1e-6)
