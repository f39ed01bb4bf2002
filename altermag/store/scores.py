"""Model scores: one row per (material, model version), mirrored onto the candidate columns.

A score is the ground-state prior's P(altermagnetic ground state) of a material, stored with
the prior's P(k = 0) (:mod:`altermag.ml.prior`). The candidate table
shows the scores of one version — the one stored most recently — so each order row carries
a copy of its material's score and P(k = 0) of that version (kept in step here), and the
table sorts by score and shows both without a join.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.orm import Session

from altermag.store.database import BulkInsert, Database, batches, opt_float
from altermag.store.models import MISSING_SCORE, MagneticOrder, ModelScore, utcnow
from altermag.store.records import ScoreRecord, as_utc

__all__ = ["NO_SCORE", "ScoreColumns", "ScoreRepository", "ScoreRow", "score_columns"]

ScoreRow = tuple[int, str, float, float | None]
"""``(material_id, model_version, score, p_k0)``: P(altermagnetic ground state) and P(k = 0)
(None when the model gives none)."""
ScoreColumns = tuple[str, float, float | None]
"""``(model_version, score, p_k0)`` of a material, as its order rows carry them."""


def score_columns(version: Any, score: Any, p_k0: Any) -> dict[str, Any]:
    """The candidate columns of an order row carrying its material's score of ``version``
    (values, or bound parameters of an UPDATE): the score is also its sort key."""
    return {"model_version": version, "score": score, "score_key": score, "p_k0": p_k0}


NO_SCORE: dict[str, Any] = {
    "model_version": None,
    "score": None,
    "score_key": MISSING_SCORE,
    "p_k0": None,
}
"""The candidate columns of an order row without a score of the latest model version."""


class ScoreRepository:
    """Write model scores and keep the candidate columns on the latest version."""

    def __init__(self, db: Database) -> None:
        self.db = db
        insert = db.insert(ModelScore)
        self._upsert = BulkInsert(
            db,
            insert.on_conflict_do_update(
                index_elements=["material_id", "model_version"],
                set_={
                    "score": insert.excluded.score,
                    "p_k0": insert.excluded.p_k0,
                    "created_at": insert.excluded.created_at,
                },
            ),
        )

    def add(
        self,
        material_id: int,
        model_version: str,
        score: float,
        p_k0: float | None = None,
    ) -> int:
        """Store (or replace) a model's score of a material; returns the score row id."""
        with self.db.session() as s:
            self.upsert(s, [(material_id, model_version, score, p_k0)])
            score_id = s.scalar(
                select(ModelScore.id).where(
                    ModelScore.material_id == material_id,
                    ModelScore.model_version == model_version,
                )
            )
            assert score_id is not None
            return int(score_id)

    def add_many(self, rows: Iterable[ScoreRow]) -> None:
        """Store (or replace) many scores in one transaction.

        ``rows`` are ``(material_id, model_version, score, p_k0)``; this is how a
        model stage writes the scores of a whole screened database.
        """
        with self.db.session() as s:
            self.upsert(s, list(rows))

    def latest_version(self) -> str | None:
        """The model version scored most recently (the default for candidate queries)."""
        with self.db.session() as s:
            return latest_version(s)

    def upsert(self, s: Session, rows: Sequence[ScoreRow]) -> None:
        """Insert or replace score rows in the caller's transaction."""
        if not rows:
            return
        latest = {(mid, version): (score, p_k0) for mid, version, score, p_k0 in rows}
        previous = latest_version(s)
        self._upsert(
            s,
            [
                {
                    "material_id": mid,
                    "model_version": version,
                    "score": float(score),
                    "p_k0": opt_float(p_k0),
                    "created_at": utcnow(),
                }
                for (mid, version), (score, p_k0) in sorted(latest.items())
            ],
        )
        # The last version in this call is now the most recently stored one: the candidate
        # columns of every order follow it (when it changed, rows of the old one are cleared).
        # Every material scored under that version shows its score again, also those scored
        # under it before and not in this call.
        version = latest_version(s)
        if version != previous:
            s.execute(
                update(MagneticOrder)
                .where(MagneticOrder.model_version.is_not(None))
                .where(MagneticOrder.model_version != version)
                .values(**NO_SCORE)
            )
            scored = s.scalars(
                select(ModelScore.material_id).where(ModelScore.model_version == version)
            ).all()
        else:
            scored = [mid for mid, v in latest if v == version]
        sync_scores(s, version, sorted(set(scored)))


def latest_version(s: Session) -> str | None:
    """The model version stored most recently, read in the caller's transaction."""
    return s.scalar(
        select(ModelScore.model_version)
        .order_by(ModelScore.created_at.desc(), ModelScore.id.desc())
        .limit(1)
    )


def sync_scores(s: Session, version: str | None, material_ids: Sequence[int]) -> None:
    """Copy the ``version`` scores (and P(k = 0)) of these materials onto their order rows."""
    if version is None or not material_ids:
        return
    for batch in batches(list(material_ids)):
        found = s.execute(
            select(ModelScore.material_id, ModelScore.score, ModelScore.p_k0).where(
                ModelScore.model_version == version, ModelScore.material_id.in_(batch)
            )
        ).all()
        if found:
            s.execute(
                _SYNC_SCORES,
                [{"mid": mid, "v": version, "s": score, "k0": k0} for mid, score, k0 in found],
            )


def score_record(sc: ModelScore) -> ScoreRecord:
    """The plain record of a score row."""
    return ScoreRecord(
        id=sc.id,
        material_id=sc.material_id,
        model_version=sc.model_version,
        score=sc.score,
        created_at=as_utc(sc.created_at),  # type: ignore[arg-type]
        p_k0=sc.p_k0,
    )


_orders = cast(Table, MagneticOrder.__table__)
_SYNC_SCORES = (
    update(_orders)
    .where(_orders.c.material_id == bindparam("mid"))
    .where(  # a row that already carries these values is not written again
        or_(
            _orders.c.model_version.is_distinct_from(bindparam("v")),
            _orders.c.score.is_distinct_from(bindparam("s")),
            _orders.c.score_key.is_distinct_from(bindparam("s")),
            _orders.c.p_k0.is_distinct_from(bindparam("k0")),
        )
    )
    .values(**score_columns(bindparam("v"), bindparam("s"), bindparam("k0")))
)
"""Scores of one material onto all its orders (executed for many materials at once)."""
