"""The one structure-with-moments type used everywhere in altermag.

A :class:`MagneticStructure` is a periodic crystal (lattice, species, fractional
coordinates) with an optional magnetic moment vector on every site, in Bohr magnetons.
Collinear input (VASP ``MAGMOM = 5 -5 0 0``) is stored as moments along the z axis of the
Cartesian frame; the spin-group analysis never uses the direction, only the signed
projection on the common axis, because without spin–orbit coupling a collinear magnet's
symmetry does not depend on where its moments point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from monty.json import MSONable

from altermag.errors import InputError

if TYPE_CHECKING:
    from ase import Atoms
    from pymatgen.core import Structure

__all__ = ["MagneticStructure", "as_magnetic_structure"]


@dataclass(frozen=True, eq=False)
class MagneticStructure(MSONable):
    """A crystal with (optional) magnetic moments.

    MSONable (:meth:`as_dict`/:meth:`from_dict`), so it can be a jobflow/atomate2 job input
    or output.

    Parameters
    ----------
    lattice
        3×3 array, rows are the lattice vectors a, b, c in Å.
    species
        Element symbol of every site.
    frac_coords
        N×3 fractional coordinates.
    magmoms
        N×3 moment vectors in μB, or ``None`` when the structure carries no magnetic
        information (a database entry): :func:`altermag.analyze` then enumerates the
        collinear k = 0 orders the crystal can host.
    label
        Free-text name (formula, database id, file name).
    properties
        Extra metadata kept alongside (source id, references, ...).
    """

    lattice: np.ndarray
    species: tuple[str, ...]
    frac_coords: np.ndarray
    magmoms: np.ndarray | None = None
    label: str = ""
    properties: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        lattice = np.asarray(self.lattice, dtype=float).reshape(3, 3)
        coords = np.asarray(self.frac_coords, dtype=float).reshape(-1, 3)
        species = tuple(str(s) for s in self.species)
        if len(species) != len(coords):
            raise InputError(f"{len(species)} species for {len(coords)} sites")
        object.__setattr__(self, "lattice", lattice)
        object.__setattr__(self, "frac_coords", coords)
        object.__setattr__(self, "species", species)
        if self.magmoms is not None:
            m = np.asarray(self.magmoms, dtype=float)
            if m.ndim == 1:
                if m.shape[0] != len(species):
                    raise InputError(f"{m.shape[0]} moments for {len(species)} sites")
                m = np.column_stack([np.zeros_like(m), np.zeros_like(m), m])
            if m.shape != (len(species), 3):
                raise InputError(f"moments of shape {m.shape} for {len(species)} sites")
            object.__setattr__(self, "magmoms", m)

    # ------------------------------------------------------------------ basic views
    def __len__(self) -> int:
        return len(self.species)

    @property
    def has_moments(self) -> bool:
        """True when moments were given (even if they are all zero)."""
        return self.magmoms is not None

    @property
    def cart_coords(self) -> np.ndarray:
        """Cartesian positions in Å."""
        return self.frac_coords @ self.lattice

    @property
    def volume(self) -> float:
        return float(abs(np.linalg.det(self.lattice)))

    @cached_property
    def formula(self) -> str:
        """Reduced formula (pymatgen's convention, e.g. ``MnF2``); worked out once per
        structure (the species never change)."""
        from pymatgen.core import Composition

        return Composition.from_dict(_count(self.species)).reduced_formula

    def with_moments(self, magmoms: np.ndarray | list[float] | None) -> MagneticStructure:
        """A copy with other moments (scalars are taken as collinear along z)."""
        moments = None if magmoms is None else np.asarray(magmoms, dtype=float)
        return MagneticStructure(
            self.lattice, self.species, self.frac_coords, moments, self.label, dict(self.properties)
        )

    # ------------------------------------------------------------------ conversions
    def collinear_moments(self, tol: float = 1e-6) -> tuple[np.ndarray, np.ndarray] | None:
        """Signed moments along their common axis and the axis, or None when not collinear.

        Exact up to ``tol`` (relative to the largest moment): a conversion, not a
        classification (the spin-group analysis has its own tolerance, ``magtol``). The axis
        is +z whenever the moments lie along ±z, so ``MAGMOM = 5 -5`` stays ``[5, -5]``;
        otherwise it points along the largest moment. None without moments.
        """
        if self.magmoms is None:
            return None
        m = self.magmoms
        norms = np.linalg.norm(m, axis=1)
        if not np.any(norms > 0):
            return np.zeros(len(m)), np.array([0.0, 0.0, 1.0])
        axis = m[int(np.argmax(norms))] / norms.max()
        if abs(abs(axis[2]) - 1.0) <= tol:
            axis = np.array([0.0, 0.0, 1.0])
        values = m @ axis
        if np.max(np.linalg.norm(m - np.outer(values, axis), axis=1)) > tol * norms.max():
            return None
        return values, axis

    def to_pymatgen(self) -> Structure:
        """pymatgen ``Structure`` with a ``magmom`` site property when moments exist.

        Collinear moments become the scalars pymatgen's collinear tools expect
        (``CollinearMagneticStructureAnalyzer``, ``Incar`` MAGMOM, MP documents): the signed
        value along the common axis. An axis other than z is kept as
        ``structure.properties["magmom_axis"]`` and restored by :meth:`from_pymatgen`.
        Non-collinear moments are written as 3-vectors.
        """
        from pymatgen.core import Lattice, Structure

        props: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        if self.magmoms is not None:
            collinear = self.collinear_moments()
            if collinear is None:
                props["magmom"] = [[float(x) for x in m] for m in self.magmoms]
            else:
                values, axis = collinear
                props["magmom"] = [float(v) for v in values]
                if axis[2] != 1.0:
                    extra["magmom_axis"] = [float(x) for x in axis]
        return Structure(
            Lattice(self.lattice),
            list(self.species),
            self.frac_coords,
            site_properties=props,
            properties=extra,
        )

    @classmethod
    def from_pymatgen(cls, structure: Structure, label: str = "") -> MagneticStructure:
        """From a pymatgen ``Structure``.

        Moments come from the ``magmom`` site property (scalars along z, or along
        ``structure.properties["magmom_axis"]`` when set; 3-vectors; pymatgen ``Magmom``
        objects in their global frame), else from the ``spin`` of the species
        (``Species("Mn", 2, spin=5)``); without either the structure has no moments.
        """
        species = []
        for site in structure:
            if not site.is_ordered:
                raise InputError(f"site {site.species_string} is disordered")
            species.append(
                site.specie.symbol if hasattr(site.specie, "symbol") else str(site.specie)
            )
        axis = np.array(
            (getattr(structure, "properties", None) or {}).get("magmom_axis", [0.0, 0.0, 1.0]),
            dtype=float,
        )
        magmoms = None
        if "magmom" in structure.site_properties:
            raw = structure.site_properties["magmom"]
            if any(m is not None for m in raw):
                magmoms = np.array([_as_vector(m, axis) for m in raw])
        elif any(getattr(site.specie, "spin", None) is not None for site in structure):
            magmoms = np.array(
                [_as_vector(getattr(site.specie, "spin", None), axis) for site in structure]
            )
        return cls(
            structure.lattice.matrix.copy(),
            tuple(species),
            structure.frac_coords.copy(),
            magmoms,
            label or structure.composition.reduced_formula,
        )

    def to_ase(self) -> Atoms:
        """ASE ``Atoms`` (periodic) with initial magnetic moments when moments exist:
        scalars for a collinear magnet (ASE's and VASP's ``ISPIN = 2`` convention; the common
        axis is dropped, it does not matter without spin–orbit coupling), 3-vectors otherwise.
        """
        from ase import Atoms

        magmoms = None
        if self.magmoms is not None:
            collinear = self.collinear_moments()
            magmoms = self.magmoms.copy() if collinear is None else collinear[0]
        return Atoms(
            symbols=list(self.species),
            scaled_positions=self.frac_coords,
            cell=self.lattice,
            pbc=True,
            magmoms=magmoms,
        )

    @classmethod
    def from_ase(cls, atoms: Atoms, label: str = "") -> MagneticStructure:
        """From ASE ``Atoms``: the initial magnetic moments (scalars along z, or 3-vectors)
        become the moments; Atoms without ``initial_magmoms`` have none."""
        if not all(atoms.pbc):
            raise InputError("the structure is not periodic in all three directions")
        magmoms = atoms.get_initial_magnetic_moments() if atoms.has("initial_magmoms") else None
        return cls(
            np.asarray(atoms.cell[:]),
            tuple(atoms.get_chemical_symbols()),
            atoms.get_scaled_positions(wrap=True),
            magmoms,
            label or atoms.get_chemical_formula(mode="reduce"),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (lists of floats); inverse of :meth:`from_dict`."""
        return {
            "lattice": self.lattice.tolist(),
            "species": list(self.species),
            "frac_coords": self.frac_coords.tolist(),
            "magmoms": None if self.magmoms is None else self.magmoms.tolist(),
            "label": self.label,
        }

    def as_dict(self) -> dict[str, Any]:
        """:meth:`to_dict` with monty's ``@module``/``@class`` keys."""
        return {"@module": type(self).__module__, "@class": type(self).__name__, **self.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MagneticStructure:
        """Inverse of :meth:`to_dict` and :meth:`as_dict`."""
        return cls(
            np.array(d["lattice"]),
            tuple(d["species"]),
            np.array(d["frac_coords"]),
            None if d.get("magmoms") is None else np.array(d["magmoms"]),
            d.get("label", ""),
        )

    def content_hash(self, decimals: int = 4) -> str:
        """Stable SHA-256 of rounded lattice, species, positions and moments (order-sensitive)."""
        import hashlib

        h = hashlib.sha256()
        h.update(np.round(self.lattice, decimals).tobytes())
        h.update(",".join(self.species).encode())
        h.update(np.round(np.mod(self.frac_coords, 1.0), decimals).tobytes())
        if self.magmoms is not None:
            h.update(np.round(self.magmoms, 2).tobytes())
        return h.hexdigest()


def _count(species: tuple[str, ...]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in species:
        out[s] = out.get(s, 0) + 1
    return out


def _as_vector(m: Any, axis: np.ndarray | None = None) -> list[float]:
    """A moment (None, scalar, 3-vector or pymatgen Magmom) as a 3-vector; a scalar lies
    along ``axis`` (default z)."""
    if m is None:
        return [0.0, 0.0, 0.0]
    if hasattr(m, "global_moment"):  # pymatgen Magmom: its moment in the global frame
        return [float(x) for x in m.global_moment]
    arr = np.asarray(m, dtype=float).ravel()
    if arr.size == 1:
        a = np.array([0.0, 0.0, 1.0]) if axis is None else np.asarray(axis, dtype=float)
        return [float(x) for x in arr[0] * a]
    if arr.size == 3:
        return [float(x) for x in arr]
    raise InputError(f"a moment must be a number or a 3-vector, got {m!r}")


def as_magnetic_structure(structure: MagneticStructure | Structure | Atoms) -> MagneticStructure:
    """A :class:`MagneticStructure` from one, a pymatgen ``Structure``/``IStructure``
    (``magmom`` site property) or ASE ``Atoms`` (initial magnetic moments).

    Raises
    ------
    TypeError
        For anything else, naming what was given.
    """
    if isinstance(structure, MagneticStructure):
        return structure
    from pymatgen.core import IStructure

    if isinstance(structure, IStructure):
        return MagneticStructure.from_pymatgen(structure)
    from ase import Atoms

    if isinstance(structure, Atoms):
        return MagneticStructure.from_ase(structure)
    raise TypeError(
        "expected an altermag MagneticStructure, a pymatgen Structure or ASE Atoms, got "
        f"{type(structure).__module__}.{type(structure).__name__}"
    )
