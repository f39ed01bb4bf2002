"""The search over orders: write one deck per order, run them, judge, compare, store.

:func:`run_groundstate` computes (``runner="local"``: pw.x here, one order after the other)
or prepares (``"prepare"``: decks only) the energies of the planned orders, optionally after
one spin-polarised variable-cell relaxation (:mod:`altermag.dft.groundstate.stored` does it
for a stored material).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from altermag.dft.groundstate.compare import summarize
from altermag.dft.groundstate.contract import GroundState, GroundStateError, OrderEnergy
from altermag.dft.groundstate.orders import OrderPlan, plan_orders
from altermag.dft.groundstate.qe import (
    qe_order_files,
    read_order,
    relax_cell,
    run_pw,
    write_files,
)
from altermag.dft.settings import DftSettings
from altermag.structure import MagneticStructure

__all__ = [
    "HYPOTHETICAL_SOURCES",
    "prepare_groundstate",
    "run_groundstate",
]

HYPOTHETICAL_SOURCES = ("corpus", "embedded")
"""Sources whose structures were never measured: the relaxation is on by default for them."""


def prepare_groundstate(
    structure: MagneticStructure,
    settings: DftSettings,
    directory: Path,
    max_orders: int = 8,
    code: str = "qe",
    use_prior: bool = True,
) -> list[tuple[OrderPlan, Path]]:
    """Write one SCF folder per order under ``directory`` (``<label>/scf.in``, ``run.sh``).

    Raises
    ------
    GroundStateError
        For a code other than ``qe`` (VASP ground-state decks are not written yet).
    """
    if code != "qe":
        raise GroundStateError(f"ground-state decks are written for qe only, not {code!r}")
    out = []
    for plan in plan_orders(structure, max_orders, use_prior):
        folder = Path(directory) / plan.label
        write_files(folder, qe_order_files(plan, settings))
        out.append((plan, folder))
    return out


def run_groundstate(
    structure: MagneticStructure,
    settings: DftSettings,
    directory: Path,
    max_orders: int = 8,
    code: str = "qe",
    runner: str = "local",
    relax: bool = False,
    source: str | None = None,
    use_prior: bool = True,
    progress: Callable[[str], None] | None = None,
) -> GroundState:
    """Compute (``runner="local"``) or prepare (``"prepare"``) the energies of the orders.

    Parameters
    ----------
    structure
        The crystal (its moments, if any, are ignored: every order is imposed in turn).
    settings
        One set of settings for every order.
    directory
        Job folder: ``<label>/`` per order (``relax/`` for the relaxation).
    runner
        ``local``: pw.x here, one order after the other; ``prepare``: decks only (the result's
        orders are ``prepared``). Slurm submission of these decks is not implemented.
    relax
        One vc-relax in the FM order (else the first planned) before the energies.
    """
    if runner not in ("local", "prepare"):
        raise GroundStateError(f"runner {runner!r}: the ground-state search runs local|prepare")
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
    results: list[OrderEnergy] = []
    for plan, folder in prepared:
        others = [(p.label, p.signs) for p in plans if p.label != plan.label]
        if runner == "prepare":
            results.append(plan.outcome("prepared", folder))
            continue
        say(f"SCF {plan.label} ({plan.verdict}{' ' + plan.wave if plan.wave else ''})")
        run_pw(folder, settings.timeouts.scf_s)
        results.append(read_order(folder, plan, settings, others))
    gs = summarize(
        results,
        plans[0].n_magnetic,
        structure.formula,
        {"preset": settings.preset, **settings.flat()},
        code,
        source,
    )
    gs.relax = relax_info
    (directory / "groundstate.json").write_text(json.dumps(gs.to_dict(), indent=1))
    return gs
