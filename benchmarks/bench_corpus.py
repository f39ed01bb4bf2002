"""Screening corpus: how fast it is read and rebuilt, and what it holds.

Prints the entries per second of ``altermag.data.corpus()`` (structures built from the
gzip'd JSON lines), the wall time of a deterministic slice rebuild (first ``--limit``
prototypes, one process) and, with ``--full``, of the whole rebuild on all cores (it also
checks the result is byte-identical to the shipped file). Ends with a summary of the
corpus: entries, prototypes used, cell sizes, most common magnetic elements.

Usage: ``python benchmarks/bench_corpus.py [--limit 6] [--full]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from altermag.data import corpus
from altermag.data.corpus_build import CORPUS_FILE, build_corpus, encode_entries
from altermag.elements import MAGNETIC_ELEMENTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=6, help="prototypes in the slice rebuild")
    parser.add_argument("--full", action="store_true", help="also time the full rebuild")
    args = parser.parse_args()

    start = time.perf_counter()
    entries = list(corpus())
    read_s = time.perf_counter() - start
    print(f"read corpus: {len(entries)} entries in {read_s:.2f} s ({len(entries) / read_s:,.0f}/s)")

    start = time.perf_counter()
    records = build_corpus(limit=args.limit, processes=1)
    print(
        f"slice rebuild (first {args.limit} prototypes, 1 process): {len(records)} entries "
        f"in {time.perf_counter() - start:.1f} s"
    )

    if args.full:
        start = time.perf_counter()
        records = build_corpus()
        full_s = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "corpus.jsonl.gz"
            out.write_bytes(encode_entries(records))
            same = out.read_bytes() == CORPUS_FILE.read_bytes()
        print(
            f"full rebuild (all cores): {len(records)} entries in {full_s:.0f} s; identical: {same}"
        )

    sizes = np.array([len(e.structure) for e in entries])
    prototypes = {(e.provenance["prototype"], e.provenance["prototype_formula"]) for e in entries}
    magnetic = Counter(el for e in entries for el in set(e.structure.species) & MAGNETIC_ELEMENTS)
    print(f"file: {CORPUS_FILE.stat().st_size / 1e6:.2f} MB; prototypes used: {len(prototypes)}")
    print(
        f"sites: median {int(np.median(sizes))}, ≤20: {np.mean(sizes <= 20):.0%}, max {sizes.max()}"
    )
    print("magnetic elements:", ", ".join(f"{el} {n}" for el, n in magnetic.most_common(12)))


if __name__ == "__main__":
    main()
