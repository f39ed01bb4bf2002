"""Shared training utilities: seeding, batching, neighbour sets."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch_geometric.data import Batch

from altermag.ml.graphs import CrystalGraph, GraphConfig, collate


def set_seed(seed: int) -> None:
    """Seed Python, numpy and torch so that a training run repeats exactly on CPU."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def iterate_batches(
    graphs: Sequence[CrystalGraph],
    batch_size: int,
    config: GraphConfig | None = None,
    y: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
    indices: np.ndarray | None = None,
) -> Iterator[Batch]:
    """Yield batches of graphs (shuffled when ``rng`` is given)."""
    idx = np.arange(len(graphs)) if indices is None else np.asarray(indices)
    if rng is not None:
        idx = rng.permutation(idx)
    for start in range(0, len(idx), batch_size):
        chunk = idx[start : start + batch_size]
        yield collate(
            [graphs[i] for i in chunk], config, None if y is None else np.asarray(y)[chunk]
        )


def neighbour_sets(batch: Batch, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each atom's neighbour set as dense (N, k) tables.

    Returns
    -------
    distances, neighbour_index, mask
        Edge lengths (sorted ascending per atom), the neighbour atom of each slot and a
        boolean mask of filled slots (an atom can have fewer than k neighbours only when
        the maximum cutoff sphere holds fewer).
    """
    centre, neighbour = batch.edge_index
    n = int(batch.z.shape[0])
    counts = torch.bincount(centre, minlength=n)
    starts = torch.cumsum(counts, 0) - counts
    slot = torch.arange(centre.shape[0]) - starts[centre]
    keep = slot < k
    distances = torch.zeros(n, k)
    index = torch.zeros(n, k, dtype=torch.long)
    mask = torch.zeros(n, k, dtype=torch.bool)
    distances[centre[keep], slot[keep]] = batch.distance[keep]
    index[centre[keep], slot[keep]] = neighbour[keep]
    mask[centre[keep], slot[keep]] = True
    return distances, index, mask
