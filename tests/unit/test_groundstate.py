"""The ground-state search without pw.x: which orders, identical decks, judging moments and
energies (the real runs are tests/integration/test_groundstate_qe.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from altermag.cli import app
from altermag.dft.groundstate import (
    OrderEnergy,
    judge_moments,
    plan_orders,
    prepare_groundstate,
    read_order,
    summarize,
)
from altermag.dft.presets import MAX_SEARCH_ORDERS, load_preset
from tests.literature import mnf2, rutile


def cro2():
    return rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0)


def test_rutile_orders_are_the_altermagnet_and_the_ferromagnet():
    plans = plan_orders(mnf2(), use_prior=False)
    assert [(p.label, p.verdict, p.wave) for p in plans] == [
        ("AM1", "altermagnet", "d"),
        ("FM", "ferromagnet", "s"),  # a ferromagnet splits everywhere: s-wave
    ]
    assert plans[0].signs[:2] in ((1, -1), (-1, 1)) and plans[1].signs[:2] == (1, 1)
    assert all(s == 0 for s in plans[0].signs[2:])  # F carries no moment


def test_ferromagnet_is_kept_when_the_cut_off_drops_it():
    plans = plan_orders(mnf2(), max_orders=1, use_prior=False)
    assert [p.label for p in plans] == ["AM1", "FM"]


@pytest.mark.parametrize("asked", ["0", str(MAX_SEARCH_ORDERS + 1)])
def test_command_line_refuses_a_search_of_no_order_or_of_too_many(tmp_path: Path, asked: str):
    # each order is an SCF of the whole cell: the command refuses before any deck is written
    path = tmp_path / "MnF2.json"
    path.write_text(json.dumps(mnf2().to_dict()))
    out = CliRunner().invoke(
        app,
        ["dft", "groundstate", str(path), "--runner", "prepare", "--max-orders", asked],
    )
    assert out.exit_code == 2 and "--max-orders" in out.output
    assert not any(tmp_path.rglob("scf.in"))


def test_orders_share_every_setting_but_the_starting_moments(tmp_path: Path):
    """Energies compare only between decks with the same cell, k-mesh, cut-offs, smearing,
    U and pseudopotentials."""
    settings = load_preset("default")
    written = prepare_groundstate(cro2(), settings, tmp_path, use_prior=False)
    decks = [(folder / "scf.in").read_text() for _, folder in written]
    assert len(decks) == 2
    for (_, folder), deck in zip(written, decks, strict=True):  # pw.x finds every file it names
        where = re.search(r"pseudo_dir = '(.*)'", deck).group(1)  # type: ignore[union-attr]
        for name in re.findall(r"^\s+\S+\s+[\d.]+\s+(\S+\.UPF)$", deck, re.M):
            assert (folder / where / name).is_file(), name

    def without_start(text: str) -> str:
        return re.sub(r"starting_magnetization\(\d\) = \S+\n", "", text)

    species = [re.findall(r"^\s+(Cr\d?)\s", d, re.M) for d in decks]
    assert species[0] == ["Cr1", "Cr2", "Cr1", "Cr2"]  # AFM: up and down species
    assert "Hubbard_U(1) = 3.7" in decks[0] and "Hubbard_U(1) = 3.7" in decks[1]
    for key in ("ecutwfc", "ecutrho", "degauss", "smearing", "nr1", "nr2", "nr3", "K_POINTS"):
        values = {re.search(rf"{key}.*\n.*", d).group(0) for d in decks}  # type: ignore[union-attr]
        assert len(values) == 1, key
    cells = {d.split("CELL_PARAMETERS")[1].split("ATOMIC_POSITIONS")[0] for d in decks}
    assert len(cells) == 1
    assert "starting_magnetization(1) = 0.8000" in decks[0]
    assert "starting_magnetization(2) = -0.8000" in decks[0]
    assert "-0.8" not in without_start(decks[1]) and "-0.8" not in decks[1]


def test_moment_judging_names_flipped_and_collapsed_orders():
    afm, fm = (1, -1, 0, 0, 0, 0), (1, 1, 0, 0, 0, 0)
    others = [("AM1", afm), ("FM", fm)]
    assert judge_moments(afm, [4.5, -4.5, 0, 0, 0, 0], 0.1, others) == ("converged", None)
    assert judge_moments(afm, [-4.5, 4.5, 0, 0, 0, 0], 0.1, others) == ("converged", None)
    assert judge_moments(fm, [4.4, -4.4, 0.01, 0, 0, 0], 0.1, others) == ("flipped", "AM1")
    assert judge_moments(afm, [0.02, -0.03, 0, 0, 0, 0], 0.1, others) == ("collapsed", None)
    assert judge_moments(afm, [2.0, 0.0, 0, 0, 0, 0], 0.1, others) == ("flipped", None)


def _order(label: str, verdict: str, energy: float | None, status: str = "converged"):
    return OrderEnergy(
        label,
        [4, -4],
        verdict,
        "d" if verdict == "altermagnet" else None,
        energy,
        None,
        status,
        [4.0, -4.0],
    )


def test_energies_per_magnetic_atom_ground_state_and_margin():
    orders = [
        _order("AM1", "altermagnet", -100.000),
        _order("FM", "ferromagnet", -99.950),
        _order("AFM3", "antiferromagnet", -101.0, status="flipped"),
    ]
    gs = summarize(orders, 2, "MnF2", {"preset": "default"}, near_degenerate_mev=5.0)
    assert gs.verdict == "altermagnet" and gs.ground_state["label"] == "AM1"
    assert gs.ground_state["margin_mev_per_magnetic_atom"] == pytest.approx(25.0)
    assert orders[1].relative_energy_mev_per_magnetic_atom == pytest.approx(25.0)
    assert orders[0].relative_energy_mev_per_magnetic_atom == 0.0
    # the flipped order is lower but belongs to another state: never compared
    assert orders[2].relative_energy_mev_per_magnetic_atom is None
    assert not gs.near_degenerate
    d = gs.to_dict()
    assert set(d) >= {"source", "formula", "code", "settings", "orders", "ground_state", "verdict"}
    assert set(d["orders"][0]) >= {
        "label",
        "moments",
        "verdict",
        "wave",
        "energy_ev",
        "relative_energy_mev_per_magnetic_atom",
        "status",
        "final_moments",
    }
    assert set(d["ground_state"]) == {"label", "verdict", "wave", "margin_mev_per_magnetic_atom"}


def test_near_degenerate_and_no_converged_order():
    close = [_order("AM1", "altermagnet", -100.000), _order("FM", "ferromagnet", -99.995)]
    # 5 meV over 2 magnetic atoms: a margin of 2.5 meV per magnetic atom
    threshold = load_preset("fast").thresholds.near_degenerate_mev
    gs = summarize(close, 2, "X", {}, near_degenerate_mev=threshold)
    assert gs.near_degenerate
    assert gs.ground_state["margin_mev_per_magnetic_atom"] == pytest.approx(2.5)
    assert not summarize(close, 2, "X", {}, near_degenerate_mev=2.0).near_degenerate
    assert any("near-degenerate" in m for m in gs.messages)
    none = [
        _order("AM1", "altermagnet", None, "failed"),
        _order("FM", "ferromagnet", -1.0, "unconverged"),
    ]
    bad = summarize(none, 2, "X", {}, near_degenerate_mev=5.0)
    assert bad.verdict == "inconclusive" and bad.ground_state is None


RECORDED = Path(__file__).parents[1] / "data" / "qe" / "groundstate"


def test_recorded_mnf2_run_puts_the_altermagnet_below_the_ferromagnet():
    """Real pw.x 6.7 SCFs of MnF2 (shipped SG15, PBE+U 3.9 eV, 35/140 Ry, 2×2×3 k) read back:
    the d-wave altermagnet is the ground state, FM about 17 meV per Mn above, moments ~4.2 μB
    (high-spin Mn2+) with the imposed signs."""
    settings = load_preset("default")
    plans = plan_orders(mnf2(), use_prior=False)
    others = [(p.label, p.signs) for p in plans]
    orders = [read_order(RECORDED / "mnf2" / p.label, p, settings, others) for p in plans]
    assert [o.status for o in orders] == ["converged", "converged"]
    am, fm = orders
    assert am.final_moments[0] * am.final_moments[1] < 0 and abs(am.final_moments[0]) > 4.0
    assert fm.final_moments[0] > 4.0 and fm.final_moments[1] > 4.0
    gs = summarize(orders, 2, "MnF2", {"preset": "test"}, near_degenerate_mev=5.0)
    assert gs.ground_state == {
        "label": "AM1",
        "verdict": "altermagnet",
        "wave": "d",
        "margin_mev_per_magnetic_atom": pytest.approx(17.4, abs=0.1),
    }
    assert gs.verdict == "altermagnet" and not gs.near_degenerate


def test_recorded_run_read_as_another_order_is_flipped(tmp_path: Path):
    """The FM deck's output judged against the AM order: the signs did not follow it."""
    settings = load_preset("default")
    am, fm = plan_orders(mnf2(), use_prior=False)
    judged = read_order(RECORDED / "mnf2" / "FM", am, settings, [("FM", fm.signs)])
    assert (judged.status, judged.turned_into) == ("flipped", "FM")
    (tmp_path / "scf.out").write_text(
        (RECORDED / "mnf2" / "AM1" / "scf.out").read_text().split("End of self-consistent")[0]
    )
    assert read_order(tmp_path, am, settings).status == "failed"  # truncated: no energy


def test_energy_decks_take_the_energy_mesh_and_threshold_the_band_check_keeps_its_own(
    tmp_path: Path,
):
    """The orders' SCFs use ``energy_kspacing`` and ``energy_conv_thr_per_atom``; the
    settings the band check reads (``kpoints``, ``conv_thr_per_atom``) are left as they are."""
    settings = load_preset(
        "fast",
        {"kpoints": [4, 4, 4], "energy_kspacing": 0.7, "energy_conv_thr_per_atom": 1e-6},
    )
    energies = settings.for_energies()
    assert (energies.kpoints, energies.kspacing) == (None, 0.7)
    assert energies.conv_thr_per_atom == 1e-6
    assert settings.kpoints == (4, 4, 4) and settings.conv_thr_per_atom == 1e-8
    same = {k for k, v in settings.flat().items() if energies.flat()[k] == v}
    assert set(settings.flat()) - same == {"kpoints", "kspacing", "conv_thr_per_atom"}
    written = prepare_groundstate(mnf2(), settings, tmp_path, use_prior=False)
    for _, folder in written:
        deck = (folder / "scf.in").read_text()
        # |b1| = 2π/4.8734 Å = 1.29, |b3| = 2π/3.3099 Å = 1.90 per Å: ⌈|b|/0.7⌉ = 2, 2, 3
        assert re.search(r"K_POINTS automatic\n\s+2 2 3 0 0 0", deck), deck
        assert "conv_thr = 6.000e-06" in deck  # 6 atoms × 1e-6 Ry
    # the manifest records what the decks use: the energy mesh and the per-element cut-offs
    # (Mn and F SG15: 60 Ry, dual 4), not the preset's global 30/240 Ry
    recorded = json.loads((tmp_path / "manifest.json").read_text())["settings"]
    assert recorded["kpoints"] == [2, 2, 3]
    assert (recorded["ecutwfc"], recorded["ecutrho"]) == (60.0, 240.0)
    assert re.search(r"ecutwfc = 60\.0*\b", deck) and re.search(r"ecutrho = 240\.0*\b", deck)
    unset = load_preset("fast", {"energy_kspacing": None, "energy_conv_thr_per_atom": None})
    assert unset.for_energies() == unset


def test_orders_run_side_by_side_never_more_than_asked(tmp_path: Path, monkeypatch):
    """``parallel`` bounds the pw.x processes running at once; each order runs once."""
    import threading
    import time

    from altermag.dft.groundstate import search

    lock, running, peak, ran = threading.Lock(), [0], [0], []

    def fake_run_pw(folder: Path, timeout: float, pw: str = "pw.x") -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            ran.append(folder.name)
        time.sleep(0.2)
        with lock:
            running[0] -= 1

    monkeypatch.setattr(search, "run_pw", fake_run_pw)
    jobs = [(plan, tmp_path / f"o{i}") for i, plan in enumerate(plan_orders(mnf2()) * 3)]
    said: list[str] = []
    search.run_orders(jobs, 60.0, parallel=2, progress=said.append)
    assert peak[0] == 2 and sorted(ran) == sorted(f"o{i}" for i in range(len(jobs)))
    assert sum("finished" in m for m in said) == len(jobs)
    ran.clear()
    peak[0] = 0
    search.run_orders(jobs[:2], 60.0, parallel=1)
    assert peak[0] == 1 and len(ran) == 2


def test_relaxation_driven_by_the_basis_error_is_rejected():
    """A real pw.x vc-relax of FM MnF2 at 35/140 Ry (SG15 Mn wants 70 Ry): the Pulay stress
    (P = -2787 kbar at the measured cell) shrinks the cell by a third; pw.x's final SCF at the
    relaxed cell, with a fresh basis, still shows thousands of kbar. The relaxed cell is
    refused and the measured one kept."""
    from altermag.dft.groundstate.qe import RELAX_PRESSURE_KBAR, read_relaxed

    folder = RECORDED / "relax-mnf2-35ry"
    fm = next(p for p in plan_orders(mnf2(), use_prior=False) if p.label == "FM")
    structure, info = read_relaxed(folder, fm)
    text = (folder / "scf.out").read_text()
    steps = re.search(r"bfgs converged in\s+(\d+) scf cycles and\s+(\d+) bfgs steps", text)
    assert steps is not None
    assert info["ionic_steps"] == int(steps.group(2))
    assert info["scf_cycles"] == int(steps.group(1)) + 1  # and the final SCF
    assert info["volume_change"] < -0.2
    assert abs(info["final_pressure_kbar"]) > RELAX_PRESSURE_KBAR
    assert info["status"] == "rejected" and "basis" in info["reason"]
    assert structure is fm.structure


def test_relaxation_at_the_default_basis_is_used():
    """The same vc-relax at the default preset's cut-offs (SG15 Mn 70 Ry, dual 4 → 360 Ry):
    P = +65 kbar at the measured cell, 6 BFGS steps, and pw.x's final SCF at the relaxed
    cell within a few kbar of zero: the relaxed cell is used. PBE+U puts a and c of MnF2 a
    few per cent above the measured ones (its usual overestimate of lattice constants)."""
    import numpy as np

    from altermag.dft.groundstate.qe import RELAX_PRESSURE_KBAR, read_relaxed

    fm = next(p for p in plan_orders(mnf2(), use_prior=False) if p.label == "FM")
    structure, info = read_relaxed(RECORDED / "relax-mnf2-default", fm)
    assert info["status"] == "relaxed" and abs(info["final_pressure_kbar"]) < RELAX_PRESSURE_KBAR
    measured = np.linalg.norm(np.asarray(fm.structure.lattice), axis=1)
    relaxed = np.linalg.norm(np.asarray(structure.lattice), axis=1)
    assert np.all(relaxed > measured) and np.all(relaxed < 1.03 * measured)
    assert 0.0 < info["volume_change"] < 0.1
    assert structure.magmoms is None and list(structure.species) == list(fm.structure.species)
