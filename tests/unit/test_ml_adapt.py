"""Optimal-transport adaptation recovers a known domain shift on synthetic embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from tests.requirements import need

need("ot")

from altermag.ml.adapt import AdaptConfig, adapt_embeddings, stratified_subsample


def _two_classes(rng: np.random.Generator, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, d))
    x[:, 0] += np.where(y == 1, 2.0, -2.0)
    return x, y


def _nearest_mean(x_train: np.ndarray, y_train: np.ndarray):
    mu0, mu1 = x_train[y_train == 0].mean(0), x_train[y_train == 1].mean(0)

    def predict(x: np.ndarray) -> np.ndarray:
        return (np.linalg.norm(x - mu1, axis=1) < np.linalg.norm(x - mu0, axis=1)).astype(int)

    return predict


@pytest.mark.parametrize("method", ["sinkhorn", "lpl1"])
def test_ot_undoes_a_constant_offset(method: str) -> None:
    """target = source + offset: adapted accuracy returns to the source accuracy and the
    mapped points land next to the originals."""
    rng = np.random.default_rng(1)
    d = 8
    xs, ys = _two_classes(rng, 400, d)
    offset = np.zeros(d)
    offset[0], offset[1] = 1.8, 3.0
    xt = xs + offset
    predict = _nearest_mean(xs, ys)
    acc_source = (predict(xs) == ys).mean()
    acc_raw = (predict(xt) == ys).mean()
    mapped = adapt_embeddings(xs, ys, xt, AdaptConfig(method=method, reg_e=0.01, max_iter=300))
    acc_adapted = (predict(mapped) == ys).mean()
    assert acc_raw < acc_source - 0.1  # the shift really hurts
    assert acc_adapted > acc_source - 0.03
    raw_error = np.linalg.norm(xt - xs, axis=1).mean()
    mapped_error = np.linalg.norm(mapped - xs, axis=1).mean()
    assert mapped_error < 0.35 * raw_error
    np.testing.assert_allclose(mapped.mean(0), xs.mean(0), atol=0.15)


def test_minibatches_cover_a_large_target_and_reference_mode() -> None:
    """A target larger than one minibatch is mapped chunk by chunk, every point once; a tiny
    target coupled with a reference sample is also moved back by the offset."""
    rng = np.random.default_rng(2)
    d = 4
    xs, ys = _two_classes(rng, 400, d)
    xt_big, _ = _two_classes(rng, 2500, d)
    offset = np.full(d, 2.0)
    cfg = AdaptConfig(batch_size=1000, max_source=300, reg_e=0.02)
    mapped = adapt_embeddings(xs, ys, xt_big + offset, cfg)
    assert mapped.shape == xt_big.shape
    np.testing.assert_allclose(mapped.mean(0), xs.mean(0), atol=0.2)
    few = xs[:3] + offset
    mapped_few = adapt_embeddings(xs, ys, few, cfg, reference=xt_big + offset)
    assert np.linalg.norm(mapped_few - xs[:3], axis=1).mean() < np.linalg.norm(offset) / 2


def test_stratified_subsample_keeps_rare_class() -> None:
    rng = np.random.default_rng(0)
    labels = np.array([1] * 5 + [0] * 5000)
    idx = stratified_subsample(labels, 500, rng)
    assert labels[idx].sum() >= 1
    assert idx.size <= 501
