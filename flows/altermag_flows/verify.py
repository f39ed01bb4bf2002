"""Prefect flow ``verify``: DFT verification of stored materials, one task per material.

A thin wrapper over :func:`altermag.dft.verify.verify_many` (per material
:func:`~altermag.dft.verify.verify_material`: prepare → run here or submit to Slurm → parse
→ verdict → store → band figure), for QE, VASP or ``code="auto"`` (QE where its
pseudopotentials exist here, else VASP when configured). A material stored without moments
gets the ground-state search first and the band check on an altermagnetic winner only. Tasks
run one after the other: a pw.x run already uses a core, and a shared workstation has few.
Every task is idempotent (keyed by structure, moments, code and settings), so a repeated or
crashed run resumes without recomputing stored verdicts or resubmitting queued Slurm jobs.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task

from altermag.dft.presets import DEFAULT_PRESET, SEARCH_ORDERS
from altermag.dft.verify import verify_many
from altermag.hpc.slurm import SLURM_WAIT_S

__all__ = ["verify", "verify_task"]


@task(name="verify-material")
def verify_task(
    material_id: int,
    code: str = "qe",
    preset: str = DEFAULT_PRESET,
    runner: str = "local",
    db_url: str | None = None,
    workdir: str | None = None,
    wait_s: float = SLURM_WAIT_S,
    overrides: dict[str, Any] | None = None,
    slurm_resources: dict[str, Any] | None = None,
    ground_state: bool = True,
    max_orders: int = SEARCH_ORDERS,
) -> dict[str, Any]:
    """Verify one material; a material that cannot be verified is reported, not raised."""
    from altermag.store import Store

    logger = get_run_logger()
    with Store(db_url) as store:
        (out,) = verify_many(
            store,
            [material_id],
            code,
            preset,
            workdir,
            runner,  # type: ignore[arg-type]
            slurm_resources,
            overrides=overrides,
            wait_s=wait_s,
            on_status=lambda m, s: logger.info("material %s: job %s", m, s),
            ground_state=ground_state,
            max_orders=max_orders,
        )
    log = logger.warning if out["status"] == "error" else logger.info
    log("material %s: %s — %s", material_id, out["status"], out["message"])
    return out


@flow(name="verify")
def verify(
    material_ids: list[int],
    code: str = "qe",
    preset: str = DEFAULT_PRESET,
    runner: str = "local",
    db_url: str | None = None,
    workdir: str | None = None,
    wait_s: float = SLURM_WAIT_S,
    overrides: dict[str, Any] | None = None,
    slurm_resources: dict[str, Any] | None = None,
    ground_state: bool = True,
    max_orders: int = SEARCH_ORDERS,
) -> list[dict[str, Any]]:
    """Verify each material with DFT and store the jobs and verdicts (see the module).

    With ``ground_state`` (default) a material without moments first gets the DFT
    ground-state search, and the band check runs on the winning order only when it is
    altermagnetic; False imposes the best-ranked altermagnetic order."""
    return [
        verify_task(
            mid,
            code,
            preset,
            runner,
            db_url,
            workdir,
            wait_s,
            overrides,
            slurm_resources,
            ground_state,
            max_orders,
        )
        for mid in dict.fromkeys(material_ids)
    ]
