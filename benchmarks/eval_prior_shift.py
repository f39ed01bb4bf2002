"""How far the screening source's crystals are from MAGNDATA's, in the prior's descriptors.

    .venv/bin/python benchmarks/eval_prior_shift.py --cache entries.pkl [--n 400]

A logistic domain classifier (MAGNDATA entry vs embedded-corpus crystal) on the crystal
descriptors, scored by ROC-AUC on 5 folds grouped by reduced formula: 0.5 = no visible shift,
1.0 = fully separable. Also the mean P(k = 0) and P(AM ground state) on each side. Writes
``benchmarks/eval_prior_shift.json``.
"""

from __future__ import annotations

import argparse
import json
import pickle
from itertools import islice
from pathlib import Path

import numpy as np

from altermag.ml.magndata import compound_group
from altermag.ml.metrics import roc_auc
from altermag.ml.prior import crystal_features, geometry, load_prior, order_features, sigmoid
from altermag.ml.train_prior import fit_k0, grouped_folds
from altermag.ranking import order_cell
from altermag.sources import get_source
from altermag.symmetry import analyze

OUT = Path(__file__).resolve().with_suffix(".json")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, required=True, help="entries pickle of eval_prior.py")
    ap.add_argument("--n", type=int, default=400)
    args = ap.parse_args()
    entries, _ = pickle.loads(args.cache.read_bytes())
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
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(out)


if __name__ == "__main__":
    main()
