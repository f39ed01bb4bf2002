"""GNN inference throughput on one core, graph building included.

Run: ``taskset -c 1 nice .venv/bin/python benchmarks/bench_inference.py [--n 3000]``. Scores
corpus crystals of at most 20 atoms with the shipped checkpoint (raw probability; the OT step
is timed separately in ``bench_ot.py``) with one torch thread and prints crystals per second
for graph building, the network, and both together as ``Scorer.embed`` runs them (the
path of ``altermag score`` and of the screening flow). Each figure is the median of
``--repeat`` runs, in wall-clock time and in CPU time of this process (the second is what a
core of its own would give when the machine is shared); the load average is printed too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import torch

from altermag.data import corpus
from altermag.ml.checkpoint import DEFAULT_CHECKPOINT, Scorer
from altermag.ml.finetune import embed_and_score
from altermag.ml.graphs import crystal_graphs


def _timed(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``repeat`` runs."""
    wall, cpu = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--max-atoms", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
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
    load_before = os.getloadavg()[0]
    graphs = crystal_graphs(structures, scorer.graph_config)
    rows = {
        "graph building": _timed(
            lambda: crystal_graphs(structures, scorer.graph_config), args.repeat
        ),
        "network": _timed(
            lambda: embed_and_score(scorer.model, graphs, scorer.graph_config), args.repeat
        ),
        "end to end": _timed(lambda: scorer.embed(structures), args.repeat),
    }
    load_after = os.getloadavg()[0]
    print(
        f"{n} crystals (<= {args.max_atoms} atoms, mean {atoms:.1f}), 1 thread, "
        f"median of {args.repeat}; load average {load_before:.2f} -> {load_after:.2f}"
    )
    for name, (wall, cpu) in rows.items():
        print(
            f"{name:15s} {n / wall:8,.0f} crystals/s wall ({1e3 * wall / n:.2f} ms each)"
            f"  {n / cpu:8,.0f} crystals/s CPU"
        )


if __name__ == "__main__":
    main()
