"""Self-supervised pre-training of the crystal encoder (NWR-GAE-style graph auto-encoder).

Without any labels, the encoder learns to describe each atom's chemical neighbourhood: from
every atom vector a decoder must rebuild (i) the atom's own element features, (ii) the set of
its neighbour distances and (iii) the set of its neighbours' element features. A neighbour
set has no natural order, so the reconstruction is scored with optimal transport, as in
NWR-GAE (Tang et al., ICLR 2022) and the original altermagnet work:

* distances are 1-D, where the optimal coupling is monotone, so the exact squared
  Wasserstein-2 distance is the mean squared difference of the sorted sets;
* neighbour features are matched with an entropic OT plan (log-domain Sinkhorn, uniform
  weights, squared Euclidean cost, computed per atom in one batched tensor operation); the
  loss is the transport cost under that plan.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import cast

import numpy as np
import torch

from altermag.ml.graphs import CrystalGraph, GraphConfig
from altermag.ml.model import CrystalEncoder, ModelConfig, NeighbourhoodDecoder
from altermag.ml.training import iterate_batches, neighbour_sets, set_seed


@dataclass(frozen=True)
class PretrainConfig:
    """Settings of the auto-encoder pre-training."""

    epochs: int = 10
    batch_size: int = 64
    lr: float = 2e-3
    seed: int = 0
    sinkhorn_eps: float = 0.1
    sinkhorn_iters: int = 30
    distance_weight: float = 1.0
    neighbour_weight: float = 1.0

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def sorted_wasserstein2(pred: torch.Tensor, true: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Squared 1-D Wasserstein-2 distance between predicted and true distance sets.

    ``true`` is sorted ascending per row with unfilled slots masked; predictions are sorted
    and compared slot by slot (the monotone coupling is optimal in 1-D).
    """
    pred_sorted, _ = torch.sort(pred, dim=1)
    diff2 = (pred_sorted - true) ** 2 * mask
    return diff2.sum() / mask.sum().clamp(min=1)


def sinkhorn_plan(cost: torch.Tensor, mask: torch.Tensor, eps: float, iters: int) -> torch.Tensor:
    """Batched entropic OT plans between predicted slots and the (masked) true neighbours.

    Parameters
    ----------
    cost
        (N, K, K) costs, rows = predicted slots, columns = true neighbours.
    mask
        (N, K) filled true slots; masked columns receive no mass.
    """
    n, k, _ = cost.shape
    m = mask.sum(1, keepdim=True).clamp(min=1).float()
    log_a = torch.full((n, k), -math.log(k))
    log_b = torch.where(mask, -torch.log(m).expand(n, k), torch.full((n, k), -1e9))
    scale = cost.detach().amax(dim=(1, 2), keepdim=True).clamp(min=1e-6)
    log_k = -cost.detach() / (eps * scale)
    f = torch.zeros(n, k)
    g = torch.zeros(n, k)
    for _ in range(iters):
        f = log_a - torch.logsumexp(log_k + g[:, None, :], dim=2)
        g = log_b - torch.logsumexp(log_k + f[:, :, None], dim=1)
    return torch.exp(log_k + f[:, :, None] + g[:, None, :])


def reconstruction_loss(
    encoder: CrystalEncoder,
    decoder: NeighbourhoodDecoder,
    batch: object,
    config: PretrainConfig,
) -> tuple[torch.Tensor, dict[str, float]]:
    """NWR-GAE loss of one batch: own features + neighbour distances + neighbour features."""
    atoms, _ = encoder(batch)
    features = encoder.atom_features(batch)
    own, dist_pred, nbr_pred = decoder(atoms)
    distances, index, mask = neighbour_sets(batch, decoder.k)
    loss_self = torch.mean((own - features) ** 2)
    loss_dist = sorted_wasserstein2(dist_pred, distances, mask.float())
    nbr_true = features[index]  # (N, K, F)
    cost = torch.cdist(nbr_pred, nbr_true) ** 2
    with torch.no_grad():
        plan = sinkhorn_plan(cost, mask, config.sinkhorn_eps, config.sinkhorn_iters)
    loss_nbr = (plan * cost).sum(dim=(1, 2)).mean()
    total = loss_self + config.distance_weight * loss_dist + config.neighbour_weight * loss_nbr
    parts = {
        "self": loss_self.item(),
        "distance": loss_dist.item(),
        "neighbour": loss_nbr.item(),
    }
    return total, parts


def pretrain(
    graphs: Sequence[CrystalGraph],
    model_config: ModelConfig,
    config: PretrainConfig | None = None,
    graph_config: GraphConfig | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[CrystalEncoder, list[dict[str, float]]]:
    """Pre-train a crystal encoder as a graph auto-encoder on unlabeled crystals.

    Returns
    -------
    encoder, history
        The trained encoder and, per epoch, the mean loss terms and the wall time.
    """
    cfg = config or PretrainConfig()
    set_seed(cfg.seed)
    encoder = CrystalEncoder(model_config)
    table = cast(torch.Tensor, encoder.element_features)  # a registered buffer
    decoder = NeighbourhoodDecoder(model_config, int(table.shape[1]))
    params = list(encoder.parameters()) + list(decoder.parameters())
    optimiser = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=1e-5)
    rng = np.random.default_rng(cfg.seed)
    history: list[dict[str, float]] = []
    for epoch in range(cfg.epochs):
        encoder.train()
        decoder.train()
        t0 = time.perf_counter()
        sums: dict[str, float] = {"loss": 0.0, "self": 0.0, "distance": 0.0, "neighbour": 0.0}
        n_batches = 0
        for batch in iterate_batches(graphs, cfg.batch_size, graph_config, rng=rng):
            if batch.num_graphs < 2:
                continue  # batch norm needs more than one crystal
            loss, parts = reconstruction_loss(encoder, decoder, batch, cfg)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            sums["loss"] += loss.item()
            for key, value in parts.items():
                sums[key] += value
            n_batches += 1
        row = {key: value / max(n_batches, 1) for key, value in sums.items()}
        row["epoch"] = epoch
        row["seconds"] = time.perf_counter() - t0
        history.append(row)
        if log is not None:
            log(
                f"pretrain epoch {epoch}: loss {row['loss']:.4f} (self {row['self']:.4f}, "
                f"distance {row['distance']:.4f}, neighbour {row['neighbour']:.4f}) "
                f"{row['seconds']:.1f}s"
            )
    encoder.eval()
    return encoder, history
