"""Which elements count as magnetic: the one place altermag decides it.

A site is treated as able to carry a local moment when its element has a partly filled d or f
shell in its common oxidation states: the 3d metals Ti–Cu, the 4d/5d metals known to order
magnetically in oxides and pnictides (Mo, Tc, Ru, Rh, Os, Ir), the lanthanides Ce–Yb (Pm
excluded: no stable compounds) and the light actinides U, Np, Pu. Zn (3d¹⁰) is excluded.
The original MatAltMag screening used Ti–Zn and Ce–Yb.
"""

from __future__ import annotations

__all__ = ["MAGNETIC_ELEMENTS", "is_magnetic"]

MAGNETIC_ELEMENTS: frozenset[str] = frozenset(
    [
        "Ti",
        "V",
        "Cr",
        "Mn",
        "Fe",
        "Co",
        "Ni",
        "Cu",
        "Mo",
        "Tc",
        "Ru",
        "Rh",
        "Os",
        "Ir",
        "Ce",
        "Pr",
        "Nd",
        "Sm",
        "Eu",
        "Gd",
        "Tb",
        "Dy",
        "Ho",
        "Er",
        "Tm",
        "Yb",
        "U",
        "Np",
        "Pu",
    ]
)


def is_magnetic(element: str) -> bool:
    """True when ``element`` (a symbol such as ``"Mn"``) is in :data:`MAGNETIC_ELEMENTS`."""
    return element in MAGNETIC_ELEMENTS
