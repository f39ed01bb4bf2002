"""Pseudopotential lookup for Quantum ESPRESSO.

The default library is the SG15 ONCV norm-conserving PBE set shipped with the package
(``altermag/dft/qe/sg15``: 69 elements, one ``<Element>.UPF`` each, CC BY-SA 4.0, see the
README and licence there), so every compound of H–Bi (lanthanides beyond La aside) can be
computed without a download. ``ALTERMAG_PSEUDO_DIR`` (or a preset's ``pseudopotentials``
pins) points at the user's own library (SSSP, pslibrary, Debian's ``quantum-espresso-data``
in ``/usr/share/espresso/pseudo``…), whose files are mapped by element: a file belongs to an
element when its name starts with the symbol and a separator (``Mn.UPF``,
``Mn.pbe-spnl-kjpaw_psl.1.0.0.UPF``, ``mn_pbe_v1.5.uspp.F.UPF``). Its exchange–correlation
functional must be the preset's: read from the name's tags when they name one, else from the
UPF header; fully relativistic (spin–orbit) files are skipped, since the decks are collinear
and scalar-relativistic. Among the matches PAW is preferred over ultrasoft over
norm-conserving, because the band energies near E_F of 3d oxides converge at the lowest
cut-offs with PAW.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from altermag.errors import DftError

__all__ = [
    "DEBIAN_PSEUDO_DIR",
    "SHIPPED_PSEUDO_DIR",
    "PseudoError",
    "Pseudopotential",
    "find_pseudopotentials",
    "pseudo_dir",
]

DEBIAN_PSEUDO_DIR = Path("/usr/share/espresso/pseudo")
"""Debian's ``quantum-espresso-data`` folder (a user library like any other)."""
SHIPPED_PSEUDO_DIR = Path(__file__).resolve().parent / "sg15"
"""The SG15 ONCV PBE set shipped as package data: the default library."""


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
    """The pseudopotential folder: ``$ALTERMAG_PSEUDO_DIR``, else the shipped SG15 set."""
    from altermag.config import get_settings

    own = get_settings().pseudo_dir
    return own if own is not None else SHIPPED_PSEUDO_DIR


_Z_VALENCE = re.compile(r"z_valence\s*=\s*\"?\s*([-+0-9.eEdD]+)", re.IGNORECASE)
_Z_VALENCE_V1 = re.compile(r"([-+0-9.eEdD]+)\s+Z valence", re.IGNORECASE)
_FUNCTIONAL = re.compile(r"functional\s*=\s*\"([^\"]*)\"", re.IGNORECASE)
_FUNCTIONAL_V1 = re.compile(r"^\s*(.+?)\s+Exchange-Correlation functional", re.I | re.M)

_XC_TAGS = ("pbe", "pbesol", "pz", "lda", "pw91", "blyp", "revpbe", "scan")
"""Functional tags that a UPF file name may carry."""
_XC_HEADER = {
    "pbe": ("pbe", "sla pw pbx pbc", "sla pw pbe pbe"),
    "pbesol": ("pbesol", "sla pw psx psc"),
    "pz": ("pz", "lda", "sla pz nogx nogc", "sla pz"),
}
"""How UPF headers spell a functional (v2 ``functional="PBE"``, v1/v2 component names)."""


def _header_text(path: Path) -> str:
    with path.open(errors="replace") as fh:
        return fh.read(60_000)


def _header(path: Path) -> tuple[float, str]:
    text = _header_text(path)
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


def _header_functional(path: Path) -> tuple[str, bool]:
    """The header's functional (lower case, blanks collapsed) and whether it has spin–orbit."""
    text = _header_text(path)
    m = _FUNCTIONAL.search(text) or _FUNCTIONAL_V1.search(text)
    xc = " ".join(m.group(1).lower().split()) if m else ""
    so = bool(re.search(r"has_so\s*=\s*\"\s*(t|true)\s*\"", text, re.IGNORECASE))
    return xc, so


def _kind_tag(path: Path) -> str:
    name = path.name.lower()
    if "paw" in name:
        return "paw"
    if "rrkjus" in name or "van" in name or "_us" in name or "uspp" in name:
        return "us"
    return "nc"


def _tags(name: str, element: str) -> list[str] | None:
    """The name's tags after the element, or None when the file is not this element's UPF."""
    low = name.lower()
    if not low.endswith(".upf"):
        return None
    el = element.lower()
    if low == f"{el}.upf":
        return []
    if not re.match(rf"^{re.escape(el)}[._-]", low):
        return None
    return re.split(r"[._-]", low[len(el) + 1 : -len(".upf")])


def _matches(folder: Path, name: str, element: str, functional: str) -> bool:
    tags = _tags(name, element)
    if tags is None or "rel" in tags:
        return False
    fun = functional.lower()
    named = [t for t in tags if t in _XC_TAGS]
    if named:
        return fun in named
    xc, so = _header_functional(folder / name)
    if so:
        return False
    return xc in _XC_HEADER.get(fun, (fun,)) or xc.split(" ")[0] == fun


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
        Folder to search; default :func:`pseudo_dir` (``$ALTERMAG_PSEUDO_DIR`` or the shipped
        SG15 set).
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
            f"pseudopotential folder {root} does not exist (ALTERMAG_PSEUDO_DIR; unset it to use "
            "the SG15 set shipped with altermag)"
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
            cands = [n for n in names if _matches(root, n, el, functional)]
            if not cands:
                missing.append(el)
                continue
            headers = {n: _header(root / n) for n in cands}
            chosen = min(cands, key=lambda n: (_RANK[headers[n][1]], n))
        z, kind = _header(root / chosen)
        out[el] = Pseudopotential(el, root / chosen, z, kind)
    if missing:
        raise PseudoError(
            f"no {functional} pseudopotential for {', '.join(missing)} in {root} "
            "(set ALTERMAG_PSEUDO_DIR)"
        )
    return out
