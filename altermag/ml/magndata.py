"""Labels and descriptors from experimental magnetic structures (MAGNDATA mCIF files).

The mCIF files are read from a folder the user supplies (``Settings.magndata_dir``); they are
never shipped. What ships is derived: labels keyed by MAGNDATA id
(``checkpoints/magndata_labels.json.gz``) and the prior's weights.

Per entry, from the file with its moments:

* ``k0``: the entry's propagation vector is zero (MAGNDATA ``0.x``) or not (``1.x``, ``1.0.x``,
  ``2.x``, ``3.x``);
* ``collinear`` and ``compensated`` (|Σm| / Σ|m| < 0.02 over the cell);
* ``ground_state``: for a k = 0 collinear entry, which of the orders altermag enumerates for the
  structure *without* moments is the experimental one, matched up to a global spin flip and
  relabelling by the crystal's space group (:func:`match_order`); None when the experimental
  pattern is not among them (moments on only part of an orbit, a ferrimagnet, a moment on a
  site altermag does not count as magnetic, or an order beyond the enumeration's caps);
* ``altermagnetic_ground_state``: k = 0, collinear, and the exact spin-group verdict of the
  experimental structure is ``altermagnet``.

Descriptors (:mod:`altermag.ml.prior`) come from the structure without moments, analysed as the
screening analyses any input (primitive cell, default tolerances).
"""

from __future__ import annotations

import csv
import gzip
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from altermag.errors import AltermagError
from altermag.result import SpinGroupResult
from altermag.structure import MagneticStructure

__all__ = [
    "LABELS_PATH",
    "Entry",
    "build_entries",
    "compound_group",
    "entry_labels",
    "match_order",
    "save_labels",
]

LABELS_PATH = Path(__file__).resolve().parent / "checkpoints" / "magndata_labels.json.gz"
#: Cells above this many sites (after reduction to the primitive cell) are skipped.
MAX_SITES = 160
#: A moment smaller than this fraction of the largest counts as no moment.
ZERO_MOMENT = 0.1


@dataclass
class Entry:
    """One MAGNDATA entry: its labels and the descriptors of its structure without moments."""

    id: str
    formula: str
    group: str
    k0: bool
    collinear: bool | None
    compensated: bool | None
    exp_verdict: str | None
    crystal_x: np.ndarray
    order_x: np.ndarray
    order_verdicts: list[str]
    order_score: np.ndarray
    """The neighbour heuristic's score of each order (the baseline)."""
    gk_energy: np.ndarray
    """Superexchange-angle (Goodenough–Kanamori-style) energy of each order, lower = better."""
    ground_state: int | None
    """Index of the experimental order among ``order_*`` (None: not among them)."""
    moment_filtered: bool = False
    """The orders were enumerated on the sites that carry a moment in experiment (the default
    enumeration, on every site of a magnetic element, did not contain the experimental order):
    what a perfect site-moment filter would give."""
    default_x: np.ndarray | None = None
    """Order descriptors of the default enumeration (what the screening sees), when
    ``moment_filtered`` replaced it in ``order_x``; else None (``order_x`` is the default)."""
    default_verdicts: list[str] | None = None

    @property
    def altermagnetic_ground_state(self) -> bool:
        return bool(self.k0 and self.collinear and self.exp_verdict == "altermagnet")


def compound_group(formula: str) -> str:
    """The fold key: the reduced formula (every polymorph and setting of a compound together)."""
    from pymatgen.core import Composition

    try:
        return Composition(formula).reduced_formula
    except Exception:  # an odd formula string is still a key
        return formula


def experimental_signs(structure: MagneticStructure) -> np.ndarray | None:
    """Signs (+1, −1, 0) of collinear moments along their axis; None when not collinear."""
    if structure.magmoms is None:
        return None
    col = structure.collinear_moments(tol=0.05)
    if col is None:
        return None
    values, _ = col
    big = np.abs(values).max() if len(values) else 0.0
    if big <= 0:
        return np.zeros(len(values), int)
    return np.where(np.abs(values) > ZERO_MOMENT * big, np.sign(values), 0).astype(int)


def _map_signs(
    structure: MagneticStructure, signs: np.ndarray, cell: MagneticStructure
) -> np.ndarray | None:
    """The input's signs carried onto ``cell`` (same crystal, maybe a smaller cell and another
    origin); None when the moments are not periodic in ``cell`` (k ≠ 0 there)."""
    tol = 0.3  # Å
    inv = np.linalg.inv(cell.lattice)
    X = structure.cart_coords
    Y = cell.frac_coords
    a0 = 0
    for b0 in range(len(cell)):
        if cell.species[b0] != structure.species[a0]:
            continue
        shift = X[a0] - Y[b0] @ cell.lattice
        f = (X - shift) @ inv
        diff = f[:, None, :] - Y[None, :, :]
        diff -= np.round(diff)
        dist = np.linalg.norm(diff @ cell.lattice, axis=-1)
        match = np.argmin(dist, axis=1)
        if np.any(dist[np.arange(len(X)), match] > tol):
            continue
        if any(structure.species[a] != cell.species[b] for a, b in enumerate(match)):
            continue
        out = np.full(len(cell), 2, int)
        ok = True
        for a, b in enumerate(match):
            if out[b] == 2:
                out[b] = signs[a]
            elif out[b] != signs[a]:
                ok = False
                break
        if ok and np.all(out != 2):
            return out
        if not ok:
            return None
    return None


def _site_permutations(cell: MagneticStructure, dataset: Any) -> np.ndarray:
    """(n_ops, n_sites): operation g of spglib's dataset sends site i to site perm[g, i]."""
    rots, trans = np.asarray(dataset.rotations), np.asarray(dataset.translations)
    f = cell.frac_coords
    moved = np.einsum("gij,nj->gni", rots, f) + trans[:, None, :]
    diff = moved[:, :, None, :] - f[None, None, :, :]
    diff -= np.round(diff)
    dist = np.linalg.norm(diff @ cell.lattice, axis=-1)
    return np.unique(np.argmin(dist, axis=2), axis=0)


def match_order(structure: MagneticStructure, result: SpinGroupResult) -> int | None:
    """Index in ``result.orders`` of the order equal to ``structure``'s own collinear moments.

    Equal means: the same sign pattern on the enumeration's magnetic sites, up to a global
    spin flip and a relabelling of sites by an operation of the crystal's space group, and no
    moment on any other site. None when the input has no collinear moments or its order is not
    among the enumerated ones.
    """
    import spglib

    from altermag.ranking import order_cell
    from altermag.symmetry.enumerate import _canonical, _site_types

    signs = experimental_signs(structure)
    if signs is None or not result.orders:
        return None
    cell = order_cell(structure, result)
    on_cell = _map_signs(structure, signs, cell)
    if on_cell is None:
        return None
    mag = np.flatnonzero(np.asarray(result.orders[0].signs) != 0)
    others = np.setdiff1d(np.arange(len(cell)), mag)
    if np.any(on_cell[others] != 0) or np.any(on_cell[mag] == 0):
        return None
    dataset = spglib.get_symmetry_dataset(
        (cell.lattice.tolist(), cell.frac_coords.tolist(), _site_types(cell).tolist()),
        symprec=result.symprec or 0.1,
    )
    if dataset is None:
        return None
    perms = _site_permutations(cell, dataset)  # (ops, sites): op g sends site i to perms[g, i]
    pos = {int(s): k for k, s in enumerate(mag)}
    mag_perms = np.array([[pos[int(p[s])] for s in mag] for p in perms])
    target = _canonical(on_cell[mag], mag_perms)
    for k, o in enumerate(result.orders):
        if _canonical(np.asarray(o.signs)[mag], mag_perms) == target:
            return k
    return None


def gk_energy(x: np.ndarray) -> np.ndarray:
    """Goodenough–Kanamori-style exchange energy of each order from its order descriptors.

    J > 0 (antiferromagnetic) for linear ligand bridges (≥ 120°, strong) and direct exchange
    (weaker), ≈ 0 for 100–120°, J < 0 (ferromagnetic) for right-angle bridges;
    E = −Σ J·(antiparallel correlation), lower is more stable.
    """
    from altermag.ml.prior import ORDER_FEATURES

    j = {"corr_linear": 1.0, "corr_mid": 0.2, "corr_right": -0.3, "corr_direct": 0.5}
    cols = [ORDER_FEATURES.index(n) for n in j]
    return -(x[:, cols] @ np.array(list(j.values())))


def _category(mid: str) -> str:
    parts = mid.split(".")
    return "1.0" if mid.startswith("1.0.") else parts[0]


def _index(folder: Path) -> dict[str, dict[str, str]]:
    path = folder / "index.csv"
    if not path.is_file():
        return {}
    with path.open() as fh:
        return {r["file"]: r for r in csv.DictReader(fh)}


def _iter_files(folder: Path) -> Iterator[Path]:
    yield from sorted(folder.rglob("*.mcif"))


def build_entries(
    folder: Path,
    limit: int | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[list[Entry], dict[str, int]]:
    """Read every mCIF under ``folder`` and return the usable entries and skip counts.

    Revised files (``revised_<id>_…``) replace the entry they revise.
    """
    from altermag.io import StructureReadError, read_structure
    from altermag.ml.prior import crystal_features, geometry, order_features
    from altermag.ranking import order_cell
    from altermag.sources.magndata import is_revised, magndata_id
    from altermag.symmetry import analyze
    from altermag.symmetry.enumerate import enumerate_orders

    files = list(_iter_files(folder))
    revised = {magndata_id(p) for p in files if is_revised(p)}
    files = [p for p in files if is_revised(p) or magndata_id(p) not in revised]
    if limit is not None:
        files = files[:limit]
    skipped: dict[str, int] = {}
    out: list[Entry] = []
    t0 = time.perf_counter()
    for n, path in enumerate(files):
        mid = magndata_id(path)
        if log and n % 100 == 0:
            log(f"{n}/{len(files)} files, {len(out)} entries, {time.perf_counter() - t0:.0f} s")
        try:
            s = read_structure(path, fmt="mcif")
        except (StructureReadError, AltermagError, ValueError) as exc:
            key = "partial occupancy" if "occup" in str(exc).lower() else "unreadable"
            skipped[key] = skipped.get(key, 0) + 1
            continue
        bare = s.with_moments(None)
        try:
            res = analyze(bare)
        except AltermagError:
            skipped["analysis failed"] = skipped.get("analysis failed", 0) + 1
            continue
        cell = order_cell(bare, res)
        if len(cell) > MAX_SITES:
            skipped["too many sites"] = skipped.get("too many sites", 0) + 1
            continue
        k0 = _category(mid) == "0"
        signs = experimental_signs(s)
        collinear = signs is not None
        compensated = None
        exp_verdict = None
        if collinear and s.magmoms is not None:
            col = s.collinear_moments(tol=0.05)
            if col is not None:
                v = col[0]
                compensated = bool(abs(v.sum()) < 0.02 * max(np.abs(v).sum(), 1e-9))
            if k0:
                try:
                    from altermag.symmetry import classify

                    exp_verdict = classify(s).verdict
                except AltermagError:
                    exp_verdict = None

        def describe(r: SpinGroupResult, bare: MagneticStructure = bare) -> tuple[Any, np.ndarray]:
            c = order_cell(bare, r)
            m = np.flatnonzero(np.asarray(r.orders[0].signs) != 0) if r.orders else np.zeros(0)
            g = geometry(c, m.astype(int))
            return g, (order_features(g, r.orders) if r.orders else np.zeros((0, 13)))

        geo, ox = describe(res)
        default_x = ox
        default_verdicts: list[str] = [str(o.result.verdict) for o in res.orders]
        cx = crystal_features(geo, cell, res, ox)
        gs = match_order(s, res) if (k0 and collinear) else None
        filtered = False
        if gs is None and k0 and signs is not None and np.any(signs != 0):
            carriers = frozenset(s.species[i] for i in np.flatnonzero(signs))
            try:
                res_f = enumerate_orders(bare, magnetic_elements=carriers)
            except AltermagError:
                res_f = None
            if res_f is not None and res_f.orders:
                gs = match_order(s, res_f)
                if gs is not None:
                    res, filtered = res_f, True
                    _, ox = describe(res_f)
        orders = res.orders
        out.append(
            Entry(
                id=mid,
                formula=s.formula,
                group=compound_group(s.formula),
                k0=k0,
                collinear=collinear,
                compensated=compensated,
                exp_verdict=exp_verdict,
                crystal_x=cx,
                order_x=ox,
                order_verdicts=[o.result.verdict for o in orders],
                order_score=np.array([o.score for o in orders], float),
                gk_energy=gk_energy(ox) if len(ox) else np.zeros(0),
                ground_state=gs,
                moment_filtered=filtered,
                default_x=default_x if filtered else None,
                default_verdicts=default_verdicts if filtered else None,
            )
        )
    if log:
        log(f"{len(files)} files -> {len(out)} entries in {time.perf_counter() - t0:.0f} s")
    return out, skipped


def entry_labels(e: Entry) -> dict[str, Any]:
    """The shippable labels of one entry (no structure, no moments)."""
    gs = e.ground_state
    return {
        "formula": e.formula,
        "group": e.group,
        "k0": e.k0,
        "collinear": e.collinear,
        "compensated": e.compensated,
        "experimental_verdict": e.exp_verdict,
        "altermagnetic_ground_state": e.altermagnetic_ground_state,
        "n_orders": len(e.order_verdicts),
        "ground_state_order_verdict": None if gs is None else e.order_verdicts[gs],
        "ground_state_found": gs is not None,
        "ground_state_needs_moment_filter": e.moment_filtered,
    }


def save_labels(entries: list[Entry], path: Path = LABELS_PATH) -> Path:
    """Write the labels keyed by MAGNDATA id as gzip JSON (fixed mtime: reproducible bytes)."""
    blob = json.dumps({e.id: entry_labels(e) for e in entries}, sort_keys=True, indent=0)
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(blob.encode())
    return path


def index_rows(folder: Path) -> dict[str, dict[str, str]]:
    """``index.csv`` of the folder by file name (empty when absent)."""
    return _index(folder)
