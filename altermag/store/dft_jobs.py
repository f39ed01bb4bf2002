"""DFT jobs: a first-principles check of one magnetic order, its status and parsed outcome.

A job moves ``pending`` → ``prepared`` (inputs written) → ``submitted`` (queued on a batch
system) → ``running`` → ``completed`` or ``failed``. A completed check's status
(``confirmed``, ``contradicted``, ``inconclusive``) and largest spin splitting are copied onto
the order it computed, so the candidate table can sort by them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from altermag.errors import SettingsError
from altermag.store.candidates import same_order
from altermag.store.database import Database, opt_float
from altermag.store.models import MISSING_SCORE, DftJob, DftResult, MagneticOrder, utcnow
from altermag.store.records import DftJobRecord, as_utc

__all__ = ["DFT_STATUSES", "DftJobRepository"]

DFT_STATUSES = ("pending", "prepared", "submitted", "running", "completed", "failed")
"""``prepared``: inputs written, not run (no pseudopotentials or no runner); ``submitted``:
queued on a batch system."""


class DftJobRepository:
    """Register DFT jobs, move them through their statuses and store their outcome."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self,
        material_id: int,
        code: str,
        *,
        order_id: int | None = None,
        directory: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        status: str = "pending",
    ) -> int:
        """Register a DFT job (``code`` is ``qe`` or ``vasp``) and return its id."""
        _check_status(status)
        with self.db.session() as s:
            job = DftJob(
                material_id=material_id,
                order_id=order_id,
                code=code,
                status=status,
                directory=directory,
                parameters=dict(parameters or {}),
            )
            s.add(job)
            s.flush()
            return job.id

    def set_status(self, job_id: int, status: str, directory: str | None = None) -> None:
        """Move a DFT job to another status (and record where it runs)."""
        _check_status(status)
        values: dict[str, Any] = {"status": status, "updated_at": utcnow()}
        if directory is not None:
            values["directory"] = directory
        with self.db.session() as s:
            s.execute(update(DftJob).where(DftJob.id == job_id).values(**values))

    def set_result(
        self,
        job_id: int,
        verdict: Mapping[str, Any],
        max_splitting_ev: float | None,
        *,
        status: str = "completed",
    ) -> None:
        """Store (or replace) the parsed outcome of a DFT job and set its status."""
        splitting = opt_float(max_splitting_ev)
        values = {"verdict": dict(verdict), "max_splitting_ev": splitting}
        with self.db.session() as s:
            s.execute(
                self.db.insert(DftResult)
                .values(job_id=job_id, **values)
                .on_conflict_do_update(index_elements=["job_id"], set_=values)
            )
            s.execute(
                update(DftJob).where(DftJob.id == job_id).values(status=status, updated_at=utcnow())
            )
            job = s.get(DftJob, job_id)
            if job is not None and status == "completed":
                if (job.parameters or {}).get("kind") == "groundstate":
                    _attach_ground_state(s, job.material_id, verdict)
                elif "status" in verdict:
                    _attach_dft(s, job, str(verdict["status"]), splitting)


def _check_status(status: str) -> None:
    if status not in DFT_STATUSES:
        raise SettingsError(f"status must be one of {DFT_STATUSES}, got {status!r}")


def _attach_dft(s: Session, job: DftJob, status: str, splitting: float | None) -> None:
    """Put a completed DFT check on the order it computed (for the candidate table).

    The order is the job's ``order_id`` when it has one, else every order of the material
    with the sign pattern of the job's starting moments (:func:`same_order`).
    """
    if job.order_id is not None:
        order_ids = [job.order_id]
    else:
        moments = (job.parameters or {}).get("moments")
        found = s.execute(
            select(MagneticOrder.id, MagneticOrder.moments).where(
                MagneticOrder.material_id == job.material_id
            )
        )
        order_ids = [oid for oid, m in found if same_order(m, moments)]
    if order_ids:
        s.execute(
            update(MagneticOrder)
            .where(MagneticOrder.id.in_(order_ids))
            .values(
                dft_status=status,
                dft_splitting_ev=splitting,
                dft_key=MISSING_SCORE if splitting is None else splitting,
            )
        )


def ground_state_columns(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """The candidate-table columns of a ground-state search's JSON: its verdict, the
    altermagnetic margin and that margin's sort key (:data:`MISSING_SCORE` when None)."""
    from altermag.dft.groundstate.compare import altermagnet_margin, ground_state_label

    data = dict(verdict)
    margin = altermagnet_margin(data)
    return {
        "dft_ground_state": ground_state_label(data),
        "dft_am_margin_mev": margin,
        "dft_gs_key": MISSING_SCORE if margin is None else margin,
    }


def _attach_ground_state(s: Session, material_id: int, verdict: Mapping[str, Any]) -> None:
    """Put a completed ground-state search on every order of its material (the search
    decides between the material's orders, so each row of the candidate table shows it)."""
    values = ground_state_columns(verdict)
    if values["dft_ground_state"] is None:  # decks waiting for a machine: nothing decided
        return
    s.execute(
        update(MagneticOrder).where(MagneticOrder.material_id == material_id).values(**values)
    )


def dft_record(j: DftJob) -> DftJobRecord:
    """The plain record of a job row with its outcome, if parsed."""
    return DftJobRecord(
        id=j.id,
        material_id=j.material_id,
        order_id=j.order_id,
        code=j.code,
        status=j.status,
        directory=j.directory,
        parameters=j.parameters,
        created_at=as_utc(j.created_at),  # type: ignore[arg-type]
        updated_at=as_utc(j.updated_at),  # type: ignore[arg-type]
        verdict=None if j.result is None else j.result.verdict,
        max_splitting_ev=None if j.result is None else j.result.max_splitting_ev,
    )
