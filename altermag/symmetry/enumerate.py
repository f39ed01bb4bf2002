"""Collinear k = 0 orders of a structure given without moments.

Altermagnetism needs a propagation vector k = 0 (the magnetic cell is the crystal cell), so
the candidate orders are the ±1 assignments on the magnetic sites of one cell (primitive by
default). Only orders that are compensated within every crystallographic orbit can make the
two spin sublattices symmetry-related, so only those are enumerated; duplicates under the
space group and under a global spin flip are removed; each survivor is classified exactly
with :func:`~altermag.symmetry.spin_group.classify`.

Two generators, in this order:

1. *Symmetric orders* (always): for every index-2 subgroup H of the crystal's site-permutation
   group, the pattern m(g·s₀) = χ(g) m(s₀) with χ = +1 on H and −1 off it, on every magnetic
   orbit whose site stabiliser lies in H. These are the highest-symmetry compensated orders
   (the ones an altermagnet or a conventional antiferromagnet normally adopts).
2. *Exhaustive* per-orbit-compensated assignments, when their number is below a cap, so small
   cells also get the lower-symmetry orders.

Ranking is a transparent heuristic, reported with every order: the fraction of antiparallel
pairs in the nearest magnetic-neighbour shell (weight 3/4) and in the next shell (1/4), as
direct or anion-mediated superexchange between near neighbours is usually antiferromagnetic.
"""

from __future__ import annotations

from itertools import combinations, product
from math import comb
from typing import Any, cast

import numpy as np
import spglib
import spglib.error
from scipy.spatial import cKDTree

from altermag.errors import AnalysisError, InputError, SettingsError
from altermag.result import EnumeratedOrder, SpinGroupResult
from altermag.structure import MagneticStructure
from altermag.symmetry.spin_group import (
    DEFAULT_CELL,
    DEFAULT_MAGTOL,
    DEFAULT_MAX_ORDERS,
    DEFAULT_SYMPREC,
    _types,
    classify,
    spglib_cell,
)

__all__ = ["EXHAUSTIVE_CAP", "enumerate_orders", "magnetic_site_indices", "ordered_structure"]

#: Above this many raw per-orbit-compensated assignments only symmetric orders are used.
EXHAUSTIVE_CAP = 256
#: Moment (μB) put on magnetic sites for the classification of an enumerated order.
UNIT_MOMENT = 1.0


def magnetic_site_indices(
    structure: MagneticStructure, magnetic_elements: frozenset[str] | None = None
) -> np.ndarray:
    """Indices of sites that can carry a local moment.

    A site qualifies when its element is magnetic and, if the structure carries formal
    oxidation states (``properties["oxidation_states"]``, e.g. corpus entries), its ion has an
    open d or f shell (no moment on Ti⁴⁺, Cu⁺, Ce⁴⁺, Yb²⁺...).
    """
    from altermag.elements import MAGNETIC_ELEMENTS, can_carry_moment

    elements = MAGNETIC_ELEMENTS if magnetic_elements is None else magnetic_elements
    ox = structure.properties.get("oxidation_states")
    if ox is None or len(ox) != len(structure):
        ox = [None] * len(structure)
    return np.array(
        [
            i
            for i, (s, o) in enumerate(zip(structure.species, ox, strict=True))
            if s in elements and (o is None or can_carry_moment(s, o))
        ],
        int,
    )


def _dataset(structure: MagneticStructure, symprec: float, raise_error: bool = True) -> Any:
    """spglib's dataset of the crystal (atom types: element and formal oxidation state)."""
    detail = ""
    try:
        dataset = spglib.get_symmetry_dataset(
            spglib_cell(structure.lattice, structure.frac_coords, _site_types(structure)),
            symprec=symprec,
        )
    except spglib.error.SpglibError as exc:
        dataset, detail = None, str(exc)
    if dataset is None and raise_error:
        raise AnalysisError(
            f"spglib could not find the symmetry of the crystal (symprec={symprec} Å) {detail}"
        )
    return dataset


def _choose_cell(
    structure: MagneticStructure, symprec: float, cell: str, dataset: Any = None
) -> MagneticStructure:
    """The enumeration cell: as given, primitive or conventional (spglib's standardisation
    without idealisation, so the Cartesian frame is kept). ``dataset``, the input's own,
    saves the standardisation when it shows the input is already primitive."""
    if cell == "as_given":
        return structure
    if cell not in ("primitive", "conventional"):
        raise SettingsError(f"cell must be 'primitive', 'conventional' or 'as_given', not {cell!r}")
    if (
        cell == "primitive"
        and dataset is not None
        and len(np.unique(dataset.mapping_to_primitive)) == len(structure)
    ):
        return structure  # already primitive: keep the user's site order
    types = _site_types(structure)
    # each type stands for one (element, oxidation state) pair: recover both after reduction
    kinds = {int(t): i for i, t in enumerate(types)}
    try:
        std = spglib.standardize_cell(
            spglib_cell(structure.lattice, structure.frac_coords, types),
            to_primitive=cell == "primitive",
            no_idealize=True,
            symprec=symprec,
        )
    except spglib.error.SpglibError:
        std = None
    if std is None:
        return structure
    lattice, positions = np.asarray(std[0], dtype=float), np.asarray(std[1], dtype=float)
    new_types = np.asarray(std[2], dtype=int)
    if len(new_types) == len(structure) and cell == "primitive":
        return structure  # already primitive: keep the user's site order
    first = [kinds[int(t)] for t in new_types]  # an input site of the same kind
    species = tuple(structure.species[i] for i in first)
    props = dict(structure.properties)
    ox = props.pop("oxidation_states", None)
    if ox is not None and len(ox) == len(structure):
        props["oxidation_states"] = [float(ox[i]) for i in first]
    return MagneticStructure(lattice, species, positions, None, structure.label, props)


def _site_types(structure: MagneticStructure) -> np.ndarray:
    """Atom types for the crystal symmetry: element, and formal oxidation state when known
    (two Cu sites of different valence are not equivalent)."""
    ox = structure.properties.get("oxidation_states")
    if ox is None or len(ox) != len(structure):
        return _types(structure)
    keys = {
        k: i + 1
        for i, k in enumerate(sorted(set(zip(structure.species, map(float, ox), strict=True))))
    }
    return np.array([keys[(s, float(o))] for s, o in zip(structure.species, ox, strict=True)])


def _match_sites(
    tree: cKDTree, frac: np.ndarray, lattice: np.ndarray, points: np.ndarray, tol: float
) -> np.ndarray:
    """Index of the site nearest to every point, periodically (memory linear in the points).

    A k-d tree on the fractional torus finds the nearest site in fractional metric; where
    that site is not within ``tol`` Å (a very oblique cell), the Cartesian nearest image is
    found directly.
    """
    p = np.mod(points, 1.0)
    p[p >= 1.0] = 0.0
    _, idx = tree.query(p)
    idx = np.asarray(idx, dtype=np.intp)
    d = p - frac[idx]
    d -= np.round(d)
    far = np.flatnonzero(np.linalg.norm(d @ lattice, axis=1) > tol)
    for i in far:
        dd = frac - p[i]
        dd -= np.round(dd)
        idx[i] = int(np.argmin(np.linalg.norm(dd @ lattice, axis=1)))
    return idx


class _CrystalGroup:
    """The crystal's space-group operations acting on the sites of one cell.

    Every operation is g = t·g_R: a pure translation t of the cell (the group T, N elements;
    N > 1 for a supercell) after the representative g_R = (R|τ_R) of its rotation. Site
    permutations are built as perm_t ∘ perm_R from the N + P permutations of T and of the P
    representatives, so memory and time are linear in atoms × operations (no atoms² array).

    Attributes
    ----------
    rotations, translations
        The G = N·P operations (R|τ) in the cell's fractional coordinates.
    perms
        (G, n_sites) int32: operation g sends site i to site ``perms[g, i]``.
    rot_index, trans_index
        For every operation, its rotation (index into ``reps``) and pure translation (index
        into ``pure``).
    reps, pure
        Operation indices of the rotation representatives and of the pure translations.
    """

    def __init__(self, structure: MagneticStructure, dataset: Any, symprec: float) -> None:
        rots = np.rint(np.asarray(dataset.rotations)).astype(int)
        trans = np.asarray(dataset.translations, dtype=float)
        self.rotations, self.translations = rots, trans
        from altermag.config import check_limit

        check_limit(
            "symmetry operations × sites", len(rots) * len(structure), "max_site_operations"
        )
        rot_id: dict[bytes, int] = {}
        rot_index = np.empty(len(rots), dtype=np.intp)
        reps: list[int] = []
        for g, r in enumerate(rots):
            key = r.tobytes()
            if key not in rot_id:
                rot_id[key] = len(reps)
                reps.append(g)
            rot_index[g] = rot_id[key]
        self.rot_index, self.reps = rot_index, np.array(reps, dtype=np.intp)
        ident = rot_id[np.eye(3, dtype=int).tobytes()]
        self.pure = np.flatnonzero(rot_index == ident)
        pure_t = np.mod(trans[self.pure], 1.0)
        pure_t[pure_t >= 1.0] = 0.0
        rel = trans - trans[self.reps][rot_index]  # t of g = t·g_R, modulo the cell
        rel = np.mod(rel, 1.0)
        rel[rel >= 1.0] = 0.0
        _, t_idx = cKDTree(pure_t, boxsize=1.0).query(rel)
        self.trans_index = np.asarray(t_idx, dtype=np.intp)

        frac = np.mod(structure.frac_coords, 1.0)
        frac[frac >= 1.0] = 0.0
        lattice = structure.lattice
        tree = cKDTree(frac, boxsize=1.0)
        tol = max(symprec, 1e-3)
        n_sites = len(frac)
        # primitive basis (columns) in the cell's fractional coordinates
        if len(self.pure) > 1:
            self.basis = np.linalg.solve(lattice.T, np.asarray(dataset.primitive_lattice).T)
        else:
            self.basis = np.eye(3)
        self.inv = np.linalg.inv(self.basis)
        self.n_pure = trans[self.pure] @ self.inv.T  # integer coordinates of T
        if (
            np.max(np.abs(self.inv - np.rint(self.inv))) > 0.05
            or np.max(np.abs(self.n_pure - np.rint(self.n_pure))) > 0.05
        ):  # pragma: no cover - spglib's primitive lattice always contains the translations
            raise AnalysisError("the cell's translations do not fit spglib's primitive cell")
        perm_t = self._translation_perms(structure, dataset, tree, tol)
        perm_r = [_match_sites(tree, frac, lattice, frac @ rots[g].T + trans[g], tol) for g in reps]
        self.perms = np.empty((len(rots), n_sites), dtype=np.int32)
        for r, pr in enumerate(perm_r):  # op t·g_R sends i to perm_t[perm_R[i]]
            ops = np.flatnonzero(rot_index == r)
            self.perms[ops] = perm_t[self.trans_index[ops]][:, pr]

    def _translation_perms(
        self, structure: MagneticStructure, dataset: Any, tree: cKDTree, tol: float
    ) -> np.ndarray:
        """(N, n_sites) permutations of the pure translations, exactly from integer
        coordinates: site i is primitive site p(i) shifted by the primitive lattice vector
        n(i), and translation m sends it to the site keyed (p(i), n(i) + m mod the cell)."""
        frac = structure.frac_coords
        n_sites, n_t = len(frac), len(self.pure)
        if n_t == 1:
            return np.arange(n_sites, dtype=np.int32)[None, :]
        prim = np.asarray(dataset.mapping_to_primitive, dtype=np.int64)
        _, first = np.unique(prim, return_index=True)
        rep = first[np.searchsorted(np.unique(prim), prim)]
        offset = np.rint((frac - frac[rep]) @ self.inv.T).astype(np.int64)
        shift = np.rint(self.n_pure).astype(np.int64)
        denom = n_t  # cell fractional coordinates of primitive lattice vectors are k/N

        def keys(n_int: np.ndarray, p: np.ndarray) -> np.ndarray:
            x = np.rint(np.mod(n_int @ self.basis.T, 1.0) * denom).astype(np.int64) % denom
            return ((p * denom + x[..., 0]) * denom + x[..., 1]) * denom + x[..., 2]

        site_keys = keys(offset, prim)
        order = np.argsort(site_keys)
        sorted_keys = site_keys[order]
        wanted = keys(offset[None, :, :] + shift[:, None, :], prim[None, :])
        where = np.minimum(np.searchsorted(sorted_keys, wanted), n_sites - 1)
        if np.unique(site_keys).size != n_sites or not np.array_equal(
            sorted_keys[where], wanted
        ):  # pragma: no cover - noisy cell: match positions instead
            frac0 = np.mod(frac, 1.0)
            frac0[frac0 >= 1.0] = 0.0
            return np.array(
                [
                    _match_sites(tree, frac0, structure.lattice, frac0 + t, tol)
                    for t in self.translations[self.pure]
                ],
                dtype=np.int32,
            )
        return order[where].astype(np.int32)

    def orbits(self, sites: np.ndarray) -> list[np.ndarray]:
        """Orbits (sorted site indices) of the given sites, in order of first appearance."""
        out: list[np.ndarray] = []
        seen = np.zeros(self.perms.shape[1], dtype=bool)
        for s in sites:
            if seen[s]:
                continue
            orb = np.unique(self.perms[:, s])
            seen[orb] = True
            out.append(orb)
        return out

    def characters(self, structure: MagneticStructure, dataset: Any) -> list[np.ndarray]:
        """Every non-trivial one-dimensional real character χ: G → ±1 (one per index-2
        subgroup, its kernel), as a (G,) array of ±1.

        χ(t·g_R) = χ_T(t) χ(g_R). On the translations χ_T(t) = (−1)^(k·n), n the integer
        coordinates of t in the primitive basis and k ∈ F₂³; it must be trivial on the cell's
        own lattice and invariant under every rotation. On the representatives x_R ∈ F₂ with
        x_R₁ + x_R₂ + x_R₁R₂ = k·n(t₁₂), where g_R₁ g_R₂ = t₁₂·g_R₁R₂. These conditions are
        linear over F₂ in (k, x): the characters are the null space, found by elimination
        in O(P²) instead of multiplying the G elements of the group.
        """
        rots, trans, reps = self.rotations, self.translations, self.reps
        n_rep = len(reps)
        inv, n_cell, n_pure = self.inv, self.inv, self.n_pure
        rot_p = np.rint(np.einsum("ij,gjk,kl->gil", inv, rots[reps], self.basis)).astype(int)
        eqs: list[np.ndarray] = []
        # (a) trivial on the cell's lattice vectors
        for i in range(3):
            row = np.zeros(3 + n_rep, dtype=np.uint8)
            row[:3] = np.rint(n_cell[:, i]).astype(int) % 2
            eqs.append(row)
        # (b) invariant under rotations: k·(R − 1) e_j = 0
        for r in rot_p:
            for j in range(3):
                row = np.zeros(3 + n_rep, dtype=np.uint8)
                row[:3] = (r[:, j] - np.eye(3, dtype=int)[:, j]) % 2
                eqs.append(row)
        # (c) products of representatives, all pairs at once
        rep_rots = rots[reps]
        rep_id = {r.tobytes(): a for a, r in enumerate(rep_rots)}
        prod = np.einsum("aij,bjk->abik", rep_rots, rep_rots).reshape(-1, 3, 3)
        c = np.array([rep_id[m.tobytes()] for m in prod])
        a_idx, b_idx = np.divmod(np.arange(n_rep * n_rep), n_rep)
        tau = trans[reps]
        t12 = np.einsum("aij,bj->abi", rep_rots, tau).reshape(-1, 3) + tau[a_idx] - tau[c]
        prod_rows = np.zeros((n_rep * n_rep, 3 + n_rep), dtype=np.uint8)
        prod_rows[:, :3] = np.rint(t12 @ inv.T).astype(int) % 2
        rows = np.arange(n_rep * n_rep)
        for idx in (a_idx, b_idx, c):  # x_a + x_b + x_c (a repeated index cancels)
            prod_rows[rows, 3 + idx] ^= 1
        eqs.extend(prod_rows)
        null = _f2_nullspace(np.array(eqs, dtype=np.uint8), 3 + n_rep)
        n_g = np.rint(n_pure).astype(int)[self.trans_index] % 2  # (G, 3)
        out = []
        for v in range(1, 1 << len(null)):
            sol = np.zeros(3 + n_rep, dtype=np.uint8)
            for i, vec in enumerate(null):
                if v >> i & 1:
                    sol ^= vec
            bits = (sol[3:][self.rot_index] + n_g @ sol[:3]) % 2
            out.append(np.where(bits == 0, 1, -1))
        return out


def _f2_nullspace(matrix: np.ndarray, n_vars: int) -> list[np.ndarray]:
    """A basis of the null space of a matrix over F₂ (Gauss–Jordan elimination on rows
    packed into 64-bit words; at most 3 + 48 unknowns)."""
    if n_vars > 63:  # pragma: no cover - 3 + at most 48 point operations
        raise ValueError("too many unknowns for one 64-bit word")
    weights = np.left_shift(np.uint64(1), np.arange(n_vars, dtype=np.uint64))
    rows = np.bitwise_or.reduce(np.where(matrix % 2 == 1, weights, np.uint64(0)), axis=1)
    rows = np.unique(rows[rows != 0])
    pivots: list[tuple[int, int]] = []  # (column, fully reduced row)
    for col in range(n_vars):
        bit = np.uint64(1 << col)
        has = (rows & bit) != 0
        if not has.any():
            continue
        pr = rows[int(np.flatnonzero(has)[0])]
        rows = rows ^ np.where(has, pr, np.uint64(0))
        rows = rows[rows != 0]
        p_int = int(pr)
        pivots = [(c, v ^ p_int if v >> col & 1 else v) for c, v in pivots]
        pivots.append((col, p_int))
    pivot_cols = {c for c, _ in pivots}
    basis = []
    for free in (c for c in range(n_vars) if c not in pivot_cols):
        v = np.zeros(n_vars, dtype=np.uint8)
        v[free] = 1
        for c, row in pivots:
            v[c] = row >> free & 1
        basis.append(v)
    return basis


#: Most orbits whose moments may also be left out one by one (3^k combinations per pattern).
ZERO_ORBITS_MAX = 6


def _orbit_weights(n_orbits: int, with_zero: bool) -> list[tuple[int, ...]]:
    """Relative factors (+1, −1, 0: no moment) of the orbits in one pattern, the first
    non-zero one +1 (a global flip gives the same order). Orders with every orbit ordered
    come first, in the order of ``product((1, -1), ...)``."""
    full = [(1, *rel) for rel in product((1, -1), repeat=n_orbits - 1)]
    if not with_zero or n_orbits < 2:
        return full
    partial = [
        w
        for w in product((1, -1, 0), repeat=n_orbits)
        if 0 in w and any(w) and next(x for x in w if x) == 1
    ]
    return full + partial


def _character_patterns(
    group: _CrystalGroup, chars: list[np.ndarray], orbits: list[np.ndarray], mag: np.ndarray
) -> list[np.ndarray]:
    """Sign patterns on ``mag`` sites from the index-2 subgroups of the space group.

    For a character χ, an orbit whose site stabiliser lies in ker χ carries
    m(g·s₀) = χ(g) m(s₀); an orbit whose stabiliser does not (e.g. V on 6c of A15 Pm-3n for
    the i-wave χ) carries no moment, and the pattern is kept when any orbit is ordered.
    Every such pattern is mapped onto ± itself by every operation.
    """
    n = group.perms.shape[1]
    reps = [int(o[0]) for o in orbits]
    out: list[np.ndarray] = []
    for chi in chars:
        orbit_signs = []
        for s0 in reps:
            sites = group.perms[:, s0]
            signs = np.zeros(n, dtype=int)
            signs[sites] = chi
            if np.array_equal(signs[sites], chi):  # stabiliser of s0 inside ker χ
                orbit_signs.append(signs[mag])
        if not orbit_signs:
            continue
        stacked = np.array(orbit_signs)
        for w in _orbit_weights(len(orbit_signs), len(orbit_signs) <= ZERO_ORBITS_MAX):
            out.append(np.asarray(w) @ stacked)
    return out


def _exhaustive_patterns(
    orbits: list[np.ndarray], mag: np.ndarray, with_zero: bool
) -> list[np.ndarray]:
    """Every assignment compensated within each orbit (odd orbits, and with ``with_zero``
    any orbit, may carry no moment), the all-zero one excepted."""
    pos = {int(s): k for k, s in enumerate(mag)}
    per_orbit = []
    for orb in orbits:
        choices = []
        if len(orb) % 2 == 0:
            for ups in combinations(range(len(orb)), len(orb) // 2):
                signs = -np.ones(len(orb), int)
                signs[list(ups)] = 1
                choices.append(signs)
        if with_zero or len(orb) % 2:
            choices.append(np.zeros(len(orb), int))
        per_orbit.append(choices)
    out = []
    for combo in product(*per_orbit):
        pat = np.zeros(len(mag), int)
        for orb, signs in zip(orbits, combo, strict=True):
            pat[[pos[int(s)] for s in orb]] = signs
        if np.any(pat):
            out.append(pat)
    return out


def _canonical(pattern: np.ndarray, mag_perms: np.ndarray | None) -> tuple[int, ...]:
    """Smallest image of a sign pattern under the space group and a global flip
    (``mag_perms`` None: a character pattern, whose images are ± itself)."""
    if mag_perms is None:
        return min(tuple(pattern.tolist()), tuple((-pattern).tolist()))
    images = pattern[mag_perms]  # pattern after relabelling by every op
    images = np.concatenate([images, -images])
    best = min(map(tuple, images.tolist()))
    return best


def _neighbour_shells(
    structure: MagneticStructure, mag: np.ndarray, n_shells: int = 2
) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Magnetic–magnetic pairs (i, j indices into ``mag``) grouped in distance shells.

    The search radius starts at a few magnetic-atom spacings and grows until the requested
    shells are complete, so a large cell costs pairs within a few Å, not within its size.
    """
    from pymatgen.optimization.neighbors import find_points_in_spheres

    cart = np.ascontiguousarray(structure.cart_coords[mag])
    lattice = np.ascontiguousarray(structure.lattice)
    limit = 2.0 * max(np.linalg.norm(lattice, axis=1).max(), 4.0)
    spacing = (abs(np.linalg.det(lattice)) / len(mag)) ** (1 / 3)
    cutoff = min(limit, 2.5 * spacing + 1.0)
    while True:
        centers, points, _, dists = find_points_in_spheres(
            cart, cart, r=cutoff, pbc=np.array([1, 1, 1], dtype=np.int64), lattice=lattice, tol=1e-8
        )
        keep = dists > 0.1
        centers, points, dists = centers[keep], points[keep], dists[keep]
        shells = []
        remaining = np.ones(len(dists), bool)
        reach = 0.0
        for _ in range(n_shells):
            if not np.any(remaining):
                break
            d0 = dists[remaining].min()
            reach = d0 * 1.05 + 0.05
            sel = remaining & (dists <= reach)
            shells.append((float(d0), centers[sel], points[sel]))
            remaining &= ~sel
        if cutoff >= limit or (len(shells) == n_shells and reach < cutoff):
            return shells
        cutoff = min(limit, 1.6 * cutoff)


def _score(pattern: np.ndarray, shells, element: str) -> tuple[float, str]:
    """Weighted fraction of antiparallel pairs in the nearest (¾) and next (¼) shells; a
    site without moment is antiparallel to nothing."""
    weights = (0.75, 0.25)
    score = 0.0
    parts = []
    names = ("nearest", "next")
    for (d, ci, pj), w, name in zip(shells, weights, names, strict=False):
        anti = int(np.sum(pattern[ci] * pattern[pj] < 0))
        total = len(ci)
        score += w * anti / total
        parts.append(f"{name} {element} pairs at {d:.2f} Å: {anti // 2}/{total // 2} antiparallel")
    return round(score, 4), "; ".join(parts)


def enumerate_orders(
    structure: MagneticStructure,
    symprec: float = DEFAULT_SYMPREC,
    magtol: float = DEFAULT_MAGTOL,
    cell: str = DEFAULT_CELL,
    max_orders: int = DEFAULT_MAX_ORDERS,
    magnetic_elements: frozenset[str] | None = None,
) -> SpinGroupResult:
    """Enumerate, classify and rank the collinear k = 0 orders a structure can host.

    The returned result describes the rank-1 order at the top level (verdict, wave, ...),
    with ``enumerated=True``, every classified order in ``orders`` (best first),
    ``can_host_altermagnet`` and the wave types found in ``host_waves``.
    """
    from altermag.config import active_limits, use_limits

    with use_limits(active_limits()):  # read the settings once, not once per order
        return _enumerate_orders(structure, symprec, magtol, cell, max_orders, magnetic_elements)


def _enumerate_orders(
    structure: MagneticStructure,
    symprec: float,
    magtol: float,
    cell: str,
    max_orders: int,
    magnetic_elements: frozenset[str] | None,
) -> SpinGroupResult:
    # one symmetry search per structure: the input's dataset serves when the input is the
    # enumeration cell (as given, or already primitive: nearly every database entry)
    input_ds = None if cell == "as_given" else _dataset(structure, symprec, raise_error=False)
    work = _choose_cell(structure, symprec, cell, input_ds)
    dataset = input_ds if work is structure else None
    mag = magnetic_site_indices(work, magnetic_elements)
    warnings: list[str] = []
    if cell != "as_given" and len(work) != len(structure):
        warnings.append(
            f"orders enumerated on the {cell} cell ({len(work)} sites; input had {len(structure)})"
        )
    if len(mag) == 0:
        same_types = dataset is not None and len(set(_types(work).tolist())) == len(
            set(_site_types(work).tolist())
        )
        res = classify(
            work.with_moments(np.zeros(len(work))),
            symprec=symprec,
            magtol=magtol,
            crystal_dataset=dataset if same_types else None,
        )
        res.enumerated = True
        res.can_host_altermagnet = False
        res.moments = None
        res.warnings = [
            *warnings,
            "no site can carry a moment (no magnetic element, or only closed-shell ions such "
            "as Ti⁴⁺, Cu⁺, Ce⁴⁺): nothing to order",
        ]
        return res

    if dataset is None:
        dataset = _dataset(work, symprec)
    group = _CrystalGroup(work, dataset, symprec)
    orbits = group.orbits(mag)
    odd = [o for o in orbits if len(o) % 2]
    even = [o for o in orbits if len(o) % 2 == 0]
    element = "/".join(sorted({work.species[int(i)] for i in mag}))  # names the shells

    candidates: dict[tuple[int, ...], np.ndarray] = {}
    if odd:
        warnings.append(
            ("no compensated k = 0 order in this cell: " if not even else "")
            + ", ".join(f"an orbit of {len(o)} {work.species[int(o[0])]} sites" for o in odd)
            + " cannot be split into equal up and down halves"
            + ("" if not even else ": it carries no moment in the enumerated orders")
        )
    if even:
        chars = group.characters(work, dataset)
        for pat in _character_patterns(group, chars, orbits, mag):
            candidates.setdefault(_canonical(pat, None), pat)
        raw = int(np.prod([comb(len(o), len(o) // 2) for o in even]))
        sizes = [comb(len(o), len(o) // 2) if len(o) % 2 == 0 else 0 for o in orbits]
        raw_zero = int(np.prod([c + 1 for c in sizes])) - 1
        if raw <= EXHAUSTIVE_CAP:
            pos = np.full(len(work), -1, dtype=np.intp)
            pos[mag] = np.arange(len(mag))
            mag_perms = pos[group.perms[:, mag]]
            for pat in _exhaustive_patterns(orbits, mag, with_zero=raw_zero <= EXHAUSTIVE_CAP):
                candidates.setdefault(_canonical(pat, mag_perms), pat)
        else:
            warnings.append(
                f"{raw} compensated assignments exceed the cap of {EXHAUSTIVE_CAP}: only the "
                "symmetric orders (index-2 subgroups of the space group) were enumerated"
            )
    ferro = np.ones(len(mag), int)
    shells = _neighbour_shells(work, mag)
    scored = []
    for pat in candidates.values():
        sc, why = _score(pat, shells, element)
        empty = [o for o in orbits if not np.any(pat[np.searchsorted(mag, o)])]
        if empty:
            why += "; no moment on " + ", ".join(
                f"the {len(o)} {work.species[int(o[0])]} sites of one orbit" for o in empty
            )
        scored.append((sc, why, pat))
    # fully ordered patterns before those that leave orbits without moment at equal score
    scored.sort(key=lambda x: (-x[0], int(np.sum(x[2] == 0)), tuple(x[2].tolist())))
    if len(scored) > max_orders:
        warnings.append(f"{len(scored)} distinct orders; the best {max_orders} were classified")
        scored = scored[:max_orders]
    fm_score, fm_why = _score(ferro, shells, element)
    scored.append((fm_score, fm_why + " (ferromagnetic reference)", ferro))

    orders: list[EnumeratedOrder] = []
    for sc, why, pat in scored:
        signs = np.zeros(len(work), int)
        signs[mag] = pat
        res = classify(
            work.with_moments(UNIT_MOMENT * signs),
            symprec=symprec,
            magtol=magtol,
            crystal_dataset=dataset,
            crystal_permutations=group.perms,
        )
        orders.append(
            EnumeratedOrder(signs=signs.tolist(), rank=0, score=sc, reason=why, result=res)
        )
    reference = orders[-1]  # the ferromagnetic reference, classified last, stays last
    orders.sort(
        key=lambda o: (
            o is reference,
            -o.score,
            sum(1 for x in o.signs if x == 0) - (len(work) - len(mag)),
            -o.result.n_spin_group_operations,
        )
    )
    for k, o in enumerate(orders, start=1):
        o.rank = k
    best = orders[0].result
    top = SpinGroupResult(**{**best.__dict__})
    top.enumerated = True
    top.orders = orders
    top.moments = cast(list[float], orders[0].signs)  # the ±1 (0) signs, as before
    top.can_host_altermagnet = any(o.result.verdict == "altermagnet" for o in orders)
    top.host_waves = sorted(
        {o.result.wave for o in orders if o.result.verdict == "altermagnet" and o.result.wave},
        key="dgi".index,
    )
    top.warnings = [*warnings, *best.warnings]
    if work is not structure:
        top.order_cell = work.to_dict()
    return top


def ordered_structure(
    structure: MagneticStructure,
    result: SpinGroupResult,
    rank: int | None = None,
    moment: float = 3.0,
) -> MagneticStructure:
    """The structure carrying one enumerated order as moments (± ``moment`` μB).

    ``rank`` picks an order by rank; by default the best-ranked altermagnetic order, else the
    rank-1 order. The enumeration cell (``result.order_cell``) is used when it differs from
    the input cell.
    """
    if not result.enumerated or not result.orders:
        raise InputError("the result has no enumerated orders (moments were given)")
    if rank is None:
        chosen = next(
            (o for o in result.orders if o.result.verdict == "altermagnet"), result.orders[0]
        )
    else:
        matches = [o for o in result.orders if o.rank == rank]
        if not matches:
            raise SettingsError(f"no enumerated order of rank {rank} (1..{len(result.orders)})")
        chosen = matches[0]
    cell = (
        structure if result.order_cell is None else MagneticStructure.from_dict(result.order_cell)
    )
    return cell.with_moments([moment * float(s) for s in chosen.signs])
