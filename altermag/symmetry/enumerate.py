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
from typing import Any

import numpy as np
import spglib
import spglib.error

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


def _choose_cell(structure: MagneticStructure, symprec: float, cell: str) -> MagneticStructure:
    if cell == "as_given":
        return structure
    if cell not in ("primitive", "conventional"):
        raise SettingsError(f"cell must be 'primitive', 'conventional' or 'as_given', not {cell!r}")
    types = _site_types(structure)
    # each type stands for one (element, oxidation state) pair: recover both after reduction
    kinds = {int(t): i for i, t in enumerate(types)}
    try:
        std = spglib.standardize_cell(
            (structure.lattice, structure.frac_coords, types),
            to_primitive=cell == "primitive",
            no_idealize=True,
            symprec=symprec,
        )
    except spglib.error.SpglibError:
        std = None
    if std is None:
        return structure
    lattice, positions, new_types = std
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


def _site_permutations(structure: MagneticStructure, dataset: Any) -> np.ndarray:
    """(n_ops, n_sites) permutation: op g sends site i to site perm[g, i]."""
    from altermag.symmetry.operations import site_permutations

    rots, trans = np.asarray(dataset.rotations), np.asarray(dataset.translations)
    perms, _ = site_permutations(rots, trans, structure.frac_coords, structure.lattice)
    return np.unique(perms, axis=0)


def _character_patterns(perms: np.ndarray, mag: np.ndarray) -> list[np.ndarray]:
    """Sign patterns on ``mag`` sites from the index-2 subgroups of the permutation group."""
    group = perms
    index = {tuple(p): k for k, p in enumerate(group)}
    n = len(group)

    def mul(a: int, b: int) -> int:  # (a∘b)(i) = a(b(i))
        return index[tuple(group[a][group[b]])]

    identity = index[tuple(range(group.shape[1]))]
    # N = subgroup generated by squares; G/N is an elementary abelian 2-group
    squares = {mul(g, g) for g in range(n)}
    sub = {identity}
    frontier = list(squares)
    while frontier:
        x = frontier.pop()
        if x in sub:
            continue
        sub.add(x)
        frontier.extend(mul(x, y) for y in list(sub))
        frontier.extend(mul(y, x) for y in list(sub))
    coset_of = {}
    reps: list[int] = []
    for g in range(n):
        if g in coset_of:
            continue
        cid = len(reps)
        reps.append(g)
        for h in sub:
            coset_of[mul(g, h)] = cid
    # F2 coordinates of every coset by greedy basis
    code = {coset_of[identity]: 0}
    basis: list[int] = []
    for r in reps:
        c = coset_of[r]
        if c in code:
            continue
        bit = 1 << len(basis)
        basis.append(r)
        new = {}
        for c0, v0 in code.items():
            prod_elem = mul(reps[c0], r)
            new[coset_of[prod_elem]] = v0 ^ bit
        code.update(new)
    codes = np.array([code[coset_of[g]] for g in range(n)])
    rank = len(basis)
    patterns: list[np.ndarray] = []
    # orbits of magnetic sites
    orbit_reps: list[int] = []
    seen: set[int] = set()
    for s in mag:
        if s in seen:
            continue
        orbit_reps.append(int(s))
        seen.update(int(x) for x in group[:, s])
    for v in range(1, 1 << rank):
        chi = np.where(np.array([bin(v & c).count("1") % 2 for c in codes]) == 0, 1, -1)
        orbit_signs = []
        ok = True
        for s0 in orbit_reps:
            signs = np.zeros(group.shape[1], int)
            for g in range(n):
                t = group[g, s0]
                if signs[t] == 0:
                    signs[t] = chi[g]
                elif signs[t] != chi[g]:
                    ok = False  # stabiliser of s0 not inside ker χ
                    break
            if not ok:
                break
            orbit_signs.append(signs)
        if not ok:
            continue
        for rel in product((1, -1), repeat=len(orbit_reps) - 1):
            total = orbit_signs[0].copy()
            for sgn, o in zip(rel, orbit_signs[1:], strict=True):
                total += sgn * o
            patterns.append(total[mag])
    return patterns


def _exhaustive_patterns(orbits: list[np.ndarray], mag: np.ndarray) -> list[np.ndarray]:
    pos = {int(s): k for k, s in enumerate(mag)}
    per_orbit = []
    for orb in orbits:
        choices = []
        for ups in combinations(range(len(orb)), len(orb) // 2):
            signs = -np.ones(len(orb), int)
            signs[list(ups)] = 1
            choices.append(signs)
        per_orbit.append(choices)
    out = []
    for combo in product(*per_orbit):
        pat = np.zeros(len(mag), int)
        for orb, signs in zip(orbits, combo, strict=True):
            pat[[pos[int(s)] for s in orb]] = signs
        out.append(pat)
    return out


def _canonical(pattern: np.ndarray, mag_perms: np.ndarray) -> tuple[int, ...]:
    """Smallest image of a sign pattern under the space group and a global flip."""
    images = pattern[mag_perms]  # pattern after relabelling by every op
    images = np.concatenate([images, -images])
    best = min(map(tuple, images.tolist()))
    return best


def _neighbour_shells(
    structure: MagneticStructure, mag: np.ndarray, n_shells: int = 2
) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Magnetic–magnetic pairs (i, j indices into ``mag``) grouped in distance shells."""
    from pymatgen.optimization.neighbors import find_points_in_spheres

    cart = np.ascontiguousarray(structure.cart_coords[mag])
    lattice = np.ascontiguousarray(structure.lattice)
    cutoff = 2.0 * max(np.linalg.norm(lattice, axis=1).max(), 4.0)
    centers, points, _, dists = find_points_in_spheres(
        cart, cart, r=cutoff, pbc=np.array([1, 1, 1], dtype=np.int64), lattice=lattice, tol=1e-8
    )
    keep = dists > 0.1
    centers, points, dists = centers[keep], points[keep], dists[keep]
    shells = []
    remaining = np.ones(len(dists), bool)
    for _ in range(n_shells):
        if not np.any(remaining):
            break
        d0 = dists[remaining].min()
        sel = remaining & (dists <= d0 * 1.05 + 0.05)
        shells.append((float(d0), centers[sel], points[sel]))
        remaining &= ~sel
    return shells


def _score(pattern: np.ndarray, shells, element: str) -> tuple[float, str]:
    weights = (0.75, 0.25)
    score = 0.0
    parts = []
    names = ("nearest", "next")
    for (d, ci, pj), w, name in zip(shells, weights, names, strict=False):
        anti = int(np.sum(pattern[ci] != pattern[pj]))
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
    work = _choose_cell(structure, symprec, cell)
    mag = magnetic_site_indices(work, magnetic_elements)
    warnings: list[str] = []
    if cell != "as_given" and len(work) != len(structure):
        warnings.append(
            f"orders enumerated on the {cell} cell ({len(work)} sites; input had {len(structure)})"
        )
    if len(mag) == 0:
        res = classify(work.with_moments(np.zeros(len(work))), symprec=symprec, magtol=magtol)
        res.enumerated = True
        res.can_host_altermagnet = False
        res.moments = None
        res.warnings = [
            *warnings,
            "no site can carry a moment (no magnetic element, or only closed-shell ions such "
            "as Ti⁴⁺, Cu⁺, Ce⁴⁺): nothing to order",
        ]
        return res

    detail = ""
    try:
        dataset = spglib.get_symmetry_dataset(
            (work.lattice, work.frac_coords, _site_types(work)), symprec=symprec
        )
    except spglib.error.SpglibError as exc:
        dataset, detail = None, str(exc)
    if dataset is None:
        raise AnalysisError(
            f"spglib could not find the symmetry of the crystal (symprec={symprec} Å) {detail}"
        )
    perms = _site_permutations(work, dataset)
    mag_pos = {int(s): k for k, s in enumerate(mag)}
    mag_perms = np.array([[mag_pos[int(p[s])] for s in mag] for p in perms])
    orbits: list[np.ndarray] = []
    seen: set[int] = set()
    for s in mag:
        if int(s) in seen:
            continue
        orb = np.unique(perms[:, s])
        seen.update(int(x) for x in orb)
        orbits.append(orb)
    odd = [o for o in orbits if len(o) % 2]
    element = work.species[int(mag[0])]

    candidates: dict[tuple[int, ...], np.ndarray] = {}
    if odd:
        warnings.append(
            "no compensated k = 0 order in this cell: "
            + ", ".join(f"an orbit of {len(o)} {work.species[int(o[0])]} sites" for o in odd)
            + " cannot be split into equal up and down halves"
        )
    else:
        for pat in _character_patterns(perms, mag):
            candidates.setdefault(_canonical(pat, mag_perms), pat)
        raw = int(np.prod([comb(len(o), len(o) // 2) for o in orbits]))
        if raw <= EXHAUSTIVE_CAP:
            for pat in _exhaustive_patterns(orbits, mag):
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
        scored.append((sc, why, pat))
    scored.sort(key=lambda x: (-x[0], tuple(x[2].tolist())))
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
        )
        orders.append(
            EnumeratedOrder(signs=signs.tolist(), rank=0, score=sc, reason=why, result=res)
        )
    orders.sort(key=lambda o: (-o.score, -o.result.n_spin_group_operations))
    for k, o in enumerate(orders, start=1):
        o.rank = k
    best = orders[0].result
    top = SpinGroupResult(**{**best.__dict__})
    top.enumerated = True
    top.orders = orders
    top.moments = orders[0].signs
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
