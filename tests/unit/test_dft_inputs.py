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
    write_qe_inputs(s, altermag.analyze(s), load_preset("fast"), tmp_path)
    for fname in ("scf.in", "bands.in"):
        new = _normalise((tmp_path / fname).read_text())
        ref = _normalise((DATA / name / fname).read_text())
        assert new == ref, f"{name}/{fname} differs from the reference"


@needs_pseudos
def test_up_and_down_sites_are_two_species_with_fractional_start(tmp_path):
    s = cro2()
    write_qe_inputs(s, altermag.analyze(s), load_preset("fast"), tmp_path)
    text = (tmp_path / "scf.in").read_text()
    assert "starting_magnetization(1) = 0.4000" in text  # 2 μB / 5 μB
    assert "starting_magnetization(2) = -0.4000" in text
    assert re.search(r"Cr1 0\.0+ 0\.0+ 0\.0+", text)
    assert re.search(r"Cr2 0\.50+ 0\.50+ 0\.50+", text)
    grid = [int(x) for x in re.findall(r"nr\d = (\d+)", text)]
    assert len(grid) == 3 and all(n % 2 == 0 for n in grid)
    # U only with the default (MP-like) preset, and only for the oxide
    assert "Hubbard_U" not in text
    write_qe_inputs(s, altermag.analyze(s), load_preset("default"), tmp_path / "u")
    u_text = (tmp_path / "u" / "scf.in").read_text()
    assert "Hubbard_U(1) = 3.7" in u_text and "Hubbard_U(2) = 3.7" in u_text
    assert "Hubbard_U(3) = 0.0" in u_text
    metal = cr_bcc_afm()
    write_qe_inputs(metal, altermag.analyze(metal), load_preset("default"), tmp_path / "m")
    assert "Hubbard_U" not in (tmp_path / "m" / "scf.in").read_text()
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
