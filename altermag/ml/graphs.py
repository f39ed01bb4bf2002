"""Crystal graphs: atoms as nodes, their nearest periodic neighbours as edges.

A crystal is turned into a directed graph in the CGCNN way: every atom is linked to its
``n_neighbors`` nearest neighbours (periodic images included), found with pymatgen's periodic
neighbour search (``find_points_in_spheres``) inside a sphere sized from the crystal's density
that doubles until every atom has enough neighbours. Each edge carries its length d expanded
on Gaussians exp(-(d - μ_k)² / σ²) centred every ``gaussian_step`` Å, so the network sees a
smooth, differentiable picture of the coordination shells. Nodes carry the atomic number;
the model looks up the element features (:mod:`altermag.ml.features`).

Graphs are batched into a ``torch_geometric.data.Batch`` by plain concatenation with node
offsets, which is what ``Batch.from_data_list`` does, done here in numpy for speed. Many
crystals are best built together (:func:`crystal_graphs`): their neighbour lists are sorted
in one go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import chain

import numpy as np
import torch
from pymatgen.optimization.neighbors import find_points_in_spheres
from torch_geometric.data import Batch, Data

from altermag.errors import ModelError
from altermag.ml.features import atomic_number
from altermag.structure import MagneticStructure


class GraphError(ModelError, ValueError):
    """A structure cannot be turned into a crystal graph (e.g. no atoms)."""


@dataclass(frozen=True)
class GraphConfig:
    """How crystal graphs are built.

    Attributes
    ----------
    n_neighbors
        Neighbours kept per atom (12 as in CGCNN and the original work).
    cutoff
        Largest first search radius in Å (the first radius is the one expected to hold about
        twice ``n_neighbors`` atoms at the crystal's density, if smaller); the radius doubles
        until every atom has ``n_neighbors`` neighbours. The graph does not depend on it.
    max_cutoff
        Largest search radius in Å (20 Å as in the original work).
    gaussian_step
        Spacing of the Gaussian centres in Å (also their width).
    gaussian_max
        Last Gaussian centre in Å.
    """

    n_neighbors: int = 12
    cutoff: float = 6.0
    max_cutoff: float = 20.0
    gaussian_step: float = 0.2
    gaussian_max: float = 8.0

    @property
    def n_gaussians(self) -> int:
        return round(self.gaussian_max / self.gaussian_step) + 1

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass
class CrystalGraph:
    """A crystal graph in numpy form (cheap to build, cheap to batch).

    Attributes
    ----------
    z
        Atomic numbers, shape (N,).
    edge_index
        (2, E) array: row 0 = centre atom i, row 1 = neighbour j; edges sorted by i, then d.
    distances
        Edge lengths in Å, shape (E,).
    """

    z: np.ndarray
    edge_index: np.ndarray
    distances: np.ndarray

    @property
    def num_nodes(self) -> int:
        return int(self.z.shape[0])


#: Neighbour distances are compared after rounding to 1e-6 Å (equal ones: a tie, broken by
#: atom index).
_TICKS_PER_ANGSTROM = 1e6

#: The first search radius over the radius expected to hold k + 1 atoms.
_SPHERE_MARGIN = 1.25

_PERIODIC = np.array([1, 1, 1], dtype=np.int64)

#: Crystals whose neighbour pairs are sorted together (bounds the memory of one sort).
_CHUNK = 1024


def _neighbors(
    lattice: np.ndarray, cart: np.ndarray, cutoff: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    centers, points, _images, dists = find_points_in_spheres(
        cart,
        cart,
        r=float(cutoff),
        pbc=_PERIODIC,
        lattice=lattice,
        tol=1e-8,
    )
    keep = dists > 1e-8  # drop each atom's zero-distance self image
    return centers[keep], points[keep], dists[keep]


def _first_radii(structures: Sequence[MagneticStructure], config: GraphConfig) -> np.ndarray:
    """First search radius of each crystal: a sphere expected to hold ~2 (k + 1) atoms.

    At the crystal's mean number density n/V a sphere of radius r holds (4π/3) r³ n/V atoms;
    r is taken 1.25 times the radius for k + 1 of them (≈ twice the atoms): small enough
    that the search returns few pairs, large enough that it rarely has to be repeated.
    ``config.cutoff`` caps it.
    """
    lattices = np.stack([np.asarray(s.lattice, dtype=float) for s in structures])
    volumes = np.abs(np.linalg.det(lattices))
    sizes = np.fromiter((len(s.species) for s in structures), dtype=float, count=len(structures))
    holding = 3.0 * (config.n_neighbors + 1) * volumes / (4.0 * np.pi * sizes)
    radii = _SPHERE_MARGIN * np.cbrt(holding)
    return np.minimum(radii, min(config.cutoff, config.max_cutoff))


def _complete_neighbors(
    structure: MagneticStructure, config: GraphConfig, cutoff: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All periodic neighbour pairs within a sphere that holds every atom's k nearest.

    The sphere starts at ``cutoff`` and grows (×2, up to ``max_cutoff``) until every atom
    has at least k neighbours more than 1e-5 Å inside it, so that its k nearest and every
    neighbour tied with the k-th (equal to 1e-6 Å) are among the returned pairs: the graph
    does not depend on the radius the search happened to use.
    """
    n = len(structure.species)
    lattice = np.ascontiguousarray(structure.lattice, dtype=float)
    cart = np.ascontiguousarray(np.asarray(structure.frac_coords, dtype=float) @ lattice)
    k = config.n_neighbors
    while True:
        centers, points, dists = _neighbors(lattice, cart, cutoff)
        if cutoff >= config.max_cutoff:
            return centers, points, dists
        inside = centers[dists < cutoff - 10.0 / _TICKS_PER_ANGSTROM]
        if inside.shape[0] >= n * k and np.bincount(inside, minlength=n).min() >= k:
            return centers, points, dists
        cutoff = min(2.0 * cutoff, config.max_cutoff)


def crystal_graphs(
    structures: Sequence[MagneticStructure], config: GraphConfig | None = None
) -> list[CrystalGraph]:
    """Build the k-nearest-neighbour periodic graphs of many crystals at once.

    The periodic neighbour search runs per crystal; sorting each atom's neighbours by
    distance and keeping the k nearest is done once for all crystals together (one stable
    sort on an integer key), which is where a crystal-by-crystal loop loses its time.

    Parameters
    ----------
    structures
        The crystals; moments are ignored (the graph describes the chemistry and geometry).
    config
        Graph settings; defaults to :class:`GraphConfig`.

    Returns
    -------
    list of CrystalGraph
        One per structure, as :func:`crystal_graph` builds it.
    """
    cfg = config or GraphConfig()
    graphs: list[CrystalGraph] = []
    for start in range(0, len(structures), _CHUNK):
        graphs.extend(_graph_chunk(structures[start : start + _CHUNK], cfg))
    return graphs


def _graph_chunk(structures: Sequence[MagneticStructure], cfg: GraphConfig) -> list[CrystalGraph]:
    """:func:`crystal_graphs` of a few hundred crystals (one sort for all their pairs)."""
    k = cfg.n_neighbors
    sizes = np.fromiter((len(s.species) for s in structures), dtype=np.int64)
    if sizes.min() == 0:
        raise GraphError("structure has no atoms")
    atom_offsets = np.concatenate([[0], np.cumsum(sizes)])
    radii = _first_radii(structures, cfg)
    found = [
        _complete_neighbors(s, cfg, r) for s, r in zip(structures, radii.tolist(), strict=True)
    ]
    pairs = np.fromiter((f[0].shape[0] for f in found), dtype=np.int64, count=len(found))
    shift = np.repeat(atom_offsets[:-1], pairs)
    centers = np.concatenate([f[0] for f in found]) + shift
    points = np.concatenate([f[1] for f in found])
    dists = np.concatenate([f[2] for f in found])
    # sort by (centre, distance rounded to the tie tolerance, neighbour index), stably
    ticks = np.rint(dists * _TICKS_PER_ANGSTROM).astype(np.int64)
    n_ticks = int(ticks.max()) + 1 if ticks.size else 1
    n_points = int(sizes.max())
    if int(atom_offsets[-1]) * n_ticks * n_points < 2**62:
        order = np.argsort((centers * n_ticks + ticks) * n_points + points, kind="stable")
    else:  # a key that would overflow int64: sort on the three keys instead
        order = np.lexsort((points, ticks, centers))
    centers, points, dists = centers[order], points[order], dists[order]
    counts = np.bincount(centers, minlength=int(atom_offsets[-1]))
    starts = np.cumsum(counts) - counts
    keep = (np.arange(centers.shape[0]) - starts[centers]) < k
    centers, points = centers[keep], points[keep]
    dists = dists[keep].astype(np.float32)
    kept = np.minimum(counts, k)
    edges = np.add.reduceat(kept, atom_offsets[:-1])
    local = np.stack([centers - np.repeat(atom_offsets[:-1], edges), points])
    edge_bounds = np.concatenate([[0], np.cumsum(edges)]).tolist()
    atom_bounds = atom_offsets.tolist()
    z = np.fromiter(
        map(atomic_number, chain.from_iterable(s.species for s in structures)),
        dtype=np.int64,
        count=atom_bounds[-1],
    )
    return [
        CrystalGraph(
            z=z[a0:a1],
            edge_index=np.ascontiguousarray(local[:, e0:e1]),
            distances=dists[e0:e1],
        )
        for a0, a1, e0, e1 in zip(
            atom_bounds[:-1], atom_bounds[1:], edge_bounds[:-1], edge_bounds[1:], strict=True
        )
    ]


def crystal_graph(structure: MagneticStructure, config: GraphConfig | None = None) -> CrystalGraph:
    """Build the k-nearest-neighbour periodic graph of a crystal.

    Parameters
    ----------
    structure
        The crystal; moments are ignored (the graph describes the chemistry and geometry).
    config
        Graph settings; defaults to :class:`GraphConfig`.

    Returns
    -------
    CrystalGraph
        Every atom has exactly ``n_neighbors`` outgoing edges to its nearest periodic
        neighbours (ties at the last shell are broken by index order), unless the
        ``max_cutoff`` sphere holds fewer.
    """
    return crystal_graphs([structure], config)[0]


def gaussian_expansion(distances: np.ndarray, config: GraphConfig | None = None) -> np.ndarray:
    """Expand edge lengths on Gaussians centred every ``gaussian_step`` Å (CGCNN)."""
    cfg = config or GraphConfig()
    centres = np.arange(cfg.n_gaussians, dtype=np.float32) * cfg.gaussian_step
    diff = distances[:, None] - centres[None, :]
    return np.exp(-(diff**2) / cfg.gaussian_step**2).astype(np.float32)


def to_data(graph: CrystalGraph, config: GraphConfig | None = None, **extra: object) -> Data:
    """One graph as a ``torch_geometric.data.Data`` (z, edge_index, edge_attr, distance)."""
    data = Data(
        z=torch.from_numpy(graph.z),
        edge_index=torch.from_numpy(graph.edge_index),
        edge_attr=torch.from_numpy(gaussian_expansion(graph.distances, config)),
        distance=torch.from_numpy(graph.distances),
        num_nodes=graph.num_nodes,
    )
    for key, value in extra.items():
        data[key] = value
    return data


def collate(
    graphs: Sequence[CrystalGraph],
    config: GraphConfig | None = None,
    y: Sequence[float] | np.ndarray | None = None,
    unique_distances: bool = False,
) -> Batch:
    """Batch crystal graphs into one disconnected graph (node offsets on edge indices).

    The result is a ``torch_geometric.data.Batch`` with ``z``, ``edge_index``,
    ``edge_attr`` (Gaussian-expanded lengths), ``distance``, ``batch`` (graph of each node),
    ``ptr`` and optionally ``y`` (one label per graph).

    With ``unique_distances`` (inference) ``edge_attr`` instead holds the Gaussians of each
    *distinct* edge length once and ``edge_inverse`` gives, for every edge, its row there.
    Symmetry makes many bonds of a crystal equally long (about one edge length in seven is
    distinct in the corpus), so the network's per-edge linear maps of the Gaussians are
    computed on the distinct lengths only; the values are the same.
    """
    if not graphs:
        raise GraphError("no graphs to batch")
    sizes = np.fromiter((g.num_nodes for g in graphs), dtype=np.int64, count=len(graphs))
    n_edges = np.fromiter((g.distances.shape[0] for g in graphs), dtype=np.int64, count=len(graphs))
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    edge_index = np.concatenate([g.edge_index for g in graphs], axis=1)
    edge_index += np.repeat(offsets[:-1], n_edges)
    distances = np.concatenate([g.distances for g in graphs])
    batch = Batch(
        z=torch.from_numpy(np.concatenate([g.z for g in graphs])),
        edge_index=torch.from_numpy(edge_index),
        distance=torch.from_numpy(distances),
        batch=torch.from_numpy(np.repeat(np.arange(len(graphs)), sizes)),
        ptr=torch.from_numpy(offsets),
    )
    if unique_distances:
        lengths, inverse = np.unique(distances, return_inverse=True)
        batch.edge_attr = torch.from_numpy(gaussian_expansion(lengths, config))
        batch.edge_inverse = torch.from_numpy(inverse.astype(np.int64))
    else:
        batch.edge_attr = torch.from_numpy(gaussian_expansion(distances, config))
    batch._num_graphs = len(graphs)
    if y is not None:
        batch.y = torch.as_tensor(np.asarray(y, dtype=np.float32))
    return batch
