"""Crystal graphs against hand-counted neighbour shells."""

from __future__ import annotations

import numpy as np

from tests.requirements import need

need("torch_geometric")

from pymatgen.core import Lattice, Structure

from altermag.ml.graphs import (
    GraphConfig,
    collate,
    crystal_graph,
    crystal_graphs,
    gaussian_expansion,
)
from altermag.structure import MagneticStructure


def _ms(structure: Structure) -> MagneticStructure:
    return MagneticStructure.from_pymatgen(structure)


def test_bcc_fe_shells() -> None:
    """bcc Fe: 8 neighbours at a√3/2, then the 6 at a (12 kept → 4 of them)."""
    a = 2.87
    fe = Structure(Lattice.cubic(a), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    g = crystal_graph(_ms(fe))
    assert g.edge_index.shape == (2, 24)
    for atom in range(2):
        d = np.sort(g.distances[g.edge_index[0] == atom])
        np.testing.assert_allclose(d[:8], a * np.sqrt(3) / 2, rtol=1e-6)
        np.testing.assert_allclose(d[8:], a, rtol=1e-6)
        # the first shell of a body-centred atom is the other sublattice
        first = g.edge_index[1][g.edge_index[0] == atom][:8]
        assert set(first.tolist()) == {1 - atom}


def test_rocksalt_nio_shells() -> None:
    """NiO: 6 O at a/2, then 12 Ni at a/√2 for each Ni (12 kept → 6 + 6)."""
    a = 4.17
    nio = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(a), ["Ni", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )
    ms = _ms(nio)
    g = crystal_graph(ms)
    species = np.array(ms.species)
    assert g.num_nodes == 8
    for atom in range(8):
        sel = g.edge_index[0] == atom
        d = g.distances[sel]
        nbr = species[g.edge_index[1][sel]]
        assert d.shape == (12,)
        np.testing.assert_allclose(d[:6], a / 2, rtol=1e-6)
        np.testing.assert_allclose(d[6:], a / np.sqrt(2), rtol=1e-6)
        assert set(nbr[:6]) == {"O" if species[atom] == "Ni" else "Ni"}
        assert set(nbr[6:]) == {species[atom]}


def test_cutoff_grows_until_twelve_neighbours() -> None:
    """A first cutoff far below the nearest-neighbour distance still yields 12 neighbours."""
    a = 2.87
    fe = Structure(Lattice.cubic(a), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    g = crystal_graph(_ms(fe), GraphConfig(cutoff=0.5))
    assert np.bincount(g.edge_index[0]).tolist() == [12, 12]
    np.testing.assert_allclose(np.sort(g.distances)[:16], a * np.sqrt(3) / 2, rtol=1e-6)


def test_gaussians_peak_at_the_bond_length() -> None:
    cfg = GraphConfig()
    e = gaussian_expansion(np.array([2.0, 3.4], dtype=np.float32), cfg)
    centres = np.arange(cfg.n_gaussians) * cfg.gaussian_step
    assert np.isclose(centres[e[0].argmax()], 2.0)
    assert np.isclose(centres[e[1].argmax()], 3.4)
    assert e.shape == (2, cfg.n_gaussians)


def test_collate_offsets_edges_per_graph() -> None:
    fe = _ms(Structure(Lattice.cubic(2.87), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]]))
    nio = _ms(
        Structure.from_spacegroup(
            "Fm-3m", Lattice.cubic(4.17), ["Ni", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]]
        )
    )
    graphs = [crystal_graph(fe), crystal_graph(nio)]
    batch = collate(graphs, y=[1.0, 0.0])
    assert batch.num_graphs == 2
    assert batch.z.tolist() == [26, 26] + [28] * 4 + [8] * 4
    ei = batch.edge_index.numpy()
    graph_of = batch.batch.numpy()
    # no edge crosses between crystals
    assert (graph_of[ei[0]] == graph_of[ei[1]]).all()
    assert batch.y.tolist() == [1.0, 0.0]


def _random_crystal(seed: int, n_atoms: int) -> MagneticStructure:
    """A low-symmetry cell (triclinic, random sites): no help from symmetry or ties."""
    rng = np.random.default_rng(seed)
    lattice = Lattice.from_parameters(*rng.uniform(3.5, 7.0, 3), *rng.uniform(70, 110, 3))
    species = rng.choice(["Mn", "O", "F", "Cr"], n_atoms).tolist()
    return _ms(Structure(lattice, species, rng.random((n_atoms, 3))))


def _brute_force_neighbours(ms: MagneticStructure, atom: int, k: int) -> np.ndarray:
    """The k smallest distances from one atom to every periodic image within ±3 cells."""
    cells = np.array(np.meshgrid(*[np.arange(-3, 4)] * 3, indexing="ij")).reshape(3, -1).T
    cart = ms.frac_coords @ ms.lattice
    images = (cart[None, :, :] + (cells @ ms.lattice)[:, None, :]).reshape(-1, 3)
    d = np.linalg.norm(images - cart[atom], axis=1)
    return np.sort(d[d > 1e-8])[:k]


def test_graph_holds_the_true_nearest_neighbours_whatever_the_search_radius() -> None:
    """The kept edges are the k nearest periodic images, found by brute force."""
    for seed in range(4):
        ms = _random_crystal(seed, 3 + 2 * seed)
        graphs = [crystal_graph(ms, GraphConfig(cutoff=c)) for c in (0.3, 6.0, 20.0)]
        for g in graphs[1:]:
            np.testing.assert_array_equal(g.edge_index, graphs[0].edge_index)
            np.testing.assert_allclose(g.distances, graphs[0].distances, atol=1e-6)
        g = graphs[0]
        for atom in range(g.num_nodes):
            d = g.distances[g.edge_index[0] == atom]
            assert np.all(np.diff(d) >= 0)  # nearest first
            np.testing.assert_allclose(d, _brute_force_neighbours(ms, atom, 12), rtol=1e-5)


def test_batched_graph_building_matches_one_by_one() -> None:
    crystals = [_random_crystal(seed, 1 + seed % 7) for seed in range(12)]
    batched = crystal_graphs(crystals)
    assert len(batched) == len(crystals)
    for ms, g in zip(crystals, batched, strict=True):
        one = crystal_graph(ms)
        np.testing.assert_array_equal(g.z, one.z)
        np.testing.assert_array_equal(g.edge_index, one.edge_index)
        np.testing.assert_array_equal(g.distances, one.distances)
        assert np.bincount(g.edge_index[0], minlength=g.num_nodes).tolist() == [12] * len(ms)
