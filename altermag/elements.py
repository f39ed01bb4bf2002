"""Which elements count as magnetic: the one place altermag decides it.

A site is treated as able to carry a local moment when its element has a partly filled d or f
shell in its common oxidation states: the 3d metals Ti–Cu, the 4d/5d metals known to order
magnetically in oxides and pnictides (Mo, Tc, Ru, Rh, Os, Ir), the lanthanides Ce–Yb (Pm
excluded: no stable compounds) and the light actinides U, Np, Pu. Zn (3d¹⁰) is excluded.
The original MatAltMag screening used Ti–Zn and Ce–Yb.
"""

from __future__ import annotations

__all__ = ["MAGNETIC_ELEMENTS", "can_carry_moment", "is_magnetic", "open_shell_electrons"]

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


def open_shell_electrons(element: str, oxidation_state: float) -> int | None:
    """Electrons in the open d or f shell of an ion (None when not a magnetic element).

    d metals: group number − oxidation state (Ti⁴⁺ d⁰, Fe³⁺ d⁵, Cu⁺ d¹⁰); lanthanides:
    Z − 54 − oxidation state 4f electrons (Ce⁴⁺ f⁰, Gd³⁺ f⁷, Yb²⁺ f¹⁴); actinides:
    Z − 86 − oxidation state 5f electrons (U⁴⁺ f²).
    """
    if element not in MAGNETIC_ELEMENTS:
        return None
    from pymatgen.core import Element

    el = Element(element)
    ox = round(oxidation_state)
    if el.is_lanthanoid:
        return el.Z - 54 - ox
    if el.is_actinoid:
        return el.Z - 86 - ox
    return el.group - ox


def can_carry_moment(element: str, oxidation_state: float | None = None) -> bool:
    """A magnetic element whose ion (when its oxidation state is known) has an open shell:
    d⁰/d¹⁰ and f⁰/f¹⁴ ions carry no local moment (Ti⁴⁺, Cu⁺, Ce⁴⁺, Yb²⁺, Lu³⁺...)."""
    if element not in MAGNETIC_ELEMENTS:
        return False
    if oxidation_state is None:
        return True
    from pymatgen.core import Element

    n = open_shell_electrons(element, oxidation_state)
    el = Element(element)
    full = 14 if (el.is_lanthanoid or el.is_actinoid) else 10
    return n is not None and 0 < n < full
