"""The shift MAGNDATA → screening source, and whether optimal transport helps on such a shift.

    .venv/bin/python benchmarks/eval_prior_shift.py --cache entries.pkl [--n 400]
    .venv/bin/python benchmarks/eval_prior_shift.py --cache entries.pkl --ot [--seeds 5]

Without ``--ot``: a logistic domain classifier (MAGNDATA entry vs embedded-corpus crystal) on
the crystal descriptors, scored by ROC-AUC on 5 folds grouped by reduced formula: 0.5 = no
visible shift, 1.0 = fully separable. Also the mean P(k = 0) on each side.

With ``--ot``: the corpus side has no ground-state labels, so the benefit of OT is measured on
a *labelled stand-in of the same kind* (the domain classifier found the shift to be mostly
chemistry): within MAGNDATA, **source = crystals with an oxide or halide ligand (O, F, Cl, Br,
I)**, **target = every other crystal** (chalcogenides, pnictides, carbides/borides/hydrides,
ligand-free intermetallics). The two sides share no formula. Folds are grouped by reduced
formula inside each side; for fold f of seed s the prior is trained on the source crystals
outside fold f and evaluated on the target crystals in fold f, three ways on the same crystals:

* ``plain``: the source-trained prior as is;
* ``ot_emd`` / ``ot_sinkhorn``: the target's descriptors transported onto the source training
  descriptors before scoring (:mod:`altermag.ml.transport`: standardised crystal descriptors for
  P(k = 0), order descriptors for the ranker; exact EMD, and entropic Sinkhorn);
* ``in_domain``: a prior trained on the target crystals outside fold f (the ceiling: how much
  the shift costs at all).

Metrics: top-1/top-3 of the experimental order, ROC-AUC of P(k = 0) and of P(AM ground state);
the paired difference OT − plain per fold, mean ± std over all folds of all seeds. Both parts
write into ``benchmarks/eval_prior_shift.json`` (each keeps the other's keys).
"""

from __future__ import annotations

import argparse
import json
import pickle
from itertools import islice
from pathlib import Path

import numpy as np

from altermag.ml.magndata import Entry, compound_group
from altermag.ml.metrics import roc_auc
from altermag.ml.prior import (
    CRYSTAL_FEATURES,
    crystal_features,
    geometry,
    load_prior,
    order_features,
    sigmoid,
    softmax,
)
from altermag.ml.train_prior import fit_k0, fit_ranker, grouped_folds, topk_hit
from altermag.ml.transport import save_support, transport
from altermag.ranking import order_cell
from altermag.sources import get_source
from altermag.symmetry import analyze

OUT = Path(__file__).resolve().with_suffix(".json")


def _write(update: dict) -> None:
    old = json.loads(OUT.read_text()) if OUT.is_file() else {}
    OUT.write_text(json.dumps({**old, **update}, indent=1) + "\n")


def is_source(e: Entry) -> bool:
    """The stand-in's source side: an oxide or halide ligand (O, F, Cl, Br, I) in the crystal."""
    x = e.crystal_x
    return bool(x[CRYSTAL_FEATURES.index("lig_oxide")] or x[CRYSTAL_FEATURES.index("lig_halide")])


def _orders(e: Entry) -> tuple[np.ndarray, list[str]]:
    if e.moment_filtered and e.default_x is not None and e.default_verdicts is not None:
        return e.default_x, e.default_verdicts
    return e.order_x, e.order_verdicts


def _am_mass(p: np.ndarray, verdicts: list[str]) -> float:
    am = np.array([v == "altermagnet" for v in verdicts], bool)
    return float(np.sum(p[am])) if len(p) else 0.0


def _fit(train: list[Entry]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    xk = np.array([e.crystal_x for e in train])
    w, mean, scale = fit_k0(xk, np.array([e.k0 for e in train], float))
    ranked = [e for e in train if e.ground_state is not None]
    rw = fit_ranker([e.order_x for e in ranked], [int(e.ground_state or 0) for e in ranked])
    k0 = [e for e in train if e.k0]
    enumerated = sum(e.ground_state is not None for e in k0) / max(len(k0), 1)
    return w, mean, scale, rw, enumerated


def _score(
    test: list[Entry],
    model: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float],
    xc: np.ndarray,
    xo: list[np.ndarray],
    xd: list[np.ndarray],
) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """Metrics of one model on ``test`` with the given (possibly transported) descriptors."""
    w, mean, scale, rw, enumerated = model
    z = (xc - mean) / scale
    z[:, 0] = 1.0
    p_k0 = sigmoid(z @ w)
    yk = np.array([e.k0 for e in test], float)
    yam = np.array([e.altermagnetic_ground_state for e in test], float)
    p_am = np.array(
        [
            p * enumerated * _am_mass(softmax(d @ rw), _orders(e)[1]) if len(d) else 0.0
            for e, p, d in zip(test, p_k0, xd, strict=True)
        ]
    )
    out: dict[str, float] = {}
    ranked = [
        (o, int(e.ground_state))
        for e, o in zip(test, xo, strict=True)
        if e.ground_state is not None
    ]
    for k in (1, 3):
        out[f"top{k}"] = float(np.mean([topk_hit(o @ rw, y, k) for o, y in ranked]))
    out["roc_auc_k0"] = roc_auc(yk, p_k0) if 0 < yk.sum() < len(yk) else float("nan")
    out["roc_auc_am"] = roc_auc(yam, p_am) if 0 < yam.sum() < len(yam) else float("nan")
    return out, p_k0, p_am


def _rows(xs: list[np.ndarray], width: int) -> np.ndarray:
    return np.vstack([x for x in xs if len(x)]) if any(len(x) for x in xs) else np.zeros((0, width))


def _split_rows(flat: np.ndarray, like: list[np.ndarray]) -> list[np.ndarray]:
    cuts = np.cumsum([len(x) for x in like])[:-1]
    return list(np.split(flat, cuts)) if len(like) else []


def ot_shift(entries: list[Entry], n_folds: int, seeds: int) -> dict:
    """The chemistry-shift stand-in (module docstring): per-fold metrics and paired OT gains."""
    src = [e for e in entries if is_source(e)]
    tgt = [e for e in entries if not is_source(e)]
    assert not {e.group for e in src} & {e.group for e in tgt}
    variants = ("plain", "ot_emd", "ot_sinkhorn", "in_domain")
    metrics = ("top1", "top3", "roc_auc_k0", "roc_auc_am")
    per: dict[str, dict[str, list[float]]] = {v: {m: [] for m in metrics} for v in variants}
    width = len(_orders(tgt[0])[0][0]) if tgt else 0
    yk = np.array([e.k0 for e in tgt], float)
    yam = np.array([e.altermagnetic_ground_state for e in tgt], float)
    pooled: dict[str, dict[str, list[float]]] = {v: {} for v in variants}
    for seed in range(seeds):
        pk0 = {v: np.zeros(len(tgt)) for v in variants}
        pam = {v: np.zeros(len(tgt)) for v in variants}
        fs = grouped_folds([e.group for e in src], n_folds, seed)
        ft = grouped_folds([e.group for e in tgt], n_folds, seed)
        for f in range(n_folds):
            train = [e for e, k in zip(src, fs, strict=True) if k != f]
            test = [e for e, k in zip(tgt, ft, strict=True) if k == f]
            model = _fit(train)
            xc = np.array([e.crystal_x for e in test])
            xo = [e.order_x for e in test]
            xd = [_orders(e)[0] for e in test]
            idx = np.flatnonzero(ft == f)
            res = {"plain": _score(test, model, xc, xo, xd)}
            sup_c = np.array([e.crystal_x for e in train])
            sup_o = _rows([e.order_x for e in train if e.ground_state is not None], width)
            for method in ("emd", "sinkhorn"):
                tc = transport(xc, sup_c, method, seed=seed)  # type: ignore[arg-type]
                # the order rows scored for top-k and for P(AM) share one coupling
                both = xo + xd
                to = _split_rows(transport(_rows(both, width), sup_o, method, seed=seed), both)  # type: ignore[arg-type]
                res[f"ot_{method}"] = _score(test, model, tc, to[: len(xo)], to[len(xo) :])
            tin = [e for e, k in zip(tgt, ft, strict=True) if k != f]
            res["in_domain"] = _score(test, _fit(tin), xc, xo, xd)
            for v in variants:
                for m in metrics:
                    per[v][m].append(res[v][0][m])
                pk0[v][idx] = res[v][1]
                pam[v][idx] = res[v][2]
            print(
                f"seed {seed} fold {f}: "
                + "; ".join(
                    f"{v} " + " ".join(f"{res[v][0][m]:.3f}" for m in metrics) for v in variants
                ),
                flush=True,
            )
        for v in variants:
            pooled[v].setdefault("roc_auc_k0", []).append(roc_auc(yk, pk0[v]))
            pooled[v].setdefault("roc_auc_am", []).append(roc_auc(yam, pam[v]))

    def stat(a: list[float]) -> dict[str, float]:
        arr = np.asarray(a, float)
        arr = arr[np.isfinite(arr)]
        return {
            "mean": round(float(arr.mean()), 4),
            "std": round(float(arr.std()), 4),
            "n": int(arr.size),
        }

    out: dict = {
        "split": "source = crystals with O, F, Cl, Br or I; target = all other MAGNDATA entries",
        "n_source": len(src),
        "n_target": len(tgt),
        "n_target_ranked": sum(e.ground_state is not None for e in tgt),
        "n_target_k0": sum(e.k0 for e in tgt),
        "n_target_am": sum(e.altermagnetic_ground_state for e in tgt),
        "n_folds": n_folds,
        "seeds": seeds,
        "metrics": {v: {m: stat(per[v][m]) for m in metrics} for v in variants},
        "per_fold": "mean ± std over every fold of every seed (top-k over the fold's ranked "
        "crystals; ROC-AUC within the fold, folds without both classes dropped)",
        "pooled_per_seed": "ROC-AUC of the out-of-fold predictions of all target crystals, "
        "mean ± std over seeds (the target has few altermagnetic ground states)",
        "pooled_roc_auc": {v: {m: stat(pooled[v][m]) for m in pooled[v]} for v in variants},
        "pooled_paired_minus_plain": {
            v: {m: stat(list(np.subtract(pooled[v][m], pooled["plain"][m]))) for m in pooled[v]}
            for v in variants
            if v != "plain"
        },
        "paired_minus_plain": {
            v: {m: stat(list(np.subtract(per[v][m], per["plain"][m]))) for m in metrics}
            for v in variants
            if v != "plain"
        },
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, required=True, help="entries pickle of eval_prior.py")
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--ot", action="store_true", help="the OT measurement on the chemistry shift")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument(
        "--write-support",
        action="store_true",
        help="write the OT option's support (descriptors of the shipped prior's training set)",
    )
    args = ap.parse_args()
    entries, _ = pickle.loads(args.cache.read_bytes())
    if args.write_support:
        prior = load_prior()
        assert prior is not None
        data = prior.card["data"]
        k0_ids, ranker_ids = set(data["trained_k0_ids"]), set(data["trained_ranker_ids"])
        crystal = [e for e in entries if e.id in k0_ids]
        assert len(crystal) == len(k0_ids), "entries are not the ones that trained the prior"
        rows = np.vstack([e.order_x for e in entries if e.id in ranker_ids])
        path = save_support([e.id for e in crystal], np.array([e.crystal_x for e in crystal]), rows)
        print(path, path.stat().st_size, "bytes")
        return
    if args.ot:
        res = ot_shift(entries, args.folds, args.seeds)
        _write({"chemistry_shift_ot": res})
        print(json.dumps(res, indent=1))
        return
    prior = load_prior()
    assert prior is not None
    xs, groups = [], []
    records = islice((r for p in get_source("corpus").pages() for r in p.records), args.n)
    for rec in records:
        if rec.structure is None:
            continue
        res = analyze(rec.structure)
        if not res.orders:
            continue
        cell = order_cell(rec.structure, res)
        mag = np.flatnonzero(np.asarray(res.orders[0].signs) != 0)
        geo = geometry(cell, mag)
        xs.append(crystal_features(geo, cell, res, order_features(geo, res.orders)))
        groups.append("corpus:" + compound_group(rec.structure.formula))
    x_src = np.array([e.crystal_x for e in entries if len(e.order_verdicts)])
    g_src = ["magndata:" + e.group for e in entries if len(e.order_verdicts)]
    x = np.vstack([x_src, np.array(xs)])
    y = np.r_[np.zeros(len(x_src)), np.ones(len(xs))]
    groups_all = g_src + groups
    fold = grouped_folds(groups_all, 5, 0)
    p = np.zeros(len(y))
    for f in range(5):
        tr, te = fold != f, fold == f
        w, mean, scale = fit_k0(x[tr], y[tr])
        z = (x[te] - mean) / scale
        z[:, 0] = 1.0
        p[te] = sigmoid(z @ w)
    out = {
        "n_magndata": len(x_src),
        "n_corpus": len(xs),
        "domain_classifier_roc_auc": roc_auc(y, p),
        "mean_p_k0_magndata": float(np.mean(prior.p_k0_from_features(x_src))),
        "mean_p_k0_corpus": float(np.mean(prior.p_k0_from_features(np.array(xs)))),
    }
    _write(out)
    print(out)


if __name__ == "__main__":
    main()
