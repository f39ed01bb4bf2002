"""Verify a stored material with DFT: prepare → run or submit → parse → verdict → store → figure.

:func:`verify_material` is the one orchestration used by the CLI (``altermag dft verify``)
and the Prefect flows (``verify``, ``discover``); :func:`verify_many` is its loop over
several materials. For a material of the store it

1. chooses the magnetic order to compute: the moments stored with the structure, or, for a
   structure given without moments, the best-ranked enumerated altermagnetic order (each
   magnetic site given ±``DEFAULT_MOMENT`` μB), with its spin-group prediction;
2. chooses the code (``qe``, ``vasp``, or ``auto``: QE when its pseudopotentials exist here
   for every element, else VASP when a VASP command or POTCAR folder is configured);
3. registers a DFT job keyed by the structure, its moments, the code and every setting of the
   preset (``parameters["key"]``), and writes the decks into the job folder (QE: ``scf.in``,
   ``bands.in``; VASP: ``scf/`` and ``bands/`` with POSCAR, INCAR, KPOINTS, POTCAR.spec);
4. runs them here (``pw.x``, one MPI rank; VASP only with ``ALTERMAG_VASP_CMD``), or
   submits ``job.sbatch`` to Slurm and polls, or stops at ``prepared`` (decks written for a
   machine that has the pseudopotentials, POTCARs or VASP);
5. parses the outputs (:func:`~altermag.dft.qe.analysis.analyze_qe` or
   :func:`~altermag.dft.vasp.parse.analyze_vasp`), judges the splitting against the
   prediction the same way for both codes, stores the verdict JSON and the largest spin
   splitting, and writes the band figure ``bands.png`` into the job folder.

Job statuses move ``pending`` → ``prepared`` → (``running`` | ``submitted`` → ``running``) →
``completed`` or ``failed``. The function is idempotent: a job with a verdict for the same
key is returned as it is; a ``submitted`` job is polled again instead of resubmitted; a
``prepared`` folder whose outputs were computed elsewhere and copied back is parsed; a
``failed`` job is retried.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from altermag.config import get_settings
from altermag.dft.presets import load_preset
from altermag.errors import DftError
from altermag.hpc.slurm import JobState, Resources, SlurmClient, SlurmError, slurm_script
from altermag.result import SpinGroupResult
from altermag.structure import MagneticStructure

if TYPE_CHECKING:
    from altermag.dft.qe.analysis import QEAnalysis
    from altermag.dft.qe.run import QERunRecord
    from altermag.dft.vasp.parse import VaspAnalysis
    from altermag.store import Store
    from altermag.store.records import DftJobRecord, MaterialRecord

__all__ = [
    "CODES",
    "DEFAULT_MOMENT",
    "Runner",
    "VerifyError",
    "VerifyOutcome",
    "analyze_outputs",
    "choose_code",
    "job_key",
    "missing_qe_pseudopotentials",
    "outputs_complete",
    "slurm_configured",
    "vasp_configured",
    "verification_target",
    "verify_many",
    "verify_material",
]

Runner = Literal["auto", "local", "slurm", "prepare"]
RUNNERS = ("auto", "local", "slurm", "prepare")
CODES = ("auto", "qe", "vasp")

#: μB given to each magnetic site of an enumerated order (QE's starting magnetization is
#: this over the preset's saturation moment; the SCF finds the real size).
DEFAULT_MOMENT = 3.0


class VerifyError(DftError, ValueError):
    """The material cannot be verified (unknown id, no compensated order, unknown code)."""


@dataclass
class VerifyOutcome:
    """What :func:`verify_material` did for one material (JSON-friendly)."""

    material_id: int
    job_id: int
    status: str
    """The job's status in the store after this call."""
    directory: str
    runner: str
    """The runner that was used: ``local``, ``slurm``, ``prepare`` or ``stored``."""
    reused: bool
    """True when a stored verdict for the same settings was returned without any work."""
    message: str
    verdict: dict[str, Any] | None = None
    max_splitting_ev: float | None = None
    figure: str | None = None
    slurm_job_id: str | None = None
    code: str = "qe"
    """The code of the job (``qe`` or ``vasp``; ``auto`` resolved)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def slurm_configured() -> bool:
    """True when ``ALTERMAG_SLURM`` is set to a true value (1, true, yes).

    ``runner="auto"`` submits decks it cannot run here to Slurm only then; ``SLURM_CONF``
    and the usual ``SBATCH_*`` variables select the cluster and its defaults.
    """
    return os.environ.get("ALTERMAG_SLURM", "").strip().lower() in ("1", "true", "yes", "on")


def vasp_configured() -> bool:
    """True when this site can run VASP somewhere: a VASP command (``ALTERMAG_VASP_CMD``) or
    a POTCAR folder (``ALTERMAG_VASP_PSP_DIR`` / ``PMG_VASP_PSP_DIR``) is set."""
    from altermag.dft.vasp.inputs import find_potcar_dir
    from altermag.dft.vasp.run import configured_vasp_command

    return configured_vasp_command() is not None or find_potcar_dir() is not None


def missing_qe_pseudopotentials(elements: Iterable[str], settings: Mapping[str, Any]) -> list[str]:
    """Elements without a pseudopotential of the preset's functional in the folder here."""
    from altermag.dft.qe.pseudo import PseudoError, find_pseudopotentials

    missing = []
    for el in dict.fromkeys(elements):
        try:
            find_pseudopotentials(
                [el], settings["functional"], None, settings.get("pseudopotentials") or None
            )
        except PseudoError:
            missing.append(el)
    return missing


def choose_code(code: str, structure: MagneticStructure, settings: Mapping[str, Any]) -> str:
    """Resolve ``code="auto"``: QE when pseudopotentials exist here for every element, else
    VASP when :func:`vasp_configured`, else QE (decks for a machine that has them)."""
    if code != "auto":
        return code
    if not missing_qe_pseudopotentials(structure.species, settings):
        return "qe"
    return "vasp" if vasp_configured() else "qe"


def verification_target(record: MaterialRecord) -> tuple[MagneticStructure, SpinGroupResult]:
    """The structure with moments to compute and its spin-group prediction.

    A structure stored with moments is computed as it is. For one without moments the k = 0
    collinear orders are enumerated (:func:`altermag.analyze`) and the best-ranked
    altermagnetic order is taken (else the best-ranked compensated order, which then tests
    the absence of splitting).

    Raises
    ------
    VerifyError
        When a structure without moments hosts no compensated collinear order, or one was
        stored with zero moments (nonmagnetic).
    """
    import altermag

    structure = record.magnetic_structure()
    result = altermag.analyze(structure)
    if not result.enumerated:
        if result.verdict == "nonmagnetic":
            raise VerifyError(f"material {record.id} ({record.formula}) carries no moments")
        return structure, result
    if not result.orders:
        raise VerifyError(
            f"material {record.id} ({record.formula}) has no compensated collinear order"
        )
    from altermag.symmetry.enumerate import ordered_structure

    orders = sorted(result.orders, key=lambda o: o.rank)
    chosen = next((o for o in orders if o.result.verdict == "altermagnet"), orders[0])
    # the signs refer to the enumeration cell (result.order_cell when not the stored cell)
    ordered = ordered_structure(structure, result, rank=chosen.rank, moment=DEFAULT_MOMENT)
    return ordered, chosen.result


def job_key(structure: MagneticStructure, code: str, settings: Mapping[str, Any]) -> str:
    """SHA-256 of what determines a calculation: structure with moments, code, settings."""
    from altermag.store import settings_hash

    return settings_hash(
        {"structure": structure.content_hash(), "code": code, "settings": dict(settings)}
    )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "material"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _missing_pseudos(directory: Path) -> list[str]:
    settings = json.loads((directory / "settings.json").read_text())
    return list(settings.get("missing_pseudopotentials", []))


def verify_material(
    store: Store,
    material_id: int,
    code: str = "qe",
    preset: str = "fast",
    workdir: Path | str | None = None,
    runner: Runner = "auto",
    slurm_resources: Resources | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    slurm_client: SlurmClient | None = None,
    slurm_commands: list[str] | None = None,
    wait_s: float = 3600.0,
    pw: str = "pw.x",
    vasp: str | None = None,
    force: bool = False,
    on_status: Callable[[str], None] | None = None,
) -> VerifyOutcome:
    """Verify one stored material with DFT and record the job and its verdict in the store.

    Parameters
    ----------
    store
        The store holding the material; the DFT job and its result are written there.
    material_id
        Id of the material (``altermag db`` / the REST API list them).
    code
        ``qe`` (Quantum ESPRESSO), ``vasp``, or ``auto`` (:func:`choose_code`: QE when its
        pseudopotentials exist here for every element, else VASP when
        :func:`vasp_configured`, else QE decks for a machine that has them).
    preset, overrides
        DFT preset name in ``altermag/dft/presets`` and key overrides; both enter the job key.
    workdir
        Parent folder of the job folders (default ``dft_inputs/generated``).
    runner
        ``local``: run here (pw.x; VASP only with a configured command); ``slurm``: submit
        ``job.sbatch`` and poll; ``prepare``: write the decks only; ``auto``: for QE, local
        when pseudopotentials exist here for every element and pw.x is installed, else Slurm
        when :func:`slurm_configured` (or a ``slurm_client`` is given), else prepare; for
        VASP, Slurm when configured, else local when a VASP command is configured and the
        POTCARs were written, else prepare.
    slurm_resources
        ``#SBATCH`` resources of the job script (default: the preset's ``resources``).
    slurm_client
        Client for the cluster (default: the Slurm commands on PATH).
    slurm_commands
        Replace the job script's commands (e.g. site-specific ``srun`` options or module
        set-up); default: the SCF and bands steps of the prepared deck. A VASP deck without
        POTCAR files is only submitted with such commands (they may provide the POTCARs).
    wait_s
        How long to poll a submitted job. A job still queued or running after that stays
        ``submitted``/``running``; calling again resumes polling the same Slurm job.
    pw
        The pw.x executable for the local QE runner.
    vasp
        The VASP command for the local VASP runner (default ``ALTERMAG_VASP_CMD``).
    force
        Recompute even when a verdict for the same key is stored.
    on_status
        Called with each status the job moves to (for logs and progress reports).
    """
    if code not in CODES:
        raise VerifyError(f"code must be one of {CODES}, got {code!r}")
    if runner not in RUNNERS:
        raise VerifyError(f"runner must be one of {RUNNERS}, got {runner!r}")
    record = store.material(material_id)
    if record is None:
        raise VerifyError(f"no material with id {material_id} in {store}")
    structure, prediction = verification_target(record)
    settings = load_preset(preset, dict(overrides or {}))
    code = choose_code(code, structure, settings)
    key = job_key(structure, code, settings)
    resources = slurm_resources or Resources(**settings.get("resources", {}))
    job = _find_job(record, code, key)

    def notify(status: str) -> None:
        if on_status is not None:
            on_status(status)

    if job is not None and job.status == "completed" and job.verdict and not force:
        return VerifyOutcome(
            material_id,
            job.id,
            job.status,
            job.directory or "",
            "stored",
            True,
            "verdict already stored for these settings",
            job.verdict,
            job.max_splitting_ev,
            job.verdict.get("figure"),
            job.verdict.get("slurm_job_id"),
            code,
        )
    # job folders: <workdir or $ALTERMAG_HOME/dft_inputs/generated>/<formula>-m<id>-<key>/<code>
    root = Path(workdir) if workdir is not None else get_settings().dft_dir
    directory = (
        Path(job.directory)
        if job is not None and job.directory
        else root / f"{_slug(record.formula)}-m{material_id}-{key[:8]}" / code
    ).resolve()
    if job is None:
        job_id = store.add_dft_job(
            material_id,
            code,
            directory=str(directory),
            parameters={
                "key": key,
                "preset": preset,
                "overrides": dict(overrides or {}),
                "moments": [float(m) for m in _signed_moments(structure)],
                "predicted_verdict": prediction.verdict,
                "predicted_wave": prediction.wave,
                "form_factor": prediction.form_factor,
            },
        )
        notify("pending")
    else:
        job_id = job.id

    def outcome(status: str, used: str, message: str, **kw: Any) -> VerifyOutcome:
        return VerifyOutcome(
            material_id, job_id, status, str(directory), used, False, message, code=code, **kw
        )

    def fail(used: str, message: str, extra: dict[str, Any] | None = None) -> VerifyOutcome:
        store.set_dft_result(
            job_id, {"error": message, "runner": used, **(extra or {})}, None, status="failed"
        )
        notify("failed")
        return outcome("failed", used, message)

    def finish(used: str, extra: dict[str, Any]) -> VerifyOutcome:
        return _finish(store, job_id, directory, code, used, extra, notify, outcome, fail)

    slurm_file = directory / "slurm.json"
    resuming = job is not None and job.status in ("submitted", "running") and slurm_file.is_file()
    if resuming:
        used = "slurm"
    else:
        try:
            missing = _write_deck(code, structure, prediction, settings, directory, resources)
        except ValueError as exc:  # a POTCAR folder without the named POTCARs
            return fail("prepare", f"cannot write the {code} decks: {exc}")
        store.set_dft_status(job_id, "prepared", str(directory))
        notify("prepared")
        if job is not None and job.status == "prepared" and outputs_complete(directory, code):
            return finish("prepare", {})
        local = _local_command(code, pw, vasp)
        used = _choose_runner(runner, code, missing, local, slurm_client)
        why = None
        if used == "prepare":
            why = _lacks(code, settings, missing) if missing else "runner 'prepare'"
        elif used == "local" and (missing or local is None):
            why = _lacks(code, settings, missing) if missing else _no_command(code, pw)
        elif used == "slurm" and code == "vasp" and missing and slurm_commands is None:
            why = _lacks(code, settings, missing) + ": the Slurm job could not run"
        if why is not None:
            return outcome("prepared", "prepare", f"decks written to {directory} ({why})")

    if used == "local":
        store.set_dft_status(job_id, "running")
        notify("running")
        run = _run_here(code, directory, local or pw)
        if not run.ok:
            return fail("local", f"{run.status}: {run.message}", {"run": run.to_dict()})
        return finish("local", {"run": run.to_dict()})

    client = slurm_client or SlurmClient()
    if resuming:
        slurm_id = str(json.loads(slurm_file.read_text())["job_id"])
    else:
        script = directory / "job.sbatch"
        if slurm_commands is not None:
            script.write_text(
                slurm_script(
                    list(slurm_commands),
                    resources,
                    job_name=f"altermag-m{material_id}",
                    env={"OMP_NUM_THREADS": "1"},
                )
            )
        try:
            slurm_id = client.submit(script)
        except SlurmError as exc:
            return fail("slurm", f"sbatch failed: {exc}")
        slurm_file.write_text(json.dumps({"job_id": slurm_id, "submitted_at": _now()}))
        store.set_dft_status(job_id, "submitted")
        notify("submitted")
    try:
        state = client.wait(slurm_id, timeout=wait_s)
    except SlurmError as exc:
        return outcome("submitted", "slurm", f"cannot poll Slurm job {slurm_id}: {exc}")
    extra = {"slurm_job_id": slurm_id, "slurm_state": str(state)}
    if not state.finished:
        status = "running" if state == JobState.RUNNING else "submitted"
        if status == "running" and (job is None or job.status != "running"):
            store.set_dft_status(job_id, "running")
            notify("running")
        return outcome(
            status,
            "slurm",
            f"Slurm job {slurm_id} is {state} after {wait_s:.0f} s; verify again to collect it",
            slurm_job_id=slurm_id,
        )
    if state != JobState.COMPLETED or not outputs_complete(directory, code):
        return fail(
            "slurm", f"Slurm job {slurm_id} ended {state} without a finished bands run", extra
        )
    return finish("slurm", extra)


def verify_many(
    store: Store,
    material_ids: Iterable[int],
    code: str = "qe",
    preset: str = "fast",
    workdir: Path | str | None = None,
    runner: Runner = "auto",
    slurm_resources: Resources | Mapping[str, Any] | None = None,
    *,
    on_status: Callable[[int, str], None] | None = None,
    **options: Any,
) -> list[dict[str, Any]]:
    """Verify each material once, in order; the outcomes as JSON-friendly dicts.

    The one loop behind ``altermag dft verify`` and the Prefect flow ``verify``: repeated ids
    are verified once, and a material that cannot be verified (:class:`VerifyError`: unknown
    id, no compensated order, no moments) gives ``{"material_id", "status": "error",
    "message"}`` instead of stopping the others. ``slurm_resources`` may be a
    :class:`~altermag.hpc.Resources` or its fields as a mapping; ``on_status(id, status)``
    follows every job; other keyword ``options`` go to :func:`verify_material`.
    """
    if isinstance(slurm_resources, Mapping):
        slurm_resources = Resources(**slurm_resources) if slurm_resources else None
    outcomes: list[dict[str, Any]] = []
    for mid in dict.fromkeys(material_ids):
        follow = None if on_status is None else (lambda s, m=mid: on_status(m, s))
        try:
            out = verify_material(
                store,
                mid,
                code,
                preset,
                workdir,
                runner,
                slurm_resources,
                on_status=follow,
                **options,
            )
        except VerifyError as exc:
            outcomes.append({"material_id": mid, "status": "error", "message": str(exc)})
            continue
        outcomes.append(out.to_dict())
    return outcomes


def _signed_moments(structure: MagneticStructure) -> list[float]:
    from altermag.dft.qe.inputs import collinear_moments

    return [round(float(m), 3) + 0.0 for m in collinear_moments(structure)]


def _find_job(record: MaterialRecord, code: str, key: str) -> DftJobRecord | None:
    jobs = [j for j in record.dft_jobs if j.code == code and j.parameters.get("key") == key]
    return jobs[-1] if jobs else None


def _write_deck(
    code: str,
    structure: MagneticStructure,
    prediction: SpinGroupResult,
    settings: dict[str, Any],
    directory: Path,
    resources: Resources,
) -> list[str]:
    """Write the code's decks; returns what this machine lacks to run them.

    QE: the elements without a pseudopotential here (the decks are then written for a
    machine that has them); VASP: ``["POTCAR"]`` when no POTCAR folder is configured.
    """
    if code == "vasp":
        from altermag.dft.vasp.inputs import write_vasp_inputs

        written = write_vasp_inputs(structure, prediction, settings, directory, resources)
        return [] if written.potcar_written else ["POTCAR"]
    from altermag.dft.qe.inputs import write_qe_inputs

    write_qe_inputs(
        structure, prediction, settings, directory, resources=resources, allow_missing_pseudos=True
    )
    return _missing_pseudos(directory)


def outputs_complete(directory: Path, code: str = "qe") -> bool:
    """True when a job folder holds a finished bands run (parsable without running anything).

    QE: ``scf.out`` and a ``bands.out`` that printed JOB DONE, and the XML; VASP:
    :func:`~altermag.dft.vasp.run.vasp_outputs_complete` (``bands/vasprun.xml``, or
    ``bands/EIGENVAL`` with an OUTCAR).
    """
    if code == "vasp":
        from altermag.dft.vasp.run import vasp_outputs_complete

        return vasp_outputs_complete(directory)
    from altermag.dft.qe.parse import parse_pw_output

    bands_out = directory / "bands.out"
    if not bands_out.is_file() or not (directory / "scf.out").is_file():
        return False
    xml = [*directory.glob("**/*.save/data-file-schema.xml*")]
    return bool(xml) and parse_pw_output(bands_out).job_done


def _local_command(code: str, pw: str, vasp: str | None) -> str | None:
    """The command that runs the code here, None when there is none."""
    if code == "vasp":
        from altermag.dft.vasp.run import configured_vasp_command

        return vasp or configured_vasp_command()
    return pw if shutil.which(pw) is not None else None


def _lacks(code: str, settings: Mapping[str, Any], missing: list[str]) -> str:
    if code == "vasp":
        return "no POTCAR files here: set ALTERMAG_VASP_PSP_DIR"
    return f"no {settings['functional']} pseudopotential here for {', '.join(missing)}"


def _no_command(code: str, pw: str) -> str:
    if code == "vasp":
        from altermag.dft.vasp.run import VASP_CMD_ENV

        return f"no VASP command configured: set {VASP_CMD_ENV}"
    return f"{pw} not installed"


def _choose_runner(
    runner: Runner, code: str, missing: list[str], local: str | None, client: SlurmClient | None
) -> str:
    if runner != "auto":
        return runner
    slurm = client is not None or slurm_configured()
    if code == "vasp":
        if slurm:
            return "slurm"
        return "local" if local is not None and not missing else "prepare"
    if not missing and local is not None:
        return "local"
    return "slurm" if slurm else "prepare"


def _run_here(code: str, directory: Path, command: str) -> QERunRecord:
    if code == "vasp":
        from altermag.dft.vasp.run import run_vasp

        return run_vasp(directory, command)
    from altermag.dft.qe.run import run_qe

    return run_qe(directory, command)


def analyze_outputs(directory: Path, code: str) -> QEAnalysis | VaspAnalysis:
    """Parse and judge a finished job folder of either code."""
    if code == "vasp":
        from altermag.dft.vasp.parse import analyze_vasp

        return analyze_vasp(directory)
    from altermag.dft.qe.analysis import analyze_qe

    return analyze_qe(directory)


def _finish(
    store: Store,
    job_id: int,
    directory: Path,
    code: str,
    used: str,
    extra: dict[str, Any],
    notify: Callable[[str], None],
    outcome: Callable[..., VerifyOutcome],
    fail: Callable[..., VerifyOutcome],
) -> VerifyOutcome:
    """Parse, judge, draw and store a finished run (the same for QE and VASP)."""
    from altermag.dft.plot import band_figure
    from altermag.dft.qe.parse import QEOutputError
    from altermag.dft.vasp.parse import VaspOutputError

    try:
        analysis = analyze_outputs(directory, code)
    except (QEOutputError, VaspOutputError, OSError, ValueError) as exc:
        return fail(used, f"cannot parse the outputs in {directory}: {exc}", extra)
    verdict = analysis.verdict
    figure = directory / "bands.png"
    figure.write_bytes(band_figure(analysis, fmt="png"))
    largest = max((s.max_splitting_ev for s in verdict.segments), default=None)
    data = {**verdict.to_dict(), "figure": str(figure), "runner": used, **extra}
    store.set_dft_result(job_id, data, largest, status="completed")
    notify("completed")
    return outcome(
        "completed",
        used,
        f"{verdict.status} ({verdict.observed}): {verdict.reason}",
        verdict=data,
        max_splitting_ev=largest,
        figure=str(figure),
        slurm_job_id=extra.get("slurm_job_id"),
    )
