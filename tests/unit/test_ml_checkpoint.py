"""The shipped checkpoint: loads offline, reproduces its model card, scores files; CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.requirements import need

need("torch", "torch_geometric", "ot", "checkpoint")

from typer.testing import CliRunner

from altermag.cli import app
from altermag.ml.checkpoint import DEFAULT_CHECKPOINT, Scorer, card_path, file_hash
from altermag.ml.graphs import CrystalGraph, GraphConfig
from altermag.ml.model import AltermagnetClassifier

EXAMPLES = Path(__file__).resolve().parents[2] / "altermag" / "data" / "examples"


def test_checkpoint_is_small_and_matches_its_card() -> None:
    card = json.loads(card_path(DEFAULT_CHECKPOINT).read_text())
    assert DEFAULT_CHECKPOINT.stat().st_size <= 5 * 1024 * 1024
    assert card["version_hash"] == file_hash(DEFAULT_CHECKPOINT)[:16]
    assert card["data"]["n_test"] == len(card["test_ids"])


def test_rescoring_the_held_out_set_gives_the_documented_metrics() -> None:
    import torch

    torch.set_num_threads(1)
    from altermag.ml.pipeline import evaluate_checkpoint

    card = json.loads(card_path(DEFAULT_CHECKPOINT).read_text())
    metrics = evaluate_checkpoint(DEFAULT_CHECKPOINT)
    assert metrics["test_found_fraction"] > 0.95  # the corpus still holds the test crystals
    for key in ("test_roc_auc_raw", "test_pr_auc_raw"):
        assert metrics[key] == pytest.approx(card["metrics"][key], abs=0.01)
    for key in ("test_roc_auc_adapted", "test_pr_auc_adapted"):
        assert metrics[key] == pytest.approx(card["metrics"][key], abs=0.02)
    assert metrics["test_roc_auc_raw"] > 0.75  # far above chance (0.5)


def test_scores_are_probabilities_and_adaptation_keeps_raw() -> None:
    from altermag.io import read_structure

    scorer = Scorer()
    structures = [read_structure(p) for p in sorted(EXAMPLES.glob("*.mcif"))]
    scores = scorer.score(structures)
    assert len(scores) == len(structures)
    for s in scores:
        assert 0.0 <= s.raw <= 1.0 and 0.0 <= s.adapted <= 1.0
    # the raw score of a crystal does not depend on what it is scored with
    alone = scorer.score(structures[:1])[0]
    assert alone.raw == pytest.approx(scores[0].raw, abs=1e-5)


def test_cli_model_info_and_score_json() -> None:
    runner = CliRunner()
    info = runner.invoke(app, ["model", "info", "--json"])
    assert info.exit_code == 0, info.output
    card = json.loads(info.output)
    assert {"version_hash", "metrics", "data", "model_config"} <= set(card)
    paths = [str(p) for p in sorted(EXAMPLES.glob("*.mcif"))]
    out = runner.invoke(app, ["score", *paths, "--json"])
    assert out.exit_code == 0, out.output
    records = json.loads(out.output)
    assert [r["source"] for r in records] == paths
    assert all(np.isfinite(r["probability_adapted"]) for r in records)


def _reference_embedding(
    model: AltermagnetClassifier, graphs: list[CrystalGraph], graph_config: GraphConfig
) -> tuple[np.ndarray, np.ndarray]:
    """The encoder's update written out as in its docstring, edge by edge.

    x_i ← x_i + BN(mean_j σ(z_ij W_f + b_f) ⊙ softplus(z_ij W_s + b_s)), z_ij = [x_i, x_j, e_ij],
    with the Gaussians of every edge expanded in full and the mean as a scatter over edges:
    none of the shortcuts of the fast inference path (distinct lengths, broadcast atom
    parts, reshaped neighbour blocks).
    """
    import torch
    import torch.nn.functional as F

    from altermag.ml.graphs import collate

    enc = model.encoder
    batch = collate(graphs, graph_config)
    centre, neighbour = batch.edge_index
    x = enc.embed(enc.element_features[batch.z])
    for conv in enc.convs:
        weight = torch.cat([conv.centre.weight, conv.neighbour.weight, conv.edge.weight], dim=1)
        z = torch.cat([x[centre], x[neighbour], batch.edge_attr], dim=1)
        f, s = F.linear(z, weight, conv.edge.bias).split(conv.width, dim=-1)
        messages = torch.sigmoid(f) * F.softplus(s)
        total = torch.zeros_like(x).index_add_(0, centre, messages)
        count = torch.bincount(centre, minlength=x.shape[0]).unsqueeze(-1)
        x = F.softplus(x + conv.bn(total / count))
    pooled = torch.zeros(len(graphs), x.shape[1]).index_add_(0, batch.batch, x)
    pooled /= torch.bincount(batch.batch, minlength=len(graphs)).unsqueeze(-1)
    embedding = enc.project(pooled)
    return embedding.numpy(), torch.sigmoid(model.head(embedding)).numpy()


def test_fast_inference_path_gives_the_reference_scores() -> None:
    """Scorer.embed on 600 corpus crystals = the plain edge-by-edge formula, to 1e-5."""
    import torch

    torch.set_num_threads(1)
    from altermag.data import corpus
    from altermag.ml.graphs import crystal_graphs

    scorer = Scorer()
    structures = [entry.structure for _, entry in zip(range(600), corpus(), strict=False)]
    embeddings, probs = scorer.embed(structures)
    graphs = crystal_graphs(structures, scorer.graph_config)
    with torch.inference_mode():
        ref_embeddings, ref_probs = _reference_embedding(scorer.model, graphs, scorer.graph_config)
    assert probs.shape == (600,)
    np.testing.assert_allclose(probs, ref_probs, rtol=0, atol=1e-5)
    np.testing.assert_allclose(embeddings, ref_embeddings, rtol=0, atol=5e-5)
    assert probs.std() > 0.05  # the scores differ between crystals: a real comparison
