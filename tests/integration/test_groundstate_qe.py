"""Real pw.x ground-state searches (marker ``dft``) at the default preset, shipped SG15.

Settings: the default preset (:data:`altermag.dft.presets.DEFAULT_PRESET`: PBE+U for oxides
and fluorides with the Materials Project U values, per-element cut-offs, dual 4) unchanged.
The orders' SCFs run side by side (one single-rank pw.x each) on its energy stage
(``energy_kspacing``, ``energy_conv_thr_per_atom``: the FM − AFM energy of MnF2 converged to
a fraction of a meV per Mn in k-mesh, cut-off and SCF threshold, benchmarks/
bench_dft_convergence.py and docs/dft.md), so what is asserted is the physics of these
settings, not of a smaller basis; the band check runs on the preset's band settings.

- MnF2 (rutile): the d-wave altermagnet is the ground state, below FM by more than the 5 meV
  per Mn near-degeneracy threshold, high-spin Mn2+; the band check on it confirms d-wave
  (M–Γ split, Γ–X and Γ–Z degenerate within 10 meV).
- CrO2 (rutile): the ferromagnet wins by more than 100 meV per Cr; no band check runs and the
  verdict is "ground state not altermagnetic".
- MnTe (NiAs type, plain PBE: no U for tellurides): the g-wave altermagnet (moments
  antiparallel between the layers) is the ground state.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from altermag.dft.groundstate import NOT_ALTERMAGNETIC, band_check_winner, run_groundstate
from altermag.dft.presets import DEFAULT_PRESET, load_preset
from tests.literature import mnf2, mnte, rutile
from tests.requirements import requires

pytestmark = [pytest.mark.dft, requires("pw.x")]


def settings():
    return load_preset(DEFAULT_PRESET)


def test_mnf2_altermagnet_is_the_ground_state_and_splits_d_wave(tmp_path: Path) -> None:
    s = mnf2()
    st = settings()
    gs = run_groundstate(s, st, tmp_path, use_prior=False)
    by = {o.label: o for o in gs.orders}
    assert set(by) == {"AM1", "FM"}
    assert all(o.status == "converged" for o in gs.orders), [o.message for o in gs.orders]
    assert gs.ground_state is not None and gs.ground_state["label"] == "AM1"
    assert gs.verdict == "altermagnet" and gs.ground_state["wave"] == "d"
    assert by["FM"].relative_energy_mev_per_magnetic_atom > 5.0 and not gs.near_degenerate
    assert abs(by["AM1"].final_moments[0]) > 4.0  # high-spin Mn2+
    out = band_check_winner(s, gs, st, tmp_path, use_prior=False)
    assert out["status"] == "confirmed", out["reason"]
    bands = out["band_check"]
    seg = {x["name"]: x["max_splitting_ev"] for x in bands["segments"]}
    assert seg["M-G"] >= 0.05
    assert seg["G-X"] <= 0.01 and seg["G-Z"] <= 0.01


def test_cro2_ferromagnet_wins_and_no_band_check_runs(tmp_path: Path) -> None:
    s = rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0)
    gs = run_groundstate(s, settings(), tmp_path, use_prior=False)
    assert all(o.status == "converged" for o in gs.orders), [o.message for o in gs.orders]
    assert gs.ground_state is not None and gs.ground_state["label"] == "FM"
    assert gs.verdict == "ferromagnet"
    assert gs.ground_state["margin_mev_per_magnetic_atom"] > 100.0
    out = band_check_winner(s, gs, settings(), tmp_path, use_prior=False)
    assert out["status"] == NOT_ALTERMAGNETIC and out["band_check"] is None
    assert not (tmp_path / "bands").exists()


def test_mnte_g_wave_altermagnet_is_the_ground_state(tmp_path: Path) -> None:
    gs = run_groundstate(mnte(), settings(), tmp_path, use_prior=False)
    assert all(o.status == "converged" for o in gs.orders), [o.message for o in gs.orders]
    assert gs.ground_state is not None
    assert (gs.ground_state["verdict"], gs.ground_state["wave"]) == ("altermagnet", "g")
    assert gs.ground_state["margin_mev_per_magnetic_atom"] > 5.0
