"""Parsing VASP outputs: real vasprun.xml/OUTCAR files shipped with ASE, and a spin-polarised
EIGENVAL written from the recorded pw.x 6.7 CrO2 run (scripts/qe_to_eigenval.py), which must
give the same splittings as the QE parser."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import altermag
from altermag.cli import app
from altermag.dft.plot import band_figure
from altermag.dft.presets import load_preset
from altermag.dft.qe.analysis import analyze_qe
from altermag.dft.qe.parse import parse_pw_output
from altermag.dft.vasp.inputs import write_vasp_inputs
from altermag.dft.vasp.parse import (
    VaspOutputError,
    analyze_vasp,
    find_vasp_runs,
    outcar_converged,
    read_eigenval,
    read_outcar,
    read_vasprun,
)
from tests.literature import rutile

ASE_VASP = Path(__import__("ase").__file__).parent / "test" / "testdata" / "vasp"
QE_CRO2 = Path(__file__).parents[1] / "data" / "qe" / "cro2"
EIGENVAL_CRO2 = Path(__file__).parents[1] / "data" / "vasp" / "cro2_eigenval"


def _qe_fermi() -> float:
    return parse_pw_output(QE_CRO2 / "scf.out").fermi_energy


def _run_folder(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(ASE_VASP / name, folder / "vasprun.xml")
    return folder


def test_vasprun_of_nacl_gives_fermi_level_kpoints_and_one_spin():
    b = read_vasprun(ASE_VASP / "vasprun_dfpt.xml")
    assert [*b.elements] == ["Na", "Cl"] and not b.spin_polarized
    assert b.fermi_energy == pytest.approx(0.65337127)
    assert b.kpoints.shape == (4, 3) and np.allclose(b.kpoints[0], 0.0)
    assert b.eigenvalues_up.shape == (4, 32)
    assert np.array_equal(b.eigenvalues_up, b.eigenvalues_down)
    assert b.converged and b.magmom is None


@pytest.mark.parametrize(
    ("name", "formula", "gap_min"),
    [("vasprun_dfpt.xml", "NaCl", 5.0), ("vasprun_pstress.xml", "C", 4.0)],
)
def test_nonmagnetic_runs_have_no_splitting_and_a_wide_gap(tmp_path, name, formula, gap_min):
    """PBE NaCl and diamond: insulators (gap ≥ 3 eV), no spin splitting, verdict confirmed."""
    res = analyze_vasp(_run_folder(tmp_path, name))
    v = res.verdict
    assert v.formula == formula and v.code == "vasp"
    assert v.predicted_verdict == "nonmagnetic" and v.status == "confirmed", v.reason
    assert v.electronic == "insulator" and v.gap_ev >= gap_min
    assert v.gap_up_ev == v.gap_down_ev == v.gap_ev
    assert all(s.max_splitting_ev == 0.0 for s in v.segments)
    # the gap is the one of the eigenvalues: NaCl's VBM and CBM are both at Γ here
    if formula == "NaCl":
        e = res.bands.eigenvalues_up
        assert v.gap_ev == pytest.approx(e[0, 4] - e[0, 3])
    assert any("no line-mode" in w for w in v.warnings)


def test_outcar_gives_total_moment_fermi_level_and_convergence():
    m = read_outcar(ASE_VASP / "OUTCAR_example_1")  # spin-polarised Ni cluster, no LORBIT
    assert m.fermi_energy == pytest.approx(-3.7404)
    assert m.total_moment == pytest.approx(17.048, abs=1e-3)
    assert m.site_moments == [] and m.converged


def test_outcar_convergence_follows_the_last_electronic_loop():
    """ASE's test OUTCARs: the final "aborting loop" line decides (VASP 5 and 6 wording)."""
    assert outcar_converged(ASE_VASP / "convergence_OUTCAR_y_y")
    assert not outcar_converged(ASE_VASP / "convergence_OUTCAR_y_n")
    assert outcar_converged(ASE_VASP / "convergence_OUTCAR_n_y")


def test_eigenval_from_the_qe_run_is_read_with_both_spins():
    b = read_eigenval(EIGENVAL_CRO2 / "EIGENVAL")
    assert b.spin_polarized and b.fermi_energy is None
    assert b.elements == ["Cr", "Cr", "O", "O", "O", "O"]
    assert b.eigenvalues_up.shape == b.eigenvalues_down.shape == (49, 36)
    assert not np.allclose(b.eigenvalues_up, b.eigenvalues_down)


def test_eigenval_reproduces_the_qe_splittings_per_segment():
    """Same k-points and eigenvalues as the QE run: same segments, same splittings."""
    vasp = analyze_vasp(EIGENVAL_CRO2, fermi_energy=_qe_fermi()).verdict
    qe = analyze_qe(QE_CRO2).verdict
    assert vasp.predicted_verdict == "altermagnet" and vasp.predicted_wave == "d"
    assert [s.name for s in vasp.segments] == [s.name for s in qe.segments]
    for ours, theirs in zip(vasp.segments, qe.segments, strict=True):
        assert ours.expected == theirs.expected
        assert ours.max_splitting_ev == pytest.approx(theirs.max_splitting_ev, abs=2e-5)
    assert vasp.segment("M-G").expected == "split"
    assert vasp.segment("M-G").max_splitting_ev >= 0.3
    assert vasp.segment("G-X").expected == "nodal"
    assert vasp.segment("G-X").max_splitting_ev <= 0.01
    assert vasp.electronic == qe.electronic
    # a bare EIGENVAL says nothing about SCF convergence or moments: no verdict from it
    assert vasp.status == "inconclusive" and "convergence unknown" in vasp.reason


def test_eigenval_needs_a_fermi_level(tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(EIGENVAL_CRO2, folder)
    with pytest.raises(VaspOutputError, match="Fermi"):
        analyze_vasp(folder)
    (folder / "POSCAR").unlink()
    with pytest.raises(VaspOutputError, match="POSCAR"):
        analyze_vasp(folder, fermi_energy=_qe_fermi())


def test_prepared_folder_finds_the_bands_run_by_its_incar(tmp_path):
    """altermag's own scf/ + bands/ layout: ICHARG = 11 marks the bands run; the MAGMOM of
    its INCAR and the saved prediction are used."""
    s = rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0)
    write_vasp_inputs(s, altermag.analyze(s), load_preset("fast"), tmp_path)
    for name in ("EIGENVAL", "POSCAR"):
        shutil.copy(EIGENVAL_CRO2 / name, tmp_path / "bands" / name)
    runs = {r.folder.name: r.kind for r in find_vasp_runs(tmp_path)}
    assert runs == {"bands": "bands"}
    res = analyze_vasp(tmp_path, fermi_energy=_qe_fermi())
    assert res.structure.magmoms is not None
    assert [float(m[2]) for m in res.structure.magmoms[:2]] == [2.0, -2.0]
    v = res.verdict
    assert v.segment("M-G").max_splitting_ev >= 0.3 and v.segment("G-X").max_splitting_ev <= 0.01
    assert band_figure(res).startswith(b"\x89PNG")


def test_cli_parse_reads_a_vasp_folder(tmp_path):
    runner = CliRunner()
    out = runner.invoke(
        app, ["dft", "parse", str(EIGENVAL_CRO2), "--json", "--fermi", str(_qe_fermi())]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["code"] == "vasp" and data["max_split_ev"] >= 0.3
    assert data["max_nodal_ev"] <= 0.01
    missing = runner.invoke(app, ["dft", "parse", str(EIGENVAL_CRO2)])
    assert missing.exit_code == 2 and "Fermi" in missing.output
    s = rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0)
    write_vasp_inputs(s, altermag.analyze(s), load_preset("fast"), tmp_path / "deck")
    not_run = runner.invoke(app, ["dft", "parse", str(tmp_path / "deck")])
    assert not_run.exit_code == 2 and "has the job run" in not_run.output
    table = runner.invoke(app, ["dft", "parse", str(_run_folder(tmp_path, "vasprun_dfpt.xml"))])
    assert table.exit_code == 0, table.output
    assert "insulator" in table.output and "confirmed" in table.output
