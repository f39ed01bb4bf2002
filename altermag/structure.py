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
from typing import TYPE_CHECKING, Any

import numpy as np

from altermag.errors import InputError

if TYPE_CHECKING:
    from pymatgen.core import Structure

__all__ = ["MagneticStructure"]


@dataclass(frozen=True, eq=False)
class MagneticStructure:
    """A crystal with (optional) magnetic moments.

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

    @property
    def formula(self) -> str:
        """Reduced formula (pymatgen's convention, e.g. ``MnF2``)."""
        from pymatgen.core import Composition

        return Composition.from_dict(_count(self.species)).reduced_formula

    def with_moments(self, magmoms: np.ndarray | list[float] | None) -> MagneticStructure:
        """A copy with other moments (scalars are taken as collinear along z)."""
        moments = None if magmoms is None else np.asarray(magmoms, dtype=float)
        return MagneticStructure(
            self.lattice, self.species, self.frac_coords, moments, self.label, dict(self.properties)
        )

    # ------------------------------------------------------------------ conversions
    def to_pymatgen(self) -> Structure:
        """pymatgen ``Structure`` with a ``magmom`` site property (vectors) when moments exist."""
        from pymatgen.core import Lattice, Structure

        props = {} if self.magmoms is None else {"magmom": [list(m) for m in self.magmoms]}
        return Structure(
            Lattice(self.lattice), list(self.species), self.frac_coords, site_properties=props
        )

    @classmethod
    def from_pymatgen(cls, structure: Structure, label: str = "") -> MagneticStructure:
        """From a pymatgen ``Structure``; the ``magmom`` site property (scalars, vectors or
        pymatgen ``Magmom`` objects) becomes the moments."""
        species = []
        for site in structure:
            if not site.is_ordered:
                raise InputError(f"site {site.species_string} is disordered")
            species.append(
                site.specie.symbol if hasattr(site.specie, "symbol") else str(site.specie)
            )
        magmoms = None
        if "magmom" in structure.site_properties:
            raw = structure.site_properties["magmom"]
            if any(m is not None for m in raw):
                magmoms = np.array([_as_vector(m) for m in raw])
        return cls(
            structure.lattice.matrix.copy(),
            tuple(species),
            structure.frac_coords.copy(),
            magmoms,
            label or structure.composition.reduced_formula,
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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MagneticStructure:
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


def _as_vector(m: Any) -> list[float]:
    """A moment (None, scalar, 3-vector or pymatgen Magmom) as a 3-vector along z for scalars."""
    if m is None:
        return [0.0, 0.0, 0.0]
    if hasattr(m, "moment"):  # pymatgen Magmom
        return [float(x) for x in m.moment]
    arr = np.asarray(m, dtype=float).ravel()
    if arr.size == 1:
        return [0.0, 0.0, float(arr[0])]
    if arr.size == 3:
        return [float(x) for x in arr]
    raise InputError(f"a moment must be a number or a 3-vector, got {m!r}")
