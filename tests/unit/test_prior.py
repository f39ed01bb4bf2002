"""The shipped ground-state prior: its card, checkpoint, labels and docs agree; its physics."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from altermag.cli import app
from altermag.io import read_structure
from altermag.ml.magndata import LABELS_PATH
from altermag.ml.prior import (
    CRYSTAL_FEATURES,
    DEFAULT_PRIOR,
    ORDER_FEATURES,
    GroundStatePrior,
    predict,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "altermag" / "data" / "examples"


def _card() -> dict:
    return json.loads(DEFAULT_PRIOR.read_text())


def test_card_checkpoint_labels_and_docs_agree() -> None:
    card = _card()
    # the version is the hash of the weights the checkpoint holds
    digest = hashlib.sha256(json.dumps(card["weights"], sort_keys=True).encode()).hexdigest()
    assert card["version"] == f"prior-{digest[:12]}"
    assert tuple(card["crystal_features"]) == CRYSTAL_FEATURES
    assert tuple(card["order_features"]) == ORDER_FEATURES
    assert len(card["weights"]["order"]) == len(ORDER_FEATURES)
    assert len(card["weights"]["k0"]) == len(CRYSTAL_FEATURES)
    # exactly the listed MAGNDATA entries trained it, and the shipped labels back them
    labels = json.loads(gzip.decompress(LABELS_PATH.read_bytes()))
    data = card["data"]
    assert len(data["trained_k0_ids"]) == data["n_k0_model"] == len(labels)
    assert set(data["trained_k0_ids"]) == set(labels)
    assert sum(labels[i]["k0"] for i in labels) == data["n_k0_positive"]
    ranker = set(data["trained_ranker_ids"])
    assert len(ranker) == data["n_ranker"]
    assert ranker == {i for i, lab in labels.items() if lab["ground_state_found"]}
    assert all(labels[i]["k0"] and labels[i]["collinear"] for i in ranker)
    # no held-back or unknown id: every id is a MAGNDATA id
    assert all(i.replace(".", "").isdigit() for i in labels)
    # docs/model.md describes this checkpoint with its numbers
    doc = (ROOT / "docs" / "model.md").read_text()
    assert card["version"] in doc
    m = card["metrics"]
    for key in ("top1_model", "top1_heuristic", "roc_auc_k0_model", "roc_auc_am_model"):
        assert f"{m[key]['mean']:.3f}" in doc, key
    assert f"{data['n_ranker']}" in doc and f"{data['n_k0_model']:,}" in doc


def test_checkpoint_is_small() -> None:
    assert DEFAULT_PRIOR.stat().st_size < 200_000
    assert LABELS_PATH.stat().st_size < 100_000


def test_mnf2_prediction_is_a_distribution_and_finds_its_own_order() -> None:
    mnf2 = read_structure(EXAMPLES / "MnF2.mcif")
    pred = predict(mnf2)
    probs = [o.p_ground_state for o in pred.orders]
    assert np.isclose(sum(probs), 1.0, atol=1e-4)
    assert probs == sorted(probs, reverse=True)
    assert [o.rank for o in pred.orders] == list(range(1, len(probs) + 1))
    assert 0.0 < pred.p_altermagnetic_ground_state <= pred.p_k0 < 1.0
    # MnF2's experimental order (rutile, antiparallel corner and body-centre Mn) is the
    # d-wave altermagnetic one; the prior ranks it above the ferromagnet
    am = next(o for o in pred.orders if o.verdict == "altermagnet")
    assert am.wave == "d"
    assert pred.input_order_rank == am.rank == 1
    fm = next(o for o in pred.orders if o.verdict == "ferromagnet")
    assert am.p_ground_state > fm.p_ground_state
    # P(AM ground state) = P(k=0) x P(enumerated | k=0) x the altermagnetic mass
    prior = GroundStatePrior.load()
    expected = pred.p_k0 * prior.p_enumerated * am.p_ground_state
    assert np.isclose(pred.p_altermagnetic_ground_state, expected, atol=1e-5)


def test_input_without_moments_has_no_input_rank() -> None:
    pred = predict(read_structure(EXAMPLES / "Cr2O3.cif"))
    assert pred.input_order_rank is None
    assert pred.orders


def test_predict_cli_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["predict", str(EXAMPLES / "MnF2.mcif"), str(EXAMPLES / "Cr2O3.cif"), "--json"]
    )
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert [r["formula"] for r in records] == ["MnF2", "Cr2O3"]
    for r in records:
        assert set(r) >= {"formula", "p_k0", "p_altermagnetic_ground_state", "orders"}
        for o in r["orders"]:
            assert set(o) >= {"moments", "verdict", "wave", "p_ground_state"}
            assert set(o["moments"]) <= {-1, 0, 1}
    assert records[0]["input_order_rank"] == 1
    assert records[1]["input_order_rank"] is None
