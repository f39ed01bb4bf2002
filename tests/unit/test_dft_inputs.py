"""pw.x inputs, presets and pseudopotential lookup."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import altermag
from altermag.dft.presets import PresetError, available_presets, load_preset
from altermag.dft.qe.inputs import fft_grid, qe_species, write_qe_inputs
from altermag.dft.qe.pseudo import (
    DEBIAN_PSEUDO_DIR,
    SHIPPED_PSEUDO_DIR,
    PseudoError,
    find_pseudopotentials,
    pseudo_dir,
)
from altermag.dft.qe.run import run_qe
from altermag.structure import MagneticStructure
from tests.literature import cr_bcc_afm, rutile
from tests.requirements import requires

DATA = Path(__file__).parents[1] / "data" / "qe"
needs_pseudos = requires("qe-pseudos")


def cro2() -> MagneticStructure:
    return rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0)


def _normalise(text: str) -> str:
    return re.sub(r"pseudo_dir = '.*'", "pseudo_dir = 'PSEUDO'", text)


@needs_pseudos
@pytest.mark.parametrize(("name", "builder"), [("cro2", cro2), ("cr_afm", cr_bcc_afm)])
def test_inputs_match_the_reference_files_of_the_recorded_runs(
    tmp_path, name, builder, debian_pseudos
):
    """The committed inputs are the ones the recorded QE runs in tests/data/qe used."""
    s = builder()
    # the settings of the recordings: plain PBE, no per-element cut-offs (PAW, 30/240 Ry)
    recorded = load_preset("fast", {"hubbard_u": {}, "ecutwfc_by_element": {}})
    write_qe_inputs(s, altermag.analyze(s), recorded, tmp_path)
    for fname in ("scf.in", "bands.in"):
        new = _normalise((tmp_path / fname).read_text())
        ref = _normalise((DATA / name / fname).read_text())
        assert new == ref, f"{name}/{fname} differs from the reference"


@needs_pseudos
def test_up_and_down_sites_are_two_species_with_fractional_start(tmp_path):
    s = cro2()
    plain = load_preset("fast", {"hubbard_u": {}, "qe_version": "6.7"})
    write_qe_inputs(s, altermag.analyze(s), plain, tmp_path)
    text = (tmp_path / "scf.in").read_text()
    assert "starting_magnetization(1) = 0.4000" in text  # 2 μB / 5 μB
    assert "starting_magnetization(2) = -0.4000" in text
    assert re.search(r"Cr1 0\.0+ 0\.0+ 0\.0+", text)
    assert re.search(r"Cr2 0\.50+ 0\.50+ 0\.50+", text)
    grid = [int(x) for x in re.findall(r"nr\d = (\d+)", text)]
    assert len(grid) == 3 and all(n % 2 == 0 for n in grid)
    # U (MP values) with both presets (the default one included), only for the oxide
    assert "Hubbard_U" not in text
    for preset in ("fast", "default"):
        with_u = load_preset(preset, {"qe_version": "6.7"})
        write_qe_inputs(s, altermag.analyze(s), with_u, tmp_path / preset)
        u_text = (tmp_path / preset / "scf.in").read_text()
        assert "Hubbard_U(1) = 3.7" in u_text and "Hubbard_U(2) = 3.7" in u_text
        assert "Hubbard_U(3) = 0.0" in u_text
        metal = cr_bcc_afm()
        write_qe_inputs(metal, altermag.analyze(metal), with_u, tmp_path / f"m{preset}")
        assert "Hubbard_U" not in (tmp_path / f"m{preset}" / "scf.in").read_text()
    run = (tmp_path / "run.sh").read_text()
    assert "pw.x -in scf.in > scf.out" in run and "pw.x -in bands.in > bands.out" in run
    sbatch = (tmp_path / "job.sbatch").read_text()
    assert "#SBATCH --ntasks=1" in sbatch and "srun pw.x -in scf.in" in sbatch


def test_species_keep_up_down_and_nonmagnetic_sites_of_one_element_apart():
    s = MagneticStructure(
        np.eye(3) * 4.0,
        ("Mn", "Mn", "Mn", "O"),
        [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
        [4.6, -4.61, 0.0, 0.0],
    )
    species, index = qe_species(s)
    assert [sp.label for sp in species] == ["Mn1", "Mn2", "Mn3", "O"]
    assert [species[i].moment for i in index[:3]] == pytest.approx([4.6, -4.61, 0.0])


def test_fft_grid_is_commensurate_with_quarter_translations():
    """Diamond (Fd-3m, conventional cell) has (¼,¼,¼) translations: grid multiple of 4."""
    from pymatgen.core import Lattice, Structure

    si = Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.43), ["Si"], [[0, 0, 0]])
    s = MagneticStructure.from_pymatgen(si)
    grid = fft_grid(s, 120.0)
    assert all(n % 4 == 0 for n in grid)
    # enough points for the density cut-off: 2 m_max + 1 with m_max = √ecutrho |a| / 2π
    assert grid[0] >= 2 * np.ceil(np.sqrt(120.0) * 5.43 / 0.529177 / (2 * np.pi)) + 1


def test_presets_layer_and_validate():
    assert {"default", "fast"} <= set(available_presets())
    fast = load_preset("fast")
    assert fast["ecutwfc"] == 30.0 and fast["kpoints"] == [4, 4, 4]
    assert fast["split_min_ev"] == load_preset("default")["split_min_ev"]  # from _base
    assert load_preset("fast", {"ecutwfc": 35.0})["ecutwfc"] == 35.0
    with pytest.raises(PresetError, match="unknown"):
        load_preset("fast", {"ecutwfcc": 35.0})
    with pytest.raises(PresetError, match="wrong type"):
        load_preset("fast", {"kpoints": "4 4 4"})
    with pytest.raises(PresetError, match="ecutrho"):
        load_preset("fast", {"ecutrho": 60.0})
    with pytest.raises(PresetError, match="no preset"):
        load_preset("nonexistent")
    with pytest.raises(PresetError, match="bands_diago_thr"):
        load_preset("fast", {"bands_diago_thr": 0.01})  # eigenvalues to 0.1 eV: useless


@needs_pseudos
def test_bands_step_sets_its_eigenvalue_threshold(tmp_path):
    """diago_thr_init in the bands step only (pw.x's default there is ~1e-10 Ry)."""
    s = cro2()
    write_qe_inputs(s, altermag.analyze(s), load_preset("fast"), tmp_path)
    assert "diago_thr_init = 1.0e-08" in (tmp_path / "bands.in").read_text()
    assert "diago_thr_init" not in (tmp_path / "scf.in").read_text()
    settings = load_preset("fast", {"bands_diago_thr": None})
    write_qe_inputs(s, altermag.analyze(s), settings, tmp_path / "default")
    assert "diago_thr_init" not in (tmp_path / "default" / "bands.in").read_text()


def test_shipped_sg15_set_is_the_default_library(monkeypatch):
    """Without ALTERMAG_PSEUDO_DIR every element of the standard altermagnets has a PBE
    norm-conserving file with its semicore states in valence; SG15 has no PBEsol files."""
    monkeypatch.delenv("ALTERMAG_PSEUDO_DIR", raising=False)
    assert pseudo_dir() == SHIPPED_PSEUDO_DIR
    found = find_pseudopotentials(["Mn", "F", "Te", "Sb", "Ru", "Cr", "O", "Ni"], "pbe")
    assert {p.path.parent for p in found.values()} == {SHIPPED_PSEUDO_DIR}
    assert found["Mn"].filename == "Mn.UPF" and found["Mn"].kind == "nc"
    assert (found["Mn"].z_valence, found["Ru"].z_valence, found["F"].z_valence) == (15, 16, 7)
    assert find_pseudopotentials(["S"], "pbe")["S"].filename == "S.UPF"  # not Sb.UPF, Se.UPF
    with pytest.raises(PseudoError, match="Mn"):
        find_pseudopotentials(["Mn"], "pbesol")
    with pytest.raises(PseudoError, match="Nd"):
        find_pseudopotentials(["Nd"], "pbe")  # lanthanides beyond La are not in SG15


@needs_pseudos
def test_pseudopotential_lookup_prefers_paw_and_honours_the_folder(
    tmp_path, monkeypatch, debian_pseudos
):
    found = find_pseudopotentials(["Cr", "O", "Fe"], "pbe")
    assert found["Cr"].filename == "Cr.pbe-spn-kjpaw_psl.1.0.0.UPF"
    assert found["Cr"].z_valence == 14.0 and found["Cr"].kind == "paw"
    assert found["O"].kind == "paw"
    assert "pbesol" not in found["Fe"].filename and "rel-" not in found["Fe"].filename
    with pytest.raises(PseudoError, match="Xe"):
        find_pseudopotentials(["Xe"], "pbe")
    shutil.copy(DEBIAN_PSEUDO_DIR / "O.pbe-rrkjus.UPF", tmp_path)
    monkeypatch.setenv("ALTERMAG_PSEUDO_DIR", str(tmp_path))
    only = find_pseudopotentials(["O"], "pbe")
    assert only["O"].path.parent == tmp_path and only["O"].kind == "us"


@needs_pseudos
def test_runner_reports_a_missing_executable(tmp_path):
    s = cr_bcc_afm()
    write_qe_inputs(s, altermag.analyze(s), load_preset("fast"), tmp_path)
    record = run_qe(tmp_path, pw="pw-does-not-exist.x")
    assert record.status == "missing_executable" and not record.ok
    assert (tmp_path / "run.json").is_file()


def test_hubbard_syntax_follows_the_pw_x_version(tmp_path):
    """QE < 7.1: lda_plus_u/Hubbard_U in &SYSTEM; >= 7.1: the HUBBARD card (the old keys are
    refused there). Same projection (atomic) in both, so both compute the same DFT+U."""
    from altermag.dft.qe.inputs import card_syntax, hubbard_manifold, qe_input_set
    from tests.literature import mnf2

    assert not card_syntax("6.7") and not card_syntax("7.0") and card_syntax("7.1")
    assert card_syntax("7.3.1") and hubbard_manifold("Mn") == "3d"
    assert hubbard_manifold("Mo") == "4d" and hubbard_manifold("W") == "5d"
    assert hubbard_manifold("Gd") == "4f"
    s = mnf2()
    for version, legacy in (("6.7", True), ("7.2", False)):
        settings = load_preset("fast", {"qe_version": version})
        deck = qe_input_set(s, altermag.analyze(s), settings, allow_missing_pseudos=True)
        scf = deck.files["scf.in"]
        assert ("lda_plus_u = .true." in scf) is legacy
        assert ("Hubbard_U(1) = 3.9" in scf) is legacy
        assert ("HUBBARD (atomic)\n  U Mn1-3d 3.9\n  U Mn2-3d 3.9" in scf) is not legacy
        assert "U F" not in scf  # no U on the anion
        assert deck.files["bands.in"].count("3.9") == scf.count("3.9")


@requires("pw.x")
def test_installed_pw_x_version_is_read_from_its_banner():
    import re as _re

    from altermag.dft.qe.version import installed_pw_version, parse_pw_version

    assert parse_pw_version("     Program PWSCF v.6.7MaX starts on  2Dec2026") == "6.7"
    assert parse_pw_version("Program PWSCF v.7.3.1 starts") == "7.3.1"
    version = installed_pw_version()
    assert version is not None and _re.match(r"^\d+\.\d+", version)


def test_cut_offs_follow_the_hardest_element_with_dual_4():
    fast = load_preset("fast")
    assert fast.qe.dual == 4.0
    wfc, rho = fast.qe.cutoffs(("Mn", "Mn", "F", "F", "F", "F"))
    assert wfc == max(fast.qe.ecutwfc_by_element["Mn"], fast.qe.ecutwfc_by_element["F"])
    assert rho == 4 * wfc
    # an element without its own value takes the preset's ecutwfc
    assert fast.qe.cutoffs(("Xe",)) == (fast.qe.ecutwfc, fast.qe.ecutrho)
    with pytest.raises(PresetError, match="dual"):
        load_preset("fast", {"dual": 2.0})
    with pytest.raises(PresetError, match="qe_version"):
        load_preset("fast", {"qe_version": "latest"})


def test_settings_are_typed_and_round_trip():
    from altermag.dft.presets import DEFAULT_PRESET
    from altermag.dft.settings import DftSettings

    s = load_preset(DEFAULT_PRESET, {"resources": {"ntasks": 4}, "noise_ev": 0.005})
    assert s.thresholds.noise_ev == 0.005 and s.resources.ntasks == 4
    assert s.vasp.encut == 520.0 and s.timeouts.scf_s == 3600
    assert DftSettings.from_flat(s.flat(), s.preset) == s
    # the default preset applies DFT+U to 3d oxides and fluorides only
    assert s.hubbard_for(["Mn", "F"]) == {"Mn": 3.9}
    assert s.hubbard_for(["Cr", "O"]) == {"Cr": 3.7}
    assert s.hubbard_for(["Mn", "Te"]) == {}


@needs_pseudos
def test_decks_carry_their_pseudopotentials_and_no_local_path(tmp_path):
    s = cro2()
    write_qe_inputs(s, altermag.analyze(s), load_preset("fast"), tmp_path)
    scf = (tmp_path / "scf.in").read_text()
    assert "pseudo_dir = './pseudo'" in scf
    names = re.findall(r"^\s+\S+ \d+\.\d+ (\S+\.upf)$", scf, flags=re.M | re.I)
    assert names and all((tmp_path / "pseudo" / n).is_file() for n in names)
    for name in ("scf.in", "bands.in", "run.sh", "job.sbatch"):
        text = (tmp_path / name).read_text()
        assert str(tmp_path) not in text and "/usr/share" not in text, name


def test_prepare_warns_and_writes_standard_names_for_missing_pseudopotentials(
    tmp_path, monkeypatch
):
    from typer.testing import CliRunner

    from altermag.cli import app
    from tests.literature import mnf2

    monkeypatch.setenv("ALTERMAG_PSEUDO_DIR", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    path = tmp_path / "MnF2.json"
    mnf2().to_pymatgen().to(filename=str(path))
    out = CliRunner().invoke(app, ["dft", "prepare", str(path), "--out", str(tmp_path / "d")])
    assert out.exit_code == 0, out.output
    assert "warning" in out.output and "Mn" in out.output and "F" in out.output
    scf = (tmp_path / "d" / "scf.in").read_text()
    assert "Mn.pbe.UPF" in scf and "F.pbe.UPF" in scf and "pseudo_dir" not in scf
