"""Run a prepared VASP folder: the SCF in ``scf/``, then the bands step in ``bands/``.

No VASP is installed with altermag; the command that runs it is configured per site:

- ``ALTERMAG_VASP_CMD`` — the command run inside each step folder (e.g. ``vasp_std``,
  ``/opt/vasp/6.4/bin/vasp_std`` or ``mpirun -np 8 vasp_std``). Without it the preset's
  ``vasp_command`` (``vasp_std``) is written into the job scripts, and the local runner is
  refused: a workstation has no VASP unless someone says where it is.
- The MPI launcher follows the resources: the Slurm script runs the command under ``srun``
  (which takes ``--ntasks`` from the ``#SBATCH`` lines), the local script under
  ``mpirun -np N`` when the preset's ``resources.ntasks`` is above one. A command that
  names its own launcher (``srun``, ``mpirun``, ``mpiexec``…) is used as it is.

The physics checks are the ones of the QE runner (docs/pitfalls.md): the bands step runs only
after an SCF whose last electronic loop printed "aborting loop because EDIFF is reached"
(an unconverged density fakes splittings), and it reads the SCF's ``CHGCAR`` (``ICHARG =
11``), copied from ``scf/``. Logs stay in ``<step>/vasp.out``; the record is ``run.json``.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

from altermag.dft.runner import RunRecord, StepRecord, run_process, start_run
from altermag.dft.settings import DftSettings
from altermag.dft.vasp.parse import outcar_converged

__all__ = [
    "LAUNCHERS",
    "VASP_CMD_ENV",
    "configured_vasp_command",
    "launched",
    "run_vasp",
    "vasp_command",
    "vasp_outputs_complete",
    "vasp_steps",
]

VASP_CMD_ENV = "ALTERMAG_VASP_CMD"
LAUNCHERS = ("srun", "mpirun", "mpiexec", "mpiexec.hydra", "aprun", "ibrun")
_EDIFF_REACHED = "aborting loop because EDIFF is reached"
_DONE = "General timing and accounting"
"""VASP's last OUTCAR section: the run ended normally."""


def configured_vasp_command() -> str | None:
    """The VASP command of this site (``ALTERMAG_VASP_CMD``), None when not configured."""
    return os.environ.get(VASP_CMD_ENV, "").strip() or None


def vasp_command(settings: DftSettings) -> str:
    """``ALTERMAG_VASP_CMD`` when set, else the preset's ``vasp_command``."""
    return configured_vasp_command() or settings.vasp.command


def launched(command: str, launcher: str | None, ntasks: int = 1) -> str:
    """``command`` under its MPI launcher.

    ``launcher`` is ``srun`` (Slurm: the task count comes from the allocation), ``mpirun``
    (``-np ntasks``, only when ``ntasks`` > 1) or None. A command that starts with one of
    :data:`LAUNCHERS` already says how it is launched and is returned unchanged.
    """
    words = shlex.split(command)
    if not words or Path(words[0]).name in LAUNCHERS or launcher is None:
        return command
    if launcher == "srun":
        return f"srun {command}"
    if launcher == "mpirun" and ntasks > 1:
        return f"mpirun -np {ntasks} {command}"
    return command


def vasp_steps(command: str) -> list[str]:
    """Shell lines of a job: SCF, its convergence check, CHGCAR to ``bands/``, bands."""
    return [
        f"(cd scf && {command} > vasp.out 2>&1)",
        f'grep -q "{_EDIFF_REACHED}" scf/OUTCAR'
        ' || { echo "VASP SCF did not converge (scf/OUTCAR)" >&2; exit 3; }',
        "cp scf/CHGCAR bands/CHGCAR",
        f"(cd bands && {command} > vasp.out 2>&1)",
    ]


def _has(folder: Path, name: str) -> bool:
    return (folder / name).is_file() or (folder / f"{name}.gz").is_file()


def vasp_outputs_complete(directory: Path) -> bool:
    """True when a prepared VASP folder holds the outputs of a finished bands step.

    That is ``bands/vasprun.xml``, or ``bands/EIGENVAL`` with an ``OUTCAR`` (of the bands
    step or of the SCF in ``scf/``) for the Fermi level, moments and convergence.
    """
    bands, scf = directory / "bands", directory / "scf"
    if _has(bands, "vasprun.xml"):
        return True
    return _has(bands, "EIGENVAL") and (_has(bands, "OUTCAR") or _has(scf, "OUTCAR"))


def _tail(path: Path, n: int = 5) -> list[str]:
    if not path.is_file():
        return []
    lines = [x for x in path.read_text(errors="replace").splitlines() if x.strip()]
    return lines[-n:]


def _step(name: str, command: str, directory: Path, timeout: float) -> StepRecord:
    folder = directory / name
    log = folder / "vasp.out"
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    rc, timed_out, wall = run_process(command, folder, log, timeout, env)
    outcar = folder / "OUTCAR"
    text = outcar.read_text(errors="replace") if outcar.is_file() else ""
    return StepRecord(
        name=name,
        command=shlex.split(command),
        returncode=rc,
        wall_s=wall,
        timed_out=timed_out,
        converged=outcar_converged(outcar) if name == "scf" and text else None,
        job_done=_DONE in text,
        output=f"{name}/vasp.out",
        errors=[] if rc == 0 else _tail(log),
    )


def run_vasp(
    directory: Path,
    command: str | None = None,
    timeout_scf_s: float | None = None,
    timeout_bands_s: float | None = None,
) -> RunRecord:
    """Run ``scf/`` then ``bands/`` of a prepared VASP folder here and write ``run.json``.

    ``command`` defaults to ``ALTERMAG_VASP_CMD``; without either the status is
    ``missing_executable`` and nothing runs. Time limits as in
    :func:`~altermag.dft.qe.run.run_qe` (``settings.json``, else one hour each). Never
    raises for a failed calculation: the status says what happened.
    """
    directory = Path(directory)
    _, t_scf, t_bands, record = start_run(directory, timeout_scf_s, timeout_bands_s, "vasp")
    command = command or configured_vasp_command()
    if command is None:
        return record("missing_executable", f"no VASP command: set {VASP_CMD_ENV}", [])
    exe = shlex.split(command)[0]
    if shutil.which(exe) is None:
        return record("missing_executable", f"{exe} not found", [])
    scf = _step("scf", command, directory, t_scf)
    steps = [scf]
    if scf.timed_out:
        return record("timeout", f"SCF exceeded {t_scf:.0f} s", steps)
    if scf.returncode != 0 or not (directory / "scf" / "OUTCAR").is_file():
        return record("failed", "SCF failed: " + ("; ".join(scf.errors) or "no OUTCAR"), steps)
    if not scf.converged:
        return record("unconverged", "SCF did not reach EDIFF (scf/OUTCAR)", steps)
    chgcar = directory / "scf" / "CHGCAR"
    if not chgcar.is_file():
        return record("failed", "SCF wrote no CHGCAR (LCHARG = .TRUE. is needed)", steps)
    shutil.copyfile(chgcar, directory / "bands" / "CHGCAR")
    bands = _step("bands", command, directory, t_bands)
    steps.append(bands)
    if bands.timed_out:
        return record("timeout", f"bands step exceeded {t_bands:.0f} s", steps)
    if bands.returncode != 0 or not vasp_outputs_complete(directory):
        return record(
            "failed", "bands step failed: " + ("; ".join(bands.errors) or "no outputs"), steps
        )
    return record("completed", "SCF converged and bands computed", steps)
