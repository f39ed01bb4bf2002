"""A stored material's ground-state search: keyed, stored, reused and resumed.

The search of a material is a DFT job of kind ``groundstate`` whose ``parameters["key"]``
hashes what decides its energies (the structure without moments, the code, every setting of
the preset, the number of orders and whether the prior ranked them). Like
:func:`altermag.dft.verify.verify_material` it is idempotent: a completed search with the same
key is returned as it is; a ``prepared`` search whose order folders were computed elsewhere
(each holds its SCF output) is read and judged; otherwise the decks are written and run here
(``local``) or left for a machine that can run them (``prepare``).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from altermag.dft.groundstate.bandcheck import band_check_winner
from altermag.dft.groundstate.codes import order_code
from altermag.dft.groundstate.contract import GroundState, GroundStateError, OrderEnergy
from altermag.dft.groundstate.orders import other_orders, plan_orders
from altermag.dft.groundstate.search import (
    HYPOTHETICAL_SOURCES,
    RUNNERS,
    conclude,
    poll_groundstate,
    run_groundstate,
)
from altermag.dft.groundstate.slurm import submitted_jobs
from altermag.dft.presets import SEARCH_ORDERS
from altermag.dft.settings import DftSettings
from altermag.hpc.slurm import SLURM_WAIT_S, Resources, SlurmClient
from altermag.structure import MagneticStructure

__all__ = [
    "StoredSearch",
    "collect_groundstate",
    "search_key",
    "search_material",
    "stored_search",
]


@dataclass
class StoredSearch:
    """What :func:`stored_search` did for one material."""

    job_id: int
    status: str
    """``completed`` (``data`` holds the JSON contract), ``prepared`` (decks wait) or
    ``submitted`` (batch jobs queued or running)."""
    directory: Path
    runner: str
    """``local``, ``slurm``, ``prepare`` or ``stored`` (a completed search reused)."""
    reused: bool
    message: str
    data: dict[str, Any] | None = None
    code: str = "qe"


def search_key(
    structure: MagneticStructure,
    code: str,
    settings: DftSettings,
    max_orders: int,
    use_prior: bool = True,
) -> str:
    """SHA-256 of what decides a search's energies: the structure without moments, the code,
    the settings, and which orders (``max_orders``, prior or heuristic ranking)."""
    from altermag.store import settings_hash

    bare = structure.with_moments(None) if structure.magmoms is not None else structure
    return settings_hash(
        {
            "kind": "groundstate",
            "structure": bare.content_hash(),
            "code": code,
            "settings": settings.to_dict(),
            "max_orders": max_orders,
            "use_prior": use_prior,
        }
    )


def collect_groundstate(
    structure: MagneticStructure,
    settings: DftSettings,
    directory: Path,
    max_orders: int = SEARCH_ORDERS,
    code: str = "qe",
    use_prior: bool = True,
    source: str | None = None,
) -> dict[str, Any] | None:
    """The JSON contract of a prepared search whose every order folder holds its SCF output
    (computed elsewhere and copied back); None while any is missing."""
    energies = settings.for_energies()  # the settings the decks were written with
    impl = order_code(code)
    plans = plan_orders(structure, max_orders, use_prior)
    folders = [Path(directory) / p.label for p in plans]
    if not all((f / impl.output).is_file() for f in folders):
        return None
    orders: list[OrderEnergy] = []
    for plan, folder in zip(plans, folders, strict=True):
        orders.append(impl.read(folder, plan, energies, other_orders(plans, plan)))
    return conclude(orders, plans, structure, settings, code, source).to_dict()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "material"


def _runner(
    runner: str,
    code: str,
    structure: MagneticStructure,
    settings: DftSettings,
    client: SlurmClient | None,
) -> str:
    """``auto``: here when the code runs here for every element (QE: pw.x and the
    pseudopotentials), else Slurm when configured (``ALTERMAG_SLURM``) or a client is
    given, else decks only."""
    if runner != "auto":
        return runner
    from altermag.dft.codes import get_code
    from altermag.dft.verify import slurm_configured

    here = order_code(code).runs_here and shutil.which("pw.x") is not None
    if here and get_code(code).available_here(structure, settings):
        return "local"
    return "slurm" if client is not None or slurm_configured() else "prepare"


def stored_search(
    store: Any,
    material_id: int,
    settings: DftSettings,
    *,
    code: str = "qe",
    runner: str = "auto",
    workdir: Path | str | None = None,
    max_orders: int = SEARCH_ORDERS,
    relax: bool | None = None,
    use_prior: bool = True,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
    parallel: int | None = None,
    slurm_client: SlurmClient | None = None,
    slurm_resources: Resources | None = None,
    slurm_commands: Sequence[str] | None = None,
    wait_s: float = SLURM_WAIT_S,
) -> StoredSearch:
    """The ground-state search of a stored material, reused, collected, run, submitted or
    prepared.

    Parameters
    ----------
    runner
        ``local`` (here), ``slurm`` (one batch job per order, polled ``wait_s`` seconds; a
        search still ``submitted`` is polled again by the next call, never resubmitted),
        ``prepare`` (decks only) or ``auto`` (here when the code and its pseudopotentials
        are, else Slurm when configured or a ``slurm_client`` is given, else decks only).
    relax
        One vc-relax before the energies (only when run here); default on for hypothetical
        sources (:data:`~altermag.dft.groundstate.search.HYPOTHETICAL_SOURCES`).
    force
        Compute again even when a completed search with the same key is stored.
    parallel
        Orders computed at once here (:func:`~altermag.dft.groundstate.search.run_orders`).

    Raises
    ------
    GroundStateError
        For an unknown material, one without magnetic sites, or a runner the search lacks.
    """
    from altermag.config import get_settings

    record = store.material(material_id)
    if record is None:
        raise GroundStateError(f"no material {material_id}")
    structure = record.magnetic_structure()
    if structure.magmoms is not None:
        structure = structure.with_moments(None)
    source = record.source or "store"
    key = search_key(structure, code, settings, max_orders, use_prior)
    jobs = [
        j
        for j in record.dft_jobs
        if j.parameters.get("kind") == "groundstate" and j.parameters.get("key") == key
    ]
    job = jobs[-1] if jobs else None
    root = Path(workdir) if workdir is not None else get_settings().dft_dir
    directory = (
        Path(job.directory)
        if job is not None and job.directory
        else root / f"{_slug(record.formula)}-m{material_id}-gs-{key[:8]}" / f"groundstate-{code}"
    ).resolve()

    def done(job_id: int, used: str, reused: bool, data: dict[str, Any]) -> StoredSearch:
        gs = data.get("ground_state") or {}
        message = f"ground state {gs.get('label')} ({data['verdict']})" if gs else data["verdict"]
        return StoredSearch(job_id, "completed", directory, used, reused, message, data, code)

    if job is not None and job.status == "completed" and job.verdict and not force:
        return done(job.id, "stored", True, dict(job.verdict))
    if job is not None and job.status == "prepared":
        data = collect_groundstate(structure, settings, directory, max_orders, code, use_prior)
        if data is not None:
            data["source"] = source
            store.set_dft_result(job.id, data, None)
            return done(job.id, "prepare", False, data)

    def submitted(job_id: int, gs: GroundState) -> StoredSearch:
        if gs.verdict != "submitted":
            data = gs.to_dict()
            store.set_dft_result(job_id, data, None)
            return done(job_id, "slurm", False, data)
        store.set_dft_status(job_id, "submitted", str(directory))
        waiting = "; ".join(o.message for o in gs.orders if o.status == "submitted")
        return StoredSearch(
            job_id, "submitted", directory, "slurm", False, f"search submitted: {waiting}"
        )

    if job is not None and job.status in ("submitted", "running") and submitted_jobs(directory):
        gs = poll_groundstate(
            structure,
            settings,
            directory,
            max_orders,
            code,
            use_prior,
            source,
            slurm_client,
            wait_s,
        )
        return submitted(job.id, gs)
    used = _runner(runner, code, structure, settings, slurm_client)
    if used not in RUNNERS:
        raise GroundStateError(f"runner {used!r}: a stored search runs {'|'.join(RUNNERS)}|auto")
    if job is None:
        job_id = store.add_dft_job(
            material_id,
            code,
            directory=str(directory),
            parameters={
                "kind": "groundstate",
                "key": key,
                "preset": settings.preset,
                "max_orders": max_orders,
            },
        )
    else:
        job_id = job.id
    if relax is None:
        relax = source.split(":")[0] in HYPOTHETICAL_SOURCES
    store.set_dft_status(job_id, "running" if used == "local" else "prepared", str(directory))
    gs = run_groundstate(
        structure,
        settings,
        directory,
        max_orders=max_orders,
        code=code,
        runner=used,
        relax=relax and used == "local",
        source=source,
        use_prior=use_prior,
        progress=progress,
        parallel=parallel,
        slurm_client=slurm_client,
        slurm_resources=slurm_resources,
        slurm_commands=slurm_commands,
        wait_s=wait_s,
    )
    if used == "slurm":
        return submitted(job_id, gs)
    if used == "prepare":
        message = (
            f"ground-state decks ({len(gs.orders)} orders) written to {directory}; run each "
            f"order's run.sh there (or elsewhere and copy {order_code(code).output} back), "
            "then again"
        )
        return StoredSearch(job_id, "prepared", directory, used, False, message, None, code)
    data = gs.to_dict()
    store.set_dft_result(job_id, data, None)
    return done(job_id, used, False, data)


def search_material(
    store: Any,
    material_id: int,
    settings: DftSettings,
    workdir: Path | None = None,
    max_orders: int = SEARCH_ORDERS,
    relax: bool | None = None,
    band_check: bool = True,
    use_prior: bool = True,
    progress: Callable[[str], None] | None = None,
    parallel: int | None = None,
) -> dict[str, Any]:
    """Ground-state search (and the band check on an altermagnetic winner) of a stored
    material, computed here with pw.x (again, even when stored) and stored as a DFT job of
    kind ``groundstate``.

    Returns the JSON contract with ``material_id``, ``job_id`` and, when it ran, ``band_check``
    (whose ``status`` is ``ground state not altermagnetic`` for any other winner).
    """
    found = stored_search(
        store,
        material_id,
        settings,
        runner="local",
        workdir=workdir,
        max_orders=max_orders,
        relax=relax,
        use_prior=use_prior,
        force=True,
        progress=progress,
        parallel=parallel,
    )
    data = dict(found.data or {})
    if band_check:
        structure = store.material(material_id).magnetic_structure()
        gs = GroundState.from_dict(data)
        check = band_check_winner(structure, gs, settings, found.directory, max_orders, use_prior)
        data["band_check"] = {k: v for k, v in check.items() if k != "ground_state"}
        store.set_dft_result(found.job_id, data, None)
    return {"material_id": material_id, "job_id": found.job_id, **data}
