"""Frozen CHGNet embedding versus the shipped GNN: same heads, same splits.

Run: ``nice .venv/bin/python benchmarks/eval_chgnet.py`` (about 10 minutes on one busy core
the first time: the CHGNet embeddings of ~5,960 crystals are computed and cached in the
system temp directory; a rerun takes about a minute). Needs the optional ``chgnet`` package.
Writes ``benchmarks/eval_chgnet.json``.

Encoders compared (all frozen; only a head is trained on top):

* ``gnn``: the 64-d crystal embedding of the shipped checkpoint's encoder;
* ``chgnet``: the 64-d mean of CHGNet 0.3.0's final atom features
  (:func:`altermag.ml.chgnet_encoder.chgnet_embeddings`);
* ``gnn+chgnet``: both, concatenated (128-d);

each with the same heads (:class:`~altermag.ml.chgnet_encoder.FrozenHead`: class-balanced
logistic regression, and a 64→32→1 MLP), against the shipped GNN's own classifier.

1. Held-out split of the symmetry-derived labels: the checkpoint's own test crystals (ids in
   its model card, as ``benchmarks/eval_model.py``), heads trained on the other corpus
   crystals; ROC-AUC and PR-AUC.
2. Curated known set, as ``benchmarks/eval_known.py``: each curated altermagnet ranked among
   the corpus crystals that cannot host an altermagnetic k = 0 order plus the curated
   non-altermagnets, by the heads of (1); recall at the top 5 % and median rank. About 80 %
   of those corpus negatives are training data of every scorer (heads and shipped GNN), so
   the ranking is repeated against an *unseen* pool: the held-out split's negatives plus the
   curated non-altermagnets, which no scorer was trained on.
3. Chemistry shift (the ablation of ``benchmarks/eval_model.py``, same draw of crystals):
   heads trained on oxides + fluorides, tested on pnictides + chalcogenides, raw and after
   OT adaptation of the target embeddings.

CHGNet has no embedding for elements beyond Pu: the crystals that hold one (55 corpus
entries with Am, Cm, Bk, Cf) are left out of every comparison, for every encoder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from altermag.ml.adapt import AdaptConfig, adapt_embeddings
from altermag.ml.checkpoint import DEFAULT_CHECKPOINT, Scorer, file_hash
from altermag.ml.chgnet_encoder import (
    CHGNET_VERSION,
    FrozenHead,
    HeadConfig,
    chgnet_embeddings,
    chgnet_supported,
    load_chgnet,
)
from altermag.ml.dataset import labeled_set
from altermag.ml.finetune import embed_and_score
from altermag.ml.graphs import GraphConfig
from altermag.ml.metrics import average_precision, rank_of, roc_auc
from altermag.structure import MagneticStructure

CACHE_DIR = Path(tempfile.gettempdir()) / "altermag-frozen-embeddings"
HEADS = {"logistic": HeadConfig(kind="logistic"), "mlp": HeadConfig(kind="mlp")}


@dataclass
class FrozenData:
    """The labeled crystals with both frozen embeddings and the shipped model's score."""

    ids: list[str]
    y: np.ndarray  # 0/1
    origin: np.ndarray  # "corpus" / "curated"
    groups: np.ndarray  # chemistry group
    ok: np.ndarray  # CHGNet could embed it (all elements Z <= 94)
    gnn: np.ndarray  # (n, 64) shipped-encoder embedding
    gnn_prob: np.ndarray  # (n,) shipped classifier probability
    chgnet: np.ndarray  # (n, 64), NaN rows where not ok
    chgnet_rate: dict  # CHGNet structures/s and the load average when the cache was made

    def encoder(self, name: str) -> np.ndarray:
        """Embeddings of one encoder: ``gnn``, ``chgnet`` or ``gnn+chgnet``."""
        if name == "gnn":
            return self.gnn
        if name == "chgnet":
            return self.chgnet
        if name == "gnn+chgnet":
            return np.hstack([self.gnn, self.chgnet])
        raise ValueError(name)


def _cache_key(structures: list[MagneticStructure]) -> str:
    digest = hashlib.sha256(CHGNET_VERSION.encode())
    for s in structures:
        digest.update(s.with_moments(None).content_hash().encode())
    return digest.hexdigest()[:20]


def cached_chgnet(
    structures: list[MagneticStructure], chunk: int = 256, log: bool = True
) -> tuple[np.ndarray, np.ndarray, dict]:
    """CHGNet embeddings (NaN rows where refused), the ok mask and the throughput.

    The throughput (crystals/s, CHGNet graph building included, one torch thread) and the
    1-minute load average at the end are measured when the cache is made.

    Cached in the system temp directory under a hash of the structures (never in the repo).
    """
    path = CACHE_DIR / f"chgnet-{_cache_key(structures)}.npz"
    if path.exists():
        with np.load(path) as cached:
            return cached["emb"], cached["ok"], json.loads(str(cached["rate"]))
    model = load_chgnet()
    ok = np.array([chgnet_supported(s) for s in structures])
    emb = np.full((len(structures), 64), np.nan, np.float32)
    todo = np.flatnonzero(ok)
    t0 = time.perf_counter()
    for start in range(0, todo.size, chunk):
        idx = todo[start : start + chunk]
        try:
            emb[idx] = chgnet_embeddings([structures[i] for i in idx], model)
        except Exception:  # one bad crystal (e.g. an isolated atom): embed one by one
            for i in idx:
                try:
                    emb[i] = chgnet_embeddings([structures[i]], model)[0]
                except Exception:
                    ok[i] = False
        if log:
            done = min(start + chunk, todo.size)
            rate = done / (time.perf_counter() - t0)
            print(f"chgnet: {done}/{todo.size} crystals, {rate:.1f} /s", flush=True)
    seconds = time.perf_counter() - t0
    rate = {
        "crystals": int(todo.size),
        "seconds": seconds,
        "crystals_per_s": todo.size / seconds,
        "mean_atoms": float(np.mean([len(structures[i]) for i in todo])),
        "load_average_1min": os.getloadavg()[0],
        "torch_threads": torch.get_num_threads(),
    }
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.savez(path, emb=emb, ok=ok, rate=json.dumps(rate))
    return emb, ok, rate


def load_frozen(checkpoint: Path = DEFAULT_CHECKPOINT) -> tuple[FrozenData, Scorer]:
    """Labeled corpus + curated crystals with both frozen embeddings (CHGNet cached)."""
    data = labeled_set(GraphConfig())
    scorer = Scorer(checkpoint)
    gnn, gnn_prob = embed_and_score(scorer.model, data.graphs, scorer.graph_config)
    chg, ok, rate = cached_chgnet(data.structures)
    frozen = FrozenData(
        ids=list(data.ids),
        y=data.y.astype(int),
        origin=np.asarray(data.origin),
        groups=np.asarray(data.groups),
        ok=ok,
        gnn=gnn,
        gnn_prob=gnn_prob,
        chgnet=chg,
        chgnet_rate=rate,
    )
    return frozen, scorer


def fit_predict(
    head: str, emb: np.ndarray, y: np.ndarray, train: np.ndarray, score: np.ndarray
) -> np.ndarray:
    """Train a fresh head on ``train`` rows and score ``score`` rows."""
    model = FrozenHead(HEADS[head]).fit(emb[train], y[train])
    return model.predict(emb[score])


def curated_ranks(
    scores: np.ndarray,
    frozen: FrozenData,
    positives: np.ndarray,
    pool: np.ndarray | None = None,
) -> dict:
    """Rank of each curated altermagnet among negatives.

    Default pool: all corpus + curated negatives (``benchmarks/eval_known.py``).
    """
    if pool is None:
        pool = np.flatnonzero(frozen.ok & (frozen.y == 0))
    n = pool.size + 1
    cut = int(np.ceil(0.05 * n))
    ranks = {frozen.ids[i]: rank_of(float(scores[i]), scores[pool]) for i in positives}
    values = np.array(list(ranks.values()))
    return {
        "n_positives": int(values.size),
        "pool": int(pool.size),
        "top5pct_rank": cut,
        "recall_top5pct": float(np.mean(values <= cut)),
        "median_rank": float(np.median(values)),
        "ranks": ranks,
    }


def held_out(frozen: FrozenData, scorer: Scorer) -> dict:
    """Sections 1 and 2: the checkpoint's held-out split, then the curated ranking."""
    test_ids = set(scorer.card["test_ids"])
    corpus = frozen.origin == "corpus"
    in_test = np.array([i in test_ids for i in frozen.ids])
    test = np.flatnonzero(corpus & in_test & frozen.ok)
    train = np.flatnonzero(corpus & ~in_test & frozen.ok)
    positives = np.flatnonzero((frozen.origin == "curated") & (frozen.y == 1) & frozen.ok)
    y = frozen.y
    # a pool no scorer was trained on: held-out corpus negatives + curated negatives
    unseen = np.concatenate(
        [test[y[test] == 0], np.flatnonzero((frozen.origin == "curated") & (y == 0) & frozen.ok)]
    )
    rows = []

    def row(encoder: str, head: str, scores: np.ndarray, seconds: float) -> None:
        cur = curated_ranks(scores, frozen, positives)
        clean = curated_ranks(scores, frozen, positives, unseen)
        rows.append(
            {
                "encoder": encoder,
                "head": head,
                "roc_auc": roc_auc(y[test], scores[test]),
                "pr_auc": average_precision(y[test], scores[test]),
                "train_roc_auc": roc_auc(y[train], scores[train]),
                "curated_recall_top5pct": cur["recall_top5pct"],
                "curated_median_rank": cur["median_rank"],
                "curated_ranks": cur["ranks"],
                "unseen_pool_recall_top5pct": clean["recall_top5pct"],
                "unseen_pool_median_rank": clean["median_rank"],
                "unseen_pool_ranks": clean["ranks"],
                "head_seconds": seconds,
            }
        )
        short = {k: v for k, v in rows[-1].items() if not k.endswith("ranks")}
        print(json.dumps(short), flush=True)

    row("shipped GNN", "own classifier", frozen.gnn_prob, 0.0)
    everything = np.arange(len(frozen.ids))
    for encoder in ("gnn", "chgnet", "gnn+chgnet"):
        emb = frozen.encoder(encoder)
        for head in HEADS:
            t0 = time.perf_counter()
            scores = np.zeros(len(frozen.ids))
            scores[frozen.ok] = fit_predict(head, emb, y, train, everything[frozen.ok])
            row(encoder, head, scores, time.perf_counter() - t0)
    pool = curated_ranks(frozen.gnn_prob, frozen, positives)
    unseen_pool = curated_ranks(frozen.gnn_prob, frozen, positives, unseen)
    return {
        "n_train": int(train.size),
        "n_test": int(test.size),
        "n_test_ids_in_card": len(test_ids),
        "test_positive_rate": float(y[test].mean()),
        "n_curated_positives": int(positives.size),
        "curated_pool": pool["pool"],
        "curated_top5pct_rank": pool["top5pct_rank"],
        "unseen_pool": unseen_pool["pool"],
        "unseen_pool_top5pct_rank": unseen_pool["top5pct_rank"],
        "rows": rows,
    }


def _pick(idx: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    # the same draw as benchmarks/eval_model.py chemistry_shift
    return np.sort(rng.choice(idx, size=min(n, idx.size), replace=False))


def chemistry_shift(frozen: FrozenData, args: argparse.Namespace) -> dict:
    """Section 3: oxides + fluorides → pnictides + chalcogenides, frozen CHGNet + heads."""
    rng = np.random.default_rng(args.seed)
    corpus = frozen.origin == "corpus"
    src = _pick(np.flatnonzero((frozen.groups == "oxide_fluoride") & corpus), args.max_train, rng)
    tgt = _pick(
        np.flatnonzero((frozen.groups == "pnictide_chalcogenide") & corpus), args.max_test, rng
    )
    src, tgt = src[frozen.ok[src]], tgt[frozen.ok[tgt]]
    y = frozen.y
    emb = frozen.chgnet
    rows = []
    for head in HEADS:
        model = FrozenHead(HEADS[head]).fit(emb[src], y[src])
        source_auc = roc_auc(y[src], model.predict(emb[src]))
        results = {"raw": model.predict(emb[tgt])}
        for method in ("sinkhorn", "lpl1"):
            mapped = adapt_embeddings(emb[src], y[src], emb[tgt], AdaptConfig(method=method))
            results[f"OT {method}"] = model.predict(mapped)
        for name, scores in results.items():
            rows.append(
                {
                    "encoder": "chgnet (frozen)",
                    "head": head,
                    "adaptation": name,
                    "source_roc_auc": source_auc,
                    "target_roc_auc": roc_auc(y[tgt], scores),
                    "target_pr_auc": average_precision(y[tgt], scores),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return {
        "n_source": int(src.size),
        "n_target": int(tgt.size),
        "target_positive_rate": float(y[tgt].mean()),
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-train", type=int, default=1500)
    parser.add_argument("--max-test", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/eval_chgnet.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    frozen, scorer = load_frozen()
    report: dict[str, object] = {
        "chgnet_version": CHGNET_VERSION,
        "checkpoint_version_hash": file_hash(DEFAULT_CHECKPOINT)[:16],
        "n_crystals": len(frozen.ids),
        "n_refused_by_chgnet": int((~frozen.ok).sum()),
        "refused_ids": [i for i, ok in zip(frozen.ids, frozen.ok, strict=True) if not ok],
        "chgnet_throughput": frozen.chgnet_rate,
        "heads": {name: cfg.__dict__ for name, cfg in HEADS.items()},
    }
    report["held_out_split"] = held_out(frozen, scorer)
    report["chemistry_shift"] = chemistry_shift(frozen, args)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
