"""Parsing recorded Quantum ESPRESSO 6.7 runs, splitting, verdicts, figure and CLI.

tests/data/qe/cro2 and tests/data/qe/cr_afm are real outputs of ``altermag dft prepare
--preset fast`` + ``altermag dft run`` on this machine (pw.x 6.7, PAW Cr/O from
quantum-espresso-data, 30/240 Ry, 4×4×4); only the wavefunction and charge-density files of
the ``.save`` folder were left out, the XML is gzip-compressed, per-k occupations were dropped
from it and the eigenvalue listing from bands.out (see tests/data/qe/README.md).
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from altermag.cli import app
from altermag.dft.plot import band_figure
from altermag.dft.qe.analysis import analyze_qe
from altermag.dft.qe.parse import (
    QEOutputError,
    find_qe_files,
    parse_pw_output,
    read_qe_xml,
)
from altermag.dft.splitting import band_gaps, segment_ranges, splitting_per_k
from altermag.dft.verdict import DFTVerdict, SegmentSplitting, judge
from tests.requirements import requires

DATA = Path(__file__).parents[1] / "data" / "qe"
CRO2 = DATA / "cro2"
CR = DATA / "cr_afm"
THRESHOLDS = {
    "split_min_ev": 0.05,
    "noise_ev": 0.01,
    "window_ev": 3.0,
    "moment_min": 0.1,
    "net_moment_tol": 0.05,
}


def test_xml_gives_cell_kpoints_and_both_spins():
    bands = read_qe_xml(CRO2 / "out" / "altermag.save" / "data-file-schema.xml.gz")
    assert bands.lsda and bands.calculation == "bands"
    assert bands.labels[:2] == ["Cr1", "Cr2"] and bands.elements[:2] == ["Cr", "Cr"]
    assert np.allclose(np.diag(bands.lattice), [4.421, 4.421, 2.917], atol=1e-6)
    assert np.allclose(bands.frac_coords[1], [0.5, 0.5, 0.5], atol=1e-8)
    n_k = int((CRO2 / "bands.in").read_text().split("K_POINTS crystal")[1].split()[0])
    assert bands.kpoints.shape == (n_k, 3)
    assert bands.eigenvalues_up.shape == bands.eigenvalues_down.shape
    assert np.allclose(bands.kpoints[0], [0, 0, 0])
    assert bands.starting_magnetization == {"Cr1": 0.4, "Cr2": -0.4, "O": 0.0}


def test_scf_text_output_gives_convergence_fermi_level_and_moments():
    scf = parse_pw_output(CRO2 / "scf.out")
    assert scf.calculation == "scf" and scf.converged and scf.job_done
    assert scf.version == "6.7MaX"
    assert 5.0 < scf.fermi_energy < 15.0
    m = scf.site_moments
    assert len(m) == 6 and m[0] > 1.0 and m[1] == pytest.approx(-m[0], abs=0.02)
    assert abs(scf.total_magnetization) < 0.05
    assert scf.cpu_s == pytest.approx(73.27) and scf.wall_s == pytest.approx(84.22)
    bands = parse_pw_output(CRO2 / "bands.out")
    assert bands.calculation == "bands" and not bands.converged and bands.job_done


def test_cro2_is_confirmed_d_wave_altermagnet():
    v = analyze_qe(CRO2).verdict
    assert v.status == "confirmed", v.reason
    assert v.predicted_verdict == "altermagnet" and v.predicted_wave == "d"
    assert v.segment("M-G").expected == "split"
    assert v.segment("M-G").max_splitting_ev >= 0.3
    assert v.segment("G-X").expected == "nodal"
    assert v.segment("G-X").max_splitting_ev <= 0.01
    assert v.max_nodal_ev <= 0.01
    # Cr⁴⁺ is d²: two electrons in three t2g orbitals per site leave the band partly filled
    assert v.electronic == "metal"
    # the JSON round trip keeps everything
    again = DFTVerdict.from_dict(json.loads(v.to_json()))
    assert again.segments == v.segments and again.status == v.status


def test_conventional_afm_cr_shows_no_splitting_anywhere():
    v = analyze_qe(CR).verdict
    assert v.predicted_verdict == "antiferromagnet"
    assert v.status == "confirmed", v.reason
    assert v.observed == "no splitting"
    assert {s.expected for s in v.segments} == {"nodal"}
    assert max(s.max_splitting_ev for s in v.segments) <= 0.01
    assert v.site_moments[0] == pytest.approx(-v.site_moments[1], abs=0.01)


def test_foreign_outdir_is_parsed_with_altermag_analyze(tmp_path):
    """A QE outdir altermag did not write: only the XML and the two text outputs."""
    save = tmp_path / "calc" / "tmp" / "cro2.save"
    save.mkdir(parents=True)
    xml = gzip.decompress((CRO2 / "out" / "altermag.save" / "data-file-schema.xml.gz").read_bytes())
    (save / "data-file-schema.xml").write_bytes(xml)
    shutil.copy(CRO2 / "scf.out", tmp_path / "calc" / "pw.scf.out")
    shutil.copy(CRO2 / "bands.out", tmp_path / "calc" / "pw.bands.out")
    files = find_qe_files(tmp_path)
    assert files.scf_out is not None and files.scf_out.name == "pw.scf.out"
    assert files.bands_out is not None and files.bands_out.name == "pw.bands.out"
    ours = analyze_qe(CRO2).verdict
    theirs = analyze_qe(tmp_path).verdict
    assert theirs.form_factor == "kx*ky"
    assert [s.name for s in theirs.segments] == [s.name for s in ours.segments]
    assert theirs.status == "confirmed"
    assert theirs.segment("G-M").max_splitting_ev == pytest.approx(
        ours.segment("M-G").max_splitting_ev
    )


def test_unconverged_scf_makes_the_verdict_inconclusive(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(CRO2, run)
    text = (run / "scf.out").read_text()
    (run / "scf.out").write_text(text.replace("convergence has been achieved", "stopped"))
    v = analyze_qe(run).verdict
    assert v.status == "inconclusive" and "converge" in v.reason


def test_missing_outputs_raise_a_clear_error(tmp_path):
    with pytest.raises(QEOutputError, match=r"data-file-schema\.xml"):
        analyze_qe(tmp_path)


def _seg(name: str, expected: str, split: float, f: float = 0.5) -> SegmentSplitting:
    return SegmentSplitting(name, expected, 0.0 if expected == "nodal" else f, split, [0, 0, 0], 9)


def test_judge_rules():
    ok = [_seg("M-G", "split", 0.5), _seg("G-X", "nodal", 0.001)]
    moments = [1.5, -1.5]
    assert judge("altermagnet", ok, True, moments, 0.0, True, THRESHOLDS)[0] == "confirmed"
    noisy = [_seg("M-G", "split", 0.5), _seg("G-X", "nodal", 0.05)]
    status, observed, reason = judge("altermagnet", noisy, True, moments, 0.0, True, THRESHOLDS)
    assert status == "contradicted" and "G-X" in reason
    flat = [_seg("M-G", "split", 0.002), _seg("G-X", "nodal", 0.001)]
    status, observed, _ = judge("altermagnet", flat, True, moments, 0.0, True, THRESHOLDS)
    assert (status, observed) == ("contradicted", "no splitting")
    assert judge("altermagnet", ok, True, [0.01, -0.01], 0.0, True, THRESHOLDS)[0] == (
        "inconclusive"
    )
    status, _, reason = judge("altermagnet", ok, True, moments, 0.4, True, THRESHOLDS)
    assert status == "inconclusive" and "net moment" in reason
    assert judge("altermagnet", ok, True, moments, 0.0, False, THRESHOLDS)[0] == "inconclusive"
    # a boundary segment is reported but never decides
    with_face = [*ok, _seg("X-M", "boundary", 0.0)]
    assert judge("altermagnet", with_face, True, moments, 0.0, True, THRESHOLDS)[0] == ("confirmed")
    only_nodal = [_seg("G-X", "nodal", 0.001)]
    assert judge("altermagnet", only_nodal, True, moments, 0.0, True, THRESHOLDS)[0] == (
        "inconclusive"
    )
    afm = [_seg("G-X", "nodal", 0.2)]
    assert judge("antiferromagnet", afm, True, moments, 0.0, True, THRESHOLDS)[0] == (
        "contradicted"
    )


def test_splitting_pairs_sorted_bands_inside_the_window():
    down = np.array([[-1.0, 0.5, 2.0, 9.0], [-1.0, 0.5, 2.0, 9.0]])
    up = down.copy()
    up[0, 1] += 0.2  # inside the window
    up[1, 3] += 1.0  # far above E_F + 3 eV: ignored
    assert splitting_per_k(up, down, fermi=0.0, window=3.0) == pytest.approx([0.2, 0.0])
    # band order does not matter: eigenvalues are sorted per k before pairing
    assert splitting_per_k(up[:, ::-1], down, 0.0, 3.0) == pytest.approx([0.2, 0.0])


def test_gap_thresholds():
    metal = np.array([[-1.0, 0.02, 1.0]])
    assert band_gaps(metal, metal, 0.0).character == "metal"
    semi = np.array([[-1.0, 1.0]])
    g = band_gaps(semi, semi, 0.0)
    assert g.overall == pytest.approx(2.0) and g.character == "semiconductor"
    wide = np.array([[-2.0, 2.0]])
    assert band_gaps(wide, wide, 0.0).character == "insulator"
    assert band_gaps(semi, metal, 0.0).character == "half_metal"


def test_segment_ranges_cut_at_labels_turns_and_jumps():
    lat = np.eye(3) * 4.0
    pts = {"G": [0, 0, 0], "X": [0, 0.5, 0], "M": [0.5, 0.5, 0], "Z": [0, 0, 0.5]}
    path = [[0, t, 0] for t in np.linspace(0, 0.5, 6)]
    path += [[t, 0.5, 0] for t in np.linspace(0.1, 0.5, 5)]
    path += [[0, 0, 0.5], [0.1, 0.1, 0.5], [0.2, 0.2, 0.5]]  # jump, then unlabelled end
    ranges = segment_ranges(np.array(path), lat, pts)
    assert [(a, b) for _, _, a, b in ranges] == [("G", "X"), ("X", "M"), ("Z", "(0.2,0.2,0.5)")]
    assert ranges[1][0] == ranges[0][1] and ranges[2][0] == ranges[1][1] + 1


def test_band_figure_png_and_svg():
    res = analyze_qe(CRO2)
    png = band_figure(res, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    svg = band_figure(res, "svg").decode()
    assert "<svg" in svg and "confirmed" in svg


def test_cli_parse_json_and_prepare(tmp_path):
    runner = CliRunner()
    out = runner.invoke(app, ["dft", "parse", str(CRO2), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["status"] == "confirmed" and data["max_split_ev"] >= 0.3
    assert {s["name"] for s in data["segments"]} >= {"G-X", "M-G"}
    other = runner.invoke(app, ["dft", "prepare", str(CRO2 / "structure.json"), "--code", "castep"])
    assert other.exit_code == 2 and "qe or vasp" in other.output


@requires("qe-pseudos")
def test_cli_prepare_writes_a_qe_folder(tmp_path, debian_pseudos):
    from tests.literature import rutile

    path = tmp_path / "CrO2.json"
    rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0).to_pymatgen().to(filename=str(path))
    out = CliRunner().invoke(
        app,
        [
            *("dft", "prepare", str(path), "--preset", "fast", "--out", str(tmp_path / "run")),
            # the settings of the recording: plain PBE, no per-element cut-offs (PAW 30/240)
            *("--set", "hubbard_u={}", "--set", "ecutwfc_by_element={}"),
        ],
    )
    assert out.exit_code == 0, out.output
    assert "M-G:split" in out.output and "G-X:nodal" in out.output
    for name in ("scf.in", "bands.in", "run.sh", "job.sbatch", "spin_group.json"):
        assert (tmp_path / "run" / name).is_file()

    # same inputs as the recorded run
    def norm(text: str) -> str:
        return re.sub(r"pseudo_dir = '.*'", "", text)

    assert norm((tmp_path / "run" / "scf.in").read_text()) == norm((CRO2 / "scf.in").read_text())
    bad = CliRunner().invoke(app, ["dft", "prepare", str(path), "--set", "ecutwfc"])
    assert bad.exit_code != 0


def test_an_scf_only_outdir_is_refused(tmp_path):
    save = tmp_path / "x.save"
    save.mkdir()
    xml = gzip.decompress((CRO2 / "out" / "altermag.save" / "data-file-schema.xml.gz").read_bytes())
    xml = xml.replace(b"<calculation>bands</calculation>", b"<calculation>scf</calculation>")
    (save / "data-file-schema.xml").write_bytes(xml)
    shutil.copy(CRO2 / "scf.out", tmp_path / "scf.out")
    with pytest.raises(QEOutputError, match="bands step"):
        analyze_qe(tmp_path)


def test_cli_run_refuses_a_folder_without_inputs(tmp_path):
    out = CliRunner().invoke(app, ["dft", "run", str(tmp_path)])
    assert out.exit_code == 2 and "no scf.in" in out.output


@requires("qe-pseudos")
def test_cli_prepare_picks_the_rank_1_order_for_a_file_without_moments(tmp_path):
    from tests.literature import rutile

    s = rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0).to_pymatgen()
    s.remove_site_property("magmom")
    s.to(filename=str(tmp_path / "CrO2.cif"))
    out = CliRunner().invoke(
        app, ["dft", "prepare", str(tmp_path / "CrO2.cif"), "--out", str(tmp_path / "r")]
    )
    assert out.exit_code == 0, out.output
    assert "order 1" in out.output and "altermagnet, d-wave kx*ky" in out.output
    text = (tmp_path / "r" / "scf.in").read_text()
    assert "starting_magnetization(1) = 0.6000" in text
    assert "starting_magnetization(2) = -0.6000" in text
