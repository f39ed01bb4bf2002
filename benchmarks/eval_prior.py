"""Train and evaluate the ground-state prior on MAGNDATA (grouped folds, baselines, figures).

    .venv/bin/python benchmarks/eval_prior.py [--cache entries.pkl] [--seeds 5] [--write]

Reads the mCIF files from ``Settings.magndata_dir`` (never shipped), builds labels and
descriptors (:mod:`altermag.ml.magndata`), runs the grouped cross-validation of the prior and
its baselines (:func:`altermag.ml.train_prior.cross_validate`), writes
``benchmarks/eval_prior.json`` and the figures in ``docs/img/prior-*.png``; with ``--write``
also refits on every entry and replaces the shipped checkpoint, labels and the OT option's
support (the training descriptors, :mod:`altermag.ml.transport`).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path

import numpy as np

from altermag.config import get_settings
from altermag.ml.magndata import LABELS_PATH, build_entries, save_labels
from altermag.ml.prior import DEFAULT_PRIOR
from altermag.ml.train_prior import cross_validate, train_prior
from altermag.ml.transport import save_support

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"


def reliability(ax, p: np.ndarray, y: np.ndarray, title: str, bins: int = 10) -> None:
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    xs, ys, ns = [], [], []
    for b in range(bins):
        sel = idx == b
        if sel.sum() >= 5:
            xs.append(p[sel].mean())
            ys.append(y[sel].mean())
            ns.append(int(sel.sum()))
    ax.plot([0, 1], [0, 1], color="#999", lw=1, ls="--")
    ax.plot(xs, ys, "o-", color="#1f5fa8")
    for x, yy, n in zip(xs, ys, ns, strict=True):
        ax.annotate(str(n), (x, yy), fontsize=6, xytext=(2, -8), textcoords="offset points")
    ax.set_xlabel("predicted probability (out of fold)")
    ax.set_ylabel("observed fraction")
    ax.set_title(title, fontsize=9)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)


def figures(summary: dict, pooled: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ["uniform", "heuristic", "superexchange", "model"]
    labels = ["uniform", "antiparallel\nneighbours", "superexchange\nangle", "prior"]
    fig, ax = plt.subplots(figsize=(5.6, 3.0), dpi=100)
    for k, (top, color) in enumerate(((1, "#1f5fa8"), (3, "#9ec1e6"))):
        means = [summary[f"top{top}_{n}"]["mean"] for n in names]
        errs = [summary[f"top{top}_{n}"].get("fold_std", 0.0) for n in names]
        xs = np.arange(len(names)) + (k - 0.5) * 0.38
        ax.bar(xs, means, 0.36, yerr=errs, color=color, label=f"top-{top}", capsize=2)
    ax.set_xticks(np.arange(len(names)), labels, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("experimental order found")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    ax.set_title("Ground-state order among the enumerated ones (grouped 5-fold)", fontsize=9)
    fig.tight_layout()
    fig.savefig(IMG / "prior-topk.png")
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.0), dpi=100)
    reliability(
        axes[0],
        pooled["p_k0"],
        pooled["y_k0"],
        f"P(k=0), ROC-AUC {summary['roc_auc_k0_model']['mean']:.2f}",
    )
    reliability(
        axes[1],
        pooled["p_am"],
        pooled["y_am"],
        f"P(AM ground state), ROC-AUC {summary['roc_auc_am_model']['mean']:.2f}",
    )
    fig.tight_layout()
    fig.savefig(IMG / "prior-reliability.png")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, help="pickle of the built entries (read or write)")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--write", action="store_true", help="replace the shipped prior and labels")
    args = ap.parse_args(argv)
    if args.cache and args.cache.is_file():
        entries, skipped = pickle.loads(args.cache.read_bytes())
    else:
        entries, skipped = build_entries(get_settings().magndata_dir, log=print)
        if args.cache:
            args.cache.write_bytes(pickle.dumps((entries, skipped)))
    summary, pooled = cross_validate(entries, seeds=tuple(range(args.seeds)), log=print)
    out = {
        "n_entries": len(entries),
        "n_k0": sum(e.k0 for e in entries),
        "n_ranked": sum(e.ground_state is not None for e in entries),
        "n_ranked_moment_filtered": sum(e.moment_filtered for e in entries),
        "n_altermagnetic_ground_state": sum(e.altermagnetic_ground_state for e in entries),
        "n_groups": len({e.group for e in entries}),
        "skipped_files": skipped,
        "metrics": summary,
    }
    (ROOT / "benchmarks" / "eval_prior.json").write_text(json.dumps(out, indent=1) + "\n")
    figures(summary, pooled)
    for k, v in summary.items():
        folds = f" (folds ± {v['fold_std']:.3f})" if "fold_std" in v else ""
        print(f"{k:40s} {v['mean']:.3f} ± {v['std']:.3f}{folds}")
    if args.write:
        card = train_prior(
            entries, DEFAULT_PRIOR, metrics=summary, extra={"skipped_files": skipped}
        )
        save_labels(entries, LABELS_PATH)
        # the OT option's support follows the checkpoint (altermag.ml.transport)
        ranker_rows = np.vstack([e.order_x for e in entries if e.ground_state is not None])
        support = save_support(
            [e.id for e in entries], np.array([e.crystal_x for e in entries]), ranker_rows
        )
        print(card["version"], DEFAULT_PRIOR, LABELS_PATH, support)
    return 0


if __name__ == "__main__":
    sys.exit(main())
