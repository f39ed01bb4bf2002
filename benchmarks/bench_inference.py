"""GNN inference throughput on one core, graph building included.

Run: ``nice .venv/bin/python benchmarks/bench_inference.py [--n 3000]``. Scores corpus
crystals of at most 20 atoms with the shipped checkpoint (raw probability; the OT step is
timed separately in ``bench_ot.py``) and prints crystals per second for graph building,
the network, and both together.
"""

from __future__ import annotations

import argparse
import time

import torch

from altermag.data import corpus
from altermag.ml.checkpoint import DEFAULT_CHECKPOINT, Scorer
from altermag.ml.finetune import embed_and_score
from altermag.ml.graphs import crystal_graphs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--max-atoms", type=int, default=20)
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    args = parser.parse_args()
    torch.set_num_threads(1)
    scorer = Scorer(args.checkpoint)
    structures = []
    for entry in corpus():
        if len(entry.structure.species) <= args.max_atoms:
            structures.append(entry.structure)
        if len(structures) >= args.n:
            break
    n = len(structures)
    atoms = sum(len(s.species) for s in structures) / n
    scorer.embed(structures[:64])  # warm-up
    t0 = time.perf_counter()
    graphs = crystal_graphs(structures, scorer.graph_config)
    t1 = time.perf_counter()
    embed_and_score(scorer.model, graphs, scorer.graph_config, batch_size=512)
    t2 = time.perf_counter()
    print(f"{n} crystals (<= {args.max_atoms} atoms, mean {atoms:.1f}), 1 thread")
    print(f"graph building  {n / (t1 - t0):8,.0f} crystals/s")
    print(f"network         {n / (t2 - t1):8,.0f} crystals/s")
    print(f"end to end      {n / (t2 - t0):8,.0f} crystals/s  ({1e3 * (t2 - t0) / n:.2f} ms each)")


if __name__ == "__main__":
    main()
