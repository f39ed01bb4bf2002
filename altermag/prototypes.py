"""Structure prototypes with published collinear orders, built from Wyckoff positions.

Corundum M2O3 (R-3c, No. 167, hexagonal axes): the metal at 12c (0, 0, z), O at 18e
(x, 0, ¼). Along c the metal sites of the chain through the origin sit at
z₁…z₄ = (½ − z, z, 1 − z, ½ + z); the R-centring translations (⅔, ⅓, ⅓) and (⅓, ⅔, ⅔)
repeat the chain, and for a k = 0 order they keep the spin. An order is then four signs,
one per chain height: α-Fe2O3 above the Morin transition is (−, +, +, −) (inversion keeps
the spin: a g-wave altermagnet), Cr2O3 is (+, −, +, −) (inversion flips it: PT-symmetric,
magnetoelectric, no splitting).

:func:`r3c_chain_rule` is the moment rule for any such chain (also the calcite-type
carbonates, metal at (0, 0, 0) and (0, 0, ½)); :func:`corundum` builds the magnetic cell.
Used by ``scripts/make_known_materials.py`` (the shipped known materials) and the
literature structures of the tests.

:func:`prototype_key` is the structure-prototype key of the candidate ranking
(``max_per_prototype``): the anonymous formula and the crystal's space group, so crystals
made by substituting elements into one structure type share a key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from altermag.structure import MagneticStructure

__all__ = [
    "CORUNDUM_SPACE_GROUP",
    "MomentRule",
    "corundum",
    "corundum_chain",
    "corundum_sites",
    "prototype_key",
    "r3c_chain_rule",
]

MomentRule = Callable[[str, np.ndarray], float]
"""(element, fractional coordinates of the conventional cell) → moment in μB."""

CORUNDUM_SPACE_GROUP = 167
_R_CENTRING = {(0, 0): 0.0, (2, 1): 1 / 3, (1, 2): 2 / 3}
"""R-centring translation by its (3x mod 3, 3y mod 3) → its z shift (obverse setting)."""


def prototype_key(species: Sequence[str], space_group_number: int | None) -> str:
    """Structure-prototype key of a crystal: anonymous formula and space group (``A2B 136``).

    Substitutions into one structure type (rutile MnF2, FeF2, NiF2...) share a key: the same
    site multiplicities (the anonymous formula) and the same space group of the crystal
    without moments. An empty string when the space group is unknown (not yet analysed); the
    ranking never caps rows without a key (:func:`altermag.ranking.rank_candidates`).
    """
    from altermag.formulas import anonymous_formula

    if space_group_number is None:
        return ""
    return f"{anonymous_formula(species)} {int(space_group_number)}"


def _close(a: float, b: float, tol: float = 1e-3) -> bool:
    d = (a - b) % 1.0
    return min(d, 1.0 - d) < tol


def corundum_chain(z: float) -> list[float]:
    """Heights (½ − z, z, 1 − z, ½ + z) of the metal chain through the origin."""
    return [0.5 - z, z, 1 - z, 0.5 + z]


def corundum_sites(
    metal: str, z: float, x: float, anion: str = "O"
) -> list[tuple[str, tuple[float, float, float]]]:
    """Wyckoff representatives: metal 12c (0, 0, z), anion 18e (x, 0, ¼)."""
    return [(metal, (0.0, 0.0, z)), (anion, (x, 0.0, 0.25))]


def r3c_chain_rule(
    metal: str, m: float, heights: Sequence[float], signs: Sequence[int]
) -> MomentRule:
    """Moments ``m × sign`` on ``metal`` sites at (0, 0, height) of an R-3c chain.

    Sites of the R-centred copies are brought back by the centring translation (which keeps
    the spin, k = 0) before their height is matched; other elements carry no moment.

    Raises
    ------
    ValueError
        From the rule, for a metal site at none of the heights.
    """

    def rule(el: str, f: np.ndarray) -> float:
        if el != metal:
            return 0.0
        key = (round(f[0] * 3) % 3, round(f[1] * 3) % 3)
        z0 = (f[2] - _R_CENTRING[key]) % 1.0
        for zb, s in zip(heights, signs, strict=True):
            if _close(z0, zb):
                return m * s
        raise ValueError(f"unexpected {metal} site {f}")

    return rule


def corundum(
    label: str,
    metal: str,
    a: float,
    c: float,
    z: float,
    x: float,
    m: float,
    chain_signs: Sequence[int],
    anion: str = "O",
) -> MagneticStructure:
    """Corundum M2O3 in its 30-site hexagonal cell with a k = 0 collinear order.

    Parameters
    ----------
    label
        Name of the structure.
    metal, anion
        Elements of 12c and 18e.
    a, c
        Hexagonal lattice constants (Å).
    z, x
        Free coordinates of 12c (0, 0, z) and 18e (x, 0, ¼).
    m
        Moment size (μB).
    chain_signs
        ±1 for the chain heights (½ − z, z, 1 − z, ½ + z) (:func:`corundum_chain`).
    """
    from pymatgen.core import Lattice, Structure

    sites = corundum_sites(metal, z, x, anion)
    s = Structure.from_spacegroup(
        CORUNDUM_SPACE_GROUP,
        Lattice.hexagonal(a, c),
        [el for el, _ in sites],
        [list(p) for _, p in sites],
        tol=1e-3,
    )
    rule = r3c_chain_rule(metal, m, corundum_chain(z), chain_signs)
    moments = [rule(site.specie.symbol, np.mod(site.frac_coords, 1.0)) for site in s]
    return MagneticStructure.from_pymatgen(s, label=label).with_moments(moments)
