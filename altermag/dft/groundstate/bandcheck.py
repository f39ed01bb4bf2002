"""The band-structure check on the ground-state order, only when it is altermagnetic.

A symmetry-allowed altermagnetic order that is not the ground state is no discovery: a
ferromagnetic, ferrimagnetic or conventional antiferromagnetic winner is recorded as
:data:`NOT_ALTERMAGNETIC` with the energies, and no bands are computed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from altermag.dft.groundstate.contract import GroundState
from altermag.dft.groundstate.orders import plan_orders
from altermag.dft.presets import SEARCH_ORDERS
from altermag.dft.settings import DftSettings
from altermag.structure import MagneticStructure

__all__ = ["NOT_ALTERMAGNETIC", "band_check_winner"]

NOT_ALTERMAGNETIC = "ground state not altermagnetic"


def band_check_winner(
    structure: MagneticStructure,
    gs: GroundState,
    settings: DftSettings,
    directory: Path,
    max_orders: int = SEARCH_ORDERS,
    use_prior: bool = True,
) -> dict[str, Any]:
    """Run the band-structure check (SCF + bands, :func:`altermag.dft.qe.analysis.analyze_qe`)
    on the ground-state order, only when it is altermagnetic.

    Returns ``{"status", "reason", "ground_state", "near_degenerate", "band_check"}``:
    ``status`` is the band check's verdict (``confirmed``, ``contradicted``, ``inconclusive``)
    when it ran; ``ground state not altermagnetic`` (with the energies in ``ground_state``)
    when the winner is a ferromagnet, ferrimagnet or conventional antiferromagnet; and
    ``inconclusive`` when no order converged.
    """
    out: dict[str, Any] = {
        "ground_state": gs.to_dict(),
        "near_degenerate": gs.near_degenerate,
        "band_check": None,
    }
    if gs.ground_state is None:
        return {**out, "status": "inconclusive", "reason": "; ".join(gs.messages)}
    if gs.ground_state["verdict"] != "altermagnet":
        label, verdict = gs.ground_state["label"], gs.ground_state["verdict"]
        return {
            **out,
            "status": NOT_ALTERMAGNETIC,
            "reason": f"the ground state is {label} ({verdict}); no band check run",
        }
    from altermag.dft.qe.analysis import analyze_qe
    from altermag.dft.qe.inputs import write_qe_inputs
    from altermag.dft.qe.run import run_qe

    plan = next(
        p
        for p in plan_orders(structure, max_orders, use_prior)
        if p.label == gs.ground_state["label"]
    )
    folder = Path(directory) / "bands" / plan.label
    write_qe_inputs(plan.structure, plan.result, settings, folder)
    record = run_qe(folder)
    if not record.ok:
        return {
            **out,
            "status": "inconclusive",
            "reason": f"band run {record.status}: {record.message}",
        }
    verdict = analyze_qe(folder).verdict
    reason = verdict.reason
    if gs.near_degenerate:
        reason += (
            f"; near-degenerate ground state (margin "
            f"{gs.ground_state['margin_mev_per_magnetic_atom']:.1f} meV per magnetic atom)"
        )
    return {
        **out,
        "status": verdict.status,
        "reason": reason,
        "band_check": verdict.to_dict(),
        "directory": str(folder),
    }
