"""Training and grouped evaluation of the ground-state prior (:mod:`altermag.ml.prior`).

* :func:`fit_ranker`: conditional logit over a crystal's enumerated orders, L2-regularised,
  fitted by L-BFGS on the crystals whose experimental order is among the enumerated ones;
* :func:`fit_k0`: L2 logistic regression of k = 0 on standardised crystal descriptors;
* :func:`cross_validate`: folds grouped by compound (reduced formula: every polymorph, setting
  and re-measurement of a compound in one fold), repeated over seeds; the model and every
  baseline are scored on the same folds;
* :func:`train_prior`: fit on every entry and write the checkpoint with its model card (the
  exact MAGNDATA ids that trained it, the cross-validated metrics).

Baselines for the order ranking: *uniform* over the enumerated orders; *neighbour heuristic*
(most antiparallel nearest magnetic neighbours, the enumeration's own score); *superexchange
angle* (Goodenough–Kanamori-style energy, :func:`altermag.ml.magndata.gk_energy`). Ties are
counted as a random tie-break would on average (a tie of t orders at the top gives top-1 = 1/t).
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from altermag.ml.magndata import Entry
from altermag.ml.metrics import roc_auc
from altermag.ml.prior import (
    CRYSTAL_FEATURES,
    DEFAULT_PRIOR,
    ORDER_FEATURES,
    sigmoid,
    softmax,
)

__all__ = [
    "K0_L2",
    "RANKER_L2",
    "cross_validate",
    "fit_k0",
    "fit_ranker",
    "grouped_folds",
    "topk_hit",
    "train_prior",
]

RANKER_L2 = 1.0
K0_L2 = 1.0


def grouped_folds(groups: Sequence[str], n_folds: int, seed: int) -> np.ndarray:
    """Fold number of each item; all items of a group share a fold (groups shuffled by seed)."""
    uniq = sorted(set(groups))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(uniq))
    fold_of = {uniq[i]: k % n_folds for k, i in enumerate(order)}
    return np.array([fold_of[g] for g in groups])


def fit_ranker(xs: Sequence[np.ndarray], ys: Sequence[int], l2: float = RANKER_L2) -> np.ndarray:
    """Weights w of p_i ∝ exp(w·x_i) maximising Σ log p(ground state) − l2·|w|²."""
    usable = [(x, y) for x, y in zip(xs, ys, strict=True) if len(x) > 1]
    d = len(ORDER_FEATURES)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = l2 * float(w @ w), 2 * l2 * w
        for x, y in usable:
            p = softmax(x @ w)
            total -= float(np.log(p[y] + 1e-300))
            grad = grad + x.T @ p - x[y]
        return total, grad

    res = minimize(loss, np.zeros(d), jac=True, method="L-BFGS-B")
    return np.asarray(res.x)


def fit_k0(
    x: np.ndarray, y: np.ndarray, l2: float = K0_L2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(weights, mean, scale) of a logistic regression on standardised descriptors."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    mean[0], scale[0] = 0.0, 1.0  # the bias column stays 1
    z = (x - mean) / scale
    z[:, 0] = 1.0
    yy = np.asarray(y, float)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        p = sigmoid(z @ w)
        eps = 1e-12
        reg = w.copy()
        reg[0] = 0.0
        val = -float(np.sum(yy * np.log(p + eps) + (1 - yy) * np.log(1 - p + eps)))
        return val + l2 * float(reg @ reg), z.T @ (p - yy) + 2 * l2 * reg

    res = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B")
    return np.asarray(res.x), mean, scale


def topk_hit(scores: np.ndarray, truth: int, k: int) -> float:
    """Probability that ``truth`` is among the top ``k`` (higher score first), ties broken at
    random."""
    s = np.asarray(scores, float)
    better = int(np.sum(s > s[truth] + 1e-12))
    tied = int(np.sum(np.abs(s - s[truth]) <= 1e-12))
    return float(np.clip((k - better) / tied, 0.0, 1.0))


def _am_mass(p: np.ndarray, verdicts: Sequence[str]) -> float:
    am = np.array([v == "altermagnet" for v in verdicts], bool)
    return float(np.sum(p[am])) if len(p) else 0.0


def _tie_probs(scores: np.ndarray) -> np.ndarray:
    """Probability mass on the top-scoring orders, shared among ties."""
    if len(scores) == 0:
        return np.zeros(0)
    top = np.abs(scores - scores.max()) <= 1e-12
    return top / top.sum()


def _default_orders(e: Entry) -> tuple[np.ndarray, list[str]]:
    if e.moment_filtered and e.default_x is not None and e.default_verdicts is not None:
        return e.default_x, e.default_verdicts
    return e.order_x, e.order_verdicts


@dataclass
class FoldScores:
    """Per-seed metric values of the model and the baselines."""

    values: dict[str, list[float]]

    def summary(self) -> dict[str, dict[str, float]]:
        return {
            k: {"mean": float(np.mean(v)), "std": float(np.std(v)), "n_seeds": len(v)}
            for k, v in self.values.items()
        }


def cross_validate(
    entries: Sequence[Entry],
    n_folds: int = 5,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    log: Callable[[str], None] | None = None,
) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """Grouped k-fold metrics (mean, std over seeds) and the pooled out-of-fold predictions of
    seed 0 (for the reliability plots)."""
    groups = [e.group for e in entries]
    xk = np.array([e.crystal_x for e in entries])
    yk = np.array([e.k0 for e in entries], float)
    yam = np.array([e.altermagnetic_ground_state for e in entries], float)
    ranked = [i for i, e in enumerate(entries) if e.ground_state is not None]
    values: dict[str, list[float]] = {}
    by_fold: dict[str, list[float]] = {}
    pooled: dict[str, Any] = {}

    def add(name: str, v: float) -> None:
        values.setdefault(name, []).append(v)

    for seed in seeds:
        fold = grouped_folds(groups, n_folds, seed)
        p_k0 = np.zeros(len(entries))
        p_am: dict[str, np.ndarray] = {
            m: np.zeros(len(entries)) for m in ("model", "uniform", "heuristic", "superexchange")
        }
        hits: dict[str, list[float]] = {}
        for f in range(n_folds):
            fold_hits: dict[str, list[float]] = {}
            tr = [int(i) for i in np.flatnonzero(fold != f)]
            te = [int(i) for i in np.flatnonzero(fold == f)]
            w, mean, scale = fit_k0(xk[tr], yk[tr])
            z = (xk[te] - mean) / scale
            z[:, 0] = 1.0
            p_k0[te] = sigmoid(z @ w)
            tr_set = set(tr)
            rw = fit_ranker(
                [entries[i].order_x for i in ranked if i in tr_set],
                [int(entries[i].ground_state or 0) for i in ranked if i in tr_set],
            )
            base = float(yk[tr].mean())
            tr_k0 = [i for i in tr if entries[i].k0]
            enumerated = sum(entries[i].ground_state is not None for i in tr_k0) / max(
                len(tr_k0), 1
            )
            for i in te:
                e = entries[i]
                dx, dv = _default_orders(e)
                if len(dv):
                    p_am["model"][i] = p_k0[i] * enumerated * _am_mass(softmax(dx @ rw), dv)
                    p_am["uniform"][i] = (
                        base * enumerated * _am_mass(np.full(len(dv), 1 / len(dv)), dv)
                    )
                    sc = np.array([o for o in _order_scores(e, default=True)], float)
                    p_am["heuristic"][i] = base * enumerated * _am_mass(_tie_probs(sc), dv)
                    gk = -_gk(dx)
                    p_am["superexchange"][i] = base * enumerated * _am_mass(_tie_probs(gk), dv)
                if e.ground_state is None:
                    continue
                y = int(e.ground_state)
                cands = {
                    "model": e.order_x @ rw,
                    "uniform": np.zeros(len(e.order_x)),
                    "heuristic": np.asarray(e.order_score, float),
                    "superexchange": -np.asarray(e.gk_energy, float),
                }
                for name, sc in cands.items():
                    for k in (1, 3):
                        hit = topk_hit(sc, y, k)
                        hits.setdefault(f"top{k}_{name}", []).append(hit)
                        fold_hits.setdefault(f"top{k}_{name}", []).append(hit)
                        if not e.moment_filtered:
                            hits.setdefault(f"top{k}_{name}_default_sites", []).append(
                                topk_hit(sc, y, k)
                            )
            for name, h in fold_hits.items():
                by_fold.setdefault(name, []).append(float(np.mean(h)))
            if 0 < yk[te].sum() < len(te):
                by_fold.setdefault("roc_auc_k0_model", []).append(roc_auc(yk[te], p_k0[te]))
            if 0 < yam[te].sum() < len(te):
                aucs = {m: roc_auc(yam[te], p[te]) for m, p in p_am.items()}
                for m, v in aucs.items():
                    by_fold.setdefault(f"roc_auc_am_{m}", []).append(v)
                by_fold.setdefault("roc_auc_am_model_minus_best_baseline", []).append(
                    aucs["model"] - max(v for m, v in aucs.items() if m != "model")
                )
            for k in (1, 3):
                model = np.mean(fold_hits.get(f"top{k}_model", [np.nan]))
                best = max(
                    np.mean(fold_hits.get(f"top{k}_{b}", [np.nan]))
                    for b in ("uniform", "heuristic", "superexchange")
                )
                by_fold.setdefault(f"top{k}_model_minus_best_baseline", []).append(
                    float(model - best)
                )
        for name, h in hits.items():
            add(name, float(np.mean(h)))
        add("roc_auc_k0_model", roc_auc(yk, p_k0))
        add("brier_k0_model", float(np.mean((p_k0 - yk) ** 2)))
        add("brier_k0_base_rate", float(np.mean((yk.mean() - yk) ** 2)))
        for name, p in p_am.items():
            add(f"roc_auc_am_{name}", roc_auc(yam, p))
            add(f"brier_am_{name}", float(np.mean((p - yam) ** 2)))
        if seed == seeds[0]:
            pooled = {"p_k0": p_k0, "y_k0": yk, "p_am": p_am["model"], "y_am": yam}
        if log:
            log(f"seed {seed}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in values.items()))
    summary = FoldScores(values).summary()
    for name, fold_values in by_fold.items():
        arr = np.asarray(fold_values, float)
        arr = arr[np.isfinite(arr)]
        row: dict[str, float] = summary.setdefault(
            name, {"mean": float(arr.mean()), "std": 0.0, "n_seeds": 0}
        )
        row["fold_std"] = float(arr.std())
        row["n_folds"] = int(arr.size)
        if name.endswith("minus_best_baseline"):
            row["mean"] = float(arr.mean())
    return summary, pooled


def _gk(x: np.ndarray) -> np.ndarray:
    from altermag.ml.magndata import gk_energy

    return gk_energy(x) if len(x) else np.zeros(0)


def _order_scores(e: Entry, default: bool) -> list[float]:
    """The neighbour heuristic of the default enumeration's orders (anti_shell1/2 weighted)."""
    x, _ = _default_orders(e) if default else (e.order_x, e.order_verdicts)
    a1 = x[:, ORDER_FEATURES.index("anti_shell1")]
    a2 = x[:, ORDER_FEATURES.index("anti_shell2")]
    return list(np.round(0.75 * a1 + 0.25 * a2, 4))


def train_prior(
    entries: Sequence[Entry],
    out: Path | str = DEFAULT_PRIOR,
    metrics: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Fit both models on every entry and write the checkpoint (weights + model card)."""
    t0 = time.perf_counter()
    xk = np.array([e.crystal_x for e in entries])
    yk = np.array([e.k0 for e in entries], float)
    w, mean, scale = fit_k0(xk, yk)
    ranked = [e for e in entries if e.ground_state is not None]
    rw = fit_ranker([e.order_x for e in ranked], [int(e.ground_state or 0) for e in ranked])
    k0 = [e for e in entries if e.k0]
    p_enumerated = sum(e.ground_state is not None for e in k0) / max(len(k0), 1)
    weights = {
        "p_enumerated_given_k0": round(p_enumerated, 6),
        "k0": [round(float(v), 6) for v in w],
        "k0_mean": [round(float(v), 6) for v in mean],
        "k0_scale": [round(float(v), 6) for v in scale],
        "order": [round(float(v), 6) for v in rw],
    }
    version = hashlib.sha256(json.dumps(weights, sort_keys=True).encode()).hexdigest()[:12]
    card: dict[str, Any] = {
        "name": "altermag-ground-state-prior",
        "version": f"prior-{version}",
        "task": "P(k=0) of a crystal; P(ground state) of each enumerated k=0 collinear order; "
        "P(altermagnetic ground state) = P(k=0) x the altermagnetic orders' mass",
        "crystal_features": list(CRYSTAL_FEATURES),
        "order_features": list(ORDER_FEATURES),
        "weights": weights,
        "regularisation": {"k0_l2": K0_L2, "ranker_l2": RANKER_L2},
        "data": {
            "source": "MAGNDATA commensurate structures (mCIF, read from Settings.magndata_dir; "
            "not shipped), labels in checkpoints/magndata_labels.json.gz",
            "n_k0_model": len(entries),
            "n_k0_positive": int(yk.sum()),
            "n_ranker": len(ranked),
            "n_ranker_moment_filtered": sum(e.moment_filtered for e in ranked),
            "trained_k0_ids": sorted(e.id for e in entries),
            "trained_ranker_ids": sorted(e.id for e in ranked),
            "held_back": "115 files (63 compounds) withheld from the folder by its curator for "
            "an independent evaluation; none of them trained or evaluated this model",
        },
        "metrics": metrics or {},
        "environment": {"python": platform.python_version(), "numpy": np.__version__},
        "train_seconds": round(time.perf_counter() - t0, 2),
        **(extra or {}),
    }
    Path(out).write_text(json.dumps(card, indent=1) + "\n")
    return card
