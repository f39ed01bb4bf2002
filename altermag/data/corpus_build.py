"""Build the screening corpus: hypothetical magnetic compounds by data-mined ionic substitution.

The corpus is made, reproducibly, from two data sets that ship inside pymatgen:

* the AFLOW library of crystallographic prototypes (Mehl et al., Comput. Mater. Sci. 136,
  S1, 2017; 288 structure types, ``pymatgen/analysis/prototypes/aflow_prototypes.json.gz``);
* the data-mined ionic substitution probabilities of Hautier, Fischer, Ehrlacher, Jain and
  Ceder (Inorg. Chem. 50, 656, 2011; ``pymatgen/core/structure_prediction/data/lambda.json``).

Recipe, for every prototype in a fixed order:

1. reduce it to its primitive cell (≤ 40 atoms kept) and assign oxidation states with the
   bond-valence analyser (prototypes that are not ionic, e.g. elements and intermetallics,
   get none and are skipped);
2. enumerate the species substitutions whose conditional probability
   p(new | parent) = Π_i p(new_i | parent_i) exceeds a threshold (ions outside the model's
   table, such as As3-, Te2- or C4-, are kept unchanged: NiAs- or MnP-type parents still
   give cation substitutions), keep the charge-balanced ones
   that bring in at least one magnetic element (:data:`altermag.elements.MAGNETIC_ELEMENTS`),
   highest probability first, at most ``per_prototype`` of them;
3. substitute and rescale the cell to the volume predicted from ionic radii relative to the
   parent (pymatgen's reference lattice scaling), rejecting any cell with two atoms closer than
   ``min_distance``;
4. remove duplicates with pymatgen's ``StructureMatcher``: a structure is dropped when an
   earlier one of the same composition matches it (greedy, in build order, so the entries that
   come from the first K prototypes never depend on the later ones).

Everything is deterministic (sorted iteration, rounded numbers, no timestamps, gzip without a
modification time), so :func:`build_corpus` rewrites the shipped file byte for byte.
"""

from __future__ import annotations

import functools
import gzip
import io
import json
import multiprocessing
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from altermag.elements import MAGNETIC_ELEMENTS

__all__ = [
    "DEFAULT_SETTINGS",
    "CorpusSettings",
    "Prototype",
    "build_corpus",
    "candidates_for_prototype",
    "deduplicate",
    "encode_entries",
    "load_prototypes",
    "write_corpus",
]

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
CORPUS_FILE = CORPUS_DIR / "corpus.jsonl.gz"

LATTICE_DECIMALS = 4
COORD_DECIMALS = 5
PROBABILITY_DIGITS = 4  # significant digits kept for substitution probabilities


@dataclass(frozen=True)
class CorpusSettings:
    """Knobs of the build; the shipped corpus uses :data:`DEFAULT_SETTINGS`.

    Parameters
    ----------
    threshold
        Smallest conditional substitution probability accepted (pymatgen's ``Substitutor``
        default is 1e-3).
    per_prototype
        At most this many substituted compounds per prototype (the most probable first).
    max_sites
        Largest primitive cell kept.
    min_distance
        Smallest interatomic distance (Å) accepted after volume scaling.
    """

    threshold: float = 1e-3
    per_prototype: int = 250
    max_sites: int = 40
    min_distance: float = 1.2

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "per_prototype": self.per_prototype,
            "max_sites": self.max_sites,
            "min_distance": self.min_distance,
        }


DEFAULT_SETTINGS = CorpusSettings()


@dataclass(frozen=True)
class Prototype:
    """One AFLOW prototype: its labels and its primitive structure (pymatgen ``Structure``)."""

    index: int
    aflow: str
    formula: str
    mineral: str
    pearson: str
    strukturbericht: str
    structure: Any  # pymatgen Structure, primitive cell, no oxidation states

    @property
    def key(self) -> str:
        """A unique name (the AFLOW label is shared by a few prototypes, e.g. marcasite and
        hydrophilite are both ``AB2_oP6_58_a_g``)."""
        return f"{self.aflow}:{self.formula}"


def load_prototypes() -> list[Prototype]:
    """The AFLOW prototypes shipped with pymatgen, in a fixed order (AFLOW label, formula).

    Returns
    -------
    list of Prototype
        All 288 prototypes, each reduced to its primitive cell; ``index`` is the
        position in this order (what ``limit`` counts).
    """
    return list(_load_prototypes())


@functools.cache
def _load_prototypes() -> tuple[Prototype, ...]:
    from pymatgen.analysis.prototypes._data import AFLOW_PROTOTYPE_LIBRARY

    rows = []
    for row in AFLOW_PROTOTYPE_LIBRARY:
        structure = row["snl"].structure
        tags = row["tags"]
        rows.append(
            (
                str(tags.get("aflow", "")),
                structure.composition.reduced_formula,
                _tag(tags.get("mineral")),
                _tag(tags.get("pearson")),
                _tag(tags.get("strukturbericht")),
                structure,
            )
        )
    rows.sort(key=lambda r: (r[0], r[1], r[2], len(r[5])))
    prototypes = []
    for i, (aflow, formula, mineral, pearson, strukturbericht, structure) in enumerate(rows):
        prim = structure.get_primitive_structure()
        prototypes.append(Prototype(i, aflow, formula, mineral, pearson, strukturbericht, prim))
    return tuple(prototypes)


def _tag(value: Any) -> str:
    text = str(value or "").strip()
    return "" if text == "None" else text


# --------------------------------------------------------------------------- per prototype
@functools.cache
def _predictor(threshold: float) -> Any:
    from pymatgen.core.structure_prediction.substitution_probability import (
        SubstitutionPredictor,
    )

    return SubstitutionPredictor(threshold=threshold)


@functools.cache
def _substitutions(
    species: tuple[str, ...], threshold: float
) -> tuple[tuple[float, tuple[str, ...]], ...]:
    """All substitutions of ``species`` (with charges, e.g. ``("Ti4+", "O2-")``) whose
    conditional probability exceeds ``threshold``, as (probability, new species) pairs.
    Cached: many prototypes share a species list (SiO2, TiO2...)."""
    from pymatgen.core import Species

    predictor = _predictor(threshold)
    parents = [Species.from_str(s) for s in species]
    found = []
    for pred in predictor.list_prediction(parents, to_this_composition=False):
        subs = pred["substitutions"]
        new = tuple(str(subs[p]) for p in parents)
        found.append((_round_sig(pred["probability"], PROBABILITY_DIGITS), new))
    found.sort(key=lambda x: (-x[0], x[1]))
    return tuple(found)


def _round_sig(x: float, digits: int) -> float:
    return float(f"{x:.{digits - 1}e}")


def _decorate(structure: Any) -> Any | None:
    """Oxidation-state-decorated copy from bond valences, or ``None`` for a non-ionic
    prototype (no valences, or all zero)."""
    from pymatgen.analysis.bond_valence import BVAnalyzer

    try:
        decorated = BVAnalyzer().get_oxi_state_decorated_structure(structure)
    except ValueError:
        return None
    if all(sp.oxi_state == 0 for sp in decorated.composition):
        return None
    return decorated


def _min_distance(structure: Any) -> float:
    if len(structure) == 1:
        return float(min(structure.lattice.abc))
    dm = structure.distance_matrix
    np.fill_diagonal(dm, np.inf)
    self_images = min(structure.lattice.abc)  # a site and its own periodic image
    return float(min(dm.min(), self_images))


def candidates_for_prototype(
    prototype: Prototype, settings: CorpusSettings = DEFAULT_SETTINGS
) -> list[dict[str, Any]]:
    """The charge-balanced substituted compounds made from one prototype, before
    de-duplication, most probable first.

    Parameters
    ----------
    prototype
        The parent structure type.
    settings
        Build knobs.

    Returns
    -------
    list of dict
        Records with ``formula``, ``lattice``, ``species``, ``frac_coords``,
        ``oxidation_states`` (per site) and ``provenance``; numbers already rounded to what
        the corpus file stores.
    """
    from pymatgen.core import Species
    from pymatgen.core.structure_prediction.volume_predictor import RLSVolumePredictor

    if len(prototype.structure) > settings.max_sites:
        return []
    parent = _decorate(prototype.structure)
    if parent is None:
        return []
    predictor = _predictor(settings.threshold)
    parent_species = sorted({str(sp) for sp in parent.composition})
    # Ions outside the probability model's domain (e.g. As3-, Te2-, C4-) stay as they are.
    free = tuple(s for s in parent_species if Species.from_str(s) in predictor.p.species)
    fixed = [s for s in parent_species if s not in free]
    if not free:
        return []
    amounts = parent.composition
    volume = RLSVolumePredictor(check_isostructural=False, radii_type="ionic-atomic", use_bv=False)
    records: list[dict[str, Any]] = []
    for probability, new in _substitutions(free, settings.threshold):
        if len(records) >= settings.per_prototype:
            break
        if new == free:
            continue  # the parent compound itself
        mapping = {**dict(zip(free, new, strict=True)), **{s: s for s in fixed}}
        new_sp = {s: Species.from_str(t) for s, t in mapping.items()}
        if not any(sp.symbol in MAGNETIC_ELEMENTS for sp in new_sp.values()):
            continue
        charge = sum(new_sp[str(sp)].oxi_state * n for sp, n in amounts.items())
        if abs(charge) > 1e-8:
            continue
        structure = parent.copy()
        structure.replace_species({Species.from_str(s): new_sp[s] for s in parent_species})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                target = volume.predict(structure, parent)
            except (ValueError, TypeError, ZeroDivisionError):
                continue
        if not np.isfinite(target) or target <= 0:
            continue
        structure.scale_lattice(target)
        record = _record(structure, prototype, parent_species, free, mapping, probability)
        if _min_distance(_record_structure(record)) < settings.min_distance:
            continue
        records.append(record)
    return records


def _record(
    structure: Any,
    prototype: Prototype,
    parent_species: Sequence[str],
    free: Sequence[str],
    mapping: dict[str, str],
    probability: float,
) -> dict[str, Any]:
    lattice = np.round(structure.lattice.matrix, LATTICE_DECIMALS) + 0.0
    frac = np.round(np.mod(structure.frac_coords, 1.0), COORD_DECIMALS)
    frac = np.where(frac >= 1.0, 0.0, frac) + 0.0
    species = [site.specie.symbol for site in structure]
    oxi = [_int_or_float(site.specie.oxi_state) for site in structure]
    formula = structure.composition.element_composition.reduced_formula
    return {
        "formula": formula,
        "lattice": lattice.tolist(),
        "species": species,
        "frac_coords": frac.tolist(),
        "oxidation_states": oxi,
        "provenance": {
            "method": "data-mined ionic substitution (Hautier et al. 2011)",
            "prototype": prototype.aflow,
            "prototype_formula": prototype.formula,
            "prototype_mineral": prototype.mineral,
            "pearson": prototype.pearson,
            "strukturbericht": prototype.strukturbericht,
            "parent_species": list(parent_species),
            "substitution": {k: v for k, v in mapping.items() if k != v},
            "fixed_species": [k for k in parent_species if k not in free],
            "probability": probability,
            "volume_scaling": "ionic radii relative to parent (pymatgen RLSVolumePredictor)",
        },
    }


def _int_or_float(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def _record_structure(record: dict[str, Any]) -> Any:
    from pymatgen.core import Lattice, Structure

    return Structure(Lattice(record["lattice"]), record["species"], record["frac_coords"])


# --------------------------------------------------------------------------- whole corpus
def deduplicate(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop every record that an earlier record of the same composition matches
    (pymatgen ``StructureMatcher`` with its default tolerances, species as elements).

    Greedy in input order, so the survivors among the first n records do not depend on what
    follows them. Ids are given here: ``<formula>_<AFLOW label>``, with ``-2``, ``-3`` ...
    when the name is taken.
    """
    from pymatgen.core.structure_matcher import StructureMatcher

    matcher = StructureMatcher()
    kept: list[dict[str, Any]] = []
    by_formula: dict[str, list[Any]] = {}
    used: set[str] = set()
    for record in records:
        structure = _record_structure(record)
        same = by_formula.setdefault(record["formula"], [])
        if any(matcher.fit(other, structure) for other in same):
            continue
        same.append(structure)
        base = f"{_plain_formula(record['species'])}_{record['provenance']['prototype']}"
        ident, n = base, 1
        while ident in used:
            n += 1
            ident = f"{base}-{n}"
        used.add(ident)
        kept.append({"id": ident, **record})
    return kept


def _plain_formula(species: Sequence[str]) -> str:
    """Reduced formula without brackets, elements by electronegativity (``FeB2C2``, not
    ``Fe(BC)2``), for ids."""
    from pymatgen.core import Composition

    counts: dict[str, int] = {}
    for s in species:
        counts[s] = counts.get(s, 0) + 1
    reduced = Composition(counts).reduced_composition
    return "".join(
        f"{el.symbol}{int(n) if n != 1 else ''}"
        for el, n in sorted(reduced.items(), key=lambda x: (x[0].X, x[0].symbol))
    )


def _worker(args: tuple[Prototype, CorpusSettings]) -> list[dict[str, Any]]:
    prototype, settings = args
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return candidates_for_prototype(prototype, settings)


def build_corpus(
    limit: int | None = None,
    settings: CorpusSettings = DEFAULT_SETTINGS,
    processes: int | None = None,
) -> list[dict[str, Any]]:
    """Build the corpus records (what :func:`write_corpus` stores).

    Parameters
    ----------
    limit
        Use only the first ``limit`` prototypes of :func:`load_prototypes` (a deterministic
        slice: its entries equal the shipped entries that come from those prototypes).
    settings
        Build knobs (the shipped file uses :data:`DEFAULT_SETTINGS`).
    processes
        Worker processes for the per-prototype step (default: all cores; 1 runs in-process).

    Returns
    -------
    list of dict
        De-duplicated records with ids, in build order.
    """
    prototypes = load_prototypes()
    if limit is not None:
        prototypes = prototypes[:limit]
    jobs = [(p, settings) for p in prototypes]
    processes = processes or multiprocessing.cpu_count()
    if processes <= 1 or len(jobs) <= 1:
        per_proto = [_worker(job) for job in jobs]
    else:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            per_proto = pool.map(_worker, jobs, chunksize=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return deduplicate(r for recs in per_proto for r in recs)


def encode_entries(records: Iterable[dict[str, Any]]) -> bytes:
    """The corpus file's bytes: gzip (no name, no timestamp) of one JSON object per line,
    keys sorted, compact separators."""
    text = io.StringIO()
    for record in records:
        text.write(json.dumps(record, sort_keys=True, separators=(",", ":")))
        text.write("\n")
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(text.getvalue().encode("utf-8"))
    return buffer.getvalue()


def write_corpus(
    path: Path | str = CORPUS_FILE, records: Iterable[dict[str, Any]] | None = None
) -> Path:
    """Build (unless ``records`` are given) and write the corpus file; returns its path."""
    path = Path(path)
    data = encode_entries(build_corpus() if records is None else records)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def read_records(path: Path | str = CORPUS_FILE) -> Iterator[dict[str, Any]]:
    """Stream the raw records of a corpus file."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def count_records(path: Path | str = CORPUS_FILE) -> int:
    """Number of records of a corpus file (its non-blank lines), none of them parsed."""
    with gzip.open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())
