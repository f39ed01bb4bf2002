"""The search over orders: write one deck per order, run them, judge, compare, store.

:func:`run_groundstate` computes (``runner="local"``: pw.x here, up to ``parallel`` orders at
once, one MPI rank each) or prepares (``"prepare"``: decks only) the energies of the planned
orders, optionally after one spin-polarised variable-cell relaxation. The SCFs use the
preset's energy stage (:meth:`~altermag.dft.settings.DftSettings.for_energies`: the
``energy_kspacing`` mesh and ``energy_conv_thr_per_atom``), the same for every order.
:mod:`altermag.dft.groundstate.stored` does it for a stored material.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from altermag.dft.deck import kpoint_mesh
from altermag.dft.groundstate.codes import order_code
from altermag.dft.groundstate.compare import summarize
from altermag.dft.groundstate.contract import GroundState, GroundStateError, OrderEnergy
from altermag.dft.groundstate.orders import OrderPlan, other_orders, plan_orders
from altermag.dft.groundstate.qe import relax_cell, run_pw, write_files
from altermag.dft.presets import SEARCH_ORDERS
from altermag.dft.settings import DftSettings
from altermag.hpc.slurm import SLURM_WAIT_S, Resources, SlurmClient, SlurmError
from altermag.structure import MagneticStructure

__all__ = [
    "HYPOTHETICAL_SOURCES",
    "RUNNERS",
    "poll_groundstate",
    "prepare_groundstate",
    "run_groundstate",
    "run_orders",
]

RUNNERS = ("local", "slurm", "prepare")
"""Where the orders' SCFs run: here, one Slurm job each, or nowhere yet (decks only)."""
HYPOTHETICAL_SOURCES = ("corpus", "embedded")
"""Sources whose structures were never measured: the relaxation is on by default for them."""


def recorded_settings(
    structure: MagneticStructure, settings: DftSettings, code: str = "qe"
) -> dict[str, Any]:
    """The settings a search records: the preset's energy stage, with the k-mesh its decks
    really use for this crystal (from ``energy_kspacing``) and, for QE, the cut-offs (the
    largest per-element ``ecutwfc``, ``ecutrho`` at least dual times it) in place of the
    preset's global values."""
    energies = settings.for_energies()
    out = {
        "preset": settings.preset,
        **energies.flat(),
        "kpoints": kpoint_mesh(structure, energies),
    }
    if code == "qe":
        out["ecutwfc"], out["ecutrho"] = energies.qe.cutoffs(structure.species)
    return out


def prepare_groundstate(
    structure: MagneticStructure,
    settings: DftSettings,
    directory: Path,
    max_orders: int = SEARCH_ORDERS,
    code: str = "qe",
    use_prior: bool = True,
) -> list[tuple[OrderPlan, Path]]:
    """Write one SCF folder per order under ``directory`` (QE: ``<label>/scf.in``; VASP:
    ``<label>/POSCAR``, ``INCAR``, ``KPOINTS``, ``POTCAR.spec``; both ``run.sh`` and
    ``order.json``), with the preset's energy-stage settings
    (:meth:`DftSettings.for_energies`), identical for every order but the starting moments,
    and ``manifest.json``: the code, the shared settings and each order's folder, output
    file and prediction.

    Raises
    ------
    GroundStateError
        For a code the search does not write (:data:`~altermag.dft.groundstate.codes.CODES`).
    """
    impl = order_code(code)
    energies = settings.for_energies()
    out = []
    for plan in plan_orders(structure, max_orders, use_prior):
        folder = Path(directory) / plan.label
        write_files(folder, impl.files(plan, energies))
        out.append((plan, folder))
    manifest = {
        "kind": "groundstate",
        "code": code,
        "formula": structure.formula,
        "settings": recorded_settings(structure, settings, code),
        "output": impl.output,
        "orders": [
            {"folder": plan.label, "run": f"{plan.label}/run.sh", **plan.to_json()}
            for plan, _ in out
        ],
    }
    Path(directory, "manifest.json").write_text(json.dumps(manifest, indent=1))
    return out


def run_groundstate(
    structure: MagneticStructure,
    settings: DftSettings,
    directory: Path,
    max_orders: int = SEARCH_ORDERS,
    code: str = "qe",
    runner: str = "local",
    relax: bool = False,
    source: str | None = None,
    use_prior: bool = True,
    progress: Callable[[str], None] | None = None,
    parallel: int | None = None,
    *,
    slurm_client: SlurmClient | None = None,
    slurm_resources: Resources | None = None,
    slurm_commands: Sequence[str] | None = None,
    wait_s: float = SLURM_WAIT_S,
) -> GroundState:
    """Compute (``runner="local"``), submit (``"slurm"``) or prepare (``"prepare"``) the
    energies of the orders.

    Parameters
    ----------
    structure
        The crystal (its moments, if any, are ignored: every order is imposed in turn).
    settings
        One set of settings for every order (its energy stage,
        :meth:`DftSettings.for_energies`, for the SCFs).
    directory
        Job folder: ``<label>/`` per order (``relax/`` for the relaxation).
    runner
        ``local``: pw.x here; ``slurm``: one batch job per order
        (:func:`~altermag.dft.groundstate.slurm.submit_orders`), polled for ``wait_s``
        seconds (orders still queued or running are ``submitted`` and the verdict is
        ``submitted``: :func:`poll_groundstate` collects them later); ``prepare``: decks only
        (the result's orders are ``prepared``).
    relax
        One vc-relax in the FM order (else the first planned) before the energies.
    parallel
        Orders computed at once (one single-rank pw.x each); default: the cores this
        process may use (:func:`altermag.screening_run.available_cores`), never more than
        the orders. The SCFs are independent, so the results do not depend on it.
    slurm_client, slurm_resources, slurm_commands
        The cluster (default: the Slurm commands on PATH), ``#SBATCH`` resources (default:
        the preset's) and the job commands of each order (default
        :func:`~altermag.dft.groundstate.slurm.order_commands`; ``$ALTERMAG_ORDER`` holds
        the order's label).
    """
    if runner not in RUNNERS:
        raise GroundStateError(
            f"runner {runner!r}: the ground-state search runs {'|'.join(RUNNERS)}"
        )
    impl = order_code(code)
    if runner == "local" and not impl.runs_here:
        raise GroundStateError(
            f"{code} ground-state decks are prepared (runner 'prepare') and computed elsewhere"
        )
    if runner == "local" and shutil.which("pw.x") is None:
        raise GroundStateError("pw.x not installed: use runner='prepare'")
    say = progress or (lambda _msg: None)
    directory = Path(directory)
    relax_info: dict[str, Any] | None = None
    if relax and runner == "local":
        plans = plan_orders(structure, max_orders, use_prior)
        first = next((p for p in plans if p.verdict == "ferromagnet"), plans[0])
        say(f"vc-relax in {first.label}")
        relaxed, relax_info = relax_cell(
            first, settings, directory / "relax", settings.timeouts.scf_s * 4
        )
        if relax_info.get("status") == "relaxed":
            structure = relaxed
    prepared = prepare_groundstate(structure, settings, directory, max_orders, code, use_prior)
    plans = [p for p, _ in prepared]
    energies = settings.for_energies()
    if runner == "slurm":
        from altermag.dft.groundstate.slurm import submit_orders

        client = slurm_client or SlurmClient()
        try:
            jobs = submit_orders(
                prepared, code, energies, directory, client, slurm_resources, slurm_commands
            )
        except SlurmError as exc:
            raise GroundStateError(f"sbatch failed: {exc}") from None
        say("submitted " + ", ".join(f"{k}: Slurm job {v}" for k, v in jobs.items()))
        return poll_groundstate(
            structure, settings, directory, max_orders, code, use_prior, source, client, wait_s
        )
    if runner == "local":
        run_orders(prepared, energies.timeouts.scf_s, parallel, say)
    results: list[OrderEnergy] = []
    for plan, folder in prepared:
        if runner == "prepare":
            results.append(plan.outcome("prepared", folder))
            continue
        results.append(impl.read(folder, plan, energies, other_orders(plans, plan)))
    gs = conclude(results, plans, structure, settings, code, source)
    gs.relax = relax_info
    return write_result(directory, gs)


def poll_groundstate(
    structure: MagneticStructure,
    settings: DftSettings,
    directory: Path,
    max_orders: int = SEARCH_ORDERS,
    code: str = "qe",
    use_prior: bool = True,
    source: str | None = None,
    client: SlurmClient | None = None,
    wait_s: float = SLURM_WAIT_S,
) -> GroundState:
    """The search whose orders were submitted to Slurm (``slurm.json`` in ``directory``):
    waits up to ``wait_s`` seconds, then reads the finished orders; while any is still
    queued or running the verdict is ``submitted`` (call again: the same jobs are polled,
    never resubmitted).

    Raises
    ------
    GroundStateError
        When ``directory`` records no submitted jobs.
    """
    from altermag.dft.groundstate.slurm import poll_orders, submitted_jobs

    jobs = submitted_jobs(directory)
    if jobs is None:
        raise GroundStateError(f"no Slurm jobs recorded in {directory}")
    energies = settings.for_energies()
    plans = plan_orders(structure, max_orders, use_prior)
    prepared = [(p, Path(directory) / p.label) for p in plans]
    results = poll_orders(prepared, code, energies, jobs, client or SlurmClient(), wait_s)
    gs = conclude(results, plans, structure, settings, code, source)
    return write_result(directory, gs)


def conclude(
    orders: list[OrderEnergy],
    plans: Sequence[OrderPlan],
    structure: MagneticStructure,
    settings: DftSettings,
    code: str,
    source: str | None,
) -> GroundState:
    """The search's result from its judged orders, with the settings it records and the
    preset's near-degenerate threshold."""
    return summarize(
        orders,
        plans[0].n_magnetic,
        structure.formula,
        recorded_settings(structure, settings, code),
        code,
        source,
        near_degenerate_mev=settings.thresholds.near_degenerate_mev,
    )


def write_result(directory: Path, gs: GroundState) -> GroundState:
    """Write ``groundstate.json`` (the JSON contract) into the search's folder."""
    (Path(directory) / "groundstate.json").write_text(json.dumps(gs.to_dict(), indent=1))
    return gs


def run_orders(
    jobs: Sequence[tuple[OrderPlan, Path]],
    timeout: float,
    parallel: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Run the SCF of every ``(plan, folder)``, at most ``parallel`` pw.x at once (default:
    the available cores; one MPI rank and one thread each), saying when each starts and ends.

    The orders' SCFs are independent calculations with identical settings, so running them
    side by side changes the wall time only: on 2 idle cores two single-rank pw.x take about
    the time of one (a single pw.x does not use the second core: one rank, serial BLAS).
    """
    from altermag.screening_run import available_cores

    say = progress or (lambda _msg: None)
    n = max(1, min(parallel or available_cores(), len(jobs)))
    t0 = time.perf_counter()

    def one(plan: OrderPlan, folder: Path) -> None:
        wave = f" {plan.wave}" if plan.wave else ""
        say(f"SCF {plan.label} ({plan.verdict}{wave}) started [{time.perf_counter() - t0:.0f} s]")
        run_pw(folder, timeout)

    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="pw") as pool:
        running = {pool.submit(one, plan, folder): plan for plan, folder in jobs}
        for done, future in enumerate(as_completed(running), 1):
            future.result()
            say(
                f"SCF {running[future].label} finished ({done}/{len(jobs)}, "
                f"{n} at once) [{time.perf_counter() - t0:.0f} s]"
            )
