"""The d/g/i table of docs/symmetry.md, derived from first principles.

For every Laue group, every one-dimensional real character χ with χ(−1) = +1 is built on a
representative point group, and the engine's character projection must produce exactly the
altermagnetic spin Laue groups of Šmejkal, Sinova & Jungwirth (PRX 12, 031042 (2022)) with
their wave types and numbers of nodal planes; Laue groups −1, −3 and m−3 host none.
"""

from __future__ import annotations

from itertools import product

import numpy as np
import pytest
import spglib

from altermag.symmetry import harmonics
from altermag.symmetry.laue import laue_info

# Laue group -> (Hall number of a centrosymmetric representative, lattice)
REPRESENTATIVE = {
    "-1": (2, np.eye(3)),
    "2/m": (57, np.eye(3)),  # P2/m
    "mmm": (227, np.eye(3)),  # Pmmm
    "4/m": (357, np.eye(3)),  # P4/m
    "4/mmm": (400, np.eye(3)),  # P4/mmm
    "-3": (435, None),  # P-3
    "-3m": (456, None),  # P-3m1
    "6/m": (469, None),  # P6/m
    "6/mmm": (485, None),  # P6/mmm
    "m-3": (494, np.eye(3)),  # Pm-3
    "m-3m": (517, np.eye(3)),  # Pm-3m
}

# Laue group -> {spin Laue group: (wave, nodal planes)}
EXPECTED = {
    "-1": {},
    "2/m": {"²2/²m": ("d", 2)},
    "mmm": {"²m²m¹m": ("d", 2)},
    "4/m": {"²4/¹m": ("d", 2)},
    "4/mmm": {"²4/¹m²m¹m": ("d", 2), "¹4/¹m²m²m": ("g", 4)},
    "-3": {},
    "-3m": {"¹-3²m": ("g", 4)},
    "6/m": {"²6/²m": ("g", 4)},
    "6/mmm": {"²6/²m²m¹m": ("g", 4), "¹6/¹m²m²m": ("i", 6)},
    "m-3": {},
    "m-3m": {"¹m-3²m": ("i", 6)},
}

HEX = np.array([[1.0, 0, 0], [-0.5, np.sqrt(3) / 2, 0], [0, 0, 1.0]])


def _cartesian_group(hall: int, lattice: np.ndarray | None) -> np.ndarray:
    lat = HEX if lattice is None else lattice
    ops = spglib.get_symmetry_from_database(hall)
    rots = np.unique(ops["rotations"], axis=0)
    at = lat.T
    return np.einsum("ij,gjk,kl->gil", at, rots, np.linalg.inv(at))


def _characters(rots: np.ndarray) -> list[np.ndarray]:
    """All homomorphisms χ: G → {±1} with χ(−1) = +1 (brute force over generators)."""
    n = len(rots)

    def find(m: np.ndarray) -> int:
        return int(np.argmin(np.abs(rots - m).sum(axis=(1, 2))))

    table = np.array([[find(a @ b) for b in rots] for a in rots])
    inversion = find(-np.eye(3))
    # greedy generating set
    gens: list[int] = []
    span = {find(np.eye(3))}
    for g in range(n):
        if g in span:
            continue
        gens.append(g)
        frontier = list(span)
        while frontier:
            x = frontier.pop()
            for y in [*gens, x]:
                for z in (table[x, y], table[y, x]):
                    if z not in span:
                        span.add(int(z))
                        frontier.append(int(z))
    chars = []
    for signs in product((1, -1), repeat=len(gens)):
        chi = {find(np.eye(3)): 1}
        for g, s in zip(gens, signs, strict=True):
            chi[g] = s
        changed = True
        ok = True
        while changed and ok:
            changed = False
            for a in list(chi):
                for b in list(chi):
                    c = int(table[a, b])
                    v = chi[a] * chi[b]
                    if c not in chi:
                        chi[c] = v
                        changed = True
                    elif chi[c] != v:
                        ok = False
        if ok and len(chi) == n and chi[inversion] == 1:
            chars.append(np.array([chi[i] for i in range(n)]))
    return chars


@pytest.mark.parametrize("laue", list(EXPECTED))
def test_spin_laue_groups_of_each_laue_class(laue: str) -> None:
    hall, lattice = REPRESENTATIVE[laue]
    rots = _cartesian_group(hall, lattice)
    assert spglib.get_spacegroup_type(hall).number in range(1, 231)
    assert any(np.allclose(r, -np.eye(3)) for r in rots), "representative must be centrosymmetric"
    found: dict[str, tuple[str, int]] = {}
    for chi in _characters(rots):
        if np.all(chi == 1):
            info = laue_info(rots, chi)
            assert info.laue == laue
            assert harmonics.lowest_degree(rots, chi) == 0  # s-wave: ferromagnet
            continue
        info = laue_info(rots, chi)
        degree = harmonics.lowest_degree(rots, chi)
        # nodal planes: spin-flipping mirrors
        mirrors = sum(
            1
            for r, c in zip(rots, chi, strict=True)
            if c == -1 and round(np.linalg.det(r)) == -1 and round(np.trace(r)) == 1
        )
        wave = harmonics.WAVE_LETTERS[degree]
        # the zero set of the form factor has `degree` planes; spin-flipping mirrors fix
        # some of them (all for the high-symmetry groups)
        assert mirrors <= degree
        found[info.spin_symbol] = (wave, degree)
        # the multiplicity from characters equals the rank of the projector
        basis = harmonics.form_factor_basis(rots, chi, degree)
        assert len(basis) == harmonics.multiplicity(rots, chi, degree) >= 1
    assert found == EXPECTED[laue]
