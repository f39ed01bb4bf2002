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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from altermag.config import get_settings
from altermag.dft.codes import UnknownCodeError, available_codes, get_code
from altermag.dft.deck import collinear_moments
from altermag.dft.presets import DEFAULT_PRESET, SEARCH_ORDERS, load_preset
from altermag.dft.protocol import BandAnalysis, DftCode
from altermag.dft.settings import DftSettings
from altermag.dft.verdict import DFTVerdict
from altermag.errors import DftError
from altermag.hpc.slurm import (
    SLURM_WAIT_S,
    JobState,
    Resources,
    SlurmClient,
    SlurmError,
    slurm_script,
)
from altermag.result import SpinGroupResult
from altermag.structure import MagneticStructure

if TYPE_CHECKING:
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
    "outputs_complete",
    "slurm_configured",
    "verification_target",
    "verify_many",
    "verify_material",
]

Runner = Literal["auto", "local", "slurm", "prepare"]
RUNNERS = ("auto", "local", "slurm", "prepare")
CODES = ("auto", "qe", "vasp")
"""The built-in choices of ``code``; :func:`altermag.dft.codes.register` adds others."""

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


def choose_code(code: str, structure: MagneticStructure, settings: DftSettings) -> str:
    """Resolve ``code="auto"``: the first registered code (QE, then VASP, then any added
    one) that is :meth:`~altermag.dft.protocol.DftCode.available_here` — QE when its
    pseudopotentials exist here for every element, VASP when a VASP command or POTCAR folder
    is configured — else QE (decks for a machine that has them)."""
    if code != "auto":
        return code
    names = available_codes()
    for name in names:
        if get_code(name).available_here(structure, settings):
            return name
    return names[0]


def verification_target(
    record: MaterialRecord, rank: int | None = None
) -> tuple[MagneticStructure, SpinGroupResult]:
    """The structure with moments to compute and its spin-group prediction.

    A structure stored with moments is computed as it is. For one without moments the k = 0
    collinear orders are enumerated (:func:`altermag.analyze`) and the order of enumeration
    rank ``rank`` is taken (the DFT ground state's, or one the caller imposes); without a
    rank, the best-ranked altermagnetic order (else the best-ranked compensated order, which
    then tests the absence of splitting).

    Raises
    ------
    VerifyError
        When a structure without moments hosts no compensated collinear order (or none of
        rank ``rank``), or one was stored with zero moments (nonmagnetic).
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
    if rank is not None:
        found = next((o for o in orders if o.rank == rank), None)
        if found is None:
            raise VerifyError(
                f"material {record.id} ({record.formula}) has no enumerated order of rank {rank}"
            )
        chosen = found
    else:
        chosen = next((o for o in orders if o.result.verdict == "altermagnet"), orders[0])
    # the signs refer to the enumeration cell (result.order_cell when not the stored cell)
    ordered = ordered_structure(structure, result, rank=chosen.rank, moment=DEFAULT_MOMENT)
    return ordered, chosen.result


def job_key(structure: MagneticStructure, code: str, settings: DftSettings) -> str:
    """SHA-256 of what determines a calculation: structure with moments, code, settings."""
    from altermag.store import settings_hash

    return settings_hash(
        {"structure": structure.content_hash(), "code": code, "settings": settings.to_dict()}
    )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "material"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def verify_material(
    store: Store,
    material_id: int,
    code: str = "qe",
    preset: str = DEFAULT_PRESET,
    workdir: Path | str | None = None,
    runner: Runner = "auto",
    slurm_resources: Resources | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    slurm_client: SlurmClient | None = None,
    slurm_commands: list[str] | None = None,
    wait_s: float = SLURM_WAIT_S,
    commands: Mapping[str, str] | None = None,
    force: bool = False,
    on_status: Callable[[str], None] | None = None,
    ground_state: bool = True,
    order: int | None = None,
    max_orders: int = SEARCH_ORDERS,
    ground_state_commands: list[str] | None = None,
) -> VerifyOutcome:
    """Verify one stored material with DFT and record the job and its verdict in the store.

    A material stored without moments first gets the DFT ground-state search
    (:func:`altermag.dft.groundstate.stored_search`, a DFT job of kind ``groundstate``): the
    band check then runs on the ground-state order only when it is altermagnetic; any other
    winner is recorded as "ground state not altermagnetic" with the energies (and no bands are
    computed), and a near-degenerate winner is reported as such. A material stored with
    moments (a measured order) is computed as it is.

    Parameters
    ----------
    store
        The store holding the material; the DFT job and its result are written there.
    material_id
        Id of the material (``altermag db`` / the REST API list them).
    code
        ``qe`` (Quantum ESPRESSO), ``vasp``, a code added with
        :func:`altermag.dft.codes.register`, or ``auto`` (:func:`choose_code`: QE when its
        pseudopotentials exist here for every element, else VASP when a VASP command or
        POTCAR folder is configured, else QE decks for a machine that has them).
    preset, overrides
        DFT preset name (package data, ``altermag/dft/presets``) and flat key overrides
        (layered ``_base`` < preset < overrides, validated); both enter the job key.
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
    commands
        The command that runs each code here, by code name (default: ``pw.x`` for QE,
        ``ALTERMAG_VASP_CMD`` for VASP).
    force
        Recompute even when a verdict for the same key is stored.
    on_status
        Called with each status the job moves to (for logs and progress reports).
    ground_state
        Decide the order of a material without moments by the ground-state search (default);
        False imposes the best-ranked altermagnetic order without computing energies.
    order
        Impose the enumerated order of this rank (no ground-state search).
    max_orders
        Orders of the ranking the ground-state search computes.
    ground_state_commands
        Replace the job commands of each order's Slurm job in the ground-state search
        (default: ``srun pw.x`` or the VASP command; ``$ALTERMAG_ORDER`` holds the label).
    """
    if code != "auto":
        try:
            get_code(code)
        except UnknownCodeError as exc:
            raise VerifyError(f"code must be auto or one of {available_codes()}: {exc}") from None
    if runner not in RUNNERS:
        raise VerifyError(f"runner must be one of {RUNNERS}, got {runner!r}")
    record = store.material(material_id)
    if record is None:
        raise VerifyError(f"no material with id {material_id} in {store}")
    settings = load_preset(preset, overrides)
    searched: dict[str, Any] | None = None
    if order is None and ground_state and record.magnetic_structure().magmoms is None:
        gate = _ground_state_first(
            store,
            record,
            code,
            settings,
            workdir,
            runner,
            max_orders,
            force,
            on_status,
            {
                "slurm_client": slurm_client,
                "slurm_resources": slurm_resources,
                "slurm_commands": ground_state_commands,
                "wait_s": wait_s,
            },
        )
        if isinstance(gate, VerifyOutcome):
            return gate
        searched = gate
        order = int(gate["rank"])
    structure, prediction = verification_target(record, order)
    code = choose_code(code, structure, settings)
    impl = get_code(code)
    key = job_key(structure, code, settings)
    resources = slurm_resources or settings.resources
    given = dict(commands or {})
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
                **({"ground_state_job": searched["job_id"]} if searched else {}),
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
        if searched is not None:
            extra = {**extra, "ground_state": searched}
        out = _finish(store, job_id, directory, impl, used, extra, notify, outcome, fail)
        if searched is not None and out.verdict is not None:
            _band_check_on_search(store, searched, job_id, out)
        return out

    slurm_file = directory / "slurm.json"
    resuming = job is not None and job.status in ("submitted", "running") and slurm_file.is_file()
    if resuming:
        used = "slurm"
    else:
        if job is not None and job.status == "prepared" and impl.outputs_complete(directory):
            # computed elsewhere from the decks written before: keep them (they are the
            # inputs the outputs are checked against) and parse
            store.set_dft_status(job_id, "prepared", str(directory))
            notify("prepared")
            return finish("prepare", {})
        try:
            deck = impl.input_set(structure, prediction, settings, resources)
        except ValueError as exc:  # e.g. a POTCAR folder without the named POTCARs
            return fail("prepare", f"cannot write the {code} decks: {exc}")
        deck.write(directory)
        missing = deck.missing
        store.set_dft_status(job_id, "prepared", str(directory))
        notify("prepared")
        local = impl.local_command(given.get(code))
        used = _choose_runner(runner, impl, missing, local, slurm_client)
        why = None
        if used == "prepare":
            why = impl.lacks(missing, settings) if missing else "runner 'prepare'"
        elif used == "local" and (missing or local is None):
            why = impl.lacks(missing, settings) if missing else impl.no_command(given.get(code))
        elif used == "slurm" and missing and not impl.slurm_can_run(missing) and not slurm_commands:
            why = impl.lacks(missing, settings) + ": the Slurm job could not run"
        if why is not None:
            return outcome("prepared", "prepare", f"decks written to {directory} ({why})")

    if used == "local":
        store.set_dft_status(job_id, "running")
        notify("running")
        run = impl.run(directory, local or "")
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
    if state != JobState.COMPLETED or not impl.outputs_complete(directory):
        return fail(
            "slurm", f"Slurm job {slurm_id} ended {state} without a finished bands run", extra
        )
    return finish("slurm", extra)


def _ground_state_first(
    store: Store,
    record: MaterialRecord,
    code: str,
    settings: DftSettings,
    workdir: Path | str | None,
    runner: str,
    max_orders: int,
    force: bool,
    on_status: Callable[[str], None] | None,
    slurm: Mapping[str, Any],
) -> VerifyOutcome | dict[str, Any]:
    """The ground-state search before the band check (see :func:`verify_material`).

    Returns the outcome to report when the search is not finished, found no ground state, or
    found one that is not altermagnetic (recorded in the search's job as ``band_check``
    ``ground state not altermagnetic`` with the energies); else the ground state to check:
    ``{"job_id", "label", "rank", "verdict", "wave", "margin_mev_per_magnetic_atom",
    "near_degenerate"}``.
    """
    from altermag.dft.groundstate import (
        NOT_ALTERMAGNETIC,
        GroundStateError,
        plan_orders,
        stored_search,
    )

    bare = record.magnetic_structure()
    gs_code = choose_code(code, bare, settings)
    try:
        found = stored_search(
            store,
            record.id,
            settings,
            code=gs_code,
            runner=runner,
            workdir=workdir,
            max_orders=max_orders,
            force=force,
            **slurm,
        )
    except GroundStateError as exc:
        raise VerifyError(f"material {record.id} ({record.formula}): {exc}") from None
    if on_status is not None:
        on_status(found.status)

    def report(status: str, message: str, verdict: dict[str, Any] | None = None) -> VerifyOutcome:
        return VerifyOutcome(
            record.id,
            found.job_id,
            status,
            str(found.directory),
            found.runner,
            found.reused,
            message,
            verdict,
            code=gs_code,
        )

    if found.status != "completed" or found.data is None:
        return report(found.status, found.message)
    data = found.data
    gs = data.get("ground_state")
    near = bool(data.get("near_degenerate"))
    if gs is None or gs["verdict"] != "altermagnet":
        if gs is None:
            status, reason = "inconclusive", "; ".join(data.get("messages") or [])
        else:
            status, reason = NOT_ALTERMAGNETIC, _not_altermagnetic_reason(gs, near)
        check = {"status": status, "reason": reason, "near_degenerate": near, "band_check": None}
        if data.get("band_check") != check:
            store.set_dft_result(found.job_id, {**data, "band_check": check}, None)
        energies = [
            {k: o.get(k) for k in ("label", "verdict", "wave", "status", _REL)}
            for o in data["orders"]
        ]
        verdict = {**check, "ground_state": gs, "orders": energies}
        return report("completed", f"{status}: {reason}", verdict)
    plan = next(p for p in plan_orders(bare, max_orders) if p.label == gs["label"])
    return {
        "job_id": found.job_id,
        **gs,
        "rank": plan.rank,
        "near_degenerate": near,
    }


_REL = "relative_energy_mev_per_magnetic_atom"


def _not_altermagnetic_reason(gs: Mapping[str, Any], near: bool) -> str:
    margin = gs.get("margin_mev_per_magnetic_atom")
    gap = "" if margin is None else f", {margin:.1f} meV per magnetic atom below the next order"
    return (
        f"the ground state is {gs['label']} ({gs['verdict']}){gap}"
        + ("; near-degenerate" if near else "")
        + "; no band check run"
    )


def _band_check_on_search(
    store: Store, searched: Mapping[str, Any], job_id: int, out: VerifyOutcome
) -> None:
    """Record the band check on the winner in the search's job (the material's
    ``ground_state``), and say in the outcome when the winner is near-degenerate."""
    if searched.get("near_degenerate"):
        out.message += (
            f"; near-degenerate ground state {searched['label']} (margin "
            f"{searched['margin_mev_per_magnetic_atom']:.1f} meV per magnetic atom)"
        )
    record = store.material(out.material_id)
    job = next((j for j in record.dft_jobs if j.id == searched["job_id"]), None) if record else None
    if job is None or not job.verdict or out.verdict is None:
        return
    check = {
        "status": out.verdict.get("status"),
        "reason": out.verdict.get("reason"),
        "near_degenerate": bool(searched.get("near_degenerate")),
        "job_id": job_id,
    }
    store.set_dft_result(job.id, {**job.verdict, "band_check": check}, None)


def verify_many(
    store: Store,
    material_ids: Iterable[int],
    code: str = "qe",
    preset: str = DEFAULT_PRESET,
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
    return [round(float(m), 3) + 0.0 for m in collinear_moments(structure)]


def _find_job(record: MaterialRecord, code: str, key: str) -> DftJobRecord | None:
    jobs = [j for j in record.dft_jobs if j.code == code and j.parameters.get("key") == key]
    return jobs[-1] if jobs else None


def outputs_complete(directory: Path, code: str = "qe") -> bool:
    """True when a job folder holds a finished bands run of ``code`` (parsable without
    running anything): :meth:`~altermag.dft.protocol.DftCode.outputs_complete`."""
    return get_code(code).outputs_complete(directory)


def _choose_runner(
    runner: Runner, code: DftCode, missing: list[str], local: str | None, client: SlurmClient | None
) -> str:
    if runner != "auto":
        return runner
    slurm = client is not None or slurm_configured()
    here = not missing and local is not None
    if code.prefers_slurm:
        return "slurm" if slurm else ("local" if here else "prepare")
    return "local" if here else ("slurm" if slurm else "prepare")


def analyze_outputs(directory: Path, code: str) -> BandAnalysis:
    """Parse and judge a finished job folder of any registered code."""
    return get_code(code).analyze(directory)


def _finish(
    store: Store,
    job_id: int,
    directory: Path,
    code: DftCode,
    used: str,
    extra: dict[str, Any],
    notify: Callable[[str], None],
    outcome: Callable[..., VerifyOutcome],
    fail: Callable[..., VerifyOutcome],
) -> VerifyOutcome:
    """Parse, judge, draw and store a finished run (the same for every code).

    Outputs that cannot be read at all (a truncated XML, an unreadable vasprun.xml) are
    stored as an ``inconclusive`` verdict with the reason, never as a judgement of bands.
    """
    from altermag.dft.plot import band_figure

    errors: tuple[type[BaseException], ...] = (*code.output_errors, OSError, ValueError)
    figure: Path | None = directory / "bands.png"
    try:
        analysis = code.analyze(directory)
    except errors as exc:
        try:
            verdict = _unreadable(directory, code.name, f"cannot read the outputs: {exc}")
        except errors as again:  # not even the prepared prediction: nothing to judge
            return fail(used, f"cannot parse the outputs in {directory}: {again}", extra)
        figure = None
    else:
        verdict = analysis.verdict
        if analysis.ranges and figure is not None:
            figure.write_bytes(band_figure(analysis, fmt="png"))
        else:
            figure = None
    largest = max((s.max_splitting_ev for s in verdict.segments), default=None)
    shown = str(figure) if figure is not None else None
    data = {**verdict.to_dict(), "figure": shown, "runner": used, **extra}
    store.set_dft_result(job_id, data, largest, status="completed")
    notify("completed")
    return outcome(
        "completed",
        used,
        f"{verdict.status} ({verdict.observed}): {verdict.reason}",
        verdict=data,
        max_splitting_ev=largest,
        figure=shown,
        slurm_job_id=extra.get("slurm_job_id"),
    )


def _unreadable(directory: Path, code: str, reason: str) -> DFTVerdict:
    """The ``inconclusive`` verdict of a prepared folder whose outputs cannot be read."""
    from altermag.dft.judging import load_settings, unusable_verdict

    prediction = SpinGroupResult.from_dict(json.loads((directory / "spin_group.json").read_text()))
    settings = load_settings(directory)
    formula = ""
    if (directory / "structure.json").is_file():
        formula = MagneticStructure.from_dict(
            json.loads((directory / "structure.json").read_text())
        ).formula
    return unusable_verdict(prediction, [reason], settings, code, formula)
