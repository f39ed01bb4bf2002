"""The ground-state prior: P(k = 0) of a crystal and P(ground state) of each enumerated order.

Trained on experimental magnetic structures (MAGNDATA, :mod:`altermag.ml.magndata`) from the
crystal alone (no moments). Two small models in plain numpy, so scoring costs microseconds and
the checkpoint is a JSON file of a few kilobytes:

* **P(k = 0)**: logistic regression on crystal descriptors — which magnetic ions (3d, 4d/5d,
  4f, 5f), which ligands (oxide, halide, chalcogenide, pnictide, none), how many magnetic
  sites and orbits, whether every magnetic orbit can be split into equal up and down halves,
  and how far the best enumerated k = 0 order gets in satisfying antiparallel nearest
  neighbours (a crystal whose nearest-neighbour graph is frustrated within one cell tends to
  order at k ≠ 0).
* **P(ground state | order)**: a conditional-logit ranker over a crystal's enumerated k = 0
  collinear orders, p_i = exp(w·x_i) / Σ_j exp(w·x_j). The order descriptors are exchange
  arguments made countable: the antiparallel fraction of the first three magnetic neighbour
  shells; spin correlations of near-neighbour pairs split by their superexchange path
  (a ligand bridge with M–X–M angle ≥ 120°, which Goodenough–Kanamori makes strongly
  antiferromagnetic; 100–120°; near 90°, weak and often ferromagnetic; no ligand bridge,
  direct exchange); ferromagnetic or not, alone and with the ion family and ligand type (4f
  metals and ligand-free intermetallics are ferromagnetic more often); and the order's spin
  group size relative to the crystal's most symmetric order (observed orders are usually
  highly symmetric).

P(altermagnetic ground state) = P(k = 0) × Σ P(ground state) over the altermagnetic orders.
The prior ranks; the exact spin-group engine gives every verdict.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from altermag.result import EnumeratedOrder, SpinGroupResult
from altermag.structure import MagneticStructure

__all__ = [
    "CRYSTAL_FEATURES",
    "DEFAULT_PRIOR",
    "ORDER_FEATURES",
    "CrystalGeometry",
    "GroundStatePrior",
    "OrderPrediction",
    "Prediction",
    "crystal_features",
    "geometry",
    "load_prior",
    "order_features",
    "predict",
]

DEFAULT_PRIOR = Path(__file__).resolve().parent / "checkpoints" / "ground-state-prior.json"

_3D = frozenset(["Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu"])
_4F = frozenset(["Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb"])
_5F = frozenset(["U", "Np", "Pu", "Am", "Cm"])
_HALIDE = frozenset(["F", "Cl", "Br", "I"])
_CHALC = frozenset(["S", "Se", "Te"])
_PNICT = frozenset(["N", "P", "As", "Sb"])
_LIGANDS = frozenset({"O", *_HALIDE, *_CHALC, *_PNICT, "C", "B", "H", "Si", "Ge"})

#: Largest metal–ligand distance (Å) counted as a bond for a superexchange bridge.
BOND_MAX = 2.75
#: Magnetic neighbour pairs farther apart than this (Å) are not exchange partners here.
PAIR_MAX = 7.0

CRYSTAL_FEATURES = (
    "bias",
    "ion_3d",
    "ion_4d5d",
    "ion_4f",
    "ion_5f",
    "lig_oxide",
    "lig_halide",
    "lig_chalcogenide",
    "lig_pnictide",
    "lig_none",
    "log_n_magnetic",
    "n_magnetic_orbits",
    "odd_orbit",
    "magnetic_fraction",
    "nn_distance",
    "best_nn_antiparallel",
    "best_linear_anti",
    "n_nn_per_site",
    "crystal_system",
    "log_n_orders",
)

ORDER_FEATURES = (
    "anti_shell1",
    "anti_shell2",
    "anti_shell3",
    "corr_linear",
    "corr_mid",
    "corr_right",
    "corr_direct",
    "ferro",
    "ferro_4f",
    "ferro_no_ligand",
    "ferro_3d_oxide",
    "rel_symmetry",
    "altermagnet",
)


@dataclass
class CrystalGeometry:
    """Magnetic pairs of one cell, grouped in shells and by exchange path."""

    mag: np.ndarray
    """Indices of the magnetic sites (those the orders give a non-zero sign)."""
    pair_i: np.ndarray
    pair_j: np.ndarray
    pair_shell: np.ndarray
    """0, 1, 2 for the first three distance shells; pairs beyond are dropped."""
    pair_path: np.ndarray
    """0 linear bridge (≥120°), 1 intermediate (100–120°), 2 right-angle (<100°), 3 none."""
    shell_distance: list[float] = field(default_factory=list)
    species: tuple[str, ...] = ()


def _bridge_angles(
    cell: MagneticStructure, mag: np.ndarray, ci: np.ndarray, vec: np.ndarray
) -> np.ndarray:
    """Largest M–X–M angle (degrees) over ligands X bonded to both ends; 0 when none."""
    from pymatgen.optimization.neighbors import find_points_in_spheres

    lig = np.array([k for k, s in enumerate(cell.species) if s in _LIGANDS], int)
    out = np.zeros(len(ci))
    if lig.size == 0 or len(ci) == 0:
        return out
    lattice = np.ascontiguousarray(cell.lattice, dtype=float)
    cart = cell.cart_coords
    centers, points, offsets, dists = find_points_in_spheres(
        np.ascontiguousarray(cart[lig]),
        np.ascontiguousarray(cart[mag]),
        r=BOND_MAX,
        pbc=np.array([1, 1, 1], dtype=np.int64),
        lattice=lattice,
        tol=1e-8,
    )
    # vectors from each magnetic site (index into mag) to its bonded ligands, padded
    keep = dists >= 0.5
    centers, points, offsets = centers[keep], points[keep], offsets[keep]
    if len(centers) == 0:
        return out
    bond = cart[lig[points.astype(int)]] + np.asarray(offsets, float) @ lattice
    bond -= cart[mag[centers.astype(int)]]
    counts = np.bincount(centers.astype(int), minlength=len(mag))
    width = int(counts.max())
    padded = np.zeros((len(mag), width, 3))
    mask = np.zeros((len(mag), width), bool)
    order = np.argsort(centers, kind="stable")
    slot = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)
    padded[centers[order].astype(int), slot] = bond[order]
    mask[centers[order].astype(int), slot] = True
    b = padded[ci.astype(int)]  # (pairs, width, 3): metal → ligand
    other = vec[:, None, :] - b  # ligand → partner
    nb = np.linalg.norm(b, axis=-1)
    no = np.linalg.norm(other, axis=-1)
    valid = mask[ci.astype(int)] & (no <= BOND_MAX) & (no > 0.5)
    with np.errstate(invalid="ignore", divide="ignore"):
        # padding and too-short bonds divide by zero (NaN): not valid, so never an angle
        cosang = np.einsum("pkx,pkx->pk", -b, other) / (nb * no)
        ang = np.degrees(np.arccos(np.clip(cosang, -1.0, 1.0)))
    out = np.where(valid, ang, 0.0).max(axis=1)
    return out


def geometry(cell: MagneticStructure, mag: np.ndarray) -> CrystalGeometry:
    """Magnetic neighbour pairs of ``cell`` (three shells) and their superexchange paths."""
    from pymatgen.optimization.neighbors import find_points_in_spheres

    lattice = np.ascontiguousarray(cell.lattice, dtype=float)
    cart = np.ascontiguousarray(cell.cart_coords[mag])
    empty = np.zeros(0, int)
    if len(mag) == 0:
        return CrystalGeometry(mag, empty, empty, empty, empty, [], tuple(cell.species))
    centers, points, offsets, dists = find_points_in_spheres(
        cart, cart, r=PAIR_MAX, pbc=np.array([1, 1, 1], dtype=np.int64), lattice=lattice, tol=1e-8
    )
    keep = dists > 0.5
    centers, points, offsets, dists = centers[keep], points[keep], offsets[keep], dists[keep]
    # A shell opens at the nearest distance d0 not yet in a shell and takes every pair up to
    # d0 × 1.05 + 0.05 Å: the distances in increasing order, three look-ups.
    ordered = np.sort(dists)
    shell_d: list[float] = []
    bounds: list[float] = []
    start = 0
    while start < len(ordered) and len(shell_d) < 3:
        d0 = float(ordered[start])
        shell_d.append(d0)
        bounds.append(d0 * 1.05 + 0.05)
        start = int(np.searchsorted(ordered, bounds[-1], side="right"))
    shell = np.searchsorted(np.array(bounds), dists, side="left")  # ≤ bounds[s]: shell s
    keep = shell < len(bounds)
    ci, cj, off, sh = centers[keep], points[keep], offsets[keep], shell[keep]
    vec = cart[cj] + np.asarray(off, float) @ lattice - cart[ci]
    near = sh <= 1
    ang = np.zeros(len(ci))
    ang[near] = _bridge_angles(cell, mag, ci[near], vec[near])
    path = np.where(ang >= 120, 0, np.where(ang >= 100, 1, np.where(ang > 0, 2, 3)))
    return CrystalGeometry(
        mag, ci.astype(int), cj.astype(int), sh.astype(int), path, shell_d, tuple(cell.species)
    )


def _composition_flags(species: Sequence[str], mag_species: Sequence[str]) -> dict[str, float]:
    el = set(species)
    ms = set(mag_species)
    flags = {
        "ion_3d": float(bool(ms & _3D)),
        "ion_4f": float(bool(ms & _4F)),
        "ion_5f": float(bool(ms & _5F)),
        "lig_oxide": float("O" in el),
        "lig_halide": float(bool(el & _HALIDE)),
        "lig_chalcogenide": float(bool(el & _CHALC)),
        "lig_pnictide": float(bool(el & _PNICT)),
    }
    flags["ion_4d5d"] = float(bool(ms - _3D - _4F - _5F))
    flags["lig_none"] = float(not (el & _LIGANDS))
    return flags


def order_features(geo: CrystalGeometry, orders: Sequence[EnumeratedOrder]) -> np.ndarray:
    """(n_orders, len(ORDER_FEATURES)) descriptors of a crystal's enumerated orders.

    Per order: the fraction of antiparallel pairs in each of the first three shells, the
    exchange-path-resolved spin correlation −Σ s_i s_j over the first two shells (per pair),
    whether it is ferromagnetic (and with which ions and ligands), its spin-group size relative
    to the crystal's most symmetric order, and whether it is altermagnetic. All orders are
    computed at once from their sign matrix (the sums are of ±1 and 0, so exact in any order).
    """
    flags = _composition_flags(geo.species, [geo.species[i] for i in geo.mag])
    n_ops = np.array([max(o.result.n_spin_group_operations, 1) for o in orders], float)
    out = np.zeros((len(orders), len(ORDER_FEATURES)))
    if not len(orders):
        return out
    col = {name: i for i, name in enumerate(ORDER_FEATURES)}
    n_pairs = max(int(np.sum(geo.pair_shell <= 1)), 1)
    if len(geo.mag):
        sgn = np.sign(np.array([o.signs for o in orders], float)[:, geo.mag])
    else:
        sgn = np.zeros((len(orders), 0))
    prod = sgn[:, geo.pair_i] * sgn[:, geo.pair_j]  # (orders, pairs): +1 parallel, −1 anti
    for s in range(3):
        sel = geo.pair_shell == s
        if np.any(sel):
            out[:, col[f"anti_shell{s + 1}"]] = np.mean(prod[:, sel] < 0, axis=1)
    near = geo.pair_shell <= 1
    for p, name in enumerate(("corr_linear", "corr_mid", "corr_right", "corr_direct")):
        sel = near & (geo.pair_path == p)
        out[:, col[name]] = -np.sum(prod[:, sel], axis=1) / n_pairs
    ferro = (np.all(sgn >= 0, axis=1) | np.all(sgn <= 0, axis=1)).astype(float)
    if not sgn.shape[1]:
        ferro[:] = 0.0
    out[:, col["ferro"]] = ferro
    out[:, col["ferro_4f"]] = ferro * flags["ion_4f"]
    out[:, col["ferro_no_ligand"]] = ferro * flags["lig_none"]
    out[:, col["ferro_3d_oxide"]] = ferro * flags["ion_3d"] * flags["lig_oxide"]
    top = n_ops.max()
    out[:, col["rel_symmetry"]] = [float(np.log(x / top)) for x in n_ops]
    out[:, col["altermagnet"]] = [float(o.result.verdict == "altermagnet") for o in orders]
    return out


_SYSTEMS = {"triclinic": 0, "monoclinic": 1, "orthorhombic": 2, "tetragonal": 3}


def _crystal_system(sg: int | None) -> float:
    if sg is None:
        return 0.0
    bounds = (2, 15, 74, 142, 167, 194, 230)
    return float(next(i for i, b in enumerate(bounds) if sg <= b)) / 6.0


def crystal_features(
    geo: CrystalGeometry,
    cell: MagneticStructure,
    result: SpinGroupResult,
    ofeat: np.ndarray | None,
) -> np.ndarray:
    """len(CRYSTAL_FEATURES) descriptors of a crystal for P(k = 0)."""
    flags = _composition_flags(cell.species, [cell.species[i] for i in geo.mag])
    n_mag = len(geo.mag)
    odd = any("cannot be split into equal up and down" in w for w in result.warnings)
    orbits = 0
    if n_mag:
        orbits = len({cell.species[i] for i in geo.mag})
    nn_per_site = float(np.sum(geo.pair_shell == 0)) / max(n_mag, 1)
    if ofeat is not None and len(ofeat):
        compensated = ofeat[:, ORDER_FEATURES.index("ferro")] == 0
        pool = ofeat[compensated] if np.any(compensated) else ofeat
        best_nn = float(pool[:, ORDER_FEATURES.index("anti_shell1")].max())
        best_lin = float(pool[:, ORDER_FEATURES.index("corr_linear")].max())
    else:
        best_nn = best_lin = 0.0
    row = {
        "bias": 1.0,
        **flags,
        "log_n_magnetic": float(np.log1p(n_mag)),
        "n_magnetic_orbits": float(orbits),
        "odd_orbit": float(odd),
        "magnetic_fraction": n_mag / max(len(cell), 1),
        "nn_distance": (geo.shell_distance[0] / 4.0) if geo.shell_distance else 2.0,
        "best_nn_antiparallel": best_nn,
        "best_linear_anti": best_lin,
        "n_nn_per_site": nn_per_site / 12.0,
        "crystal_system": _crystal_system(result.space_group_number),
        "log_n_orders": float(np.log1p(len(result.orders))),
    }
    return np.array([row[n] for n in CRYSTAL_FEATURES])


def softmax(scores: np.ndarray) -> np.ndarray:
    z = np.asarray(scores, float) - float(np.max(scores))
    e = np.exp(z)
    return e / e.sum()


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, float)))


@dataclass(frozen=True)
class OrderPrediction:
    """One enumerated order as the prior sees it."""

    moments: list[int]
    """Sign (+1/−1, 0 on non-magnetic sites) per site of the order's cell."""
    verdict: str
    wave: str | None
    p_ground_state: float
    rank: int


@dataclass(frozen=True)
class Prediction:
    """The prior's answer for one crystal (see :func:`predict`)."""

    formula: str
    p_k0: float
    p_altermagnetic_ground_state: float
    orders: list[OrderPrediction]
    input_order_rank: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "formula": self.formula,
            "p_k0": self.p_k0,
            "p_altermagnetic_ground_state": self.p_altermagnetic_ground_state,
            "input_order_rank": self.input_order_rank,
            "orders": [o.__dict__ for o in self.orders],
        }


class GroundStatePrior:
    """The shipped prior: weights of the two models, their feature scaling, and the card."""

    def __init__(self, card: dict[str, Any]) -> None:
        self.card = card
        w = card["weights"]
        self.k0_w = np.asarray(w["k0"], float)
        self.order_w = np.asarray(w["order"], float)
        self.k0_mean = np.asarray(w.get("k0_mean", np.zeros(len(self.k0_w))), float)
        self.k0_scale = np.asarray(w.get("k0_scale", np.ones(len(self.k0_w))), float)
        self.p_enumerated = float(w.get("p_enumerated_given_k0", 1.0))
        """Fraction of k = 0 training crystals whose experimental order is one of the
        enumerated collinear orders (the rest are non-collinear, ferrimagnetic, ...)."""
        if tuple(card["crystal_features"]) != CRYSTAL_FEATURES:
            raise ValueError("prior checkpoint was trained on other crystal features")
        if tuple(card["order_features"]) != ORDER_FEATURES:
            raise ValueError("prior checkpoint was trained on other order features")

    @property
    def version(self) -> str:
        return str(self.card.get("version", "ground-state-prior"))

    @classmethod
    def load(cls, path: Path | str = DEFAULT_PRIOR) -> GroundStatePrior:
        return cls(json.loads(Path(path).read_text()))

    def p_k0_from_features(self, x: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(x) - self.k0_mean) / self.k0_scale
        z[:, 0] = 1.0
        return sigmoid(z @ self.k0_w)

    def p_order_from_features(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0)
        return softmax(np.atleast_2d(x) @ self.order_w)

    def order_probabilities(
        self, cell: MagneticStructure, orders: Sequence[EnumeratedOrder]
    ) -> np.ndarray:
        """P(ground state) of each order (signs on ``cell``), summing to one."""
        if not orders:
            return np.zeros(0)
        mag = np.flatnonzero(np.asarray(orders[0].signs) != 0)
        geo = geometry(cell, mag)
        return self.p_order_from_features(order_features(geo, orders))

    def descriptors(
        self, structure: MagneticStructure, result: SpinGroupResult
    ) -> tuple[np.ndarray, np.ndarray]:
        """(crystal descriptors, order descriptors per order in ``result.orders``): what the
        two models consume, before any adaptation (:mod:`altermag.ml.transport`)."""
        from altermag.ranking import order_cell

        cell = order_cell(structure, result)
        orders = result.orders
        mag = np.flatnonzero(np.asarray(orders[0].signs) != 0) if orders else np.zeros(0, int)
        geo = geometry(cell, mag)
        ofeat = order_features(geo, orders) if orders else np.zeros((0, len(ORDER_FEATURES)))
        return crystal_features(geo, cell, result, ofeat), ofeat

    def score_descriptors(self, xc: np.ndarray, xo: np.ndarray) -> tuple[float, np.ndarray]:
        """(P(k = 0), P(ground state) per order) from the descriptors alone."""
        return float(self.p_k0_from_features(xc)[0]), self.p_order_from_features(xo)

    def score(
        self, structure: MagneticStructure, result: SpinGroupResult
    ) -> tuple[float, np.ndarray]:
        """(P(k = 0), P(ground state) per order in ``result.orders``) of an enumerated result."""
        return self.score_descriptors(*self.descriptors(structure, result))


@cache
def load_prior(path: str | None = None) -> GroundStatePrior | None:
    """The shipped prior, loaded once per process; None when no checkpoint is installed."""
    p = Path(path) if path else DEFAULT_PRIOR
    if not p.is_file():
        return None
    return GroundStatePrior.load(p)


def p_altermagnetic(
    p_k0: float, result: SpinGroupResult, p_orders: np.ndarray, p_enumerated: float = 1.0
) -> float:
    """P(altermagnetic ground state) = P(k = 0) × P(the ground state is one of the enumerated
    collinear orders | k = 0) × the probability mass of the altermagnetic orders."""
    am = np.array([o.result.verdict == "altermagnet" for o in result.orders], bool)
    if not am.any():
        return 0.0
    return float(p_k0 * p_enumerated * float(np.sum(p_orders[am])))


def predict(
    structure: MagneticStructure,
    result: SpinGroupResult | None = None,
    prior: GroundStatePrior | None = None,
    descriptors: tuple[np.ndarray, np.ndarray] | None = None,
) -> Prediction:
    """Score a crystal: P(k = 0), each enumerated order's P(ground state), P(AM ground state).

    ``structure``'s own moments, when it has them, are not used for the prediction; they set
    ``input_order_rank``: the rank of the input's order among the enumerated ones (1 = the
    prior's top order), None when the input's order is not among them. ``descriptors``
    (crystal, orders), when given, replace the ones computed from the crystal (the OT option,
    :func:`altermag.ml.transport.predict_adapted`); ``result`` must then be the enumeration
    they were computed from.
    """
    from altermag.ranking import rank_orders
    from altermag.symmetry import analyze

    prior = prior or load_prior()
    if prior is None:
        raise FileNotFoundError(f"no prior checkpoint at {DEFAULT_PRIOR}")
    bare = structure.with_moments(None)
    if result is None or not result.enumerated:
        result = analyze(bare)
    if descriptors is None:
        descriptors = prior.descriptors(bare, result)
    p_k0, p_orders = prior.score_descriptors(*descriptors)
    ranked = rank_orders(bare, result, [float(p) for p in p_orders])
    orders = [
        OrderPrediction(
            moments=[int(s) for s in r.order.signs],
            verdict=r.order.result.verdict,
            wave=r.order.result.wave,
            p_ground_state=round(float(r.p_ground_state or 0.0), 6),
            rank=r.rank,
        )
        for r in ranked
    ]
    input_rank = None
    if structure.magmoms is not None and result.orders:
        input_rank = _input_order_rank(structure, result, ranked)
    return Prediction(
        formula=structure.formula,
        p_k0=round(p_k0, 6),
        p_altermagnetic_ground_state=round(
            p_altermagnetic(p_k0, result, p_orders, prior.p_enumerated), 6
        ),
        orders=orders,
        input_order_rank=input_rank,
    )


def _input_order_rank(
    structure: MagneticStructure, result: SpinGroupResult, ranked: list
) -> int | None:
    """Rank of the input's collinear order among the ranked enumerated orders (None if absent)."""
    from altermag.ml.magndata import match_order

    hit = match_order(structure, result)
    if hit is None:
        return None
    for r in ranked:
        if r.order is result.orders[hit]:
            return int(r.rank)
    return None
