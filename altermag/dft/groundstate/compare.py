"""Comparing the judged orders: the ground state, relative energies and the margin.

The ground state is the converged order of lowest total energy. Energies are reported per
magnetic atom relative to it; the ``margin`` is the gap to the next converged order. A margin
below the preset's ``near_degenerate_mev`` (default 5 meV per magnetic atom, about the
accuracy of PBE+U exchange energies) makes the result ``near-degenerate``: the ordering is
then not decided by these calculations.
"""

from __future__ import annotations

from typing import Any

from altermag.dft.groundstate.contract import (
    WAITING,
    GroundState,
    OrderEnergy,
)

__all__ = ["altermagnet_margin", "ground_state_label", "summarize"]


def summarize(
    orders: list[OrderEnergy],
    n_magnetic: int,
    formula: str,
    settings: dict[str, Any],
    code: str = "qe",
    source: str | None = None,
    *,
    near_degenerate_mev: float,
) -> GroundState:
    """Relative energies, the ground state and its margin from judged orders.

    Only ``converged`` orders take part; the others keep ``relative_energy…`` None (their
    energy belongs to another state, or to no finished state at all).
    """
    ok = sorted(
        (o for o in orders if o.status == "converged" and o.energy_ev is not None),
        key=lambda o: float(o.energy_ev or 0.0),
    )
    messages: list[str] = []

    def result(gs: dict[str, Any] | None, verdict: str, near: bool = False) -> GroundState:
        return GroundState(
            source,
            formula,
            code,
            settings,
            orders,
            gs,
            verdict,
            near,
            n_magnetic,
            messages=messages,
        )

    waiting = [o for o in orders if o.status in WAITING]
    if waiting:  # a partial comparison could name the wrong ground state
        return result(
            None, "submitted" if any(o.status == "submitted" for o in waiting) else ("prepared")
        )
    if not ok:
        messages.append("no order converged with its moments intact: no ground state")
        return result(None, "inconclusive")
    e0 = float(ok[0].energy_ev or 0.0)
    for o in ok:
        o.relative_energy_mev_per_magnetic_atom = round(
            (float(o.energy_ev or 0.0) - e0) * 1000.0 / max(n_magnetic, 1), 3
        )
    best = ok[0]
    margin = ok[1].relative_energy_mev_per_magnetic_atom if len(ok) > 1 else None
    near = margin is not None and margin < near_degenerate_mev
    if near:
        messages.append(
            f"near-degenerate: {best.label} is only {margin:.1f} meV per magnetic atom below "
            f"{ok[1].label} (threshold {near_degenerate_mev:g} meV)"
        )
    if margin is None:
        messages.append("only one order converged: the ground state has no competitor")
    gs = {
        "label": best.label,
        "verdict": best.verdict,
        "wave": best.wave,
        "margin_mev_per_magnetic_atom": margin,
    }
    return result(gs, best.verdict, near)


def altermagnet_margin(data: dict[str, Any]) -> float | None:
    """How far an altermagnetic order lies below its competitors, meV per magnetic atom.

    Positive: the ground state is altermagnetic and this is its margin over the next
    converged order (0 when no other order converged). Negative: the ground state is not
    altermagnetic and the lowest converged altermagnetic order lies this far above it. None:
    no ground state, or no altermagnetic order converged. One number that ranks materials by
    how decisively DFT makes them altermagnets (the candidate table's ``dft_ground_state``
    sort).
    """
    gs = data.get("ground_state")
    if not gs:
        return None
    if gs.get("verdict") == "altermagnet":
        margin = gs.get("margin_mev_per_magnetic_atom")
        return 0.0 if margin is None else float(margin)
    above = [
        float(o["relative_energy_mev_per_magnetic_atom"])
        for o in data.get("orders", [])
        if o.get("verdict") == "altermagnet"
        and o.get("status") == "converged"
        and o.get("relative_energy_mev_per_magnetic_atom") is not None
    ]
    return -min(above) if above else None


def ground_state_label(data: dict[str, Any]) -> str | None:
    """The candidate table's DFT ground-state verdict of a search: the winner's verdict
    (``altermagnet``, ``ferromagnet``…, with `` (near-degenerate)`` when the margin is below
    the threshold), ``inconclusive`` when no order converged, None while the SCFs wait."""
    verdict = data.get("verdict")
    if verdict in (None, *WAITING):
        return None
    if not data.get("ground_state"):
        return "inconclusive"
    return str(verdict) + (" (near-degenerate)" if data.get("near_degenerate") else "")
