"""Real Quantum ESPRESSO runs (marker ``dft``): the d-wave test case and its control.

Antiferromagnetic rutile CrO2 with the ``fast`` preset (PAW Cr/O, 30/240 Ry, 4×4×4) must
split by ≥ 0.3 eV on M–Γ and stay degenerate (≤ 0.01 eV) on Γ–X; the CsCl-type AFM bcc Cr
control (a translation relates the sublattices) must show no splitting on any segment.
Each run takes one to a few minutes of one core.
"""

from __future__ import annotations

import pytest

import altermag
from altermag.dft.presets import load_preset
from altermag.dft.qe.analysis import analyze_qe
from altermag.dft.qe.inputs import write_qe_inputs
from altermag.dft.qe.run import run_qe
from tests.literature import cr_bcc_afm, rutile
from tests.requirements import requires

pytestmark = [
    pytest.mark.dft,
    requires("pw.x", "qe-pseudos"),
    pytest.mark.usefixtures("debian_pseudos"),  # the PAW runs of tests/data/qe, at 30 Ry
]


def test_afm_rutile_cro2_confirms_d_wave(tmp_path):
    s = rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0)
    result = altermag.analyze(s)
    assert (result.verdict, result.wave) == ("altermagnet", "d")
    write_qe_inputs(s, result, load_preset("fast"), tmp_path)
    record = run_qe(tmp_path)
    assert record.status == "completed", record.message
    assert record.steps[0].converged
    v = analyze_qe(tmp_path).verdict
    assert v.status == "confirmed", v.reason
    assert v.predicted_wave == "d"
    assert v.segment("M-G").max_splitting_ev >= 0.3
    assert v.segment("G-X").max_splitting_ev <= 0.01
    assert abs(v.total_moment) < 0.05 and abs(v.site_moments[0]) > 1.0


def test_cscl_afm_cr_control_has_no_splitting(tmp_path):
    s = cr_bcc_afm()
    result = altermag.analyze(s)
    assert result.verdict == "antiferromagnet"
    # the moment of bcc Cr needs a dense k-mesh: at the preset's 4x4x4 it shrinks to ~0.3 μB
    write_qe_inputs(s, result, load_preset("fast", {"kpoints": [8, 8, 8]}), tmp_path)
    record = run_qe(tmp_path)
    assert record.status == "completed", record.message
    v = analyze_qe(tmp_path).verdict
    assert v.observed == "no splitting"
    assert all(seg.max_splitting_ev <= 0.01 for seg in v.segments)
    # PBE at the experimental a = 2.884 Å keeps 1–1.7 μB per Cr (GGA overestimates the
    # measured 0.6 μB): the order survives, so "no splitting" confirms the conventional AFM
    assert v.status == "confirmed", v.reason
    assert abs(v.site_moments[0]) > 0.8 and abs(v.total_moment) < 0.05


def test_runner_enforces_the_time_limit_and_keeps_the_log(tmp_path):
    s = cr_bcc_afm()
    write_qe_inputs(s, altermag.analyze(s), load_preset("fast"), tmp_path)
    record = run_qe(tmp_path, timeout_scf_s=0.5)
    assert record.status == "timeout" and len(record.steps) == 1
    assert record.steps[0].timed_out and (tmp_path / "scf.out").is_file()
    assert not (tmp_path / "bands.out").exists()
