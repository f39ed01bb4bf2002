"""The shipped ground-state prior: its size and its physics (its card: test_model_card.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from altermag.cli import app
from altermag.io import read_structure
from altermag.ml.magndata import LABELS_PATH
from altermag.ml.prior import (
    DEFAULT_PRIOR,
    GroundStatePrior,
    predict,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "altermag" / "data" / "examples"


def _card() -> dict:
    return json.loads(DEFAULT_PRIOR.read_text())


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


def test_a_crystal_scores_the_same_alone_and_in_a_chunk() -> None:
    """A screening scores its chunks together: each crystal's descriptors and probabilities
    are exactly those it has alone, whichever crystals share its chunk."""
    from altermag.symmetry import analyze

    prior = GroundStatePrior.load()
    bare = [
        read_structure(p).with_moments(None)
        for p in sorted(EXAMPLES.iterdir())
        if p.suffix in {".cif", ".mcif"}
    ]
    results = [analyze(s) for s in bare]
    assert sum(bool(r.orders) for r in results) >= 3
    alone = [prior.descriptors(s, r) for s, r in zip(bare, results, strict=True)]
    for idx in (list(range(len(bare))), list(range(len(bare)))[::-1]):
        together = prior.descriptors_many([bare[i] for i in idx], [results[i] for i in idx])
        scores = prior.score_many([bare[i] for i in idx], [results[i] for i in idx])
        for i, (xc, xo), (p_k0, p_orders) in zip(idx, together, scores, strict=True):
            assert np.array_equal(xc, alone[i][0])
            assert np.array_equal(xo, alone[i][1])
            assert (p_k0, list(p_orders)) == (
                prior.score(bare[i], results[i])[0],
                list(prior.score(bare[i], results[i])[1]),
            )
