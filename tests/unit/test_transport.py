"""The optimal-transport option of the prior (altermag.ml.transport): physics-free invariants."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from tests.requirements import need

need("ot")

from altermag.cli import app
from altermag.io import read_structure
from altermag.ml.prior import CRYSTAL_FEATURES, load_prior, predict
from altermag.ml.transport import Support, load_support, predict_adapted, transport
from altermag.symmetry import analyze
from tests.unit.test_prior import EXAMPLES

FILES = [EXAMPLES / "MnF2.mcif", EXAMPLES / "Cr2O3.cif", EXAMPLES / "Fe2O3.mcif"]


def test_shipped_support_is_the_prior_training_set() -> None:
    prior = load_prior()
    assert prior is not None
    support = load_support()
    assert list(support.ids) == sorted(prior.card["data"]["trained_k0_ids"])
    assert support.crystal.shape == (len(support.ids), len(CRYSTAL_FEATURES))


def test_training_set_onto_itself_is_the_identity() -> None:
    crystal = load_support().crystal[:600]
    np.testing.assert_allclose(transport(crystal, crystal, "emd"), crystal, atol=1e-9)


def test_images_lie_in_the_support_hull_and_keep_constant_columns() -> None:
    support = load_support().crystal
    rng = np.random.default_rng(1)
    x = support[rng.choice(len(support), 40, replace=False)] * 3.0 + 5.0  # far off
    for method in ("emd", "sinkhorn"):
        y = transport(x, support, method)  # type: ignore[arg-type]
        assert np.all(y >= support.min(axis=0) - 1e-9)
        assert np.all(y <= support.max(axis=0) + 1e-9)
        np.testing.assert_allclose(y[:, CRYSTAL_FEATURES.index("bias")], 1.0)


def test_scores_change_only_through_the_descriptors() -> None:
    prior = load_prior()
    assert prior is not None
    structures = [read_structure(p) for p in FILES]
    bare = [s.with_moments(None) for s in structures]
    desc = [prior.descriptors(b, analyze(b)) for b in bare]
    # a support made of the batch's own descriptors maps the batch onto itself: same answers
    own = Support(
        crystal=np.array([d[0] for d in desc]),
        order=np.vstack([d[1] for d in desc]),
        ids=tuple(str(i) for i in range(len(desc))),
    )
    adapted = predict_adapted(structures, prior, own)
    for s, a in zip(structures, adapted, strict=True):
        assert a.to_dict() == predict(s, prior=prior).to_dict()
    # with the shipped support, P(k = 0) is the unchanged model on the transported descriptors
    shipped = load_support()
    moved = transport(own.crystal, shipped.crystal)
    for a, x in zip(predict_adapted(structures, prior, shipped), moved, strict=True):
        assert a.p_k0 == round(float(prior.p_k0_from_features(x)[0]), 6)


def test_predict_cli_adapt_ot_runs_on_the_examples() -> None:
    runner = CliRunner()
    args = ["predict", *map(str, FILES), "--json"]
    plain = json.loads(runner.invoke(app, args).stdout)
    res = runner.invoke(app, [*args, "--adapt", "ot"])
    assert res.exit_code == 0, res.output
    adapted = json.loads(res.stdout)
    assert [r["formula"] for r in adapted] == [r["formula"] for r in plain]
    for a, p in zip(adapted, plain, strict=True):
        assert 0.0 <= a["p_k0"] <= 1.0
        assert 0.0 <= a["p_altermagnetic_ground_state"] <= a["p_k0"]
        assert abs(sum(o["p_ground_state"] for o in a["orders"]) - 1.0) < 1e-4
        # the same enumerated orders, only re-weighted
        assert sorted(o["moments"] for o in a["orders"]) == sorted(
            o["moments"] for o in p["orders"]
        )
    bad = runner.invoke(app, [*args, "--adapt", "magic"])
    assert bad.exit_code == 2
