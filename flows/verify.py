"""Prefect flow ``verify``: DFT verification of stored materials, one task per material.

A thin wrapper over :func:`altermag.dft.verify.verify_material` (prepare → run here or submit
to Slurm → parse → verdict → store → band figure). Tasks run one after the other: a pw.x run
already uses a core, and a shared workstation has few. Every task is idempotent (keyed by
structure, moments, code and settings), so a repeated or crashed run resumes without
recomputing stored verdicts or resubmitting queued Slurm jobs.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task

from altermag.dft.verify import VerifyError, verify_material
from altermag.hpc import Resources

__all__ = ["verify", "verify_task"]


@task(name="verify-material")
def verify_task(
    material_id: int,
    code: str = "qe",
    preset: str = "fast",
    runner: str = "local",
    db_url: str | None = None,
    workdir: str | None = None,
    wait_s: float = 3600.0,
    overrides: dict[str, Any] | None = None,
    slurm_resources: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Verify one material; a material that cannot be verified is reported, not raised."""
    from altermag.store import Store

    logger = get_run_logger()
    store = Store(db_url)
    try:
        out = verify_material(
            store,
            material_id,
            code,
            preset,
            workdir,
            runner,  # type: ignore[arg-type]
            Resources(**slurm_resources) if slurm_resources else None,
            overrides=overrides,
            wait_s=wait_s,
            on_status=lambda s: logger.info("material %s: job %s", material_id, s),
        )
    except VerifyError as exc:
        logger.warning("material %s: %s", material_id, exc)
        return {"material_id": material_id, "status": "error", "message": str(exc)}
    finally:
        store.close()
    logger.info("material %s: %s — %s", material_id, out.status, out.message)
    return out.to_dict()


@flow(name="verify")
def verify(
    material_ids: list[int],
    code: str = "qe",
    preset: str = "fast",
    runner: str = "local",
    db_url: str | None = None,
    workdir: str | None = None,
    wait_s: float = 3600.0,
    overrides: dict[str, Any] | None = None,
    slurm_resources: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Verify each material with DFT and store the jobs and verdicts (see the module)."""
    return [
        verify_task(mid, code, preset, runner, db_url, workdir, wait_s, overrides, slurm_resources)
        for mid in dict.fromkeys(material_ids)
    ]
