"""Screening runs: what a run was asked, which inputs it saw, where each went or why it failed.

A run keyed by a caller-chosen ``key`` is resumable: starting it again reopens the same row,
and inputs it stores again replace their earlier rows (one row per input of a run).

Runs the API queues carry a *lease*: the process that runs one holds it (``lease_owner``)
until ``lease_expires`` and renews it while it works. A ``queued`` or ``running`` run whose
lease lapsed (its process was stopped or killed) is claimed by the next process that looks
(:meth:`RunRepository.claim`, an atomic update), so screenings resume after a restart and
two API processes never run the same one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from altermag.errors import SettingsError
from altermag.store.database import BulkInsert, Database
from altermag.store.models import RunItem, ScreeningRun, utcnow
from altermag.store.records import RunItemRecord, RunRecord, as_utc

__all__ = ["RUN_STATUSES", "RunItemRow", "RunRepository"]

RUN_STATUSES = ("queued", "running", "completed", "failed", "cancelled")
ACTIVE = ("queued", "running")
"""Statuses of a run that is not finished."""

RunItemRow = tuple[str, int | None, str | None]
"""``(input_ref, material_id, error)``: an input stored as a material, or its error."""


class RunRepository:
    """Open, follow and close screening runs."""

    def __init__(self, db: Database) -> None:
        self.db = db
        insert = db.insert(RunItem)
        self._upsert_items = BulkInsert(
            db,
            insert.on_conflict_do_update(
                index_elements=["run_id", "input_ref"],
                set_={"material_id": insert.excluded.material_id, "error": insert.excluded.error},
            ),
        )

    def start(
        self,
        source: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        key: str | None = None,
    ) -> int:
        """Open a screening run and return its id.

        With ``key`` the run is resumable: starting a run whose key exists sets it back to
        ``running`` and returns the same id, so a restarted flow keeps adding to it.
        """
        params = dict(parameters or {})
        with self.db.session() as s:
            if key is not None:
                s.execute(
                    self.db.insert(ScreeningRun)
                    .values(key=key, source=source, parameters=params, counts={}, errors=[])
                    .on_conflict_do_update(
                        index_elements=["key"], set_={"status": "running", "finished_at": None}
                    )
                )
                run_id = s.scalar(select(ScreeningRun.id).where(ScreeningRun.key == key))
                assert run_id is not None
                return int(run_id)
            run = ScreeningRun(source=source, parameters=params, counts={}, errors=[])
            s.add(run)
            s.flush()
            return run.id

    def queue(self, run_id: int) -> None:
        """Mark a run ``queued`` (waiting for a process) and release any lease on it."""
        with self.db.session() as s:
            s.execute(
                update(ScreeningRun)
                .where(ScreeningRun.id == run_id)
                .values(status="queued", lease_owner=None, lease_expires=None, finished_at=None)
            )

    def claim(self, run_id: int, owner: str, ttl_s: float) -> bool:
        """Take (or renew) the lease of an unfinished run for ``ttl_s`` seconds; True if
        ``owner`` holds it now (nobody else held an unexpired lease)."""
        now = utcnow()
        with self.db.session() as s:
            done = s.execute(
                update(ScreeningRun)
                .where(
                    ScreeningRun.id == run_id,
                    ScreeningRun.status.in_(ACTIVE),
                    or_(
                        ScreeningRun.lease_owner.is_(None),
                        ScreeningRun.lease_owner == owner,
                        ScreeningRun.lease_expires < now,
                    ),
                )
                .values(lease_owner=owner, lease_expires=now + timedelta(seconds=ttl_s))
            )
            return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    def release(self, run_id: int, owner: str) -> None:
        """Give up ``owner``'s lease of a run (another process may take it at once)."""
        with self.db.session() as s:
            s.execute(
                update(ScreeningRun)
                .where(ScreeningRun.id == run_id, ScreeningRun.lease_owner == owner)
                .values(lease_owner=None, lease_expires=None)
            )

    def claimable(self, key_prefix: str, limit: int = 100) -> list[int]:
        """Unfinished runs whose key starts with ``key_prefix`` and that nobody holds (no
        lease, or a lapsed one), oldest first."""
        now = utcnow()
        with self.db.session() as s:
            rows = s.scalars(
                select(ScreeningRun.id)
                .where(
                    ScreeningRun.status.in_(ACTIVE),
                    ScreeningRun.key.like(f"{key_prefix}%"),
                    or_(ScreeningRun.lease_owner.is_(None), ScreeningRun.lease_expires < now),
                )
                .order_by(ScreeningRun.id)
                .limit(max(1, limit))
            )
            return [int(r) for r in rows]

    def active_count(self, key_prefix: str) -> int:
        """Unfinished (queued or running) runs whose key starts with ``key_prefix``."""
        with self.db.session() as s:
            n = s.scalar(
                select(func.count()).where(
                    ScreeningRun.status.in_(ACTIVE), ScreeningRun.key.like(f"{key_prefix}%")
                )
            )
            return int(n or 0)

    def upsert_items(self, s: Session, run_id: int, rows: Sequence[RunItemRow]) -> None:
        """Insert or replace (input_ref, material id, error) rows of a run in the caller's
        transaction (one row per input: the last one given wins)."""
        if not rows:
            return
        latest = {ref: (mid, err) for ref, mid, err in rows}
        self._upsert_items(
            s,
            [
                {
                    "run_id": run_id,
                    "input_ref": ref,
                    "material_id": mid,
                    "error": err,
                    "created_at": utcnow(),
                }
                for ref, (mid, err) in sorted(latest.items())
            ],
        )

    def set_cursor(self, run_id: int, cursor: str | None) -> None:
        """Remember where in its source a run got to (a source page cursor), for resuming."""
        with self.db.session() as s:
            s.execute(
                update(ScreeningRun).where(ScreeningRun.id == run_id).values(source_cursor=cursor)
            )

    def record_input(self, run_id: int, input_ref: str, material_id: int) -> None:
        """Record that run ``run_id`` saw ``input_ref`` and stored it as ``material_id``."""
        with self.db.session() as s:
            self.upsert_items(s, run_id, [(input_ref, material_id, None)])

    def record_error(self, run_id: int, input_ref: str, message: str) -> None:
        """Record that input ``input_ref`` of a run failed (unreadable file, bad structure...).

        Recording the same input again replaces the message; an input that later succeeds
        (:meth:`record_input`) clears it.
        """
        with self.db.session() as s:
            self.upsert_items(s, run_id, [(input_ref, None, str(message))])

    def finish(
        self,
        run_id: int,
        *,
        status: str = "completed",
        counts: Mapping[str, Any] | None = None,
        errors: Sequence[Any] | None = None,
    ) -> RunRecord:
        """Close a run with its status; counts of inputs, materials and failures are added.

        ``errors`` are run-level errors (a source that could not be reached); per-input
        failures are the :meth:`record_error` rows.
        """
        if status not in RUN_STATUSES:
            raise SettingsError(f"status must be one of {RUN_STATUSES}, got {status!r}")
        with self.db.session() as s:
            run = s.get(ScreeningRun, run_id)
            if run is None:
                raise KeyError(f"no screening run {run_id}")
            n_inputs, n_materials, n_failed = _item_counts(s, run_id)
            run.status = status
            run.finished_at = utcnow()
            run.lease_owner = None
            run.lease_expires = None
            run.counts = {
                **dict(counts or {}),
                "inputs": n_inputs,
                "materials": n_materials,
                "failed": n_failed,
            }
            if errors is not None:
                run.errors = [*run.errors, *errors]
        record = self.get(run_id)
        assert record is not None
        return record

    def get(self, run_id: int) -> RunRecord | None:
        """A screening run with its counts and failed inputs (None if unknown)."""
        with self.db.session() as s:
            run = s.get(ScreeningRun, run_id)
            if run is None:
                return None
            return _run_record(s, run)

    def material_ids(self, run_id: int) -> dict[str, int]:
        """``{input reference: material id}`` of the inputs a run stored."""
        with self.db.session() as s:
            rows = s.execute(
                select(RunItem.input_ref, RunItem.material_id).where(
                    RunItem.run_id == run_id, RunItem.material_id.is_not(None)
                )
            )
            return {ref: int(mid) for ref, mid in rows if mid is not None}

    def recent(self, limit: int = 20) -> list[RunRecord]:
        """The most recent runs, newest first."""
        with self.db.session() as s:
            rows = s.scalars(
                select(ScreeningRun).order_by(ScreeningRun.id.desc()).limit(max(1, limit))
            )
            return [_run_record(s, run) for run in rows]


def _item_counts(s: Session, run_id: int) -> tuple[int, int, int]:
    n_inputs = s.scalar(select(func.count()).where(RunItem.run_id == run_id)) or 0
    n_materials = (
        s.scalar(
            select(func.count(func.distinct(RunItem.material_id))).where(
                RunItem.run_id == run_id, RunItem.material_id.is_not(None)
            )
        )
        or 0
    )
    n_failed = (
        s.scalar(select(func.count()).where(RunItem.run_id == run_id, RunItem.error.is_not(None)))
        or 0
    )
    return int(n_inputs), int(n_materials), int(n_failed)


def _run_record(s: Session, run: ScreeningRun) -> RunRecord:
    n_inputs, n_materials, n_failed = _item_counts(s, run.id)
    failed = s.scalars(
        select(RunItem)
        .where(RunItem.run_id == run.id, RunItem.error.is_not(None))
        .order_by(RunItem.id)
    )
    return RunRecord(
        id=run.id,
        key=run.key,
        source=run.source,
        parameters=run.parameters,
        status=run.status,
        counts=run.counts,
        errors=run.errors,
        started_at=as_utc(run.started_at),  # type: ignore[arg-type]
        finished_at=as_utc(run.finished_at),
        source_cursor=run.source_cursor,
        n_inputs=n_inputs,
        n_materials=n_materials,
        n_failed=n_failed,
        failed_inputs=[RunItemRecord(i.input_ref, i.material_id, i.error) for i in failed],
    )
