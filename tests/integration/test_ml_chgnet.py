"""The frozen CHGNet crystal embedding and the heads trained on frozen embeddings.

Skipped cleanly where the optional ``chgnet`` package is not installed (the head tests
need only torch).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.requirements import need, requires

need("torch")

from altermag.data import known_material
from altermag.ml.chgnet_encoder import (
    FrozenHead,
    HeadConfig,
    chgnet_supported,
)
from altermag.structure import MagneticStructure

needs_chgnet = requires("chgnet")


@pytest.fixture(scope="module")
def chgnet():
    from altermag.ml.chgnet_encoder import load_chgnet

    return load_chgnet()


def _embed(structures, model) -> np.ndarray:
    from altermag.ml.chgnet_encoder import chgnet_embeddings

    return chgnet_embeddings(structures, model)


@needs_chgnet
def test_embedding_is_a_property_of_the_crystal_not_of_its_description(chgnet) -> None:
    """Permuting the sites, shifting every atom rigidly and doubling the cell describe the
    same rutile MnF2 crystal: the (intensive, mean-pooled) embedding must not change."""
    mnf2 = known_material("MnF2").structure
    rng = np.random.default_rng(1)
    perm = rng.permutation(len(mnf2))
    shifted = MagneticStructure(
        mnf2.lattice,
        [mnf2.species[i] for i in perm],
        (mnf2.frac_coords[perm] + np.array([0.137, 0.271, -0.313])) % 1.0,
        mnf2.magmoms[perm] if mnf2.magmoms is not None else None,
    )
    supercell = mnf2.with_moments(None).to_pymatgen()
    supercell.make_supercell([1, 1, 2])
    emb = _embed([mnf2, shifted, supercell], chgnet)
    assert emb.shape == (3, 64)
    scale = np.abs(emb[0]).max()
    assert scale > 0.1
    np.testing.assert_allclose(emb[1], emb[0], atol=1e-5 * scale)
    np.testing.assert_allclose(emb[2], emb[0], atol=1e-5 * scale)


@needs_chgnet
def test_embedding_ignores_moments_but_sees_chemistry_and_geometry(chgnet) -> None:
    """Moments are not an input (the same crystal with and without its order gives the same
    vector); a different chemistry (NiO) or a compressed lattice gives a different one."""
    mnf2 = known_material("MnF2").structure
    compressed = MagneticStructure(0.9 * mnf2.lattice, mnf2.species, mnf2.frac_coords)
    emb = _embed([mnf2, mnf2.with_moments(None), known_material("NiO").structure], chgnet)
    squeezed = _embed([compressed], chgnet)[0]
    np.testing.assert_allclose(emb[1], emb[0], atol=1e-6)
    assert np.linalg.norm(emb[2] - emb[0]) > 0.1 * np.linalg.norm(emb[0])
    assert np.linalg.norm(squeezed - emb[0]) > 1e-3 * np.linalg.norm(emb[0])


@needs_chgnet
def test_elements_beyond_pu_are_refused(chgnet) -> None:
    """CHGNet has embeddings for Z ≤ 94 only: an americium crystal is refused, not guessed."""
    from altermag.ml.chgnet_encoder import chgnet_embeddings

    amo = MagneticStructure(4.0 * np.eye(3), ["Am", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    assert not chgnet_supported(amo)
    assert chgnet_supported(known_material("MnF2").structure)
    with pytest.raises(ValueError, match="beyond"):
        chgnet_embeddings([amo], chgnet)


@pytest.mark.parametrize("kind", ["logistic", "mlp"])
def test_frozen_head_separates_a_linearly_separable_rare_class(kind: str) -> None:
    """With 5 % positives, the class-balanced head still ranks held-out positives first, and
    its scores do not depend on the units of the embedding (inputs are standardised)."""
    rng = np.random.default_rng(0)
    n, d = 2000, 8
    direction = rng.normal(size=d)
    x = rng.normal(size=(n, d))
    y = (x @ direction > 1.65 * np.linalg.norm(direction)).astype(int)  # ~5 % positives
    assert 0.02 < y.mean() < 0.1
    train, test = np.arange(1500), np.arange(1500, n)
    cfg = HeadConfig(kind=kind)
    p = FrozenHead(cfg).fit(x[train], y[train]).predict(x[test])
    from altermag.ml.metrics import roc_auc

    assert roc_auc(y[test], p) > 0.97
    # balanced weighting: the median positive is called positive
    assert np.median(p[y[test] == 1]) > 0.5
    if kind == "logistic":  # convex: unit changes leave the fitted ranking unchanged
        q = FrozenHead(cfg).fit(1e3 * x[train], y[train]).predict(1e3 * x[test])
        np.testing.assert_allclose(q, p, atol=1e-3)
