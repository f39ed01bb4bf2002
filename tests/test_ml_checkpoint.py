"""The shipped checkpoint: loads offline, reproduces its model card, scores files; CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch_geometric")
pytest.importorskip("ot")

from typer.testing import CliRunner

from altermag.cli import app
from altermag.ml.checkpoint import DEFAULT_CHECKPOINT, Scorer, card_path, file_hash

EXAMPLES = Path(__file__).resolve().parents[1] / "altermag" / "data" / "examples"

pytestmark = pytest.mark.skipif(not DEFAULT_CHECKPOINT.exists(), reason="no shipped checkpoint")


def test_checkpoint_is_small_and_matches_its_card() -> None:
    card = json.loads(card_path(DEFAULT_CHECKPOINT).read_text())
    assert DEFAULT_CHECKPOINT.stat().st_size <= 5 * 1024 * 1024
    assert card["version_hash"] == file_hash(DEFAULT_CHECKPOINT)[:16]
    assert card["data"]["n_test"] == len(card["test_ids"])


def test_rescoring_the_held_out_set_gives_the_documented_metrics() -> None:
    torch = pytest.importorskip("torch")
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
