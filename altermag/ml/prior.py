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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType
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
    "geometries",
    "geometry",
    "load_prior",
    "order_features",
    "order_features_many",
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
#: Crystals whose descriptors are computed together (bounds the padded bond arrays).
_BATCH = 256

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


def _ligand_sites(species: tuple[str, ...]) -> np.ndarray:
    """Indices of the sites whose element can bridge two magnetic ions."""
    return np.array([k for k, s in enumerate(species) if s in _LIGANDS], dtype=np.int64)


def _segment_min(values: np.ndarray, starts: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Minimum of each segment ``values[starts[c] : starts[c] + n[c]]`` (inf when empty)."""
    out = np.full(len(n), np.inf)
    full = n > 0
    if np.any(full):
        out[full] = np.minimum.reduceat(values, starts[full])
    return out


def geometries(
    cells: Sequence[MagneticStructure], mags: Sequence[np.ndarray]
) -> list[CrystalGeometry]:
    """:func:`geometry` of many crystals at once (``mags[c]``: magnetic sites of ``cells[c]``).

    The neighbour searches run per crystal; the shells, the bridge angles and the exchange
    paths are computed for all pairs of all crystals together (per pair the same arithmetic
    as for one crystal alone, so the result does not depend on the company a crystal keeps).
    """
    from pymatgen.optimization.neighbors import find_points_in_spheres

    pbc = np.array([1, 1, 1], dtype=np.int64)
    n_cry = len(cells)
    mag_cart: list[np.ndarray] = []  # Cartesian positions of the magnetic sites
    p_ci: list[np.ndarray] = []  # pair ends, global indices into the magnetic sites
    p_cj: list[np.ndarray] = []
    p_tr: list[np.ndarray] = []  # lattice translation of the partner's image
    p_d: list[np.ndarray] = []
    b_mag: list[np.ndarray] = []  # bonds: global magnetic site, vector metal → ligand
    b_vec: list[np.ndarray] = []
    n_pairs = np.zeros(n_cry, np.int64)
    first = np.zeros(n_cry + 1, np.int64)  # first global magnetic site of each crystal
    for c, (cell, mag) in enumerate(zip(cells, mags, strict=True)):
        first[c + 1] = first[c] + len(mag)
        if len(mag) == 0:
            continue
        lattice = np.ascontiguousarray(cell.lattice, dtype=float)
        cart_all = cell.cart_coords
        cart = np.ascontiguousarray(cart_all[mag])
        mag_cart.append(cart)
        centers, points, offsets, dists = find_points_in_spheres(
            cart, cart, r=PAIR_MAX, pbc=pbc, lattice=lattice, tol=1e-8
        )
        keep = dists > 0.5
        n_pairs[c] = int(np.count_nonzero(keep))
        if not n_pairs[c]:
            continue
        p_ci.append(centers[keep] + first[c])
        p_cj.append(points[keep] + first[c])
        p_tr.append(offsets[keep] @ lattice)
        p_d.append(dists[keep])
        lig = _ligand_sites(cell.species)
        if lig.size == 0:
            continue
        centers, points, offsets, dists = find_points_in_spheres(
            np.ascontiguousarray(cart_all[lig]),
            cart,
            r=BOND_MAX,
            pbc=pbc,
            lattice=lattice,
            tol=1e-8,
        )
        keep = dists >= 0.5
        if not np.any(keep):
            continue
        centers = centers[keep].astype(np.int64)
        bond = cart_all[lig[points[keep].astype(np.int64)]] + offsets[keep] @ lattice
        bond -= cart[centers]
        b_mag.append(centers + first[c])
        b_vec.append(bond)

    empty = np.zeros(0, np.int64)
    if not p_d:
        return [
            CrystalGeometry(m, empty, empty, empty, empty, [], tuple(cell.species))
            for cell, m in zip(cells, mags, strict=True)
        ]
    carts = np.concatenate(mag_cart)
    ci, cj = np.concatenate(p_ci).astype(np.int64), np.concatenate(p_cj).astype(np.int64)
    dists = np.concatenate(p_d)
    start = np.concatenate([[0], np.cumsum(n_pairs)[:-1]])
    crystal = np.repeat(np.arange(n_cry), n_pairs)
    # A shell opens at the nearest distance d0 not yet in a shell and takes every pair up to
    # d0 × 1.05 + 0.05 Å; a pair is in shell s when its distance is ≤ bound s (and > bound s−1).
    d0 = _segment_min(dists, start, n_pairs)
    b0 = d0 * 1.05 + 0.05
    d1 = _segment_min(np.where(dists > b0[crystal], dists, np.inf), start, n_pairs)
    b1 = d1 * 1.05 + 0.05
    d2 = _segment_min(np.where(dists > b1[crystal], dists, np.inf), start, n_pairs)
    b2 = d2 * 1.05 + 0.05
    shell = (dists > b0[crystal]).astype(np.int64) + (dists > b1[crystal]) + (dists > b2[crystal])
    keep = shell < 3
    ci, cj, shell, crystal = ci[keep], cj[keep], shell[keep], crystal[keep]
    vec = carts[cj] + np.concatenate(p_tr)[keep] - carts[ci]
    near = np.flatnonzero(shell <= 1)
    ang = np.zeros(len(ci))
    if b_mag:
        ang[near] = _bridge_angles(
            np.concatenate(b_mag), np.concatenate(b_vec), int(first[-1]), ci[near], vec[near]
        )
    path = np.where(ang >= 120, 0, np.where(ang >= 100, 1, np.where(ang > 0, 2, 3)))
    ci -= first[:-1][crystal]
    cj -= first[:-1][crystal]
    bounds = np.searchsorted(crystal, np.arange(n_cry + 1))
    out = []
    for c, (cell, mag) in enumerate(zip(cells, mags, strict=True)):
        lo, hi = bounds[c], bounds[c + 1]
        shell_d = [float(d) for d in (d0[c], d1[c], d2[c]) if d < np.inf]
        out.append(
            CrystalGeometry(
                mag, ci[lo:hi], cj[lo:hi], shell[lo:hi], path[lo:hi], shell_d, tuple(cell.species)
            )
        )
    return out


def _bridge_angles(
    bond_mag: np.ndarray, bond: np.ndarray, n_mag: int, ci: np.ndarray, vec: np.ndarray
) -> np.ndarray:
    """Largest M–X–M angle (degrees) of each pair over ligands X bonded to both ends; 0 when
    none. ``bond`` are the vectors from magnetic site ``bond_mag`` to its bonded ligands (out of
    ``n_mag`` sites); pair p runs from site ``ci[p]`` to its partner at ``vec[p]``."""
    out = np.zeros(len(ci))
    if len(ci) == 0:
        return out
    counts = np.bincount(bond_mag, minlength=n_mag)
    width = int(counts.max())
    padded = np.zeros((n_mag, width, 3))
    mask = np.zeros((n_mag, width), bool)
    order = np.argsort(bond_mag, kind="stable")
    slot = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)
    padded[bond_mag[order], slot] = bond[order]
    mask[bond_mag[order], slot] = True
    b = padded[ci]  # (pairs, width, 3): metal → ligand
    other = vec[:, None, :] - b  # ligand → partner
    nb = np.linalg.norm(b, axis=-1)
    no = np.linalg.norm(other, axis=-1)
    valid = mask[ci] & (no <= BOND_MAX) & (no > 0.5)
    with np.errstate(invalid="ignore", divide="ignore"):
        # padding and too-short bonds divide by zero (NaN): not valid, so never an angle
        cosang = np.einsum("pkx,pkx->pk", -b, other) / (nb * no)
        ang = np.degrees(np.arccos(np.clip(cosang, -1.0, 1.0)))
    out = np.where(valid, ang, 0.0).max(axis=1)
    return out


def geometry(cell: MagneticStructure, mag: np.ndarray) -> CrystalGeometry:
    """Magnetic neighbour pairs of ``cell`` (three shells) and their superexchange paths."""
    return geometries([cell], [mag])[0]


@lru_cache(maxsize=4096)
def _composition_flags(species: frozenset[str], mag_species: frozenset[str]) -> Mapping[str, float]:
    """Ion families of the magnetic elements and ligand types of the composition (0 or 1);
    one read-only mapping per composition."""
    flags = {
        "ion_3d": float(bool(mag_species & _3D)),
        "ion_4f": float(bool(mag_species & _4F)),
        "ion_5f": float(bool(mag_species & _5F)),
        "lig_oxide": float("O" in species),
        "lig_halide": float(bool(species & _HALIDE)),
        "lig_chalcogenide": float(bool(species & _CHALC)),
        "lig_pnictide": float(bool(species & _PNICT)),
    }
    flags["ion_4d5d"] = float(bool(mag_species - _3D - _4F - _5F))
    flags["lig_none"] = float(not (species & _LIGANDS))
    return MappingProxyType(flags)


def _flags(geo: CrystalGeometry) -> Mapping[str, float]:
    return _composition_flags(frozenset(geo.species), frozenset(geo.species[i] for i in geo.mag))


def _runs(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, position) of every element of consecutive runs of the given lengths."""
    owner = np.repeat(np.arange(len(lengths)), lengths)
    return owner, np.arange(len(owner)) - (np.cumsum(lengths) - lengths)[owner]


def order_features_many(
    geos: Sequence[CrystalGeometry], orders: Sequence[Sequence[EnumeratedOrder]]
) -> list[np.ndarray]:
    """:func:`order_features` of many crystals at once (``orders[c]`` on ``geos[c]``).

    Every order of every crystal is one row; a row's pair products and site signs are
    gathered from the flat sign vectors, and the per-shell and per-path sums are taken with
    one bincount each (sums of ±1 and 0, so exact in any order).
    """
    n_ord = np.array([len(o) for o in orders], np.int64)
    out = np.zeros((int(n_ord.sum()), len(ORDER_FEATURES)))
    if not len(out):
        return [out[:0] for _ in orders]
    col = {name: i for i, name in enumerate(ORDER_FEATURES)}
    flat = [o for os in orders for o in os]
    size = np.array([len(o.signs) for o in flat], np.int64)
    signs = np.fromiter((s for o in flat for s in o.signs), dtype=float, count=int(size.sum()))
    row0 = np.cumsum(size) - size  # first sign of each row in ``signs``
    crystal = np.repeat(np.arange(len(orders)), n_ord)  # of each row
    n_mag = np.array([len(g.mag) for g in geos], np.int64)
    n_pair = np.array([len(g.pair_i) for g in geos], np.int64)
    mag = np.concatenate([np.asarray(g.mag, np.int64) for g in geos])
    mag0 = np.cumsum(n_mag) - n_mag
    shell = np.concatenate([g.pair_shell for g in geos]).astype(np.int64)
    path = np.concatenate([g.pair_path for g in geos]).astype(np.int64)
    pi = np.concatenate([g.pair_i for g in geos]).astype(np.int64)
    pj = np.concatenate([g.pair_j for g in geos]).astype(np.int64)
    pair0 = np.cumsum(n_pair) - n_pair
    # signs of each row on its crystal's magnetic sites, row after row
    r, k = _runs(n_mag[crystal])
    sgn = np.sign(signs[row0[r] + mag[mag0[crystal[r]] + k]])
    sgn0 = np.cumsum(n_mag[crystal]) - n_mag[crystal]
    n_rows = len(out)
    neg = np.bincount(r, weights=sgn < 0, minlength=n_rows)
    pos = np.bincount(r, weights=sgn > 0, minlength=n_rows)
    # the pair products of each row: +1 parallel, −1 antiparallel
    r, k = _runs(n_pair[crystal])
    p = pair0[crystal[r]] + k
    prod = sgn[sgn0[r] + pi[p]] * sgn[sgn0[r] + pj[p]]
    anti = np.bincount(r * 3 + shell[p], weights=prod < 0, minlength=3 * n_rows)
    in_shell = np.bincount(
        np.repeat(np.arange(len(geos)), n_pair) * 3 + shell, minlength=3 * len(geos)
    ).reshape(-1, 3)[crystal]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = anti.reshape(-1, 3) / in_shell
    out[:, col["anti_shell1"] : col["anti_shell3"] + 1] = np.where(in_shell > 0, frac, 0.0)
    near = shell[p] <= 1
    corr = np.bincount(
        r[near] * 4 + path[p][near], weights=prod[near], minlength=4 * n_rows
    ).reshape(-1, 4)
    n_near = np.bincount(
        np.repeat(np.arange(len(geos)), n_pair), weights=shell <= 1, minlength=len(geos)
    )
    n_near = np.maximum(n_near, 1.0)[crystal]
    out[:, col["corr_linear"] : col["corr_direct"] + 1] = -corr / n_near[:, None]
    ferro = ((neg == 0) | (pos == 0)) & (n_mag[crystal] > 0)
    flags = [_flags(g) for g in geos]
    fam = np.array(
        [[f["ion_4f"], f["lig_none"], f["ion_3d"] * f["lig_oxide"]] for f in flags]
    ).reshape(-1, 3)[crystal]
    ferro_f = ferro.astype(float)
    out[:, col["ferro"]] = ferro_f
    out[:, col["ferro_4f"]] = ferro_f * fam[:, 0]
    out[:, col["ferro_no_ligand"]] = ferro_f * fam[:, 1]
    out[:, col["ferro_3d_oxide"]] = ferro_f * fam[:, 2]
    n_ops = np.array([max(o.result.n_spin_group_operations, 1) for o in flat], float)
    some = n_ord > 0
    top = np.maximum.reduceat(n_ops, (np.cumsum(n_ord) - n_ord)[some])
    out[:, col["rel_symmetry"]] = np.log(n_ops / np.repeat(top, n_ord[some]))
    out[:, col["altermagnet"]] = [float(o.result.verdict == "altermagnet") for o in flat]
    return np.split(out, np.cumsum(n_ord)[:-1])


def order_features(geo: CrystalGeometry, orders: Sequence[EnumeratedOrder]) -> np.ndarray:
    """(n_orders, len(ORDER_FEATURES)) descriptors of a crystal's enumerated orders.

    Per order: the fraction of antiparallel pairs in each of the first three shells, the
    exchange-path-resolved spin correlation −Σ s_i s_j over the first two shells (per pair),
    whether it is ferromagnetic (and with which ions and ligands), its spin-group size relative
    to the crystal's most symmetric order, and whether it is altermagnetic.
    """
    return order_features_many([geo], [orders])[0]


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
    flags = _composition_flags(frozenset(cell.species), frozenset(cell.species[i] for i in geo.mag))
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
        return self.descriptors_many([structure], [result])[0]

    def descriptors_many(
        self, structures: Sequence[MagneticStructure], results: Sequence[SpinGroupResult]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`descriptors` of many crystals, computed together (the same numbers)."""
        from altermag.ranking import order_cell

        cells = [order_cell(s, r) for s, r in zip(structures, results, strict=True)]
        mags = [
            np.flatnonzero(np.asarray(r.orders[0].signs) != 0) if r.orders else np.zeros(0, int)
            for r in results
        ]
        geos = geometries(cells, mags)
        ofeats = order_features_many(geos, [r.orders for r in results])
        return [
            (crystal_features(g, c, r, x), x)
            for g, c, r, x in zip(geos, cells, results, ofeats, strict=True)
        ]

    def score_descriptors(self, xc: np.ndarray, xo: np.ndarray) -> tuple[float, np.ndarray]:
        """(P(k = 0), P(ground state) per order) from the descriptors alone."""
        return float(self.p_k0_from_features(xc)[0]), self.p_order_from_features(xo)

    def score(
        self, structure: MagneticStructure, result: SpinGroupResult
    ) -> tuple[float, np.ndarray]:
        """(P(k = 0), P(ground state) per order in ``result.orders``) of an enumerated result."""
        return self.score_descriptors(*self.descriptors(structure, result))

    def score_many(
        self, structures: Sequence[MagneticStructure], results: Sequence[SpinGroupResult]
    ) -> list[tuple[float, np.ndarray]]:
        """:meth:`score` of many crystals, their descriptors computed together."""
        out: list[tuple[float, np.ndarray]] = []
        for i in range(0, len(structures), _BATCH):
            desc = self.descriptors_many(structures[i : i + _BATCH], results[i : i + _BATCH])
            out += [self.score_descriptors(xc, xo) for xc, xo in desc]
        return out


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
