"""What every code's deck shares: the collinear moments, the SCF k-mesh, the metadata files.

A deck is computed in memory as an :class:`~altermag.dft.protocol.InputSet` (file name →
text) and written only at the end, so the same inputs can be inspected, hashed or written
anywhere. Besides the code's own inputs every deck carries the files that let
``altermag dft parse`` judge the run without the original files: ``structure.json`` (the cell
with its moments), ``spin_group.json`` (the prediction), ``kpath.json`` (the band path) and
``settings.json`` (the flat settings, the code and what the machine lacked).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from altermag.dft.kpath import KPath
from altermag.dft.settings import DftSettings
from altermag.result import SpinGroupResult
from altermag.structure import MagneticStructure

__all__ = ["collinear_moments", "kpoint_mesh", "metadata_files", "require_moments"]


def collinear_moments(structure: MagneticStructure) -> np.ndarray:
    """Signed moments (μB) along the common spin axis (oriented towards +z), zeros if none."""
    if structure.magmoms is None:
        return np.zeros(len(structure))
    m = np.asarray(structure.magmoms, float)
    i = int(np.argmax(np.linalg.norm(m, axis=1)))
    norm = np.linalg.norm(m[i])
    if norm < 1e-12:
        return np.zeros(len(structure))
    axis = m[i] / norm
    lead = axis[np.argmax(np.abs(axis) > 1e-6)] if axis[2] == 0 else axis[2]
    return np.asarray(m @ (axis if lead > 0 else -axis))  # keep the sign of moments along +z


def require_moments(structure: MagneticStructure) -> None:
    """Raise ``ValueError`` for a structure without moments (no order chosen yet)."""
    if structure.magmoms is None or not np.any(np.abs(collinear_moments(structure)) > 0):
        raise ValueError("the structure needs moments (choose an order before preparing DFT)")


def kpoint_mesh(structure: MagneticStructure, settings: DftSettings) -> list[int]:
    """Monkhorst–Pack mesh: the preset's ``kpoints`` or ⌈|b_i| / kspacing⌉ (1/Å, 2π in)."""
    if settings.kpoints:
        return [int(n) for n in settings.kpoints]
    recip = 2 * np.pi * np.linalg.inv(np.asarray(structure.lattice)).T
    return [max(1, math.ceil(float(np.linalg.norm(b)) / settings.kspacing)) for b in recip]


def metadata_files(
    structure: MagneticStructure,
    result: SpinGroupResult,
    kpath: KPath,
    settings: DftSettings,
    code: str,
    **extra: Any,
) -> dict[str, str]:
    """The four JSON files every deck carries (``extra`` goes into ``settings.json``)."""
    return {
        "structure.json": json.dumps(structure.to_dict(), indent=1),
        "spin_group.json": result.to_json(indent=1),
        "kpath.json": json.dumps(kpath.to_dict(), indent=1),
        "settings.json": json.dumps({**settings.to_dict(), "code": code, **extra}, indent=1),
    }
