"""The exact spin-group classification of a collinear magnet.

Algorithm (docs/symmetry.md):

1. spglib's magnetic symmetry search on the cell *as given* with scalar (signed) moments
   returns every crystal operation g = (R|t) that maps each moment onto an equal moment
   (spin-preserving, [E||g]) or onto an opposite one (spin-flipping, [C2||g]); sites of one
   element with different |m| are automatically different atom types.
2. No spin-flipping operation → ferro-/ferrimagnet (or an accidentally compensated one).
   A spin-flipping pure translation [C2||t] or inversion [C2||−1] → conventional
   antiferromagnet: E(k,↑) = E(k,↓) at every k. Otherwise → altermagnet.
3. The spin Laue group {R, −R} with χ(R) = ±1 gives the wave type by a character
   projection and the form factor by projecting monomials (``harmonics``); spin-flipping
   mirrors of the spin Laue group are the symmetry-enforced nodal planes.
"""

from __future__ import annotations

from functools import cache
from itertools import pairwise
from typing import Any, Literal, cast

import numpy as np
import spglib
import spglib.error

from altermag.errors import AnalysisError, InputError
from altermag.result import NodalPlane, SpinGroupResult, Verdict, Wave
from altermag.structure import MagneticStructure
from altermag.symmetry import harmonics, laue_table
from altermag.symmetry.bns import _table as _bns_table
from altermag.symmetry.bns import bns_symbol
from altermag.symmetry.laue import LaueInfo, laue_info, rotation_axes
from altermag.symmetry.operations import spin_operation_symbol

__all__ = [
    "CELLS",
    "DEFAULT_CELL",
    "DEFAULT_MAGTOL",
    "DEFAULT_MAX_ORDERS",
    "DEFAULT_SYMPREC",
    "MOMENT_FLOOR",
    "ZERO_FRACTION",
    "Cell",
    "classify",
    "effective_magtol",
]

spglib.error.OLD_ERROR_HANDLING = False  # spglib raises SpglibError instead of returning None

#: Position tolerance in Å: classifies MnF2 with 0.02 Å noise on every atom (the operation
#: found from one noisy pair must then map all other noisy atoms: ~4× the noise).
DEFAULT_SYMPREC = 0.1
#: Moment tolerance in μB: moments that differ by up to ~0.1 μB count as equal. It is an upper
#: bound: for weak magnets the tolerance scales with the largest moment (:func:`effective_magtol`).
DEFAULT_MAGTOL = 0.15
#: Numerical-noise floor in μB: below it a moment is zero whatever the other moments are
#: (DFT and refinements quote moments to ~0.001–0.01 μB).
MOMENT_FLOOR = 0.01
#: A moment smaller than this fraction of the largest moment counts as zero (and moments
#: differing by less than it as equal), unless ``magtol`` is smaller still.
ZERO_FRACTION = 0.1

Cell = Literal["primitive", "conventional", "as_given"]
#: Cells the k = 0 orders of a structure without moments can be enumerated in.
CELLS: tuple[Cell, ...] = ("primitive", "conventional", "as_given")
#: The primitive cell: every k = 0 order, none counted twice.
DEFAULT_CELL: Cell = "primitive"
#: Most distinct orders the enumeration classifies (best heuristic score first).
DEFAULT_MAX_ORDERS = 64


def spglib_cell(*arrays: Any) -> Any:
    """A cell tuple for spglib (lattice, positions, types[, moments]): its annotations ask
    for sequences, and numpy arrays are what it reads."""
    return tuple(arrays)


def _types(structure: MagneticStructure) -> np.ndarray:
    """Integer atom types from element symbols (moments are handled by spglib separately)."""
    names = {s: i + 1 for i, s in enumerate(sorted(set(structure.species)))}
    return np.array([names[s] for s in structure.species], dtype=int)


def collinear_moments(magmoms: np.ndarray, magtol: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Signed moments along the common axis, the axis, and the largest perpendicular residual.

    The axis is the principal direction of Σ m mᵀ; its sign is chosen so that the largest
    moment is positive. A residual larger than ``magtol`` means the order is not collinear.
    """
    m = np.asarray(magmoms, dtype=float)
    if not np.any(np.linalg.norm(m, axis=1) > 0):
        return np.zeros(len(m)), np.array([0.0, 0.0, 1.0]), 0.0
    _w, v = np.linalg.eigh(m.T @ m)
    axis = v[:, -1]
    s = m @ axis
    if s[np.argmax(np.abs(s))] < 0:
        axis, s = -axis, -s
    residual = float(np.max(np.linalg.norm(m - np.outer(s, axis), axis=1)))
    return s, axis, residual


def effective_magtol(s: np.ndarray, magtol: float) -> float:
    """The moment tolerance that applies to moments ``s`` (μB): ``magtol`` scaled to the magnet.

    Whether a moment is zero is a question relative to the moments of the crystal: RuO2's
    reported ~0.05 μB, URu2Si2's 0.04 μB or MnF2 scaled to ±0.1 μB are ordered magnets
    exactly like MnF2 with ±5 μB, because the spin group only depends on which moments are
    equal, opposite or zero. The tolerance is therefore ``ZERO_FRACTION`` of the largest
    moment, never above ``magtol`` (the absolute tolerance, reached from 1.5 μB on with the
    defaults) and never below ``MOMENT_FLOOR`` (numerical noise).
    """
    largest = float(np.max(np.abs(s))) if len(s) else 0.0
    return min(magtol, max(MOMENT_FLOOR, ZERO_FRACTION * largest))


def _moment_classes(s: np.ndarray, magtol: float) -> tuple[np.ndarray, np.ndarray]:
    """Cluster signed moments: values closer than ``magtol`` share a class. Returns the class
    of every site and the mean moment of every class."""
    order = np.argsort(s)
    labels = np.zeros(len(s), dtype=int)
    current = 0
    for prev, idx in pairwise(order):
        if s[idx] - s[prev] > magtol:
            current += 1
        labels[idx] = current
    means = np.array([s[labels == k].mean() for k in range(current + 1)])
    return labels, means


def magnetic_primitive_cell(
    lattice: np.ndarray,
    frac: np.ndarray,
    types: np.ndarray,
    s: np.ndarray,
    symprec: float,
    magtol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Smallest cell with the periodicity of the *signed* moments (Cartesian frame kept).

    Pure translations that map every moment onto an equal one are lattice translations of the
    magnetic crystal; dividing them out loses nothing (a spin-flipping translation [C2||t] is
    not one of them and survives as an operation), while it restores the point operations that
    spglib cannot express in the basis of an oddly shaped supercell.
    """
    labels, means = _moment_classes(s, magtol)
    n_classes = len(means)
    mag_types = types * n_classes + labels
    try:
        std = spglib.standardize_cell(
            spglib_cell(lattice, frac, mag_types),
            to_primitive=True,
            no_idealize=True,
            symprec=symprec,
        )
    except spglib.error.SpglibError:
        std = None
    if std is None or len(std[2]) == len(types):
        return lattice, frac, types, s
    p_lattice, p_frac = np.asarray(std[0], dtype=float), np.asarray(std[1], dtype=float)
    p_types = np.asarray(std[2], dtype=int)
    return p_lattice, p_frac, p_types // n_classes, means[p_types % n_classes]


def _magnetic_symmetry(
    lattice: np.ndarray,
    frac: np.ndarray,
    types: np.ndarray,
    s: np.ndarray,
    symprec: float,
    angle_tolerance: float,
    magtol: float,
) -> dict:
    """spglib's operations [s||g] of a cell with signed (collinear) moments."""
    try:
        sym = spglib.get_magnetic_symmetry(
            spglib_cell(lattice, frac, types, s),
            symprec=symprec,
            angle_tolerance=angle_tolerance,
            mag_symprec=magtol,
        )
    except spglib.error.SpglibError:
        sym = None
    if sym is None:
        raise AnalysisError("spglib's magnetic symmetry search failed for this structure")
    return sym


def _spin_operations_from_crystal(
    crystal,
    lattice: np.ndarray,
    frac: np.ndarray,
    s: np.ndarray,
    symprec: float,
    magtol: float,
    permutations: np.ndarray | None = None,
) -> dict | None:
    """Spin-group operations of a primitive cell from the crystal's own operations.

    Every crystal operation g permutes the sites; it is [E||g] when every moment lands on an
    equal one, [C2||g] when every moment lands on its opposite, and not in the spin group
    otherwise. Equivalent to spglib's magnetic search for a cell that is primitive (and
    cheaper); returns None when a site cannot be matched, so the caller can fall back.
    """
    from altermag.symmetry.operations import site_permutations

    rots = np.asarray(crystal.rotations)
    trans = np.asarray(crystal.translations)
    if permutations is not None:  # already known (the order enumeration): no search
        perm = np.asarray(permutations)
    else:
        perm, dist = site_permutations(rots, trans, frac, lattice)
        if dist.max() > 2 * symprec:
            return None
    image = s[perm]  # moment of the site each site is sent to
    keep = np.all(np.abs(image - s) <= magtol, axis=1)
    flip = np.all(np.abs(image + s) <= magtol, axis=1) & ~keep
    sel = keep | flip
    perm = perm[sel]
    # orbits of the spin group: smallest site index reachable
    orbit = np.arange(len(s))
    for _ in range(len(s)):
        new = np.minimum(orbit, np.min(orbit[perm], axis=0))
        if np.array_equal(new, orbit):
            break
        orbit = new
    return {
        "rotations": rots[sel],
        "translations": trans[sel],
        "time_reversals": flip[sel].astype(np.intc),
        "equivalent_atoms": orbit,
    }


def _cartesian_rotations(lattice: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """Lattice-coordinate rotations W (f' = W f) as Cartesian matrices Aᵀ W A⁻ᵀ."""
    at = lattice.T
    return np.einsum("ij,gjk,kl->gil", at, rotations, np.linalg.inv(at))


_SNAP = np.array([0.0, 0.5, 1.0, np.sqrt(3) / 2, -0.5, -1.0, -np.sqrt(3) / 2])


def _snap_rotations(rots: np.ndarray, tol: float = 2e-2) -> np.ndarray:
    """Snap Cartesian rotation entries (standard frame) to 0, ±1/2, ±√3/2, ±1.

    In the standardized conventional frame every crystallographic rotation has such entries;
    symprec-sized lattice noise otherwise leaks into the form-factor projection.
    """
    diff = np.abs(rots[..., None] - _SNAP)
    idx = np.argmin(diff, axis=-1)
    snapped = np.where(np.min(diff, axis=-1) < tol, _SNAP[idx], rots)
    return snapped


def _unique_with_chi(rots: np.ndarray, chi: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Distinct rotations with their χ; ``consistent`` is False when one R carries both signs."""
    rots = np.asarray(rots)
    chi = np.asarray(chi)
    keys = np.round(rots.reshape(len(rots), -1), 4) + 0.0
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    consistent = bool(np.all(chi == chi[first][inverse.ravel()]))
    order = np.sort(first)  # distinct rotations in order of first appearance
    return rots[order], chi[order].astype(int), consistent


def _is_identity(r: np.ndarray) -> bool:
    return bool(np.array_equal(r, np.eye(3, dtype=r.dtype)))


def _is_inversion(r: np.ndarray) -> bool:
    return bool(np.array_equal(r, -np.eye(3, dtype=r.dtype)))


def _group_key(rots: np.ndarray, chi: np.ndarray) -> tuple:
    """Hashable, order-independent key of a spin Laue group (rotations rounded, with χ)."""
    rows = sorted((*(np.round(r, 9).ravel() + 0.0), int(c)) for r, c in zip(rots, chi, strict=True))
    return tuple(rows)


#: Wave degree, form-factor basis and nodal planes ``(normal, equation, enforced)``.
KSpace = tuple[int, list[str], list[tuple[tuple[float, ...], str, bool]]]


@cache
def _laue(key: tuple) -> LaueInfo:
    """Laue class and spin symbols of a spin Laue group given by its key: from the shipped
    table (:mod:`altermag.symmetry.laue_table`), else computed; cached."""
    row = laue_table.lookup(key)
    return LaueInfo(*row["laue"]) if row is not None else _laue_computed(key)


@cache
def _kspace(key: tuple) -> KSpace:
    """Wave degree, form-factor basis and nodal planes of a spin Laue group with spin-flipping
    elements: from the shipped table, else computed; cached.

    Screening meets the same few dozen spin Laue groups over and over; everything here
    depends on the group alone (plane ``uvw`` indices, which need the lattice, are added by
    the caller).
    """
    row = laue_table.lookup(key)
    if row is None or "kspace" not in row:
        return _kspace_computed(key)
    degree, basis, planes = row["kspace"]
    return degree, basis, [(tuple(n), eq, enf) for n, eq, enf in planes]


def _laue_computed(key: tuple) -> LaueInfo:
    """:func:`laue_info` of a spin Laue group given by its key."""
    arr = np.array(key, dtype=float)
    return laue_info(arr[:, :9].reshape(-1, 3, 3), arr[:, 9].astype(int))


def _kspace_computed(key: tuple) -> KSpace:
    """:func:`_kspace` computed: the χ projections of ``harmonics`` and the mirrors."""
    arr = np.array(key, dtype=float)
    rots, chi = arr[:, :9].reshape(-1, 3, 3), arr[:, 9].astype(int)
    degree = harmonics.lowest_degree(rots, chi)
    if degree is None:  # pragma: no cover - every crystallographic χ has a polynomial by l = 6
        raise RuntimeError("no form factor up to degree 8")
    basis = harmonics.form_factor_basis(rots, chi, degree)
    basis_str = [harmonics.polynomial_string(b, degree) for b in basis]
    planes = _nodal_planes(np.eye(3), rots, chi)
    if len(basis) == 1:
        planes += _form_factor_zero_planes(np.eye(3), rots, basis[0], degree, planes)
    return (
        degree,
        basis_str,
        [(tuple(p.cartesian_normal), p.equation, p.enforced) for p in planes],
    )


def _nodal_planes(lattice: np.ndarray, rots: np.ndarray, chi: np.ndarray) -> list[NodalPlane]:
    """Spin-degenerate planes forced by spin-flipping mirrors of the spin Laue group."""
    planes: list[NodalPlane] = []
    for r, c in zip(rots, chi, strict=True):
        if c != -1 or round(np.linalg.det(r)) != -1 or round(np.trace(r)) != 1:
            continue
        w, v = np.linalg.eigh((r + r.T) / 2)
        n = v[:, np.argmin(w)]
        n = n / np.linalg.norm(n)
        i = int(np.argmax(np.abs(n) > 1e-6))
        n = n if n[i] > 0 else -n
        if any(abs(abs(float(np.dot(n, p.cartesian_normal))) - 1) < 1e-4 for p in planes):
            continue
        planes.append(
            NodalPlane(
                uvw=_integer_direction(np.linalg.solve(lattice.T, n)),
                cartesian_normal=[round(float(x), 10) + 0.0 for x in n],
                equation=_plane_equation(n),
                enforced=True,
            )
        )
    planes.sort(key=lambda p: [-abs(x) for x in p.cartesian_normal])
    return planes


def _integer_direction(v: np.ndarray) -> list[int]:
    v = np.asarray(v, dtype=float)
    v = v / np.max(np.abs(v))
    for scale in range(1, 13):
        cand = v * scale
        if np.allclose(cand, np.round(cand), atol=2e-3):
            out = np.round(cand).astype(int)
            g = np.gcd.reduce(np.abs(out[out != 0]))
            return [int(x) // int(g) for x in out]
    return [int(x) for x in np.round(v * 12)]


def _plane_equation(n: np.ndarray) -> str:
    """``kx = 0``, ``sqrt(3)*kx - ky = 0``...: the shortest of the normalisations by each term."""
    terms = [(c, name) for c, name in zip(n, ("kx", "ky", "kz"), strict=True) if abs(c) > 1e-6]
    if len(terms) == 1:
        return f"{terms[0][1]} = 0"
    options = []
    for ref, _ in terms:
        ref = ref if terms[0][0] / ref > 0 else -ref  # first term positive
        parts = []
        for comp, name in terms:
            q = comp / ref
            coef = harmonics._coef_string(abs(q))
            body = name if coef == "1" else f"{coef}*{name}"
            parts.append(("- " if q < 0 else "+ ") + body)
        text = " ".join(parts)
        text = text[2:] if text.startswith("+ ") else "-" + text[2:]
        options.append((text.count("/"), len(text), text))
    return min(options)[2] + " = 0"


def _form_factor_zero_planes(
    lattice: np.ndarray,
    rots: np.ndarray,
    coefficients: np.ndarray,
    degree: int,
    known: list[NodalPlane],
) -> list[NodalPlane]:
    """Planes through Γ, normal to a symmetry axis or mirror normal, on which f(k) ≡ 0."""
    proper = rots * np.linalg.det(rots)[:, None, None]
    not_identity = ~np.all(np.abs(proper - np.eye(3)) <= 1e-8 + 1e-5, axis=(1, 2))
    candidates = rotation_axes(proper[not_identity]) if np.any(not_identity) else np.zeros((0, 3))
    # distinct axes not already nodal planes, all tested in one evaluation at 8 random
    # points of each plane (a polynomial vanishing there vanishes on the plane, w.p. 1)
    normals = [np.asarray(p.cartesian_normal, dtype=float) for p in known]
    distinct: list[np.ndarray] = []
    for n in candidates:
        if any(abs(abs(float(n @ m)) - 1) < 1e-4 for m in normals + distinct):
            continue
        distinct.append(n)
    if not distinct:
        return []
    axes = np.array(distinct)
    pts = np.random.default_rng(7).normal(size=(len(axes), 8, 3))
    pts -= np.einsum("kp,ki->kpi", np.einsum("kpi,ki->kp", pts, axes), axes)
    values = harmonics.evaluate(coefficients, degree, pts.reshape(-1, 3)).reshape(len(axes), 8)
    return [
        NodalPlane(
            uvw=_integer_direction(np.linalg.solve(lattice.T, n)),
            cartesian_normal=[round(float(x), 10) + 0.0 for x in n],
            equation=_plane_equation(n),
            enforced=False,
        )
        for n, v in zip(axes, values, strict=True)
        if np.all(np.abs(v) < 1e-8)
    ]


def _msg_uni_number(
    rotations: np.ndarray, translations: np.ndarray, time_rev: np.ndarray, symprec: float
) -> int | None:
    """UNI number of the magnetic space group generated by the given operations."""
    t = np.round(np.mod(translations, 1.0), 5) % 1.0
    key = tuple(
        sorted(
            (*r.ravel().tolist(), *tt.tolist(), int(f))
            for r, tt, f in zip(rotations, t, time_rev, strict=True)
        )
    )
    return _msg_uni_cached(key, symprec)


@cache
def _msg_uni_cached(key: tuple, symprec: float) -> int | None:
    """spglib identification of a magnetic space group from its operations (no lattice
    needed, so identical operation sets share one lookup)."""
    arr = np.array(key, dtype=float)
    try:
        msg = spglib.get_magnetic_spacegroup_type_from_symmetry(
            arr[:, :9].reshape(-1, 3, 3).astype(np.intc),
            arr[:, 9:12],
            arr[:, 12].astype(np.intc),
            symprec=symprec,
        )
    except spglib.error.SpglibError:
        return None
    return None if msg is None else int(msg.uni_number)


def _bns_symbol(uni_number: int) -> tuple[str, str]:
    """BNS number and symbol of a magnetic space group from its UNI number (shipped table,
    :mod:`altermag.symmetry.bns`)."""
    try:
        return bns_symbol(uni_number)
    except KeyError:  # pragma: no cover - spglib numbers groups 1..1651, all in the table
        msg = spglib.get_magnetic_spacegroup_type(uni_number)
        return ("" if msg is None else str(msg.bns_number)), ""


def check_finite(structure: MagneticStructure) -> None:
    """Refuse NaN or infinite lattice vectors, positions or moments (spglib crashes on them).

    Raises
    ------
    InputError
        Naming what is not finite.
    """
    for name, values in (
        ("lattice", structure.lattice),
        ("positions", structure.frac_coords),
        ("moments", structure.magmoms),
    ):
        if values is not None and not np.all(np.isfinite(values)):
            raise InputError(f"NaN or infinite values in the {name} of {structure.formula}")


def classify(
    structure: MagneticStructure,
    symprec: float = DEFAULT_SYMPREC,
    magtol: float = DEFAULT_MAGTOL,
    angle_tolerance: float = -1.0,
    crystal_dataset: Any = None,
    crystal_permutations: np.ndarray | None = None,
) -> SpinGroupResult:
    """Spin-group verdict, spin Laue group, wave type and form factor of a structure with moments.

    Parameters
    ----------
    structure
        Crystal with a moment on every site (``structure.magmoms`` not None). The cell is used
        as given: a magnetic supercell keeps its extra translations.
    symprec
        Position tolerance in Å for spglib.
    magtol
        Moment tolerance in μB: moments within ``magtol`` count as equal, |m| < ``magtol``
        as non-magnetic, and a perpendicular component above it makes the order non-collinear.
    crystal_dataset
        spglib dataset of the crystal with moments ignored, when the caller already has it
        (the order enumeration classifies many orders of one crystal).
    crystal_permutations
        With ``crystal_dataset``: the site each of its operations sends each site to
        (``(n_operations, n_sites)``), when the caller has it too.
    """
    if structure.magmoms is None:
        raise InputError("classify needs moments; use analyze() to enumerate orders")
    check_finite(structure)
    n = len(structure)
    warnings: list[str] = []
    base: dict[str, Any] = {
        "n_sites": n,
        "symprec": symprec,
        "magtol": magtol,
        "frame": "standard",
    }
    types = _types(structure)
    lattice = structure.lattice
    crystal, detail = crystal_dataset, ""
    for attempt in () if crystal is not None else (symprec, symprec / 2, symprec / 4):
        try:
            crystal = spglib.get_symmetry_dataset(
                spglib_cell(lattice, structure.frac_coords, types),
                symprec=attempt,
                angle_tolerance=angle_tolerance,
            )
        except spglib.error.SpglibError as exc:
            detail = str(exc)
            continue
        if crystal is not None:
            if attempt != symprec:
                warnings.append(
                    f"spglib failed at symprec = {symprec} Å ({detail}); used {attempt:g} Å"
                )
                symprec = attempt
                base["symprec"] = attempt
            break
    if crystal is None:
        raise AnalysisError(
            f"spglib could not find the symmetry of the crystal (symprec={symprec} Å) {detail}"
        )
    base["space_group_symbol"] = crystal.international
    base["space_group_number"] = int(crystal.number)
    # express k-space results in the standardized conventional frame: k_std = Q k_input
    q = np.asarray(crystal.std_rotation_matrix, dtype=float)
    base["frame_rotation"] = [[round(float(x), 10) + 0.0 for x in row] for row in q]
    lattice_std = lattice @ q.T  # input lattice vectors expressed in the standard frame

    s, axis, residual = collinear_moments(structure.magmoms, magtol)
    given_magtol = magtol
    magtol = effective_magtol(np.linalg.norm(structure.magmoms, axis=1), magtol)
    magnetic = np.abs(s) >= magtol
    base["n_magnetic_sites"] = int(np.sum(magnetic))
    if np.any(magnetic & (np.abs(s) < given_magtol)):
        warnings.append(
            f"weak moments (largest {float(np.max(np.abs(s))):.3g} μB) count as magnetic: "
            f"the moment tolerance is scaled to the largest moment, {magtol:.3g} μB instead "
            f"of magtol = {given_magtol} μB"
        )
    dropped = (np.abs(s) > 1e-6) & ~magnetic
    if np.any(dropped):
        worst = int(np.argmax(np.where(dropped, np.abs(s), 0.0)))
        warnings.append(
            f"{int(np.sum(dropped))} non-zero moment(s) below {magtol:.3g} μB treated as "
            f"non-magnetic (largest {abs(float(s[worst])):.3g} μB on site {worst + 1}, "
            f"{structure.species[worst]})"
        )
    if residual > magtol:
        return SpinGroupResult(
            verdict="noncollinear",
            warnings=[
                f"moments deviate from one common axis by up to {residual:.3g} μB "
                f"(> magtol = {magtol} μB); the d/g/i scheme applies to collinear order"
            ],
            **base,
        )
    if residual > 1e-3:
        warnings.append(
            f"moments collinear only within tolerance (perpendicular residual {residual:.3g} μB)"
        )
    moments = [round(float(x), 4) + 0.0 for x in s]
    net = float(np.sum(s))
    base["moments"] = moments
    base["net_moment"] = round(net, 4)
    if not np.any(magnetic):
        return SpinGroupResult(verdict="nonmagnetic", warnings=warnings, **base)
    s = np.where(magnetic, s, 0.0)  # a moment treated as zero is zero for the symmetry too

    frac, s_cell = structure.frac_coords, s
    if len(np.unique(crystal.mapping_to_primitive)) < n:
        # the crystal cell is not primitive: reduce to the magnetic primitive cell so that no
        # point operation is lost to the basis of a supercell (spin-flipping translations stay)
        lattice, frac, types, s_cell = magnetic_primitive_cell(
            lattice, frac, types, s, symprec, magtol
        )
        sym = _magnetic_symmetry(lattice, frac, types, s_cell, symprec, angle_tolerance, magtol)
    else:
        found = _spin_operations_from_crystal(
            crystal, lattice, frac, s_cell, symprec, magtol, crystal_permutations
        )
        sym = (
            found
            if found is not None
            else _magnetic_symmetry(lattice, frac, types, s_cell, symprec, angle_tolerance, magtol)
        )
    rotations = np.asarray(sym["rotations"])
    translations = np.asarray(sym["translations"])
    flips = np.asarray(sym["time_reversals"]).astype(bool)
    base["n_spin_group_operations"] = len(rotations)
    pg = spglib.get_pointgroup(rotations)
    base["point_group"] = "" if pg is None else pg[0].strip()

    # moments equal only within tolerance inside a spin-group orbit
    orbits = np.asarray(sym["equivalent_atoms"])
    labels, _ = _moment_classes(s, magtol)
    dev = max(
        [float(np.ptp(s[labels == k])) for k in np.unique(labels)]
        + [float(np.ptp(np.abs(s_cell[orbits == o]))) for o in np.unique(orbits)]
    )
    if dev > 1e-3:
        warnings.append(
            f"symmetry-related moments differ by up to {dev:.3g} μB (equal within magtol = "
            f"{magtol} μB)"
        )

    cart = _snap_rotations(
        np.einsum("ij,gjk,lk->gil", q, _cartesian_rotations(lattice, rotations), q)
    )
    base.update(_msg_fields(lattice, rotations, translations, flips, cart, q @ axis, symprec))
    chi = np.where(flips, -1, 1)
    afm_ops = [
        (r, t)
        for r, t, f in zip(rotations, translations, flips, strict=True)
        if f and (_is_identity(r) or _is_inversion(r))
    ]
    flip_ops = [
        spin_operation_symbol(r, t, True)
        for r, t, f in zip(rotations, translations, flips, strict=True)
        if f
    ]
    base["spin_flip_operations"] = flip_ops[:48]
    if len(flip_ops) > 48:
        warnings.append(f"{len(flip_ops)} spin-flipping operations; the first 48 are listed")

    if afm_ops:
        r, t = min(afm_ops, key=lambda rt: (not _is_identity(rt[0]), float(np.sum(rt[1]))))
        if _is_identity(r):
            reason = (
                "[C2||t] with t = ("
                + ", ".join(f"{x:.4g}" for x in np.mod(t, 1.0))
                + "): a translation maps up onto down moments"
            )
        else:
            centre = np.mod(np.asarray(t) / 2.0, 1.0)
            reason = (
                "[C2||-1]: inversion through ("
                + ", ".join(f"{x:.4g}" for x in centre)
                + ") maps up onto down moments (PT symmetry)"
            )
        all_r, _, _ = _unique_with_chi(np.concatenate([cart, -cart]), np.ones(2 * len(cart)))
        lau = _laue(_group_key(all_r, np.ones(len(all_r), dtype=int)))
        return SpinGroupResult(
            verdict="antiferromagnet",
            spin_laue_group=f"{lau.spin_symbol}×²1",
            spin_laue_group_ascii=f"{lau.spin_ascii} x ^2 1",
            laue_group=lau.laue,
            afm_reason=reason,
            warnings=warnings,
            **base,
        )

    rots, ch, consistent = _unique_with_chi(
        np.concatenate([cart, -cart]), np.concatenate([chi, chi])
    )
    if not consistent:  # pragma: no cover - implied by the translation/inversion test above
        raise RuntimeError("inconsistent spin Laue group without a conventional-AFM operation")
    key = _group_key(rots, ch)
    lau = _laue(key)
    base["laue_group"] = lau.laue
    base["spin_laue_group"] = lau.spin_symbol
    base["spin_laue_group_ascii"] = lau.spin_ascii

    if not flip_ops:
        signs = np.sign(s[magnetic])
        verdict: Verdict
        if np.all(signs > 0) or np.all(signs < 0):
            verdict = "ferromagnet"
        elif abs(net) > magtol:
            verdict = "ferrimagnet"
        else:
            verdict = "compensated_ferrimagnet"
        return SpinGroupResult(
            verdict=verdict,
            wave="s",
            form_factor="1",
            form_factor_basis=["1"],
            warnings=warnings,
            **base,
        )

    degree, basis_str, plane_data = _kspace(key)
    if len(basis_str) == 1:
        form = basis_str[0]
    else:
        form = " + ".join(f"a{i + 1}*({b})" for i, b in enumerate(basis_str))
    planes = [
        NodalPlane(
            uvw=_integer_direction(np.linalg.solve(lattice_std.T, np.array(normal))),
            cartesian_normal=list(normal),
            equation=equation,
            enforced=enforced,
        )
        for normal, equation, enforced in plane_data
    ]
    if len(planes) < degree or any(not p.enforced for p in planes):
        free = sum(not p.enforced for p in planes)
        missing = degree - len(planes)
        parts = []
        if free:
            parts.append(
                f"{free} nodal plane(s) are zeros of the lowest-order form factor but not fixed "
                "by symmetry (higher-order terms can lift them)"
            )
        if missing > 0:
            parts.append(
                f"{missing} nodal plane(s) have a material-dependent orientation (the form "
                f"factor is a combination of {len(basis_str)} polynomials)"
            )
        warnings.append("; ".join(parts))
    if abs(net) > magtol:
        warnings.append(f"net moment {net:.3g} μB although sublattices are symmetry-related")
    return SpinGroupResult(
        verdict="altermagnet",
        wave=cast(Wave, harmonics.WAVE_LETTERS[degree]),
        form_factor=form,
        form_factor_basis=basis_str,
        nodal_planes=planes,
        warnings=warnings,
        **base,
    )


def _msg_fields(
    lattice: np.ndarray,
    rotations: np.ndarray,
    translations: np.ndarray,
    flips: np.ndarray,
    cart: np.ndarray,
    axis: np.ndarray,
    symprec: float,
) -> dict[str, str | None]:
    """Magnetic space group (BNS) when the collinear moments point along ``axis``.

    The spin-group operations [s||g] become magnetic operations g or g·1' by how g acts on
    the moment as an axial vector: det(R) R n = ±n; operations that tilt n drop out.
    """
    axial = np.einsum("g,gij,j->gi", np.linalg.det(cart), cart, axis)
    keep_same = np.all(np.abs(axial - axis) < 1e-3, axis=1)
    keep_opp = np.all(np.abs(axial + axis) < 1e-3, axis=1)
    keep = keep_same | keep_opp
    time_rev = np.where(keep_same, flips, ~flips)[keep].astype(np.intc)
    uni = _msg_uni_number(rotations[keep], translations[keep], time_rev, symprec)
    if uni is None:  # pragma: no cover - spglib could not identify the group
        return {}
    number, symbol = _bns_symbol(uni)
    direction = "[" + ", ".join(f"{round(float(x), 4) + 0.0:g}" for x in axis) + "]"
    return {
        "magnetic_space_group": symbol or None,
        "magnetic_space_group_number": number,
        "magnetic_space_group_basis": f"moments along Cartesian {direction} of the standard frame",
    }


def clear_caches() -> None:
    """Forget the cached group-level results (spin Laue groups, form factors, MSG types) and
    the shipped tables read from disk (BNS symbols, spin Laue groups)."""
    for fn in (_laue, _kspace, _msg_uni_cached, _bns_table, laue_table._table, laue_table.lookup):
        fn.cache_clear()
