"""The OT losses of the auto-encoder and a real (tiny) pre-training and fine-tuning run."""

from __future__ import annotations

import numpy as np
import pytest

from tests.requirements import need

need("torch", "ot")

import ot
import torch
from pymatgen.core import Lattice, Structure

from altermag.ml.finetune import FinetuneConfig, embed_and_score, finetune
from altermag.ml.graphs import GraphConfig, crystal_graph
from altermag.ml.model import ModelConfig
from altermag.ml.pretrain import PretrainConfig, pretrain, sinkhorn_plan, sorted_wasserstein2
from altermag.structure import MagneticStructure


def test_sorted_wasserstein_is_exact_1d_ot() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.uniform(1, 5, 12), rng.uniform(1, 5, 12)
    exact = ot.emd2(np.full(12, 1 / 12), np.full(12, 1 / 12), (a[:, None] - b[None, :]) ** 2)
    mask = torch.ones(1, 12)
    ours = sorted_wasserstein2(torch.tensor(a)[None], torch.tensor(np.sort(b))[None], mask)
    assert float(ours) == pytest.approx(exact, rel=1e-9)


def test_sinkhorn_plan_has_the_right_marginals_and_matches_permutations() -> None:
    rng = np.random.default_rng(0)
    true = torch.tensor(rng.normal(size=(3, 12, 5)), dtype=torch.float32)
    perm = torch.randperm(12)
    pred = true[:, perm]
    mask = torch.ones(3, 12, dtype=torch.bool)
    mask[2, 10:] = False  # an atom with only 10 neighbours
    cost = torch.cdist(pred, true) ** 2
    plan = sinkhorn_plan(cost, mask, eps=0.01, iters=200)
    np.testing.assert_allclose(plan.sum(2).numpy(), 1 / 12, atol=1e-3)
    np.testing.assert_allclose(plan[:2].sum(1).numpy(), 1 / 12, atol=1e-3)
    assert float(plan[2, :, 10:].sum()) < 1e-6
    # the plan recovers the hidden permutation for full sets
    assert (plan[0].argmax(1) == perm).all()


def _toy_set() -> tuple[list, np.ndarray]:
    """Rock-salt and CsCl-type crystals of several chemistries, labelled by structure type."""
    graphs, labels = [], []
    for cation, anion, a in [
        ("Ni", "O", 4.17),
        ("Mn", "O", 4.44),
        ("Co", "O", 4.26),
        ("Fe", "O", 4.33),
        ("Mn", "S", 5.22),
        ("Ca", "O", 4.81),
    ]:
        rs = Structure.from_spacegroup(
            "Fm-3m", Lattice.cubic(a), [cation, anion], [[0, 0, 0], [0.5, 0.5, 0.5]]
        )
        cscl = Structure(Lattice.cubic(a * 0.62), [cation, anion], [[0, 0, 0], [0.5] * 3])
        for s, y in ((rs, 1), (cscl, 0)):
            graphs.append(crystal_graph(MagneticStructure.from_pymatgen(s)))
            labels.append(y)
    return graphs, np.array(labels, dtype=np.float32)


def test_pretraining_lowers_the_reconstruction_loss_and_finetuning_separates() -> None:
    torch.set_num_threads(1)
    graphs, labels = _toy_set()
    gcfg = GraphConfig()
    mcfg = ModelConfig(width=16, depth=2, embedding_dim=8, edge_dim=gcfg.n_gaussians)
    encoder, history = pretrain(graphs, mcfg, PretrainConfig(epochs=25, batch_size=12), gcfg)
    assert history[-1]["loss"] < 0.5 * history[0]["loss"]
    model, ft = finetune(
        graphs, labels, mcfg, FinetuneConfig(epochs=40, batch_size=12, lr=3e-3), encoder, gcfg
    )
    assert ft[-1]["loss"] < ft[0]["loss"]
    _emb, prob = embed_and_score(model, graphs, gcfg)
    assert prob[labels == 1].min() > prob[labels == 0].max()
