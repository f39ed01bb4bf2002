"""Slurm side of the ground-state search: one batch job per order, polled and resumed.

Each order folder gets its own ``job.sbatch`` (:func:`altermag.hpc.slurm.slurm_script`:
resources and environment values checked and quoted as for the verify jobs; the order's
label in ``$ALTERMAG_ORDER``), submitted with ``sbatch``; the job ids are kept in the
search folder's ``slurm.json``, so a later call polls the same jobs instead of submitting
them again. The orders are independent SCFs, so they run side by side on the cluster.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from altermag.dft.groundstate.codes import order_code
from altermag.dft.groundstate.contract import OrderEnergy
from altermag.dft.groundstate.orders import OrderPlan, other_orders
from altermag.dft.settings import DftSettings
from altermag.hpc.slurm import JobState, Resources, SlurmClient, slurm_script

__all__ = [
    "ORDER_ENV",
    "SLURM_FILE",
    "order_commands",
    "poll_orders",
    "submit_orders",
    "submitted_jobs",
]

SLURM_FILE = "slurm.json"
"""The search folder's record of its Slurm jobs: ``{"jobs": {label: job id}, ...}``."""
ORDER_ENV = "ALTERMAG_ORDER"
"""Environment variable holding the order's label inside its job."""


def order_commands(code: str, settings: DftSettings) -> list[str]:
    """The job commands of one order's SCF: ``srun pw.x`` (then the wavefunctions are
    removed: large, not needed) or the site's VASP command under ``srun``."""
    if code == "vasp":
        from altermag.dft.vasp.run import launched, vasp_command

        return [f"{launched(vasp_command(settings), 'srun')} > vasp.out 2>&1"]
    return ["srun pw.x -in scf.in > scf.out", "rm -rf out"]


def submit_orders(
    prepared: Sequence[tuple[OrderPlan, Path]],
    code: str,
    settings: DftSettings,
    directory: Path,
    client: SlurmClient,
    resources: Resources | None = None,
    commands: Sequence[str] | None = None,
) -> dict[str, str]:
    """Write each order's ``job.sbatch`` and submit it; ``{label: Slurm job id}``, also
    written to ``directory/slurm.json``.

    Raises
    ------
    altermag.hpc.SlurmError
        When ``sbatch`` fails (the orders submitted before stay recorded).
    """
    order_code(code)  # a code the search writes
    res = resources or settings.resources
    lines = list(commands) if commands is not None else order_commands(code, settings)
    jobs: dict[str, str] = {}
    record = Path(directory) / SLURM_FILE
    for plan, folder in prepared:
        script = folder / "job.sbatch"
        script.write_text(
            slurm_script(
                lines,
                res,
                job_name=f"altermag-gs-{plan.label}",
                env={"OMP_NUM_THREADS": "1", ORDER_ENV: plan.label},
            )
        )
        jobs[plan.label] = client.submit(script)
        submitted = datetime.now(UTC).isoformat(timespec="seconds")
        record.write_text(json.dumps({"jobs": jobs, "submitted_at": submitted}, indent=1))
    return jobs


def submitted_jobs(directory: Path) -> dict[str, str] | None:
    """The ``{label: job id}`` a search folder's ``slurm.json`` records (None: none)."""
    record = Path(directory) / SLURM_FILE
    if not record.is_file():
        return None
    return {str(k): str(v) for k, v in json.loads(record.read_text())["jobs"].items()}


def poll_orders(
    prepared: Sequence[tuple[OrderPlan, Path]],
    code: str,
    settings: DftSettings,
    jobs: dict[str, str],
    client: SlurmClient,
    wait_s: float,
) -> list[OrderEnergy]:
    """Wait up to ``wait_s`` seconds in all for the orders' jobs; a finished order is read
    and judged as a local run would be, one still queued or running is ``submitted``."""
    impl = order_code(code)
    deadline = time.monotonic() + wait_s
    out: list[OrderEnergy] = []
    for plan, folder in prepared:
        job = jobs.get(plan.label)
        if job is None:
            out.append(plan.outcome("failed", folder, message="never submitted to Slurm"))
            continue
        state = client.wait(job, timeout=max(0.0, deadline - time.monotonic()))
        if not state.finished:
            out.append(plan.outcome("submitted", folder, message=f"Slurm job {job} is {state}"))
            continue
        judged = impl.read(folder, plan, settings, other_orders([p for p, _ in prepared], plan))
        if state != JobState.COMPLETED:
            judged.message = f"Slurm job {job} ended {state}; " + judged.message
        out.append(judged)
    return out
