"""Pseudopotential lookup for Quantum ESPRESSO.

Pseudopotentials are not shipped: the folder comes from ``ALTERMAG_PSEUDO_DIR`` or, by
default, the one of Debian's ``quantum-espresso-data`` package (``/usr/share/espresso/pseudo``).
A file is chosen per element from its name (``Cr.pbe-spn-kjpaw_psl.1.0.0.UPF``): the
functional tag must match the preset (``pbe`` does not match ``pbesol`` or fully relativistic
``rel-pbe`` files), and PAW is preferred over ultrasoft over norm-conserving, because the
band energies near E_F of 3d oxides converge at the lowest cut-offs with PAW.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from altermag.errors import DftError

__all__ = [
    "DEBIAN_PSEUDO_DIR",
    "PseudoError",
    "Pseudopotential",
    "find_pseudopotentials",
    "pseudo_dir",
]

DEBIAN_PSEUDO_DIR = Path("/usr/share/espresso/pseudo")


class PseudoError(DftError, LookupError):
    """No usable pseudopotential for an element."""


@dataclass(frozen=True)
class Pseudopotential:
    """One UPF file and the numbers read from its header."""

    element: str
    path: Path
    z_valence: float
    kind: str
    """``paw``, ``us`` (ultrasoft) or ``nc`` (norm-conserving)."""

    @property
    def filename(self) -> str:
        return self.path.name


def pseudo_dir() -> Path:
    """The pseudopotential folder: ``$ALTERMAG_PSEUDO_DIR`` or Debian's."""
    env = os.environ.get("ALTERMAG_PSEUDO_DIR")
    return Path(env) if env else DEBIAN_PSEUDO_DIR


_Z_VALENCE = re.compile(r"z_valence\s*=\s*\"?\s*([-+0-9.eEdD]+)", re.IGNORECASE)
_Z_VALENCE_V1 = re.compile(r"([-+0-9.eEdD]+)\s+Z valence", re.IGNORECASE)


def _header(path: Path) -> tuple[float, str]:
    text = path.read_text(errors="replace")[:200_000]
    m = _Z_VALENCE.search(text) or _Z_VALENCE_V1.search(text)
    if m is None:
        raise PseudoError(f"{path}: no z_valence in the header")
    z = float(m.group(1).replace("d", "e").replace("D", "e"))
    low = text.lower()
    if 'is_paw="true"' in low or 'is_paw="t"' in low or 'pseudo_type="paw"' in low:
        kind = "paw"
    elif 'is_ultrasoft="true"' in low or 'is_ultrasoft="t"' in low or "us" in _kind_tag(path):
        kind = "us"
    else:
        kind = "nc"
    return z, kind


def _kind_tag(path: Path) -> str:
    name = path.name.lower()
    if "paw" in name:
        return "paw"
    if "rrkjus" in name or "van" in name or "_us" in name or "uspp" in name:
        return "us"
    return "nc"


def _matches(name: str, element: str, functional: str) -> bool:
    low = name.lower()
    if not low.endswith(".upf"):
        return False
    if not re.match(rf"^{element.lower()}[._-]", low):
        return False
    tags = re.split(r"[._-]", low[len(element) + 1 :])
    return functional.lower() in tags and "rel" not in tags


_RANK = {"paw": 0, "us": 1, "nc": 2}


def find_pseudopotentials(
    elements: list[str] | tuple[str, ...],
    functional: str = "pbe",
    folder: Path | None = None,
    pinned: dict[str, str] | None = None,
) -> dict[str, Pseudopotential]:
    """Choose one UPF file per element.

    Parameters
    ----------
    elements
        Chemical symbols.
    functional
        Exchange–correlation tag in the file name (``pbe``, ``pbesol``, ``pz``).
    folder
        Folder to search; default :func:`pseudo_dir`.
    pinned
        ``{element: file name}`` that bypasses the search (from a preset).

    Raises
    ------
    PseudoError
        When an element has no matching file; the message lists what is missing.
    """
    root = folder or pseudo_dir()
    if not root.is_dir():
        raise PseudoError(
            f"pseudopotential folder {root} does not exist (set ALTERMAG_PSEUDO_DIR or install "
            "quantum-espresso-data)"
        )
    names = sorted(p.name for p in root.iterdir())
    out: dict[str, Pseudopotential] = {}
    missing: list[str] = []
    for el in dict.fromkeys(elements):
        if pinned and el in pinned:
            chosen = pinned[el]
            if chosen not in names:
                raise PseudoError(f"pinned pseudopotential {chosen} for {el} not in {root}")
        else:
            cands = [n for n in names if _matches(n, el, functional)]
            if not cands:
                missing.append(el)
                continue
            chosen = min(cands, key=lambda n: (_RANK[_kind_tag(root / n)], n))
        z, kind = _header(root / chosen)
        out[el] = Pseudopotential(el, root / chosen, z, kind)
    if missing:
        raise PseudoError(
            f"no {functional} pseudopotential for {', '.join(missing)} in {root} "
            "(set ALTERMAG_PSEUDO_DIR)"
        )
    return out
