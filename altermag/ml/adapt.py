"""Optimal-transport domain adaptation of crystal embeddings (POT).

The classifier is trained on the embeddings of the labeled crystals (the *source* domain);
the crystals being screened (the *target*: a database, a substitution corpus) can sit in a
different region of embedding space because their chemistry differs. Entropic optimal
transport (Courty et al., IEEE TPAMI 2017) finds a coupling γ between target and source
samples of least total squared distance (plus ε·entropy), and each target embedding is moved
to its barycentric image x̂_t = Σ_s γ_ts x_s / Σ_s γ_ts: a point in the source domain, where
the classifier head was trained. With the class-regularised variant (``method="lpl1"``,
``ot.da.SinkhornLpl1Transport``) a target point's mass is pushed to receive source points of
one label only, which keeps class clusters apart.

Scale: the coupling of a 100,000-point target with thousands of labeled points does not fit
in memory at once (10k × 10k already needs 2–4 GB), so the target is processed in
minibatches (minibatch OT, Fatras et al., AISTATS 2020): each chunk of ``batch_size`` target
points is coupled with a class-stratified subsample of at most ``max_source`` source points.
Memory is O(batch_size × max_source) and time linear in the target size. Only the
barycentric map of fitted points is used: ``out_of_sample_map="continuous"`` would switch POT
to a much slower solver (docs/pitfalls.md).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import ot


@dataclass(frozen=True)
class AdaptConfig:
    """Settings of the OT adaptation.

    Attributes
    ----------
    method
        ``"sinkhorn"`` (entropic OT, ``ot.sinkhorn`` on each minibatch) or ``"lpl1"``
        (entropic OT with a group-lasso class regulariser, ``ot.da.SinkhornLpl1Transport``).
    reg_e
        Entropic regularisation, relative to the largest squared distance (costs are
        normalised by their maximum).
    reg_cl
        Strength of the class regulariser (``lpl1`` only).
    max_source
        Largest number of source points coupled with a chunk (class-stratified subsample).
    batch_size
        Target points per minibatch.
    max_iter
        Sinkhorn iterations per coupling (outer iterations for ``lpl1``).
    seed
        Seed of the source subsample and of the target chunk order.
    """

    method: str = "sinkhorn"
    reg_e: float = 0.05
    reg_cl: float = 0.1
    max_source: int = 1000
    batch_size: int = 10000
    max_iter: int = 100
    seed: int = 0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def stratified_subsample(labels: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of at most ``size`` points with each class kept in proportion (≥ 1 each)."""
    labels = np.asarray(labels)
    n = labels.shape[0]
    if n <= size:
        return np.arange(n)
    chosen = []
    for value in np.unique(labels):
        members = np.flatnonzero(labels == value)
        take = max(1, round(size * members.size / n))
        chosen.append(rng.choice(members, size=min(take, members.size), replace=False))
    return np.sort(np.concatenate(chosen))


def _transport(config: AdaptConfig) -> ot.da.BaseTransport:
    if config.method == "lpl1":
        return ot.da.SinkhornLpl1Transport(
            reg_e=config.reg_e,
            reg_cl=config.reg_cl,
            max_iter=max(3, config.max_iter // 20),
            max_inner_iter=config.max_iter,
            norm="max",
            tol=1e-7,
        )
    raise ValueError(f"unknown OT method {config.method!r} (sinkhorn, lpl1)")


def adapt_embeddings(
    source: np.ndarray,
    source_labels: np.ndarray,
    target: np.ndarray,
    config: AdaptConfig | None = None,
    reference: np.ndarray | None = None,
) -> np.ndarray:
    """Map target embeddings into the source domain by minibatch entropic OT.

    Parameters
    ----------
    source, source_labels
        Labeled embeddings (n_s, d) and their 0/1 labels.
    target
        Embeddings to adapt (n_t, d).
    config
        OT settings.
    reference
        Optional sample of the target domain (n_r, d). When the target is too small to
        describe its domain (a few structures scored on their own), the reference and the
        target are coupled together and only the target's images are returned.

    Returns
    -------
    numpy.ndarray
        (n_t, d) barycentric images of the target points in the source domain.
    """
    cfg = config or AdaptConfig()
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    labels = np.asarray(source_labels).astype(int)
    rng = np.random.default_rng(cfg.seed)
    keep = stratified_subsample(labels, cfg.max_source, rng)
    xs, ys = source[keep], labels[keep]
    n_t = target.shape[0]
    out = np.empty_like(target)
    if n_t == 0:
        return out
    if reference is not None and n_t < cfg.batch_size:
        ref = np.asarray(reference, dtype=np.float64)
        n_ref = min(ref.shape[0], cfg.batch_size - n_t)
        ref = ref[rng.choice(ref.shape[0], size=n_ref, replace=False)] if n_ref else ref[:0]
        joint = np.vstack([ref, target])
        mapped = _fit_map(xs, ys, joint, cfg)
        return mapped[ref.shape[0] :]
    order = rng.permutation(n_t)
    n_chunks = int(np.ceil(n_t / cfg.batch_size))
    for chunk in np.array_split(order, n_chunks):
        out[chunk] = _fit_map(xs, ys, target[chunk], cfg)
    return out


def _fit_map(xs: np.ndarray, ys: np.ndarray, xt: np.ndarray, cfg: AdaptConfig) -> np.ndarray:
    """Barycentric images of the target chunk ``xt`` in the labeled domain."""
    if cfg.method == "sinkhorn":
        # Direct entropic OT in float32: uniform weights, squared Euclidean cost divided by
        # its maximum, then x̂_t = Σ_s γ_ts x_s / Σ_s γ_ts.
        a = np.full(xt.shape[0], 1.0 / xt.shape[0], dtype=np.float32)
        b = np.full(xs.shape[0], 1.0 / xs.shape[0], dtype=np.float32)
        cost = ot.dist(xt.astype(np.float32), xs.astype(np.float32))
        cost /= max(float(cost.max()), 1e-12)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "did not converge" at max_iter
            plan = ot.sinkhorn(a, b, cost, cfg.reg_e, numItermax=cfg.max_iter, stopThr=1e-6)
        mass = plan.sum(axis=1, keepdims=True)
        return (plan @ xs.astype(np.float32)) / np.maximum(mass, 1e-30)
    # The class regulariser needs labels on POT's source side: couple labeled → screened
    # and read the map backwards (inverse barycentric map of the same coupling).
    transport = _transport(cfg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        transport.fit(Xs=xs, ys=ys, Xt=xt)
    return transport.inverse_transform(Xt=xt)
