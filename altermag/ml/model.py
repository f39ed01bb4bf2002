"""CGCNN-style crystal encoder, altermagnet classifier head and auto-encoder decoders.

The encoder follows the original work (Xie & Grossman's CGCNN as used by Gao et al.):
element features are embedded, then ``depth`` gated graph convolutions update each atom from
its neighbours,

    x_i ← x_i + BN(mean_j σ(z_ij W_f + b_f) ⊙ softplus(z_ij W_s + b_s)),  z_ij = [x_i, x_j, e_ij],

where j runs over the 12 nearest neighbours of atom i (the mean is CGCNN's sum divided by
12). This is the update of ``torch_geometric.nn.CGConv``, written out so that the linear
maps of the concatenation z_ij are split into per-atom and per-edge parts
(W z_ij = W_i x_i + W_j x_j + W_e e_ij): the atom parts are computed once per atom instead of
once per edge (same results, less work). At inference the edge parts are computed once
per distinct bond length, and since every atom has exactly 12 edges stored together, the
atom parts are broadcast over blocks of 12 and the mean is a reshaped sum.

The atom vectors are then averaged into one crystal vector (mean pooling), projected to an
``embedding_dim`` vector, the embedding used by the classifier and by the optimal-transport
adaptation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, cast

import torch
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.nn import global_mean_pool

from altermag.ml.features import element_feature_table


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the crystal encoder and its heads.

    Attributes
    ----------
    width
        Atom vector size inside the convolutions (512 in the original work; 64 here is
        enough for a few thousand crystals and keeps inference above 1,000 crystals/s).
    depth
        Number of gated graph convolutions (3 as in the original work).
    embedding_dim
        Size of the crystal embedding fed to the classifier and to OT adaptation.
    edge_dim
        Number of Gaussians on each edge (set from the graph config).
    n_neighbors
        Neighbours per atom (the size of each reconstructed neighbour set).
    head_hidden
        Hidden units of the classifier head.
    """

    width: int = 64
    depth: int = 3
    embedding_dim: int = 64
    edge_dim: int = 41
    n_neighbors: int = 12
    head_hidden: int = 32

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        return cls(**{k: int(v) for k, v in data.items() if k in cls.__dataclass_fields__})


class GatedConv(nn.Module):
    """CGCNN gated graph convolution with batch norm and a residual connection.

    Edges are (centre i, neighbour j) pairs as built by :func:`altermag.ml.graphs.crystal_graph`;
    atom i is updated from its own neighbours j.
    """

    def __init__(self, width: int, edge_dim: int) -> None:
        super().__init__()
        self.width = width
        self.centre = nn.Linear(width, 2 * width, bias=False)  # W_i(f,s) x_i
        self.neighbour = nn.Linear(width, 2 * width, bias=False)  # W_j(f,s) x_j
        self.edge = nn.Linear(edge_dim, 2 * width)  # W_e(f,s) e + b(f,s)
        self.bn = nn.BatchNorm1d(width)

    def forward(
        self,
        x: torch.Tensor,
        edge_index: torch.Tensor,
        edge_attr: torch.Tensor,
        edge_inverse: torch.Tensor | None = None,
        degree: int | None = None,
    ) -> torch.Tensor:
        """Update the atom vectors from their neighbours.

        Parameters
        ----------
        x
            Atom vectors, (N, width).
        edge_index
            (2, E) centre/neighbour pairs.
        edge_attr
            Gaussian-expanded edge lengths, (E, edge_dim); with ``edge_inverse``, one row per
            distinct length and ``edge_inverse[e]`` the row of edge e.
        degree
            When every atom has exactly this many edges, stored contiguously in atom order
            (what :func:`altermag.ml.graphs.crystal_graph` builds), the per-atom parts are
            broadcast over each atom's block of edges and the mean over neighbours is a
            reshape and a sum instead of a gather and a scatter (same result).
        """
        centre, neighbour = edge_index
        gate_in = self.edge(edge_attr)
        if edge_inverse is not None:
            gate_in = gate_in.index_select(0, edge_inverse)
        if degree:
            gate_in.view(-1, degree, 2 * self.width).add_(self.centre(x).unsqueeze(1))
        else:
            gate_in += self.centre(x).index_select(0, centre)
        gate_in += self.neighbour(x).index_select(0, neighbour)
        f, s = gate_in.split(self.width, dim=-1)
        messages = torch.sigmoid(f) * nn.functional.softplus(s)
        if degree:
            return x + self.bn(messages.view(-1, degree, self.width).sum(dim=1) / degree)
        summed = torch.zeros_like(x).index_add_(0, centre, messages)
        counts = torch.bincount(centre, minlength=x.shape[0]).clamp(min=1).unsqueeze(-1)
        return x + self.bn(summed / counts)


def uniform_degree(centre: torch.Tensor, n_atoms: int, k: int) -> int | None:
    """k if atom i's edges are exactly rows k·i … k·i + k − 1 for every atom, else None."""
    if k <= 0 or centre.numel() != n_atoms * k:
        return None
    expected = torch.arange(n_atoms, dtype=centre.dtype).repeat_interleave(k)
    return k if torch.equal(centre, expected) else None


class CrystalEncoder(nn.Module):
    """Crystal graph → atom vectors and a crystal embedding."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        table = torch.from_numpy(element_feature_table())
        self.register_buffer("element_features", table, persistent=False)
        self.embed = nn.Linear(table.shape[1], config.width)
        self.convs = nn.ModuleList(
            GatedConv(config.width, config.edge_dim) for _ in range(config.depth)
        )
        self.project = nn.Sequential(nn.Linear(config.width, config.embedding_dim), nn.Softplus())

    def atom_features(self, batch: Batch) -> torch.Tensor:
        """Element feature rows of every atom in the batch."""
        table = cast(torch.Tensor, self.element_features)  # a registered buffer
        return table[batch.z]

    def forward(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (atom vectors (N, width), crystal embeddings (B, embedding_dim))."""
        x = self.embed(self.atom_features(batch))
        inverse = getattr(batch, "edge_inverse", None)
        degree = uniform_degree(batch.edge_index[0], x.shape[0], self.config.n_neighbors)
        for conv in self.convs:
            x = conv(x, batch.edge_index, batch.edge_attr, inverse, degree)
            x = nn.functional.softplus(x)
        pooled = global_mean_pool(x, batch.batch, size=batch.num_graphs)
        return x, self.project(pooled)


class ClassifierHead(nn.Module):
    """Crystal embedding → logit of P(altermagnet)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(config.embedding_dim, config.head_hidden),
            nn.SiLU(),
            nn.Linear(config.head_hidden, 1),
        )

    def forward(self, embedding: torch.Tensor) -> torch.Tensor:
        return self.net(embedding).squeeze(-1)


class AltermagnetClassifier(nn.Module):
    """Encoder + head: P(a crystal hosts an altermagnetic order) as a ranking prior."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = CrystalEncoder(config)
        self.head = ClassifierHead(config)

    def embed(self, batch: Batch) -> torch.Tensor:
        return self.encoder(batch)[1]

    def forward(self, batch: Batch) -> torch.Tensor:
        """Logits, one per crystal."""
        return self.head(self.embed(batch))


class NeighbourhoodDecoder(nn.Module):
    """NWR-GAE decoders: from an atom vector, rebuild the atom and its neighbourhood.

    Three outputs per atom: its own element features, the set of its ``n_neighbors``
    neighbour distances, and the set of its neighbours' element features (K vectors whose
    order carries no meaning; the loss matches them to the true set by optimal transport).
    """

    def __init__(self, config: ModelConfig, n_features: int) -> None:
        super().__init__()
        k, w = config.n_neighbors, config.width
        self.n_features = n_features
        self.k = k
        self.self_features = nn.Sequential(nn.Linear(w, w), nn.SiLU(), nn.Linear(w, n_features))
        self.distances = nn.Sequential(nn.Linear(w, w), nn.SiLU(), nn.Linear(w, k))
        self.neighbours = nn.Sequential(nn.Linear(w, w), nn.SiLU(), nn.Linear(w, k * n_features))

    def forward(self, atoms: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n = atoms.shape[0]
        return (
            self.self_features(atoms),
            self.distances(atoms),
            self.neighbours(atoms).view(n, self.k, self.n_features),
        )
