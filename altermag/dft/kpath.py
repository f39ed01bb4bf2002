"""Band-structure k-paths that test a spin-group prediction.

The path is the standard one of the *non-magnetic* cell (Setyawan–Curtarolo, via pymatgen),
expressed in the reciprocal basis of the cell the calculation runs in (the input cell, so
a magnetic supercell keeps its folding). Splitting the magnetic element into two species would
lower the symmetry the path tool sees, so moments and species labels are ignored here.

Each segment is then classified with the predicted form factor f(k) (a polynomial in the
Cartesian kx, ky, kz of the *standard* frame; k_std = Q k_input):

- ``nodal``: f vanishes on the whole segment, E↑ = E↓ is enforced (the control);
- ``split``: f ≠ 0 inside the Brillouin zone, a spin splitting is predicted; the segment
  with the largest |f| is the ``primary`` test;
- ``boundary``: the segment lies on the zone boundary, where nonsymmorphic operations can
  force degeneracies beyond the form factor (rutile X–M); reported, not judged.

g- and i-wave form factors can vanish on every standard segment; then segments from Γ to the
labelled points, to midpoints of pairs of labelled points, and between labelled points are
searched and the one with the largest |f| is added, as is a nodal control when the standard
path has none. Everything here is pure (no I/O).
"""

from __future__ import annotations

import itertools
import re
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import spglib
from pymatgen.core import Lattice, Species, Structure
from pymatgen.symmetry.bandstructure import HighSymmKpath

from altermag.result import SpinGroupResult
from altermag.structure import MagneticStructure
from altermag.symmetry.harmonics import Polynomial, free_coefficients, polynomial_function

__all__ = [
    "FormFactor",
    "KPath",
    "KSegment",
    "build_kpath",
    "interior_mask",
    "label_ascii",
]

NODAL_TOL = 1e-6
"""Normalised |f| below which a k-point is on a nodal plane."""


def label_ascii(label: str) -> str:
    """``\\Gamma`` → ``G``, ``\\Sigma_1`` → ``Sigma1``: plain labels for segment names."""
    out = label.replace("\\Gamma", "G").replace("\\", "").replace("_", "")
    return out.replace("$", "")


class FormFactor:
    """A predicted spin-splitting form factor evaluated on fractional k of a cell.

    ``value(k_frac)`` returns |f(k)| normalised so that 1 is the largest value of |f| on the
    sphere of radius ``k_ref`` (the farthest labelled point), i.e. comparable across segments
    and materials; 0 (up to round-off) on nodal planes. With no form factor (conventional
    antiferromagnet) every value is 0: no splitting is predicted anywhere.

    A form factor with free coefficients (several symmetry-allowed harmonics, ²4/¹m:
    a1 (kx² − ky²) + a2 kx ky) is split wherever any harmonic of ``basis`` is non-zero:
    |f| is then √(Σ f_b²) over the harmonics f_b, which vanishes only on their common zeros.
    """

    def __init__(
        self,
        expression: str | None,
        lattice: np.ndarray,
        frame_rotation: np.ndarray | None = None,
        k_ref: float = 1.0,
        basis: list[str] | None = None,
    ) -> None:
        self.expression = expression
        self._recip = Lattice(lattice).reciprocal_lattice.matrix  # rows b_i, 2π included
        self._q = np.eye(3) if frame_rotation is None else np.asarray(frame_rotation, float)
        self._parts: list[Polynomial] = []
        self._degree = 0
        self._norm = 1.0
        self.k_ref = k_ref
        if expression:
            texts = [expression]
            if free_coefficients(expression):
                if not basis:
                    raise ValueError(f"form factor {expression!r} has free coefficients")
                texts = list(basis)
            self._parts = [polynomial_function(t) for t in texts]
            self._degree = self._parts[0].degree
            rng = np.random.default_rng(0)
            u = rng.normal(size=(4000, 3))
            u /= np.linalg.norm(u, axis=1)[:, None]
            self._norm = float(np.max(self._raw(u))) or 1.0

    def _raw(self, k_std: np.ndarray) -> np.ndarray:
        """√(Σ f_b(k)²) over the parts (|f| for a single form factor)."""
        total = np.zeros(len(k_std))
        for f in self._parts:
            v = np.broadcast_to(
                np.asarray(f(k_std[:, 0], k_std[:, 1], k_std[:, 2]), float), (len(k_std),)
            )
            total += v * v
        return np.sqrt(total)

    def cartesian(self, k_frac: np.ndarray) -> np.ndarray:
        """Cartesian k (1/Å, 2π included) in the standard frame of the form factor."""
        k = np.atleast_2d(np.asarray(k_frac, float)) @ self._recip
        return k @ self._q.T

    def value(self, k_frac: np.ndarray) -> np.ndarray:
        """Normalised |f| at each fractional k (rows)."""
        k = np.atleast_2d(np.asarray(k_frac, float))
        if not self._parts:
            return np.zeros(len(k))
        raw = self._raw(self.cartesian(k))
        return raw / (self._norm * self.k_ref**self._degree)


@dataclass
class KSegment:
    """A straight segment of the path; ``start``/``end`` are fractional in the cell's b_i."""

    start_label: str
    end_label: str
    start: list[float]
    end: list[float]
    kind: str
    """``split`` (f ≠ 0 inside the zone), ``nodal`` (f ≡ 0: no splitting allowed) or
    ``boundary`` (f ≠ 0 only on the zone boundary: not used for the verdict)."""
    form_factor_max: float
    """Largest normalised |f| at interior points of the segment (1 = the largest anywhere
    at |k| = k_ref); for ``boundary`` segments, on the segment."""
    standard: bool = True
    """False for segments added because of the form factor."""

    @property
    def name(self) -> str:
        return f"{self.start_label}-{self.end_label}"


@dataclass
class KPath:
    """The path of one calculation: labelled points and ordered segments."""

    points: dict[str, list[float]]
    segments: list[KSegment]
    form_factor: str | None
    frame_rotation: list[list[float]]
    k_ref: float
    warnings: list[str] = field(default_factory=list)

    @property
    def primary(self) -> KSegment | None:
        """The split segment with the largest |f| (None when no splitting is predicted)."""
        split = [s for s in self.segments if s.kind == "split"]
        return max(split, key=lambda s: s.form_factor_max) if split else None

    def kpoints(
        self, lattice: np.ndarray, density: float
    ) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Fractional k-points along the segments and each segment's index range.

        ``density`` is points per 1/Å (2π included). Consecutive segments that share an end
        point share that k-point. Returns (N×3 array, [(first, last) index per segment]).
        """
        recip = Lattice(lattice).reciprocal_lattice.matrix
        pts: list[np.ndarray] = []
        ranges: list[tuple[int, int]] = []
        for seg in self.segments:
            a, b = np.array(seg.start), np.array(seg.end)
            n = max(2, int(np.ceil(np.linalg.norm((b - a) @ recip) * density)))
            line = [a + (b - a) * t for t in np.linspace(0, 1, n + 1)]
            if pts and np.allclose(pts[-1], a, atol=1e-8):
                first = len(pts) - 1
                line = line[1:]
            else:
                first = len(pts)
            pts.extend(line)
            ranges.append((first, len(pts) - 1))
        return np.array(pts), ranges

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> KPath:
        return cls(**{**d, "segments": [KSegment(**s) for s in d["segments"]]})


def _nonmagnetic(structure: MagneticStructure) -> Structure:
    return Structure(Lattice(structure.lattice), list(structure.species), structure.frac_coords)


def _magnetic_labels(structure: MagneticStructure) -> list[str]:
    """Species with the moment sign appended, so that up and down sites differ."""
    if structure.magmoms is None:
        return list(structure.species)
    out = []
    for el, m in zip(structure.species, structure.magmoms, strict=True):
        z = float(m[2]) if abs(m[2]) > 1e-6 else 0.0
        out.append(f"{el}{'+' if z > 0 else '-' if z < 0 else ''}")
    return out


def _path_cell(structure: MagneticStructure, symprec: float) -> tuple[Structure, list[str]]:
    """The cell whose standard path is used.

    The non-magnetic crystal when its primitive cell is the calculation cell (rutile CrO2,
    MnTe: the magnetic order keeps the lattice); otherwise (a magnetic supercell such as
    CsCl-type AFM Cr, whose non-magnetic crystal is bcc) the lattice of the magnetic cell,
    so that the labels are points of the Brillouin zone the bands live in.
    """
    nm_labels = list(structure.species)
    numbers = [sorted(set(nm_labels)).index(s) for s in nm_labels]
    prim = spglib.find_primitive(
        (structure.lattice.tolist(), structure.frac_coords.tolist(), numbers), symprec=symprec
    )
    n_prim = len(prim[2]) if prim is not None else len(structure)
    labels = nm_labels if n_prim == len(structure) else _magnetic_labels(structure)
    species = [
        Species(re.sub(r"[+-]$", "", x), spin=1 if x.endswith("+") else -1) if x[-1] in "+-" else x
        for x in labels
    ]
    cell = Structure(Lattice(structure.lattice), species, structure.frac_coords)
    return cell, labels


def _best_rotation(lattice: Lattice, other: Lattice) -> np.ndarray:
    """Proper rotation taking ``other`` onto ``lattice`` closest to the identity."""
    best: np.ndarray | None = None
    for _, rot, _ in lattice.find_all_mappings(other, ltol=0.05, atol=3):
        if rot is None or np.linalg.det(rot) < 0:
            continue
        if best is None or np.trace(rot) > np.trace(best) + 1e-9:
            best = rot
    if best is None:
        raise ValueError("could not align the standard primitive cell with the input cell")
    return best


def _standard_points(structure: MagneticStructure, symprec: float):
    """Labelled points and path of the path cell, fractional in the input b_i."""
    cell, labels = _path_cell(structure, symprec)
    with warnings.catch_warnings():
        # the standard cell is aligned with the input below; pymatgen's warning is moot
        warnings.simplefilter("ignore")
        kp = HighSymmKpath(cell, path_type="setyawan_curtarolo", symprec=symprec)
    # primitive cell of the input in the input's orientation (same volume as kp.prim)
    numbers = [sorted(set(labels)).index(s) for s in labels]
    std = spglib.standardize_cell(
        (structure.lattice.tolist(), structure.frac_coords.tolist(), numbers),
        to_primitive=True,
        no_idealize=True,
        symprec=symprec,
    )
    if std is None:
        raise ValueError("spglib could not standardise the cell for the k-path")
    lat = std[0]
    rot = _best_rotation(Lattice(lat), kp.prim.lattice)
    std_recip = kp.prim.lattice.reciprocal_lattice.matrix
    to_frac = structure.lattice.T / (2 * np.pi)  # Cartesian k (rows) → input fractional
    points: dict[str, list[float]] = {}
    for label, frac in kp.kpath["kpoints"].items():
        k_cart = rot @ (np.asarray(frac, float) @ std_recip)
        points[label_ascii(label)] = [float(x) + 0.0 for x in np.round(k_cart @ to_frac, 10)]
    path = [[label_ascii(x) for x in branch] for branch in kp.kpath["path"]]
    return points, path


def interior_mask(k_frac: np.ndarray, lattice: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """True for k strictly inside the first Brillouin zone of ``lattice``.

    A point is on the zone boundary when some reciprocal lattice vector G is as close to it
    as Γ (|k − G| = |k|). There nonsymmorphic operations (screw axes, glides) can force
    degeneracies that the lowest-order form factor does not describe (rutile: E↑ = E↓ on the
    kx = π/a face although kx·ky ≠ 0), so splitting is predicted only inside the zone.
    """
    k = np.atleast_2d(np.asarray(k_frac, float))
    recip = Lattice(lattice).reciprocal_lattice.matrix
    cart = k @ recip
    n = np.array([v for v in itertools.product(range(-2, 3), repeat=3) if any(v)], float)
    g = n @ recip
    # |k − G|² − |k|² = |G|² − 2 k·G  ≤ 0 on or beyond the bisecting plane of G
    margin = (g * g).sum(1)[None, :] - 2 * cart @ g.T
    scale = max(float(np.min((g * g).sum(1))), 1e-12)
    return np.all(margin > tol * scale, axis=1)


def _segment_max(
    ff: FormFactor, lattice: np.ndarray, a: np.ndarray, b: np.ndarray, n: int = 41
) -> tuple[float, float]:
    """Largest normalised |f| on the segment: everywhere, and at interior points only."""
    ts = np.linspace(0.0, 1.0, n)
    k = a[None, :] + ts[:, None] * (b - a)[None, :]
    vals = ff.value(k)
    inside = interior_mask(k, lattice)
    return float(np.max(vals)), float(np.max(vals[inside], initial=0.0))


def build_kpath(
    structure: MagneticStructure,
    result: SpinGroupResult,
    symprec: float = 0.01,
) -> KPath:
    """The k-path for testing ``result`` on ``structure`` (the cell the calculation uses).

    Parameters
    ----------
    structure
        The cell of the calculation (moments are ignored for the path).
    result
        Spin-group result; its ``form_factor`` (standard frame) and ``frame_rotation`` decide
        which segments are split and which nodal. No form factor (conventional
        antiferromagnet) makes every segment nodal.
    symprec
        Tolerance of the path tool (Å).

    Returns
    -------
    KPath
        Standard segments in order, then form-factor segments when the standard path lacks
        the largest |f| or a nodal control.
    """
    points, path = _standard_points(structure, symprec)
    k_ref = max(
        float(np.linalg.norm(np.asarray(p) @ Lattice(structure.lattice).reciprocal_lattice.matrix))
        for p in points.values()
    )
    ff = FormFactor(
        result.form_factor,
        structure.lattice,
        np.array(result.frame_rotation),
        k_ref,
        result.form_factor_basis,
    )
    has_ff = bool(result.form_factor) and result.wave != "s"

    def make(a: str, b: str, pa: list[float], pb: list[float], standard: bool) -> KSegment:
        f_all, f_in = _segment_max(ff, structure.lattice, np.array(pa), np.array(pb))
        if f_all <= NODAL_TOL:
            kind, fmax = "nodal", f_all
        elif f_in <= NODAL_TOL:
            kind, fmax = "boundary", f_all
        else:
            kind, fmax = "split", f_in
        return KSegment(a, b, list(pa), list(pb), kind, fmax, standard)

    segments = [
        make(a, b, points[a], points[b], True)
        for branch in path
        for a, b in itertools.pairwise(branch)
    ]
    warnings: list[str] = []
    if has_ff:
        cands: list[KSegment] = []
        labels = [x for x in points if x != "G"]
        mids = {
            f"({a}+{b})/2": [(x + y) / 2 for x, y in zip(points[a], points[b], strict=True)]
            for a, b in itertools.combinations(labels, 2)
        }
        every = {**points, **mids}
        gamma = points.get("G", [0.0, 0.0, 0.0])
        for name, p in every.items():
            if name != "G":
                cands.append(make("G", name, gamma, p, False))
        for a, b in itertools.combinations(labels, 2):
            cands.append(make(a, b, points[a], points[b], False))
        best_std = max((s.form_factor_max for s in segments if s.kind == "split"), default=0.0)
        split_cands = [s for s in cands if s.kind == "split"]
        if split_cands:
            best = max(split_cands, key=lambda s: s.form_factor_max)
            if best.form_factor_max > best_std * (1 + 1e-6) + NODAL_TOL:
                segments.append(best)
        if not any(s.kind == "nodal" for s in segments):
            nodal = [s for s in cands if s.kind == "nodal"]
            if nodal:
                segments.append(nodal[0])
            else:
                warnings.append("no nodal segment between labelled points: no control segment")
        if not any(s.kind == "split" for s in segments):
            warnings.append("the form factor vanishes on every candidate segment")
    return KPath(points, segments, result.form_factor, result.frame_rotation, k_ref, warnings)
