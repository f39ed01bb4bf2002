"""Which enumerated magnetic order is the DFT ground state: total energies of the k = 0 orders.

A symmetry-allowed altermagnetic order is not a discovery unless it is the order the crystal
takes. This module computes, with one code and one set of settings, the spin-polarised total
energy of each collinear k = 0 order that :func:`altermag.symmetry.enumerate.enumerate_orders`
finds (DFT+U as the preset says), and names the lowest:

1. **Orders.** Up to ``max_orders`` (default 8) in the ranking of
   :func:`altermag.ranking.rank_orders` (the learned prior's P(ground state) when a prior is
   shipped, else the neighbour heuristic), always including the ferromagnetic order and the
   best-ranked conventional antiferromagnet when the crystal has them. Every order is put on
   the same cell (the enumeration cell), with the same k-mesh, cut-offs and smearing, so
   total energies compare: differences of a few meV per magnetic atom are meaningful only
   because the basis-set and k-sampling errors cancel between decks that differ in the
   starting moments alone.
2. **One SCF per order** (no bands step). Each is checked: converged; the final moment signs
   still follow the imposed pattern. An SCF can relax into another order (``flipped``: the
   signs changed, reported with the enumerated order it turned into) or lose its moments
   (``collapsed``: every magnetic site below ``moment_min``); such an order's energy belongs
   to another state and is never compared. ``unconverged`` and ``failed`` (no energy) runs
   are not compared either.
3. **The ground state** is the converged order of lowest energy. Energies are reported per
   magnetic atom relative to it; the ``margin`` is the gap to the next converged order. A
   margin below ``NEAR_DEGENERATE_MEV`` (5 meV per magnetic atom, about the accuracy of
   PBE+U exchange energies) makes the result ``near-degenerate``: the ordering is then not
   decided by these calculations.
4. **Optional relaxation** (``relax``): one spin-polarised variable-cell relaxation
   (``vc-relax``) in the FM order (or the order the caller names) before the energies, for
   structures from hypothetical sources whose cell was never measured. It costs about 5–15
   SCF cycles of the same cell (one per ionic step), i.e. several times one order's energy.

The JSON contract (:meth:`GroundState.to_dict`) is the one the CLI's ``--json``, the store and
the API's material detail carry::

    {"source", "formula", "code", "settings": {...},
     "orders": [{"label", "moments", "verdict", "wave", "energy_ev",
                 "relative_energy_mev_per_magnetic_atom", "status", "final_moments"}],
     "ground_state": {"label", "verdict", "wave", "margin_mev_per_magnetic_atom"},
     "verdict": "<the ground state's verdict>"}
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from altermag.dft.settings import DftSettings
from altermag.errors import DftError
from altermag.result import EnumeratedOrder, SpinGroupResult
from altermag.structure import MagneticStructure

__all__ = [
    "HYPOTHETICAL_SOURCES",
    "NEAR_DEGENERATE_MEV",
    "NOT_ALTERMAGNETIC",
    "RY_EV",
    "GroundState",
    "GroundStateError",
    "OrderEnergy",
    "OrderPlan",
    "band_check_winner",
    "judge_moments",
    "label_order",
    "plan_orders",
    "prepare_groundstate",
    "read_order",
    "run_groundstate",
    "search_material",
    "summarize",
]

RY_EV = 13.605693122994
"""One Rydberg in eV (CODATA 2018)."""
NEAR_DEGENERATE_MEV = 5.0
"""meV per magnetic atom: a ground state less than this below the next order is
near-degenerate (PBE+U exchange energies are not more accurate than a few meV)."""
START_MOMENT = 4.0
"""μB imposed on each magnetic site (the starting magnetisation is this over the preset's
saturation moment): a high-spin start, from which pw.x finds the lower-spin states too."""

_ABBREV = {
    "ferromagnet": "FM",
    "ferrimagnet": "FiM",
    "antiferromagnet": "AFM",
    "altermagnet": "AM",
}


class GroundStateError(DftError, ValueError):
    """A structure whose orders cannot be searched (no magnetic sites, no code)."""


@dataclass(frozen=True)
class OrderPlan:
    """One enumerated order to compute."""

    label: str
    rank: int
    signs: tuple[int, ...]
    """+1/−1 on magnetic sites, 0 elsewhere, on the enumeration cell."""
    verdict: str
    wave: str | None
    structure: MagneticStructure
    """The enumeration cell carrying ±``START_MOMENT`` μB."""
    result: SpinGroupResult

    @property
    def moments(self) -> list[float]:
        """Imposed signed moments (μB) per site."""
        return [START_MOMENT * float(s) for s in self.signs]


@dataclass
class OrderEnergy:
    """One order's SCF: its prediction, energy and what became of its moments."""

    label: str
    moments: list[float]
    """Imposed signed moments (μB) per site of the cell."""
    verdict: str
    wave: str | None
    energy_ev: float | None
    relative_energy_mev_per_magnetic_atom: float | None
    status: str
    """``converged``, ``collapsed``, ``flipped``, ``unconverged``, ``failed`` (or
    ``prepared`` when the decks wait for a machine)."""
    final_moments: list[float]
    turned_into: str | None = None
    """For ``flipped``: the label of the enumerated order the final signs follow, if any."""
    message: str = ""
    directory: str | None = None
    wall_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GroundState:
    """The result of a ground-state search (see the module docstring for the contract)."""

    source: str | None
    formula: str
    code: str
    settings: dict[str, Any]
    orders: list[OrderEnergy]
    ground_state: dict[str, Any] | None
    verdict: str
    """The ground state's verdict; ``inconclusive`` when no order converged, ``prepared`` when
    the decks wait for a machine."""
    near_degenerate: bool = False
    n_magnetic_atoms: int = 0
    relax: dict[str, Any] | None = None
    messages: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "formula": self.formula,
            "code": self.code,
            "settings": self.settings,
            "orders": [o.to_dict() for o in self.orders],
            "ground_state": self.ground_state,
            "verdict": self.verdict,
            "near_degenerate": self.near_degenerate,
            "n_magnetic_atoms": self.n_magnetic_atoms,
            "relax": self.relax,
            "messages": self.messages,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GroundState:
        orders = [OrderEnergy(**o) for o in d.get("orders", [])]
        return cls(
            source=d.get("source"),
            formula=d.get("formula", ""),
            code=d.get("code", "qe"),
            settings=d.get("settings", {}),
            orders=orders,
            ground_state=d.get("ground_state"),
            verdict=d.get("verdict", "inconclusive"),
            near_degenerate=bool(d.get("near_degenerate", False)),
            n_magnetic_atoms=int(d.get("n_magnetic_atoms", 0)),
            relax=d.get("relax"),
            messages=list(d.get("messages", [])),
        )

    @property
    def winner(self) -> OrderEnergy | None:
        if not self.ground_state:
            return None
        return next((o for o in self.orders if o.label == self.ground_state["label"]), None)


# -- which orders ----------------------------------------------------------------------------


def label_order(order: EnumeratedOrder) -> str:
    """Short label: ``FM`` for the ferromagnet, else the kind and the enumeration rank
    (``AM1``, ``AFM3``, ``FiM4``)."""
    kind = _ABBREV.get(order.result.verdict, order.result.verdict)
    if kind == "FM":
        return "FM"
    return f"{kind}{order.rank}"


def plan_orders(
    structure: MagneticStructure,
    max_orders: int = 8,
    use_prior: bool = True,
) -> list[OrderPlan]:
    """The orders to compute, in ranking order, on one cell.

    Up to ``max_orders`` of the ranking (:func:`altermag.ranking.rank_orders`); the
    ferromagnetic order and the best-ranked conventional antiferromagnet are added when they
    exist and the cut-off left them out (so the list can be ``max_orders`` + 2 long).

    Raises
    ------
    GroundStateError
        When the structure hosts no magnetic site.
    """
    from altermag.ranking import order_cell, rank_orders
    from altermag.symmetry.enumerate import enumerate_orders

    bare = structure.with_moments(None) if structure.magmoms is not None else structure
    result = enumerate_orders(bare)
    if not result.enumerated or not result.orders:
        raise GroundStateError(f"{structure.formula}: no magnetic site, no order to compute")
    cell = order_cell(bare, result)
    ranked = [r.order for r in rank_orders(bare, result, use_prior=use_prior)]
    chosen = ranked[: max(1, max_orders)]
    for want in ("ferromagnet", "antiferromagnet"):
        if not any(o.result.verdict == want for o in chosen):
            extra = next((o for o in ranked if o.result.verdict == want), None)
            if extra is not None:
                chosen.append(extra)
    plans = []
    for o in chosen:
        moments = [START_MOMENT * float(s) for s in o.signs]
        plans.append(
            OrderPlan(
                label=label_order(o),
                rank=o.rank,
                signs=tuple(int(s) for s in o.signs),
                verdict=o.result.verdict,
                wave=o.result.wave,
                structure=cell.with_moments(moments),
                result=o.result,
            )
        )
    return plans


# -- decks -----------------------------------------------------------------------------------


def _scf_deck(plan: OrderPlan, settings: DftSettings, calculation: str = "scf") -> dict[str, str]:
    """The pw.x SCF deck of one order (the verify deck's ``scf.in``, so energies and band
    checks share settings), plus a ``run.sh``."""
    from altermag.dft.qe.inputs import qe_input_set

    deck = qe_input_set(plan.structure, plan.result, settings, allow_missing_pseudos=True)
    scf = deck.files["scf.in"]
    if calculation == "vc-relax":
        scf = scf.replace("calculation = 'scf'", "calculation = 'vc-relax'")
        scf = scf.replace("&ELECTRONS", "  forc_conv_thr = 1.0d-3\n/\n&ELECTRONS", 1)
        scf = re.sub(
            r"/\nATOMIC_SPECIES",
            "/\n&IONS\n/\n&CELL\n  press_conv_thr = 0.5\n/\nATOMIC_SPECIES",
            scf,
            count=1,
        )
    files = {
        "scf.in": scf,
        "run.sh": '#!/bin/sh\nset -e\ncd "$(dirname "$0")"\n'
        "OMP_NUM_THREADS=1 pw.x -in scf.in > scf.out\n",
        "order.json": json.dumps(
            {
                "label": plan.label,
                "rank": plan.rank,
                "signs": list(plan.signs),
                "verdict": plan.verdict,
                "wave": plan.wave,
                "moments": plan.moments,
            },
            indent=1,
        ),
    }
    # the pseudopotentials travel with the deck when it names a relative folder (pseudo/)
    files.update({k: v for k, v in deck.files.items() if k.startswith("pseudo/")})
    missing = deck.missing
    if missing:
        files["MISSING"] = "no pseudopotential here for " + ", ".join(missing) + "\n"
    return files


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
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in _scf_deck(plan, settings).items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
        (folder / "run.sh").chmod(0o755)
        out.append((plan, folder))
    return out


# -- judging one order -----------------------------------------------------------------------

_ENERGY = re.compile(r"^!\s+total energy\s+=\s+([-+]?\d+\.\d+)\s+Ry", re.M)


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


def read_order(
    folder: Path,
    plan: OrderPlan,
    settings: DftSettings,
    others: Sequence[tuple[str, Sequence[int]]] = (),
) -> OrderEnergy:
    """Read one order's ``scf.out`` and judge it (see :func:`judge_moments`)."""
    from altermag.dft.qe.parse import parse_pw_output

    def result(
        status: str,
        energy: float | None = None,
        final: list[float] | None = None,
        message: str = "",
        into: str | None = None,
        wall_s: float | None = None,
    ) -> OrderEnergy:
        return OrderEnergy(
            label=plan.label,
            moments=plan.moments,
            verdict=plan.verdict,
            wave=plan.wave,
            energy_ev=energy,
            relative_energy_mev_per_magnetic_atom=None,
            status=status,
            final_moments=final or [],
            turned_into=into,
            message=message,
            directory=str(folder),
            wall_s=wall_s,
        )

    out = folder / "scf.out"
    if not out.is_file():
        return result("failed", message="no scf.out")
    text = out.read_text(errors="replace")
    parsed = parse_pw_output(out)
    energies = _ENERGY.findall(text)
    final = [float(m) for m in parsed.site_moments]
    energy = float(energies[-1]) * RY_EV if energies else None
    if energy is None or not parsed.job_done:
        why = "; ".join(parsed.errors) or "pw.x did not finish (no final total energy)"
        return result("failed", energy, final, why, wall_s=parsed.wall_s)
    if not parsed.converged:
        return result("unconverged", energy, final, "SCF did not converge", wall_s=parsed.wall_s)
    status, into = judge_moments(plan.signs, final, settings.thresholds.moment_min, others)
    msg = {
        "collapsed": "every magnetic moment fell below "
        f"{settings.thresholds.moment_min} μB: the order did not survive",
        "flipped": "the final moment signs do not follow the imposed order"
        + (f": it turned into {into}" if into else ""),
    }.get(status, "")
    return result(status, energy, final, msg, into, parsed.wall_s)


def summarize(
    orders: list[OrderEnergy],
    n_magnetic: int,
    formula: str,
    settings: dict[str, Any],
    code: str = "qe",
    source: str | None = None,
    near_degenerate_mev: float = NEAR_DEGENERATE_MEV,
) -> GroundState:
    """Relative energies, the ground state and its margin from judged orders.

    Only ``converged`` orders take part; the others keep ``relative_energy…`` None.
    """
    ok = [o for o in orders if o.status == "converged" and o.energy_ev is not None]
    messages: list[str] = []
    if not ok:
        verdict = (
            "prepared"
            if orders and all(o.status == "prepared" for o in orders)
            else ("inconclusive")
        )
        if verdict == "inconclusive":
            messages.append("no order converged with its moments intact: no ground state")
        return GroundState(
            source,
            formula,
            code,
            settings,
            orders,
            None,
            verdict,
            n_magnetic_atoms=n_magnetic,
            messages=messages,
        )
    energy = {id(o): float(o.energy_ev) for o in ok if o.energy_ev is not None}
    ok.sort(key=lambda o: energy[id(o)])
    e0 = energy[id(ok[0])]
    for o in ok:
        o.relative_energy_mev_per_magnetic_atom = round(
            (energy[id(o)] - e0) * 1000.0 / max(n_magnetic, 1), 3
        )
    margin = ok[1].relative_energy_mev_per_magnetic_atom if len(ok) > 1 else None
    best = ok[0]
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
    return GroundState(
        source,
        formula,
        code,
        settings,
        orders,
        gs,
        best.verdict,
        near,
        n_magnetic,
        messages=messages,
    )


# -- running ---------------------------------------------------------------------------------


def _run_pw(folder: Path, timeout: float, pw: str = "pw.x") -> None:
    import os
    import subprocess

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with (folder / "scf.in").open() as fin, (folder / "scf.out").open("w") as fout:
        try:
            subprocess.run(
                [pw],
                stdin=fin,
                stdout=fout,
                stderr=subprocess.STDOUT,
                cwd=folder,
                env=env,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            fout.write(f"\n%%%%%\naltermag: pw.x stopped after {timeout:g} s\n%%%%%\n")
    shutil.rmtree(folder / "out", ignore_errors=True)  # wavefunctions: large, not needed


def _relax(
    plan: OrderPlan, settings: DftSettings, folder: Path, timeout: float
) -> tuple[MagneticStructure, dict[str, Any]]:
    """One spin-polarised vc-relax in ``plan``'s order; the relaxed cell (moments dropped)."""
    from altermag.dft.qe.parse import parse_pw_output

    folder.mkdir(parents=True, exist_ok=True)
    for name, text in _scf_deck(plan, settings, "vc-relax").items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    _run_pw(folder, timeout)
    text = (folder / "scf.out").read_text(errors="replace")
    parsed = parse_pw_output(folder / "scf.out")
    info: dict[str, Any] = {"order": plan.label, "wall_s": parsed.wall_s, "directory": str(folder)}
    cells = re.findall(r"CELL_PARAMETERS \(angstrom\)\n((?:.*\n){3})", text)
    n_at = len(plan.structure)
    pos = re.findall(r"ATOMIC_POSITIONS \(crystal\)\n((?:.*\n){" + str(n_at) + "})", text)
    if "End final coordinates" not in text or not cells or not pos:
        info["status"] = "failed"
        return plan.structure, info
    lattice = np.array([[float(x) for x in row.split()] for row in cells[-1].splitlines()])
    frac = np.array([[float(x) for x in row.split()[1:4]] for row in pos[-1].splitlines()])
    relaxed = MagneticStructure(
        lattice=lattice,
        species=tuple(plan.structure.species),
        frac_coords=frac,
        magmoms=None,
        label=plan.structure.label,
    )
    info["status"] = "relaxed"
    info["volume_change"] = float(
        abs(np.linalg.det(lattice)) / abs(np.linalg.det(np.asarray(plan.structure.lattice))) - 1
    )
    return relaxed, info


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
        relaxed, relax_info = _relax(
            first, settings, directory / "relax", settings.timeouts.scf_s * 4
        )
        if relax_info.get("status") == "relaxed":
            structure = relaxed
    prepared = prepare_groundstate(structure, settings, directory, max_orders, code, use_prior)
    plans = [p for p, _ in prepared]
    n_mag = sum(1 for s in plans[0].signs if s != 0)
    results: list[OrderEnergy] = []
    for plan, folder in prepared:
        others = [(p.label, p.signs) for p in plans if p.label != plan.label]
        if runner == "prepare":
            results.append(
                OrderEnergy(
                    plan.label,
                    plan.moments,
                    plan.verdict,
                    plan.wave,
                    None,
                    None,
                    "prepared",
                    [],
                    directory=str(folder),
                )
            )
            continue
        say(f"SCF {plan.label} ({plan.verdict}{' ' + plan.wave if plan.wave else ''})")
        _run_pw(folder, settings.timeouts.scf_s)
        results.append(read_order(folder, plan, settings, others))
    gs = summarize(
        results,
        n_mag,
        structure.formula,
        {"preset": settings.preset, **settings.flat()},
        code,
        source,
    )
    gs.relax = relax_info
    (directory / "groundstate.json").write_text(json.dumps(gs.to_dict(), indent=1))
    return gs


# -- the band check on the winner ------------------------------------------------------------

NOT_ALTERMAGNETIC = "ground state not altermagnetic"


def band_check_winner(
    structure: MagneticStructure,
    gs: GroundState,
    settings: DftSettings,
    directory: Path,
    max_orders: int = 8,
    use_prior: bool = True,
) -> dict[str, Any]:
    """Run the band-structure check (SCF + bands, :func:`altermag.dft.qe.analysis.analyze_qe`)
    on the ground-state order, only when it is altermagnetic.

    Returns ``{"status", "reason", "ground_state", "near_degenerate", "band_check"}``:
    ``status`` is the band check's verdict (``confirmed``, ``contradicted``, ``inconclusive``)
    when it ran; ``ground state not altermagnetic`` (with the energies in ``ground_state``)
    when the winner is a ferromagnet, ferrimagnet or conventional antiferromagnet — a
    symmetry-allowed altermagnetic order that is not the ground state is no discovery; and
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


HYPOTHETICAL_SOURCES = ("corpus", "embedded")
"""Sources whose structures were never measured: the relaxation is on by default for them."""


def search_material(
    store: Any,
    material_id: int,
    settings: DftSettings,
    workdir: Path | None = None,
    max_orders: int = 8,
    relax: bool | None = None,
    band_check: bool = True,
    use_prior: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Ground-state search (and the band check on an altermagnetic winner) of a stored
    material, run here with pw.x and stored as a DFT job of kind ``groundstate``.

    Returns the JSON contract with ``material_id``, ``job_id`` and, when it ran, ``band_check``
    (whose ``status`` is ``ground state not altermagnetic`` for any other winner).
    """
    from altermag.config import get_settings

    record = store.material(material_id)
    if record is None:
        raise GroundStateError(f"no material {material_id}")
    structure = record.magnetic_structure()
    source = record.source or "store"
    if relax is None:
        relax = source.split(":")[0] in HYPOTHETICAL_SOURCES
    root = Path(workdir) if workdir else get_settings().dft_dir
    folder = root / f"{material_id}-{record.formula}" / "groundstate-qe"
    gs = run_groundstate(
        structure,
        settings,
        folder,
        max_orders=max_orders,
        relax=relax,
        source=source,
        use_prior=use_prior,
        progress=progress,
    )
    data = gs.to_dict()
    if band_check:
        check = band_check_winner(structure, gs, settings, folder, max_orders, use_prior)
        data["band_check"] = {k: v for k, v in check.items() if k != "ground_state"}
    job = store.add_dft_job(
        material_id,
        gs.code,
        directory=str(folder),
        parameters={"kind": "groundstate", "preset": settings.preset},
        status="running",
    )
    store.set_dft_result(job, data, None)
    return {"material_id": material_id, "job_id": job, **data}
