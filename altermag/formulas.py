"""Chemical formulas in the conventions other tools compare.

* pymatgen's reduced formula (``MnF2``, electronegativity order): altermag's ``formula``;
* OPTIMADE's ``chemical_formula_reduced`` (``F2Mn``: elements in alphabetical order, counts
  divided by their greatest common divisor, 1 omitted) and ``chemical_formula_anonymous``
  (``A2B``: the same counts, largest first, on the symbols A, B, … Z, Aa, Ba, …).

:func:`normalise_formula` turns what a user types (``F2Mn``, ``Mn2F4``, ``MnF2``) into
pymatgen's reduced formula, so a formula filter finds a compound however it is written.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Iterator

__all__ = [
    "anonymous_formula",
    "normalise_formula",
    "optimade_formulas",
    "optimade_reduced",
    "reduced_formula",
]


def _counts(species: Iterable[str]) -> dict[str, int]:
    counts = Counter(species)
    gcd = math.gcd(*counts.values())
    return {el: n // gcd for el, n in counts.items()}


def _write(pairs: Iterable[tuple[str, int]]) -> str:
    return "".join(f"{el}{n if n != 1 else ''}" for el, n in pairs)


def _anonymous_symbols() -> Iterator[str]:
    """A … Z, then Aa … Za, Ab … Zb, … (the OPTIMADE order)."""
    yield from string.ascii_uppercase
    for second in string.ascii_lowercase:
        for first in string.ascii_uppercase:
            yield first + second


def reduced_formula(species: Iterable[str]) -> str:
    """OPTIMADE ``chemical_formula_reduced`` of the sites' elements (``F2Mn``)."""
    return _write(sorted(_counts(species).items()))


def anonymous_formula(species: Iterable[str]) -> str:
    """OPTIMADE ``chemical_formula_anonymous`` of the sites' elements (``A2B``)."""
    counts = sorted(_counts(species).values(), reverse=True)
    return _write(zip(_anonymous_symbols(), counts, strict=False))


def optimade_formulas(species: Iterable[str]) -> tuple[str, str]:
    """(reduced, anonymous) OPTIMADE formulas of the sites' elements."""
    species = list(species)
    return reduced_formula(species), anonymous_formula(species)


_FORMULA = re.compile(r"^(?:[A-Z][a-z]?\d*(?:\.\d+)?)+$")


def normalise_formula(text: str) -> str:
    """pymatgen's reduced formula of ``text`` (``F2Mn`` → ``MnF2``); text that is not a
    formula comes back stripped, as given."""
    text = text.strip()
    if not _FORMULA.match(text.replace(" ", "")):
        return text
    from pymatgen.core import Composition

    try:
        return Composition(text).reduced_formula
    except (ValueError, KeyError):
        return text


def optimade_reduced(text: str) -> str:
    """OPTIMADE's reduced formula of a formula written any way (``MnF2`` → ``F2Mn``); text
    that is not a formula with whole counts comes back as given."""
    from pymatgen.core import Composition

    if not _FORMULA.match(text.strip().replace(" ", "")):
        return text
    try:
        amounts = Composition(text).get_el_amt_dict()
    except (ValueError, KeyError):
        return text
    if not all(float(n).is_integer() for n in amounts.values()):
        return text
    return reduced_formula(el for el, n in amounts.items() for _ in range(int(n)))
