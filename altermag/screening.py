"""Screening: analyze records in chunks, rank candidates, write the ranked tables.

Pure library code used by the Prefect ``screen`` flow (``flows/altermag_flows/screen.py``) and
by tests:
no Prefect, no database. A chunk of source records becomes a list of
:class:`ScreenedEntry`; the ranking orders them by

1. the exact symmetry verdict: a collinear altermagnet given with moments, or a structure
   that can host an altermagnetic k = 0 order, before everything else;
2. the model's raw altermagnet probability when a model scored the entry (the OT-adapted
   probability is kept alongside; it did not win the chemistry-shift evaluation, see
   docs/model.md);
3. the order heuristic score of the best altermagnetic order (antiparallel near neighbours);
4. lower wave order first (d before g before i: larger splitting expected), then the id.

The ranking is named ``symmetry+model:<version>`` when the shipped GNN checkpoint scored the
entries (the default) and ``symmetry+order-heuristic`` without a model.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from altermag.errors import AltermagError
from altermag.result import SpinGroupResult
from altermag.sources import Record
from altermag.structure import MagneticStructure
from altermag.symmetry import (
    DEFAULT_CELL,
    DEFAULT_MAGTOL,
    DEFAULT_MAX_ORDERS,
    DEFAULT_SYMPREC,
    analyze,
)

__all__ = [
    "CANDIDATE_COLUMNS",
    "ScreenSettings",
    "ScreenedEntry",
    "candidate_rows",
    "rank_entries",
    "rank_rows",
    "screen_records",
    "write_candidates",
]


@dataclass(frozen=True)
class ScreenSettings:
    """Everything that changes a screening result (its hash keys idempotent storage)."""

    symprec: float = DEFAULT_SYMPREC
    magtol: float = DEFAULT_MAGTOL
    cell: str = DEFAULT_CELL
    max_orders: int = DEFAULT_MAX_ORDERS
    score: bool = True
    """Score every structure with the shipped GNN checkpoint (raw and OT-adapted)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def hash(self) -> str:
        """Short SHA-256 of the settings (and the analysis version that interprets them)."""
        from altermag import __version__

        blob = json.dumps({**self.to_dict(), "version": __version__}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class ScreenedEntry:
    """One screened record: its structure and spin-group result, or the error."""

    id: str
    source: str
    structure: MagneticStructure | None
    result: SpinGroupResult | None
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    model_score: float | None = None
    adapted_score: float | None = None
    model_version: str | None = None

    @property
    def is_candidate(self) -> bool:
        return self.result is not None and self.result.is_altermagnet

    def best_altermagnetic_order(self) -> tuple[float, str | None, str | None]:
        """(heuristic score, wave, spin Laue group) of the best altermagnetic order."""
        res = self.result
        if res is None:
            return 0.0, None, None
        if not res.enumerated:
            return (
                (1.0, res.wave, res.spin_laue_group)
                if res.verdict == "altermagnet"
                else (0.0, None, None)
            )
        for order in res.orders:  # best first
            if order.result.verdict == "altermagnet":
                return order.score, order.result.wave, order.result.spin_laue_group
        return 0.0, None, None


def screen_records(
    records: Iterable[Record], settings: ScreenSettings, source: str = ""
) -> list[ScreenedEntry]:
    """Analyze every record (moments given: classify; no moments: enumerate orders).

    A record that failed to read, or whose analysis raises, becomes an entry with ``error``;
    the chunk always completes.
    """
    out: list[ScreenedEntry] = []
    for rec in records:
        src = rec.metadata.get("source", source)
        if rec.structure is None:
            out.append(ScreenedEntry(rec.id, src, None, None, rec.metadata, rec.error))
            continue
        try:
            res = analyze(
                rec.structure,
                symprec=settings.symprec,
                magtol=settings.magtol,
                cell=settings.cell,
                max_orders=settings.max_orders,
            )
        except AltermagError as exc:  # one input the analysis refuses never stops a screening
            out.append(
                ScreenedEntry(
                    rec.id,
                    src,
                    rec.structure,
                    None,
                    rec.metadata,
                    f"{rec.id}: analysis failed: {type(exc).__name__}: {exc}",
                )
            )
            continue
        out.append(ScreenedEntry(rec.id, src, rec.structure, res, rec.metadata))
    if settings.score:
        score_entries(out)
    return out


@cache
def _scorer() -> Any:
    """The shipped model, loaded once per process (None when torch is not installed)."""
    try:
        from altermag.ml.checkpoint import load_scorer
    except ImportError:
        return None
    return load_scorer()


def score_entries(entries: list[ScreenedEntry]) -> str | None:
    """Fill raw and OT-adapted altermagnet probabilities; returns the model version."""
    scorer = _scorer()
    todo = [e for e in entries if e.structure is not None and e.result is not None]
    if scorer is None or not todo:
        return None
    version = str(scorer.card.get("version_hash", scorer.path.stem))
    for e, sc in zip(todo, scorer.score([e.structure for e in todo]), strict=True):
        e.model_score, e.adapted_score, e.model_version = sc.raw, sc.adapted, version
    return version


_WAVE_ORDER = {"d": 0, "g": 1, "i": 2}


def rank_entries(entries: Iterable[ScreenedEntry]) -> list[ScreenedEntry]:
    """Entries without errors, best altermagnet candidates first (see module docstring)."""

    def key(e: ScreenedEntry) -> tuple:
        score, wave, _ = e.best_altermagnetic_order()
        model = e.model_score  # raw: OT adaptation did not win the evaluation (docs/model.md)
        return (
            not e.is_candidate,
            -(model if model is not None else 0.0),
            -score,
            _WAVE_ORDER.get(wave or "", 9),
            e.id,
        )

    return sorted((e for e in entries if e.result is not None), key=key)


CANDIDATE_COLUMNS = (
    "rank",
    "id",
    "source",
    "formula",
    "verdict",
    "can_host_altermagnet",
    "wave",
    "spin_laue_group",
    "form_factor",
    "space_group",
    "order_score",
    "model_score",
    "adapted_score",
    "model_version",
    "ranking",
)


def _row(rank: int, e: ScreenedEntry, ranking: str) -> dict[str, Any]:
    res = e.result
    assert res is not None
    score, wave, slg = e.best_altermagnetic_order()
    form = res.form_factor
    if res.enumerated and e.is_candidate:
        best = next(o.result for o in res.orders if o.result.verdict == "altermagnet")
        form = best.form_factor
    return {
        "rank": rank,
        "id": e.id,
        "source": e.source,
        "formula": e.structure.formula if e.structure else "",
        "verdict": res.verdict,
        "can_host_altermagnet": bool(e.is_candidate),
        "wave": wave or "",
        "spin_laue_group": slg or "",
        "form_factor": form or "",
        "space_group": f"{res.space_group_symbol} ({res.space_group_number})",
        "order_score": round(score, 4),
        "model_score": e.model_score,
        "adapted_score": e.adapted_score,
        "model_version": e.model_version or "",
        "ranking": ranking,
    }


def candidate_rows(entries: Iterable[ScreenedEntry], ranking: str) -> list[dict[str, Any]]:
    """Unranked table rows (``rank`` 0) of the entries that have a result."""
    return [_row(0, e, ranking) for e in entries if e.result is not None]


def rank_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows ranked as :func:`rank_entries` ranks entries, ``rank`` filled in (1 = best)."""

    def key(r: dict[str, Any]) -> tuple:
        model = r["model_score"]  # raw score ranks (docs/model.md); adapted kept alongside
        return (
            not r["can_host_altermagnet"],
            -(model or 0.0),
            -r["order_score"],
            _WAVE_ORDER.get(r["wave"], 9),
            r["id"],
        )

    ranked = sorted(rows, key=key)
    return [{**r, "rank": i} for i, r in enumerate(ranked, start=1)]


def write_candidates(
    rows: list[dict[str, Any]], out_dir: Path, summary: dict[str, Any]
) -> dict[str, Path]:
    """Write ranked ``candidates.csv``, ``candidates.json`` and ``summary.json`` to out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ranked = rank_rows(rows)
    csv_path, json_path, sum_path = (
        out_dir / n for n in ("candidates.csv", "candidates.json", "summary.json")
    )
    with csv_path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CANDIDATE_COLUMNS)
        writer.writeheader()
        writer.writerows(ranked)
    json_path.write_text(json.dumps(ranked, indent=1))
    sum_path.write_text(json.dumps(summary, indent=1, default=str))
    return {"csv": csv_path, "json": json_path, "summary": sum_path}
