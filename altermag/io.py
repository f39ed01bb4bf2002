"""Reading structures with magnetic moments from the files researchers have.

Supported: magnetic CIF (mCIF, moments as vectors, magnetic symmetry expanded by pymatgen),
plain CIF (moments from ``magmom=``), VASP POSCAR/CONTCAR (MAGMOM from an ``INCAR`` in the same
folder or from ``magmom=``), pymatgen ``Structure`` JSON (``magmom`` site property) or
altermag's own structure JSON, Quantum ESPRESSO pw.x inputs (moments from
``starting_magnetization`` of each species label) and whatever ASE reads (extxyz with initial
magnetic moments).

No value is guessed: an mCIF moment that is not a number (``-3.11.``, ``?``) is an error, not
a zero moment.

Every problem becomes a :class:`StructureReadError` that names the file and the problem in
one sentence; no traceback reaches the user.

Untrusted files are safe to read: the sizes a file *declares* (atom counts of extxyz frames
and POSCAR, rows of CIF loops, sites of JSON, repeat counts of ``MAGMOM``) are checked against
:func:`altermag.config.active_limits` before anything of that size is built
(:class:`StructureLimitError`, a 413 in the API), and pymatgen JSON is parsed as data: only a
``Structure``/``IStructure`` with its moments and arrays, never another ``@module``/``@class``.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from altermag.config import Limits, active_limits, check_limit
from altermag.errors import PARSER_ERRORS, InputError, LimitError
from altermag.structure import MagneticStructure

__all__ = [
    "MIN_DISTANCE",
    "StructureLimitError",
    "StructureReadError",
    "parse_magmom",
    "read_structure",
]

#: Two atoms closer than this (Å) are reported as overlapping.
MIN_DISTANCE = 0.5

#: A CIF number: optional sign, digits with an optional point, exponent, standard uncertainty.
_CIF_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?(\(\d+\))?$")
#: The moment of one site in units of pw.x's ``starting_magnetization`` (a fraction of the
#: valence charge, -1…1): ``altermag dft prepare`` writes moment / 5 μB, this reads it back.
PW_MOMENT_UNIT = 5.0

_POSCAR_NAMES = re.compile(r"^(POSCAR|CONTCAR)([._-].*)?$|\.(vasp|poscar)$", re.IGNORECASE)


class StructureReadError(InputError):
    """A structure file could not be turned into a :class:`MagneticStructure`."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class StructureLimitError(StructureReadError, LimitError):
    """A structure file larger than the limits in force (atoms, moments, bytes): 413."""

    status = 413


def _limit(path: Path, what: str, value: int, name: str, limits: Limits) -> None:
    """:func:`check_limit` with the file named in the message."""
    try:
        check_limit(what, value, name, limits)
    except LimitError as exc:
        raise StructureLimitError(path, str(exc)) from None


def parse_magmom(text: str | Sequence[float], limits: Limits | None = None) -> list[float]:
    """Parse a VASP-style MAGMOM (``2*5 -5 5 4*0``) into a flat list of floats.

    The expanded length (sum of the repeat counts) is checked against
    ``limits.max_moment_values`` before any value is expanded.

    Raises
    ------
    InputError
        On a token that is not a number or ``count*value``, or on NaN / infinite values.
    LimitError
        When the expanded list would hold more than ``max_moment_values`` values.
    """
    lim = limits if limits is not None else active_limits()
    if not isinstance(text, str):
        check_limit("the moment list has too many values", len(text), "max_moment_values", lim)
        values = [float(x) for x in text]
    else:
        tokens = text.replace(",", " ").split()
        total = 0
        for token in tokens:
            count_s, star, _ = token.partition("*")
            if star:
                try:
                    total += max(int(count_s), 0)
                except ValueError:
                    raise InputError(f"bad MAGMOM token {token!r}") from None
            else:
                total += 1
        check_limit("MAGMOM expands to too many values", total, "max_moment_values", lim)
        values = []
        for token in tokens:
            if "*" in token:
                count_s, _, value_s = token.partition("*")
                try:
                    count = int(count_s)
                    value = float(value_s)
                except ValueError:
                    raise InputError(f"bad MAGMOM token {token!r}") from None
                if count < 0:
                    raise InputError(f"bad MAGMOM token {token!r}")
                values.extend([value] * count)
            else:
                try:
                    values.append(float(token))
                except ValueError:
                    raise InputError(f"bad MAGMOM token {token!r}") from None
    bad = [v for v in values if not math.isfinite(v)]
    if bad:
        raise InputError(f"MAGMOM contains a non-finite value ({bad[0]})")
    return values


def _moments_for_sites(values: list[float], n_sites: int) -> np.ndarray:
    """N scalars (collinear) or 3N values (vectors) as an (N, 3) array."""
    if len(values) == n_sites:
        return np.column_stack([np.zeros(n_sites), np.zeros(n_sites), values])
    if len(values) == 3 * n_sites:
        return np.asarray(values, dtype=float).reshape(n_sites, 3)
    raise InputError(
        f"MAGMOM has {len(values)} values for {n_sites} sites (expected {n_sites} collinear "
        f"or {3 * n_sites} non-collinear values)"
    )


def _detect_format(path: Path, text: str) -> str:
    name = path.name
    suffix = path.suffix.lower()
    if suffix == ".mcif":
        return "mcif"
    if suffix == ".cif":
        return "mcif" if "_atom_site_moment" in text else "cif"
    if _POSCAR_NAMES.search(name):
        return "poscar"
    if suffix == ".json":
        return "json"
    if _is_pw_input(text):
        return "pw"
    if suffix in (".xyz", ".extxyz", ".traj", ".xsf", ".cell", ".res", ".in", ".pwi", ".gen"):
        return "ase"
    head = text.lstrip()[:2000]
    if head.startswith("data_") or "_cell_length_a" in head:
        return "mcif" if "_atom_site_moment" in text else "cif"
    if head.startswith("{"):
        return "json"
    return "poscar"


def _read_incar_magmom(folder: Path) -> list[float] | None:
    incar = folder / "INCAR"
    if not incar.is_file():
        return None
    text = incar.read_text(errors="replace")
    # a backslash at the end of a line continues the value on the next line (VASP's syntax)
    text = re.sub(r"\\[ \t]*\r?\n", " ", text)
    for raw in text.splitlines():
        line = re.split(r"[#!]", raw, maxsplit=1)[0]
        for part in line.split(";"):
            key, sep, value = part.partition("=")
            if sep and key.strip().upper() == "MAGMOM":
                return parse_magmom(value)
    return None


def _check_cif_moments(path: Path, text: str) -> None:
    """Every mCIF moment component must be a number (or ``.``, not applicable = 0).

    pymatgen reads *all* moments of a file as zero when one component does not parse
    (MAGNDATA files contain values like ``-3.11.``); that would turn a magnet into a
    "nonmagnetic" verdict without a word, so it is an error naming the site and the value.
    """
    from pymatgen.io.cif import CifFile

    try:
        blocks = CifFile.from_str(text).data.values()
    except PARSER_ERRORS:
        return  # the structure parser reports what is wrong with the file
    for block in blocks:
        data = {k.replace(".", "_").lower(): v for k, v in block.data.items()}
        labels = data.get("_atom_site_moment_label")
        if labels is None:
            continue
        labels = [labels] if isinstance(labels, str) else labels
        for axis in "xyz":
            values = data.get(f"_atom_site_moment_crystalaxis_{axis}")
            if values is None:
                continue
            values = [values] if isinstance(values, str) else values
            for label, value in zip(labels, values, strict=False):
                v = value.strip()
                if v != "." and not _CIF_NUMBER.match(v):
                    raise StructureReadError(
                        path,
                        f"the moment of {label} has {axis} component {v!r}, not a number "
                        "(fix the value in the file; altermag does not guess moments)",
                    )


def _from_cif(path: Path, magnetic: bool, text: str = "") -> MagneticStructure:
    from pymatgen.io.cif import CifParser

    if magnetic:
        _check_cif_moments(path, text or path.read_text(errors="replace"))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parser = CifParser(path, occupancy_tolerance=1.0, site_tolerance=1e-3)
            _check_cif_items(path, parser.as_dict())
            structures = parser.parse_structures(primitive=False)
        except StructureReadError:
            raise
        except PARSER_ERRORS as exc:
            msg = str(exc).splitlines()[0] if str(exc) else "no structure found"
            raise StructureReadError(path, f"not a readable CIF ({msg})") from None
    if not structures:
        raise StructureReadError(path, "the CIF holds no complete structure")
    structure = structures[0]
    _check_ordered(path, structure)
    ms = MagneticStructure.from_pymatgen(structure, label=path.stem)
    if not magnetic:
        ms = ms.with_moments(None)
    return ms


def _cif_number(text: str) -> float:
    """A CIF number without its standard uncertainty (``0.98(2)`` → 0.98); NaN if none."""
    try:
        return float(str(text).split("(")[0])
    except ValueError:
        return math.nan


def _check_cif_items(path: Path, blocks: dict) -> None:
    """Refuse what pymatgen would silently drop or ignore: an occupancy outside (0, 1] (a
    negative occupancy removes the site) and a moment row whose label names no atom site (its
    moment would be lost, and the verdict would be about another magnetic structure)."""
    for block in blocks.values():
        labels = [str(x) for x in _as_list(block.get("_atom_site_label"))]
        for label, occ in zip(labels, _as_list(block.get("_atom_site_occupancy")), strict=False):
            if str(occ) in ("?", "."):
                continue
            value = _cif_number(occ)
            if not (0.0 < value <= 1.0 + 1e-6):
                raise StructureReadError(
                    path,
                    f"atom site {label} has occupancy {occ}: an occupancy must be above 0 "
                    "and at most 1",
                )
        moment_labels = _as_list(
            block.get("_atom_site_moment.label", block.get("_atom_site_moment_label"))
        )
        unknown = [str(m) for m in moment_labels if str(m) not in labels]
        if moment_labels and unknown:
            raise StructureReadError(
                path,
                f"moment row(s) for {', '.join(unknown[:5])}: no atom site has that label "
                f"(sites: {', '.join(labels[:10])})",
            )


def _as_list(value: object) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _check_ordered(path: Path, structure) -> None:
    for i, site in enumerate(structure):
        if not site.is_ordered:
            occ = ", ".join(f"{sp} {amt:.3g}" for sp, amt in site.species.items())
            raise StructureReadError(
                path,
                f"site {i + 1} is disordered or partially occupied ({occ}); altermag needs "
                "an ordered structure (pick one configuration, e.g. with pymatgen's "
                "OrderDisorderedStructureTransformation)",
            )


def _from_poscar(path: Path) -> tuple[MagneticStructure, list[float] | None]:
    from pymatgen.io.vasp import Poscar

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            poscar = Poscar.from_file(path, check_for_potcar=False)
        except PARSER_ERRORS as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StructureReadError(path, f"not a readable POSCAR ({msg})") from None
    ms = MagneticStructure.from_pymatgen(poscar.structure, label=path.parent.name or path.stem)
    try:
        incar = _read_incar_magmom(path.parent)
    except LimitError as exc:
        raise StructureLimitError(path, f"INCAR beside it: {exc}") from None
    except ValueError as exc:
        raise StructureReadError(path, f"INCAR beside it: {exc}") from None
    return ms.with_moments(None), incar


def _from_json(path: Path, text: str) -> MagneticStructure:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StructureReadError(path, f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise StructureReadError(path, "JSON is not an object describing a structure")
    limits = active_limits()
    if "species" in data and "frac_coords" in data:
        species = data["species"]
        _limit(
            path,
            "the JSON lists too many sites",
            len(species) if isinstance(species, list) else 0,
            "max_atoms",
            limits,
        )
        try:
            return MagneticStructure.from_dict(data)
        except (KeyError, ValueError, TypeError) as exc:
            raise StructureReadError(path, f"bad altermag structure JSON ({exc})") from None
    sites = data.get("sites")
    _limit(
        path,
        "the JSON lists too many sites",
        len(sites) if isinstance(sites, list) else 0,
        "max_atoms",
        limits,
    )
    _check_monty_classes(path, data)
    from pymatgen.core import Structure

    try:
        structure = Structure.from_dict(data)
    except PARSER_ERRORS as exc:
        raise StructureReadError(
            path,
            "JSON is neither altermag's structure format (lattice, species, frac_coords, "
            f"magmoms) nor a pymatgen Structure ({type(exc).__name__}: {exc})",
        ) from None
    _check_ordered(path, structure)
    return MagneticStructure.from_pymatgen(structure, label=path.stem)


_STRUCTURE_CLASSES = {
    ("pymatgen.core.structure", "Structure"),
    ("pymatgen.core.structure", "IStructure"),
}
"""The only ``@module``/``@class`` an uploaded JSON's top level may name."""
_NESTED_CLASSES = {("pymatgen.electronic_structure.core", "Magmom"), ("numpy", "array")}
"""... and the only ones inside it (vector moments and the arrays they hold)."""
_ARRAY_DTYPES = {"float64", "float32", "int64", "int32", "bool"}


def _check_monty_classes(path: Path, data: dict) -> None:
    """Refuse a JSON naming any class but a pymatgen structure, its moments and arrays.

    pymatgen's ``from_dict`` hands site properties to monty's decoder, which imports the
    ``@module`` and builds the ``@class`` a document names: on uploaded data that would run
    arbitrary constructors on the server. Parsing is data only.
    """

    def named(d: dict) -> tuple[str, str] | None:
        if "@module" in d or "@class" in d:
            return str(d.get("@module")), str(d.get("@class"))
        return None

    top = named(data)
    if top is not None and top not in _STRUCTURE_CLASSES:
        raise StructureReadError(
            path, f"JSON names class {top[0]}.{top[1]}; only a pymatgen Structure is read"
        )
    stack: list[object] = [v for k, v in data.items() if not k.startswith("@")]
    depth_budget = 100_000
    while stack:
        depth_budget -= 1
        if depth_budget < 0:
            raise StructureLimitError(path, "the JSON has too many nested values")
        item = stack.pop()
        if isinstance(item, dict):
            cls = named(item)
            if cls is not None and cls not in _NESTED_CLASSES:
                raise StructureReadError(
                    path, f"JSON names class {cls[0]}.{cls[1]}; only a pymatgen Structure is read"
                )
            if cls == ("numpy", "array") and str(item.get("dtype")) not in _ARRAY_DTYPES:
                raise StructureReadError(path, f"JSON array of dtype {item.get('dtype')!r}")
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _declared_counts(path: Path, kind: str, text: str, limits: Limits) -> None:
    """Check the atom counts a file declares before a parser builds anything that large.

    extxyz: every frame's count line (and that the lines are there); POSCAR: the sum of the
    species counts; CIF: the rows of ``_atom_site_`` loops.
    """
    lines = text.splitlines()
    if kind == "ase" and path.suffix.lower() in (".xyz", ".extxyz"):
        i = 0
        while i < len(lines):
            head = lines[i].strip()
            if not head:
                i += 1
                continue
            try:
                n = int(head.split()[0])
            except ValueError:
                return  # not a count line: the parser says what is wrong
            if n < 1:
                raise StructureReadError(path, f"line {i + 1} declares {n} atoms")
            _limit(path, f"line {i + 1} declares too many atoms", n, "max_atoms", limits)
            if i + 2 + n > len(lines):
                raise StructureReadError(
                    path,
                    f"line {i + 1} declares {n} atoms but only {max(len(lines) - i - 2, 0)} "
                    "atom lines follow (truncated?)",
                )
            i += n + 2
    elif kind == "poscar" and len(lines) > 6:
        for line in (lines[5], lines[6]):
            toks = line.split()
            if toks and all(t.lstrip("+").isdigit() for t in toks):
                _limit(
                    path,
                    "the POSCAR declares too many atoms",
                    sum(map(int, toks)),
                    "max_atoms",
                    limits,
                )
                return
    elif kind in ("cif", "mcif"):
        rows = 0
        in_loop = tags = False
        atom_loop = False
        for raw in lines:
            line = raw.strip()
            low = line.lower()
            if low.startswith("loop_"):
                in_loop, tags, atom_loop = True, True, False
                continue
            if low.startswith("_"):
                if in_loop and tags:
                    if low.startswith("_atom_site_") and not low.startswith(
                        ("_atom_site_aniso", "_atom_site_moment")
                    ):
                        atom_loop = True
                    continue
                in_loop = False
                continue
            if low.startswith("data_"):
                in_loop = False
                continue
            if in_loop:
                tags = False
                if atom_loop and line and not line.startswith("#"):
                    rows += 1
        _limit(path, "the CIF's atom-site loops have too many rows", rows, "max_atoms", limits)


def _from_ase(path: Path) -> MagneticStructure:
    from ase.io import read
    from ase.io.formats import UnknownFileTypeError

    errors: tuple[type[Exception], ...] = (*PARSER_ERRORS, UnknownFileTypeError)
    try:
        atoms = read(path)
    except errors as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StructureReadError(path, f"ASE could not read it ({msg})") from None
    if isinstance(atoms, list):
        atoms = atoms[-1]
    try:
        return MagneticStructure.from_ase(atoms, label=path.stem)
    except InputError as exc:
        raise StructureReadError(path, str(exc)) from None


def _is_pw_input(text: str) -> bool:
    """A pw.x input: a ``&SYSTEM`` namelist and an ``ATOMIC_POSITIONS`` card."""
    return bool(
        re.search(r"^\s*&system\b", text, re.IGNORECASE | re.MULTILINE)
        and re.search(r"^\s*atomic_positions\b", text, re.IGNORECASE | re.MULTILINE)
    )


def _fortran_float(value: str) -> float:
    return float(value.strip().rstrip(",").lower().replace("d", "e"))


def _pw_namelist_values(text: str, name: str) -> dict[int, float]:
    """``name(i) = value`` entries of the namelists (index i → value)."""
    pattern = rf"\b{name}\s*\(\s*(\d+)\s*\)\s*=\s*([-+0-9.eEdD]+)"
    return {int(i): _fortran_float(v) for i, v in re.findall(pattern, text, re.IGNORECASE)}


def _pw_flag(text: str, name: str) -> str | None:
    match = re.search(rf"\b{name}\s*=\s*([^,\s/]+)", text, re.IGNORECASE)
    return match.group(1).strip("'\"").lower() if match else None


def _pw_card_labels(text: str, card: str, stop: int | None = None) -> list[str]:
    """First column of the lines of a card (species labels), up to the next card."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.strip().upper().startswith(card)), None)
    if start is None:
        return []
    cards = (
        "ATOMIC_",
        "K_POINTS",
        "CELL_PARAMETERS",
        "OCCUPATIONS",
        "CONSTRAINTS",
        "ADDITIONAL_K_POINTS",
        "SOLVENTS",
        "HUBBARD",
        "&",
    )
    out = []
    for ln in lines[start + 1 :]:
        stripped = ln.split("!")[0].split("#")[0].strip()
        if not stripped:
            continue
        if stripped.upper().startswith(cards):
            break
        out.append(stripped.split()[0])
        if stop is not None and len(out) == stop:
            break
    return out


def _from_pw(path: Path, text: str) -> MagneticStructure:
    """A pw.x input: geometry as ASE reads it, moments from the species labels.

    pw.x gives a moment to a *species* (``starting_magnetization(i)`` of the i-th line of
    ``ATOMIC_SPECIES``, so up and down sites of one element are two labels such as ``Fe1``
    and ``Fe2``); each site takes the value of its label in ``ATOMIC_POSITIONS``, times
    :data:`PW_MOMENT_UNIT` (μB). With ``noncolin`` the moment direction is the species'
    ``angle1``/``angle2``. A spin-unpolarised input (``nspin`` 1) has no moments.
    """
    from ase.io import read

    errors: tuple[type[Exception], ...] = (*PARSER_ERRORS, KeyError)
    try:
        atoms = read(path, format="espresso-in")
    except errors as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StructureReadError(path, f"not a readable pw.x input ({msg})") from None
    if isinstance(atoms, list):
        atoms = atoms[-1]
    try:
        ms = MagneticStructure.from_ase(atoms, label=path.parent.name or path.stem)
    except InputError as exc:
        raise StructureReadError(path, str(exc)) from None
    noncolin = _pw_flag(text, "noncolin") in (".true.", "true", "t", ".t.")
    if _pw_flag(text, "nspin") != "2" and not noncolin:
        return ms.with_moments(None)
    try:
        species = _pw_card_labels(text, "ATOMIC_SPECIES")
        sites = _pw_card_labels(text, "ATOMIC_POSITIONS", stop=len(ms))
        start = _pw_namelist_values(text, "starting_magnetization")
        angle1 = _pw_namelist_values(text, "angle1")
        angle2 = _pw_namelist_values(text, "angle2")
    except ValueError as exc:
        raise StructureReadError(path, f"not a readable pw.x input ({exc})") from None
    if len(sites) != len(ms):
        raise StructureReadError(
            path, f"ATOMIC_POSITIONS lists {len(sites)} sites, the structure has {len(ms)}"
        )
    index = {label: i + 1 for i, label in enumerate(species)}
    unknown = sorted({label for label in sites if label not in index})
    if unknown:
        raise StructureReadError(
            path, f"species {', '.join(unknown)} of ATOMIC_POSITIONS not in ATOMIC_SPECIES"
        )
    moments = np.zeros((len(ms), 3))
    for n, label in enumerate(sites):
        i = index[label]
        value = PW_MOMENT_UNIT * start.get(i, 0.0)
        theta = math.radians(angle1.get(i, 0.0)) if noncolin else 0.0
        phi = math.radians(angle2.get(i, 0.0)) if noncolin else 0.0
        moments[n] = value * np.array(
            [math.sin(theta) * math.cos(phi), math.sin(theta) * math.sin(phi), math.cos(theta)]
        )
    return ms.with_moments(moments)


def _check_geometry(path: Path, ms: MagneticStructure) -> None:
    if len(ms) == 0:
        raise StructureReadError(path, "the structure has no atoms")
    if not np.all(np.isfinite(ms.lattice)) or not np.all(np.isfinite(ms.frac_coords)):
        raise StructureReadError(path, "lattice or positions contain NaN or infinite values")
    if ms.volume < 1e-3:
        raise StructureReadError(path, "the lattice vectors are degenerate (zero cell volume)")
    if ms.magmoms is not None and not np.all(np.isfinite(ms.magmoms)):
        bad = int(np.argwhere(~np.isfinite(ms.magmoms))[0][0])
        raise StructureReadError(
            path, f"the moment of site {bad + 1} ({ms.species[bad]}) is NaN or infinite"
        )
    from pymatgen.core import Lattice
    from pymatgen.optimization.neighbors import find_points_in_spheres

    cart = np.ascontiguousarray(ms.cart_coords)
    centers, points, _, dists = find_points_in_spheres(
        cart,
        cart,
        r=MIN_DISTANCE,
        pbc=np.array([1, 1, 1], dtype=np.int64),
        lattice=np.ascontiguousarray(Lattice(ms.lattice).matrix),
        tol=1e-8,
    )
    overlap = (centers != points) | (dists > 1e-8)
    if np.any(overlap):
        idx = int(np.argmax(overlap))
        i, j, d = int(centers[idx]), int(points[idx]), float(dists[idx])
        if i == j:
            raise StructureReadError(
                path,
                f"site {i + 1} ({ms.species[i]}) overlaps its own periodic image ({d:.3g} Å): "
                "the cell is too small",
            )
        raise StructureReadError(
            path,
            f"atoms {min(i, j) + 1} ({ms.species[min(i, j)]}) and {max(i, j) + 1} "
            f"({ms.species[max(i, j)]}) overlap: {d:.3g} Å apart (< {MIN_DISTANCE} Å)",
        )


def read_structure(
    path: str | Path,
    magmom: str | Sequence[float] | None = None,
    *,
    fmt: str | None = None,
) -> MagneticStructure:
    """Read a crystal with moments from a file.

    Parameters
    ----------
    path
        mCIF, CIF, POSCAR/CONTCAR (with an optional ``INCAR`` beside it), JSON, or any format
        ASE reads.
    magmom
        Moments overriding the file's: VASP syntax (``"2*5 -5 5 4*0"``) or a sequence, N values
        (collinear) or 3N (vectors), in the file's site order.
    fmt
        Force a format: ``mcif``, ``cif``, ``poscar``, ``json``, ``pw`` (pw.x input) or ``ase``.

    Raises
    ------
    StructureReadError
        Naming the file and the problem: missing, empty, binary, truncated/unparsable,
        disordered, a MAGMOM count that does not match, NaN/infinite moments, overlapping atoms.
    StructureLimitError
        When the file, its declared or actual atom count or its moment string exceed
        :func:`altermag.config.active_limits` (checked before they are built).
    """
    p = Path(path)
    if not p.exists():
        raise StructureReadError(p, "no such file")
    if p.is_dir():
        raise StructureReadError(p, "is a folder, not a structure file")
    if not p.is_file():  # reading a FIFO or a device would block or never end
        raise StructureReadError(p, "not a regular file (a FIFO, socket or device)")
    limits = active_limits()
    _limit(p, "the file is too large (bytes)", p.stat().st_size, "max_file_bytes", limits)
    raw = p.read_bytes()
    if not raw.strip():
        raise StructureReadError(p, "the file is empty")
    if b"\x00" in raw[:8192]:
        raise StructureReadError(p, "binary data, not a structure file")
    controls = sum(ch < 32 and ch not in (9, 10, 12, 13) for ch in raw[:4096])
    if controls > 8:
        raise StructureReadError(p, "binary data, not a structure file")
    text = raw.decode("utf-8", errors="replace")
    if text.count("\ufffd") > 16:
        raise StructureReadError(p, "binary data, not a structure file")
    kind = fmt or _detect_format(p, text)
    _declared_counts(p, kind, text, limits)
    incar_moments: list[float] | None = None
    if kind == "mcif":
        ms = _from_cif(p, magnetic=True, text=text)
    elif kind == "cif":
        ms = _from_cif(p, magnetic=False)
    elif kind == "poscar":
        ms, incar_moments = _from_poscar(p)
    elif kind == "json":
        ms = _from_json(p, text)
    elif kind == "ase":
        ms = _from_ase(p)
    elif kind == "pw":
        ms = _from_pw(p, text)
    else:
        raise StructureReadError(p, f"unknown format {kind!r}")
    _limit(p, "the structure has too many atoms", len(ms), "max_atoms", limits)

    values: list[float] | None = None
    if magmom is not None:
        try:
            values = parse_magmom(magmom, limits)
        except LimitError as exc:
            raise StructureLimitError(p, f"--magmom: {exc}") from None
        except ValueError as exc:
            raise StructureReadError(p, f"--magmom: {exc}") from None
    elif incar_moments is not None:
        values = incar_moments
    if values is not None:
        try:
            ms = ms.with_moments(_moments_for_sites(values, len(ms)))
        except ValueError as exc:
            raise StructureReadError(p, str(exc)) from None
    _check_geometry(p, ms)
    return ms
