"""Curated known magnetic materials: experimental structures, orders and literature labels.

Every material is one YAML file in ``altermag/data/known/`` (written by
``scripts/make_known_materials.py`` from the published space group, lattice and Wyckoff
positions): the magnetic cell with the moment of every site, the literature label
(``altermagnet`` with its wave type d/g/i, ``antiferromagnet`` for a conventional compensated
magnet whose bands are spin-degenerate at every k, ``ferromagnet``, ``ferrimagnet``) and the
reference (DOI). They are the labelled positives and negatives of the search and a regression
set for the spin-group engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from altermag.errors import InputError
from altermag.structure import MagneticStructure

__all__ = ["KNOWN_DIR", "LABELS", "KnownMaterial", "known_material", "known_materials"]

KNOWN_DIR = Path(__file__).resolve().parent / "known"

#: Literature labels a known material can carry.
LABELS = ("altermagnet", "antiferromagnet", "ferromagnet", "ferrimagnet")


@dataclass(frozen=True)
class KnownMaterial:
    """One curated magnetic material.

    Parameters
    ----------
    id
        Stable name, also the YAML file stem (``MnF2``, ``alpha-Fe2O3``).
    name
        Human-readable name with the structure type.
    formula
        Reduced formula.
    label
        Literature label, one of :data:`LABELS`.
    wave
        ``"d"``, ``"g"`` or ``"i"`` (the lowest even degree of the spin-splitting form factor)
        for an altermagnet, ``None`` otherwise.
    spin_laue_group
        Spin Laue group from the literature (Litvin–Šmejkal notation, e.g. ``²4/¹m²m¹m``), or
        ``None`` where the entry does not give one.
    reference
        ``{"doi": ..., "citation": ...}`` for the magnetic order / label.
    structure_reference
        Where the crystal structure and order come from.
    note
        Short note on the order and any approximation made.
    space_group_number
        Space group of the non-magnetic crystal (moments ignored).
    structure
        The magnetic cell with the collinear moment (μB, along z) of every site.
    """

    id: str
    name: str
    formula: str
    label: str
    wave: str | None
    spin_laue_group: str | None
    reference: dict[str, str]
    structure_reference: str
    note: str
    space_group_number: int
    structure: MagneticStructure

    def summary(self) -> dict[str, Any]:
        """The fields shown by ``altermag data known --json``."""
        return {
            "id": self.id,
            "name": self.name,
            "formula": self.formula,
            "label": self.label,
            "wave": self.wave,
            "spin_laue_group": self.spin_laue_group,
            "space_group_number": self.space_group_number,
            "n_sites": len(self.structure),
            "reference": dict(self.reference),
            "structure_reference": self.structure_reference,
        }


def _from_record(rec: dict[str, Any]) -> KnownMaterial:
    label = str(rec["label"])
    if label not in LABELS:
        raise InputError(f"{rec.get('id')}: unknown label {label!r}")
    lattice = np.asarray(rec["lattice"]["matrix"], dtype=float)
    sites = rec["sites"]
    structure = MagneticStructure(
        lattice=lattice,
        species=tuple(s["element"] for s in sites),
        frac_coords=np.asarray([s["frac"] for s in sites], dtype=float),
        magmoms=np.asarray([float(s["moment"]) for s in sites]),
        label=str(rec["id"]),
        properties={"source": "known", "id": rec["id"], "doi": rec["reference"]["doi"]},
    )
    return KnownMaterial(
        id=str(rec["id"]),
        name=str(rec["name"]),
        formula=str(rec["formula"]),
        label=label,
        wave=rec.get("wave"),
        spin_laue_group=rec.get("spin_laue_group"),
        reference={
            "doi": str(rec["reference"]["doi"]),
            "citation": str(rec["reference"]["citation"]),
        },
        structure_reference=str(rec.get("structure_reference", "")),
        note=str(rec.get("note", "")),
        space_group_number=int(rec["space_group_number"]),
        structure=structure,
    )


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""PyYAML's safe loader, in C (libyaml) when PyYAML was built with it: the known materials
are read at the start of every screening of the embedded data."""


@lru_cache(maxsize=1)
def _load_all() -> tuple[KnownMaterial, ...]:
    out = []
    for path in sorted(KNOWN_DIR.glob("*.yaml")):
        rec = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
        if rec.get("id") != path.stem:
            raise InputError(f"{path.name}: id {rec.get('id')!r} differs from the file name")
        out.append(_from_record(rec))
    return tuple(out)


def known_materials() -> list[KnownMaterial]:
    """All curated known magnetic materials, sorted by id."""
    return list(_load_all())


def known_material(material_id: str) -> KnownMaterial:
    """One curated material by id (case-insensitive); ``KeyError`` lists the ids when absent."""
    for m in _load_all():
        if m.id.lower() == material_id.lower():
            return m
    ids = ", ".join(m.id for m in _load_all())
    raise KeyError(f"no known material {material_id!r}; known: {ids}")
