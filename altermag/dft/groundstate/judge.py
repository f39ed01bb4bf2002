"""Judging one order's SCF: did it finish, converge, and keep the imposed moment signs?

An SCF can relax into another order (``flipped``: the signs changed, reported with the
enumerated order it turned into) or lose its moments (``collapsed``: every magnetic site
below ``moment_min``); such an order's energy belongs to another state and is never
compared. ``unconverged`` and ``failed`` (no energy) runs are not compared either. The same
judging serves every code: the code's reader only supplies the numbers (:class:`ScfFacts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from altermag.dft.groundstate.contract import OrderEnergy
from altermag.dft.groundstate.orders import OrderPlan

__all__ = ["ScfFacts", "judge_moments", "judge_scf"]


@dataclass
class ScfFacts:
    """What a code's output says about one SCF, before judging."""

    energy_ev: float | None
    """The final total energy (eV), None when the run printed none."""
    finished: bool
    """The code reached its normal end (QE ``JOB DONE``, VASP's timing footer)."""
    converged: bool
    """The electronic self-consistency was reached."""
    final_moments: list[float] = field(default_factory=list)
    """Final moments (μB) per site, in the deck's site order."""
    errors: list[str] = field(default_factory=list)
    wall_s: float | None = None


def _pattern(values: Sequence[float], mag: Sequence[int], tol: float) -> tuple[int, ...]:
    return tuple(0 if abs(values[i]) < tol else (1 if values[i] > 0 else -1) for i in mag)


def _same_up_to_flip(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return a == b or a == tuple(-x for x in b)


def judge_moments(
    signs: Sequence[int],
    final: Sequence[float],
    moment_min: float,
    others: Sequence[tuple[str, Sequence[int]]] = (),
) -> tuple[str, str | None]:
    """What became of an imposed order: ``converged`` (signs kept), ``collapsed`` or
    ``flipped`` (and the label of the other order whose signs the final moments follow).

    A global reversal of every moment is the same order (time reversal of a collinear state
    without spin–orbit coupling).

    Parameters
    ----------
    signs
        Imposed +1/−1 per magnetic site, 0 per non-magnetic site.
    final
        Final moments (μB) per site, same order.
    moment_min
        μB: a magnetic site below this has lost its moment.
    others
        ``(label, signs)`` of the other computed orders on the same cell.
    """
    mag = [i for i, s in enumerate(signs) if s != 0]
    if len(final) != len(signs):
        return "failed", None
    if all(abs(final[i]) < moment_min for i in mag):
        return "collapsed", None
    imposed = tuple(int(signs[i]) for i in mag)
    got = _pattern(final, mag, moment_min)
    if _same_up_to_flip(got, imposed):
        return "converged", None
    into = next(
        (label for label, s in others if _same_up_to_flip(got, tuple(int(s[i]) for i in mag))),
        None,
    )
    return "flipped", into


def judge_scf(
    plan: OrderPlan,
    facts: ScfFacts,
    folder: Path,
    moment_min: float,
    others: Sequence[tuple[str, Sequence[int]]] = (),
    program: str = "the code",
) -> OrderEnergy:
    """One order's :class:`OrderEnergy` from its SCF's facts: ``failed`` without a final
    energy or a normal end, ``unconverged``, else what :func:`judge_moments` says."""
    energy, final, wall = facts.energy_ev, list(facts.final_moments), facts.wall_s
    if energy is None or not facts.finished:
        why = "; ".join(facts.errors) or f"{program} did not finish (no final total energy)"
        return plan.outcome("failed", folder, energy, final, why, wall_s=wall)
    if not facts.converged:
        return plan.outcome(
            "unconverged", folder, energy, final, "SCF did not converge", None, wall
        )
    status, into = judge_moments(plan.signs, final, moment_min, others)
    msg = {
        "collapsed": f"every magnetic moment fell below {moment_min} μB: the order did not survive",
        "flipped": "the final moment signs do not follow the imposed order"
        + (f": it turned into {into}" if into else ""),
    }.get(status, "")
    return plan.outcome(status, folder, energy, final, msg, into, wall)
