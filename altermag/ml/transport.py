"""Optimal-transport adaptation of the prior's descriptors (an option, off by default).

The prior (:mod:`altermag.ml.prior`) is trained on experimental MAGNDATA crystals; the
screening scores hypothetical ones, whose descriptors are distributed differently (mostly in
chemistry: which ions and ligands). Optimal transport moves each scored crystal's descriptors
onto the training distribution before the unchanged models score them: the coupling G between
the scored rows x_i and the training rows y_j minimises Σ G_ij |x_i − y_j|² (columns scaled by
the training spread) with uniform marginals, and each x_i is replaced by its barycentric image
Σ_j G_ij y_j / Σ_j G_ij. Exact EMD or entropic Sinkhorn (POT).

It is a *batch* operation: the image of a crystal depends on the others scored with it (one
crystal alone maps onto the mean of the training set). Measured on a labelled chemistry shift
within MAGNDATA (``benchmarks/eval_prior_shift.py --ot``, figures in ``docs/model.md``), so it
is offered as ``altermag predict --adapt ot`` and is not in the default path.

The training descriptors it transports onto ship as ``checkpoints/transport-support.json.gz``
(crystal descriptors keyed by MAGNDATA id, the ranker's order descriptors, a fixed sample
beyond :data:`MAX_POINTS` rows), derived from MAGNDATA by :func:`save_support` whenever the
checkpoint is rewritten; no MAGNDATA file ships.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from altermag.ml.prior import GroundStatePrior, Prediction
    from altermag.structure import MagneticStructure

__all__ = [
    "SUPPORT_PATH",
    "Support",
    "load_support",
    "predict_adapted",
    "save_support",
    "transport",
]

SUPPORT_PATH = Path(__file__).resolve().parent / "checkpoints" / "transport-support.json.gz"

Method = Literal["emd", "sinkhorn"]
#: Entropic regularisation of Sinkhorn, relative to the median pair cost.
SINKHORN_REG = 0.5
#: Rows used to fit a coupling on each side (more are subsampled; the rest of the scored rows
#: follow their nearest fitted row's displacement).
MAX_POINTS = 2000


def transport(
    x: np.ndarray,
    support: np.ndarray,
    method: Method = "emd",
    max_points: int = MAX_POINTS,
    seed: int = 0,
) -> np.ndarray:
    """Rows of ``x`` moved onto the empirical distribution of ``support`` (barycentric map).

    Parameters
    ----------
    x
        (n, d) descriptors to adapt (the scored crystals, or their orders).
    support
        (m, d) descriptors of the training set.
    method
        ``"emd"`` (exact transport) or ``"sinkhorn"`` (entropic, :data:`SINKHORN_REG`).
    max_points
        Largest number of rows of either side the coupling is fitted on.

    Returns
    -------
    (n, d) array: the transported descriptors. Columns constant on the support stay at that
    constant; the support transported onto itself (EMD) is the identity.
    """
    import ot

    x = np.asarray(x, float)
    y = np.asarray(support, float)
    if len(x) == 0 or len(y) == 0:
        return x.copy()
    rng = np.random.default_rng(seed)
    if len(y) > max_points:
        y = y[np.sort(rng.choice(len(y), max_points, replace=False))]
    fit = np.arange(len(x))
    if len(x) > max_points:
        fit = np.sort(rng.choice(len(x), max_points, replace=False))
    scale = y.std(axis=0)
    scale[scale < 1e-9] = 1.0
    xs, ys = x[fit] / scale, y / scale
    cost = ot.dist(xs, ys, metric="sqeuclidean")
    a = np.full(len(xs), 1.0 / len(xs))
    b = np.full(len(ys), 1.0 / len(ys))
    if method == "emd":
        g = ot.emd(a, b, cost, numItermax=1_000_000)
    else:
        norm = float(np.median(cost[cost > 0])) if np.any(cost > 0) else 1.0
        g = ot.sinkhorn(a, b, cost / norm, SINKHORN_REG, method="sinkhorn", numItermax=2000)
    mass = g.sum(axis=1, keepdims=True)
    image = (g @ y) / np.where(mass > 0, mass, 1.0)
    if len(fit) == len(x):
        return np.asarray(image)
    # out-of-sample rows: the displacement of their nearest fitted row
    near = np.argmin(ot.dist(x / scale, xs, metric="sqeuclidean"), axis=1)
    return np.asarray(x + (image - x[fit])[near])


@dataclass(frozen=True)
class Support:
    """The training descriptors the scored ones are transported onto."""

    crystal: np.ndarray
    """(n_crystals, len(CRYSTAL_FEATURES)) crystal descriptors of the P(k = 0) training set."""
    order: np.ndarray
    """(n_rows, len(ORDER_FEATURES)) order descriptors of the ranker's training crystals."""
    ids: tuple[str, ...]
    """MAGNDATA ids of the ``crystal`` rows."""


def save_support(
    ids: Sequence[str],
    crystal: np.ndarray,
    order: np.ndarray,
    path: Path = SUPPORT_PATH,
    max_order_rows: int = MAX_POINTS,
    seed: int = 0,
) -> Path:
    """Write the support (4 decimals, gzip JSON with a fixed mtime: reproducible bytes)."""
    from altermag.ml.prior import CRYSTAL_FEATURES, ORDER_FEATURES

    order = np.asarray(order, float)
    if len(order) > max_order_rows:
        pick = np.sort(np.random.default_rng(seed).choice(len(order), max_order_rows, False))
        order = order[pick]
    blob = {
        "crystal_features": list(CRYSTAL_FEATURES),
        "order_features": list(ORDER_FEATURES),
        "crystal": {
            i: [round(float(v), 4) for v in row] for i, row in zip(ids, crystal, strict=True)
        },
        "order": [[round(float(v), 4) for v in row] for row in order],
    }
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(json.dumps(blob, sort_keys=True, separators=(",", ":")).encode())
    return path


@cache
def load_support(path: str | None = None) -> Support:
    """The shipped support (raises FileNotFoundError when none is installed)."""
    from altermag.ml.prior import CRYSTAL_FEATURES, ORDER_FEATURES

    p = Path(path) if path else SUPPORT_PATH
    blob = json.loads(gzip.decompress(p.read_bytes()))
    if (
        tuple(blob["crystal_features"]) != CRYSTAL_FEATURES
        or tuple(blob["order_features"]) != ORDER_FEATURES
    ):
        raise ValueError("transport support was built for other descriptors")
    ids = tuple(sorted(blob["crystal"]))
    return Support(
        crystal=np.array([blob["crystal"][i] for i in ids], float),
        order=np.array(blob["order"], float),
        ids=ids,
    )


def predict_adapted(
    structures: Sequence[MagneticStructure],
    prior: GroundStatePrior | None = None,
    support: Support | None = None,
    method: Method = "emd",
) -> list[Prediction]:
    """:func:`altermag.ml.prior.predict` of a batch, every descriptor transported first.

    The crystal descriptors of the batch are transported onto the support's crystal rows and
    their order descriptors onto the support's order rows (one coupling per kind for the
    whole batch); the models and everything downstream are unchanged.
    """
    from altermag.ml.prior import load_prior, predict
    from altermag.symmetry import analyze

    prior = prior or load_prior()
    if prior is None:
        raise FileNotFoundError("no prior checkpoint installed")
    support = support or load_support()
    results = [analyze(s.with_moments(None)) for s in structures]
    desc = [
        prior.descriptors(s.with_moments(None), r) for s, r in zip(structures, results, strict=True)
    ]
    if not desc:
        return []
    xc = transport(np.array([d[0] for d in desc]), support.crystal, method)
    rows = [d[1] for d in desc]
    flat = np.vstack(rows) if any(len(r) for r in rows) else np.zeros((0, support.order.shape[1]))
    xo = np.split(transport(flat, support.order, method), np.cumsum([len(r) for r in rows])[:-1])
    return [
        predict(s, r, prior, descriptors=(c, o))
        for s, r, c, o in zip(structures, results, xc, xo, strict=True)
    ]
