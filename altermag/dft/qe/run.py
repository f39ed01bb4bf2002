"""Run a prepared Quantum ESPRESSO folder here: SCF, then bands, with checks and logs.

One MPI rank (plain ``pw.x -in``, one OpenMP thread) is fastest on a 2-core machine. Each
step has a wall-clock limit; its text output is kept (``scf.out``, ``bands.out``) and the SCF's
``data-file-schema.xml`` is copied to ``scf-data-file-schema.xml`` before the bands step
overwrites it. The bands step only runs after an SCF that printed "convergence has been
achieved" (an unconverged density fakes large splittings). The record is the shared
:class:`~altermag.dft.runner.RunRecord` (``run.json``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from altermag.dft.qe.parse import parse_pw_output
from altermag.dft.runner import RunRecord, StepRecord, run_process, start_run

__all__ = ["run_qe"]


def _step(name: str, pw: str, directory: Path, timeout: float, env: dict[str, str]) -> StepRecord:
    cmd = [pw, "-in", f"{name}.in"]
    out = directory / f"{name}.out"
    rc, timed_out, wall = run_process(cmd, directory, out, timeout, env)
    text = parse_pw_output(out)
    return StepRecord(
        name=name,
        command=cmd,
        returncode=rc,
        wall_s=wall,
        timed_out=timed_out,
        converged=text.converged if name == "scf" else None,
        job_done=text.job_done,
        output=out.name,
        errors=text.errors,
    )


def run_qe(
    directory: Path,
    pw: str = "pw.x",
    timeout_scf_s: float | None = None,
    timeout_bands_s: float | None = None,
) -> RunRecord:
    """Run ``scf.in`` then ``bands.in`` in ``directory`` and write ``run.json``.

    Time limits default to ``timeout_scf_s``/``timeout_bands_s`` of the folder's
    ``settings.json`` (else one hour each). Returns the run record; never raises for a failed
    calculation (the status says what happened).
    """
    directory = Path(directory)
    settings, t_scf, t_bands, record = start_run(directory, timeout_scf_s, timeout_bands_s, "qe")
    if shutil.which(pw) is None:
        return record(
            "missing_executable", f"{pw} not found (apt-get install quantum-espresso)", []
        )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    steps = [_step("scf", pw, directory, t_scf, env)]
    scf = steps[0]
    if scf.timed_out:
        return record("timeout", f"SCF exceeded {t_scf:.0f} s", steps)
    if scf.returncode != 0 or not scf.job_done:
        return record("failed", "SCF failed: " + ("; ".join(scf.errors) or "see scf.out"), steps)
    if not scf.converged:
        return record("unconverged", "SCF did not reach convergence", steps)
    prefix = settings.get("prefix", "altermag")
    xml = next(directory.glob(f"**/{prefix}.save/data-file-schema.xml"), None)
    if xml is not None:
        shutil.copyfile(xml, directory / "scf-data-file-schema.xml")
    steps.append(_step("bands", pw, directory, t_bands, env))
    bands = steps[1]
    if bands.timed_out:
        return record("timeout", f"bands step exceeded {t_bands:.0f} s", steps)
    if bands.returncode != 0 or not bands.job_done:
        return record(
            "failed", "bands step failed: " + ("; ".join(bands.errors) or "see bands.out"), steps
        )
    return record("completed", "SCF converged and bands computed", steps)
