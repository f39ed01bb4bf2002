"""Held-out evaluation of the shipped GNN on the curated known materials.

The shipped checkpoint was trained on symmetry-derived corpus labels only, so every curated
material is out of sample. Each curated altermagnet is ranked, by the model's raw and
OT-adapted probability, among all corpus crystals that cannot host an altermagnetic k = 0
order plus the curated non-altermagnets (the leave-one-out protocol of the original work,
without retraining since none of these materials was seen in training). Prints recall at the
top 5 % and the median rank.

Usage: ``python benchmarks/eval_known.py``
"""

from __future__ import annotations

import numpy as np

from altermag.data import corpus, known_materials
from altermag.ml.checkpoint import load_scorer
from altermag.ml.dataset import load_corpus_labels
from altermag.ml.metrics import rank_of


def main() -> None:
    scorer = load_scorer()
    labels = load_corpus_labels()
    negatives = [e.structure for e in corpus() if labels.get(e.id) == 0]
    known = known_materials()
    pos = [m for m in known if m.label == "altermagnet"]
    neg_known = [m.structure.with_moments(None) for m in known if m.label != "altermagnet"]
    pool = negatives + neg_known
    pool_emb, pool_raw = scorer.embed(pool)
    pos_emb, pos_raw = scorer.embed([m.structure.with_moments(None) for m in pos])
    adapted = scorer.adapt(np.vstack([pool_emb, pos_emb]))
    pool_ad, pos_ad = adapted[: len(pool)], adapted[len(pool) :]
    n = len(pool) + 1
    cut = int(np.ceil(0.05 * n))
    print(
        f"{len(pos)} curated altermagnets, each ranked among {len(pool)} negatives "
        f"({len(negatives)} corpus crystals without an altermagnetic order + "
        f"{len(neg_known)} curated non-altermagnets); top 5% = rank <= {cut}"
    )
    print(f"{'material':<14} {'wave':>4} {'raw p':>6} {'rank':>6} {'adapted p':>9} {'rank':>6}")
    ranks_raw, ranks_ad = [], []
    for m, r, a in zip(pos, pos_raw, pos_ad, strict=True):
        rr, ra = rank_of(float(r), pool_raw), rank_of(float(a), pool_ad)
        ranks_raw.append(rr)
        ranks_ad.append(ra)
        print(f"{m.id:<14} {m.wave or '':>4} {r:6.3f} {rr:6d} {a:9.3f} {ra:6d}")
    for name, ranks in (("raw", ranks_raw), ("adapted", ranks_ad)):
        ranks = np.array(ranks)
        print(
            f"{name:>8}: recall@top5% = {np.mean(ranks <= cut):.2f}, median rank = "
            f"{int(np.median(ranks))} of {n} (top {np.median(ranks) / n:.1%})"
        )


if __name__ == "__main__":
    main()
