"""Element feature vectors for crystal graphs.

Each chemical element is described by a compact, physically meaningful vector taken from
pymatgen's periodic-table data: position in the table (group, period, block), the quantities
that set bonding and magnetism (Pauling electronegativity, atomic radius, number of valence
electrons, number of unpaired d/f electrons in the free atom, first ionisation energy) and
the magnetic-element flag of :func:`altermag.elements.is_magnetic`. Continuous columns are
standardised over the elements so that a network sees values of order one. The table is
computed once and cached.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
from pymatgen.core.periodic_table import Element

from altermag.elements import is_magnetic

#: Largest atomic number with a feature row (Pu); heavier elements map onto this row.
MAX_Z = 94

FEATURE_NAMES: tuple[str, ...] = (
    "group",
    "period",
    "electronegativity",
    "atomic_radius",
    "valence_electrons",
    "unpaired_electrons",
    "ionization_energy",
    "mendeleev_number",
    "block_s",
    "block_p",
    "block_d",
    "block_f",
    "magnetic",
)


def _safe(value: object, default: float) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return out if np.isfinite(out) else default


def _unpaired(el: Element) -> float:
    """Unpaired electrons of the free atom's partially filled outer d or f shell (Hund)."""
    try:
        structure = el.full_electronic_structure
    except (ValueError, KeyError, AttributeError):
        return 0.0
    counts: dict[str, int] = {}
    for _n, orbital, occupancy in structure:
        counts[orbital] = int(occupancy)  # the last (outermost) shell of each kind wins
    unpaired = 0.0
    for orbital, capacity in (("d", 10), ("f", 14)):
        occ = counts.get(orbital, 0)
        half = capacity // 2
        unpaired += occ if occ <= half else capacity - occ
    return unpaired


def _outer(el: Element) -> float:
    """Electrons outside the preceding noble-gas core (s + p + d + f of the open shells)."""
    try:
        structure = el.full_electronic_structure
    except (ValueError, KeyError, AttributeError):
        return 0.0
    max_n = max(n for n, _l, _o in structure)
    total = 0
    for n, orbital, occ in structure:
        if n == max_n or (orbital == "d" and n == max_n - 1) or (orbital == "f" and n == max_n - 2):
            total += int(occ)
    return float(total)


@lru_cache(maxsize=1)
def element_feature_table() -> np.ndarray:
    """Standardised feature rows for Z = 0..MAX_Z (row 0 is an all-zero padding row).

    Returns
    -------
    numpy.ndarray
        Shape ``(MAX_Z + 1, len(FEATURE_NAMES))``, float32.
    """
    rows = []
    for z in range(1, MAX_Z + 1):
        el = Element.from_Z(z)
        block = el.block
        with warnings.catch_warnings():  # noble gases have no Pauling electronegativity
            warnings.simplefilter("ignore")
            x = _safe(el.X, 2.0)
        rows.append(
            [
                _safe(el.group, 0.0),
                _safe(el.row, 0.0),
                x,
                _safe(el.atomic_radius, 1.5),
                _outer(el),
                _unpaired(el),
                _safe(el.ionization_energies[0] if el.ionization_energies else None, 7.0),
                _safe(el.mendeleev_no, 50.0),
                float(block == "s"),
                float(block == "p"),
                float(block == "d"),
                float(block == "f"),
                float(is_magnetic(el.symbol)),
            ]
        )
    table = np.asarray(rows, dtype=np.float64)
    n_cont = 8  # standardise the continuous columns only
    mean = table[:, :n_cont].mean(axis=0)
    std = table[:, :n_cont].std(axis=0)
    table[:, :n_cont] = (table[:, :n_cont] - mean) / np.where(std > 0, std, 1.0)
    return np.vstack([np.zeros((1, table.shape[1])), table]).astype(np.float32)


@lru_cache(maxsize=256)
def atomic_number(symbol: str) -> int:
    """Atomic number of an element symbol (oxidation decorations such as ``Fe2+`` allowed)."""
    clean = "".join(ch for ch in symbol if ch.isalpha())
    return min(Element(clean).Z, MAX_Z)
