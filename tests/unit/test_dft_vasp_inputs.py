"""VASP inputs: reference decks (atomate2 style), MAGMOM/ISYM of the bands step, POTCARs, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pymatgen.io.vasp.inputs import Incar, Kpoints, Poscar
from typer.testing import CliRunner

import altermag
from altermag.cli import app
from altermag.dft.presets import DEFAULT_PRESET, load_preset
from altermag.dft.vasp.inputs import (
    VaspPotcarError,
    _sorted_structure,
    bands_incar,
    scf_incar,
    write_vasp_inputs,
)
from altermag.structure import MagneticStructure
from tests.literature import cr_bcc_afm, mnf2, mnte, rutile

REF = Path(__file__).parents[1] / "data" / "vasp" / "inputs"
ASE_PSP = Path(__import__("ase").__file__).parent / "test" / "testdata" / "vasp" / "fake_pseudos"


def cro2() -> MagneticStructure:
    return rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0)


def _write(structure: MagneticStructure, folder: Path, preset: str = "default", **kw):
    return write_vasp_inputs(
        structure, altermag.analyze(structure), load_preset(preset), folder, **kw
    )


@pytest.fixture(autouse=True)
def _no_user_potcars(monkeypatch):
    monkeypatch.delenv("ALTERMAG_VASP_PSP_DIR", raising=False)
    monkeypatch.delenv("PMG_VASP_PSP_DIR", raising=False)


@pytest.mark.parametrize(("name", "builder"), [("cro2", cro2), ("mnte", mnte)])
def test_inputs_match_the_reference_decks(tmp_path, name, builder):
    """Same INCAR tags, KPOINTS, structure and POTCAR symbols as the committed decks."""
    _write(builder(), tmp_path)
    for step in ("scf", "bands"):
        new, ref = tmp_path / step, REF / name / step
        assert Incar.from_file(new / "INCAR") == Incar.from_file(ref / "INCAR"), step
        assert (new / "KPOINTS").read_text() == (ref / "KPOINTS").read_text(), step
        assert (new / "POTCAR.spec").read_text() == (ref / "POTCAR.spec").read_text()
        s_new = Poscar.from_file(new / "POSCAR").structure
        s_ref = Poscar.from_file(ref / "POSCAR").structure
        assert s_new.lattice == s_ref.lattice
        assert [str(x.specie) for x in s_new] == [str(x.specie) for x in s_ref]
        assert np.allclose(s_new.frac_coords, s_ref.frac_coords, atol=1e-8)
        assert not (new / "POTCAR").exists()


@pytest.mark.parametrize("builder", [cro2, mnte, cr_bcc_afm])
def test_bands_step_keeps_magmom_and_switches_symmetry_off(tmp_path, builder):
    _write(builder(), tmp_path)
    scf = Incar.from_file(tmp_path / "scf" / "INCAR")
    bands = Incar.from_file(tmp_path / "bands" / "INCAR")
    assert scf["ISPIN"] == bands["ISPIN"] == 2
    assert bands["MAGMOM"] == scf["MAGMOM"]
    assert bands["ISYM"] == 0 and bands["ICHARG"] == 11
    assert "ICHARG" not in scf and "ISYM" not in scf
    # compensated order: the MAGMOM sums to zero and has one value per POSCAR site
    n_sites = len(Poscar.from_file(tmp_path / "scf" / "POSCAR").structure)
    assert len(scf["MAGMOM"]) == n_sites
    assert sum(scf["MAGMOM"]) == pytest.approx(0.0)


def test_one_species_per_element_and_moments_follow_the_sites(tmp_path):
    """VASP gets up/down from MAGMOM; O sites carry none; U (MP, oxide) on Cr d only."""
    _write(cro2(), tmp_path)
    poscar = Poscar.from_file(tmp_path / "scf" / "POSCAR")
    assert poscar.site_symbols == ["Cr", "O"] and poscar.natoms == [2, 4]
    incar = Incar.from_file(tmp_path / "scf" / "INCAR")
    assert incar["MAGMOM"] == [2.0, -2.0, 0.0, 0.0, 0.0, 0.0]
    assert incar["LDAU"] is True and incar["LDAUTYPE"] == 2
    assert incar["LDAUL"] == [2, 0] and incar["LDAUU"] == [3.7, 0]
    assert incar["LDAUJ"] == [0, 0]
    assert (tmp_path / "scf" / "POTCAR.spec").read_text().split() == ["Cr_pv", "O"]


def test_fluoride_gets_u_telluride_and_metal_do_not(tmp_path):
    from tests.literature import mnf2

    _write(mnf2(), tmp_path / "f")
    f = Incar.from_file(tmp_path / "f" / "scf" / "INCAR")
    assert f["LDAUU"][f.get("LDAUL").index(2)] == 3.9  # Mn, MP value
    _write(mnte(), tmp_path / "te")
    assert "LDAU" not in Incar.from_file(tmp_path / "te" / "scf" / "INCAR")
    _write(cr_bcc_afm(), tmp_path / "cr")
    assert "LDAU" not in Incar.from_file(tmp_path / "cr" / "scf" / "INCAR")


def test_bands_kpoints_cross_split_and_nodal_segments_of_g_wave_mnte(tmp_path):
    """MnTe (g-wave): the standard path has no interior split segment; G-L is added."""
    written = _write(mnte(), tmp_path)
    kp = Kpoints.from_file(tmp_path / "bands" / "KPOINTS")
    assert kp.style == Kpoints.supported_modes.Line_mode
    pairs = list(zip(kp.labels[::2], kp.labels[1::2], strict=True))
    kinds = {s.name: s.kind for s in written.kpath.segments}
    assert ("G", "L") in pairs and kinds["G-L"] == "split"
    assert any(kinds[f"{a}-{b}"] == "nodal" for a, b in pairs)
    i = pairs.index(("G", "L"))
    assert np.allclose(kp.kpts[2 * i + 1], written.kpath.points["L"])
    # CrO2 (d-wave): M-G split (kx ky ≠ 0), G-X nodal, both in line mode
    written = _write(cro2(), tmp_path / "cro2")
    kp = Kpoints.from_file(tmp_path / "cro2" / "bands" / "KPOINTS")
    pairs = list(zip(kp.labels[::2], kp.labels[1::2], strict=True))
    kinds = {s.name: s.kind for s in written.kpath.segments}
    assert kinds["M-G"] == "split" and ("M", "G") in pairs
    assert kinds["G-X"] == "nodal" and ("G", "X") in pairs


def test_scf_mesh_and_job_scripts_use_the_preset(tmp_path):
    settings = load_preset(
        "fast", {"resources": {"ntasks": 16, "time": "02:00:00", "partition": "short"}}
    )
    s = cro2()
    write_vasp_inputs(s, altermag.analyze(s), settings, tmp_path)
    kp = Kpoints.from_file(tmp_path / "scf" / "KPOINTS")
    assert kp.style == Kpoints.supported_modes.Gamma and list(kp.kpts[0]) == [4, 4, 4]
    assert Incar.from_file(tmp_path / "scf" / "INCAR")["ENCUT"] == 520.0
    sbatch = (tmp_path / "job.sbatch").read_text()
    assert "#SBATCH --ntasks=16" in sbatch and "#SBATCH --partition=short" in sbatch
    assert "#SBATCH --time=02:00:00" in sbatch and "srun vasp_std" in sbatch
    run = (tmp_path / "run.sh").read_text()
    assert "cp scf/CHGCAR bands/CHGCAR" in run
    assert run.index("(cd scf") < run.index("cp scf/CHGCAR") < run.index("(cd bands")


def test_real_potcars_are_concatenated_in_species_order(tmp_path, monkeypatch):
    """ASE's test pseudopotential tree has VASP's layout (potpaw_PBE/<symbol>/POTCAR)."""
    ncl = MagneticStructure(np.eye(3) * 4.0, ("N", "Cl"), [[0, 0, 0], [0.5, 0.5, 0.5]], [1.0, -1.0])
    monkeypatch.setenv("ALTERMAG_VASP_PSP_DIR", str(ASE_PSP))
    written = write_vasp_inputs(ncl, altermag.analyze(ncl), load_preset("fast"), tmp_path)
    assert written.potcar_written and written.potcar_symbols == ["N", "Cl"]
    text = (tmp_path / "bands" / "POTCAR").read_text()
    n = (ASE_PSP / "potpaw_PBE" / "N" / "POTCAR").read_text()
    cl = (ASE_PSP / "potpaw_PBE" / "Cl" / "POTCAR").read_text()
    assert text.startswith(n) and text.endswith(cl) and len(text) <= len(n) + len(cl) + 2
    # pymatgen's layout (pmg config): POT_GGA_PAW_PBE_54/POTCAR.<symbol>.gz
    import gzip

    pmg = tmp_path / "pmg" / "POT_GGA_PAW_PBE_54"
    pmg.mkdir(parents=True)
    (pmg / "POTCAR.N.gz").write_bytes(gzip.compress(n.encode()))
    (pmg / "POTCAR.Cl.gz").write_bytes(gzip.compress(cl.encode()))
    monkeypatch.delenv("ALTERMAG_VASP_PSP_DIR")
    monkeypatch.setenv("PMG_VASP_PSP_DIR", str(tmp_path / "pmg"))
    write_vasp_inputs(ncl, altermag.analyze(ncl), load_preset("fast"), tmp_path / "p")
    assert (tmp_path / "p" / "scf" / "POTCAR").read_text() == text
    # MP's Na_pv is only in the LDA set there: refused, never mixed with another set
    monkeypatch.setenv("ALTERMAG_VASP_PSP_DIR", str(ASE_PSP))
    nacl = MagneticStructure(
        np.eye(3) * 4.0, ("Na", "Cl"), [[0, 0, 0], [0.5, 0.5, 0.5]], [1.0, -1.0]
    )
    with pytest.raises(VaspPotcarError, match="Na_pv"):
        write_vasp_inputs(nacl, altermag.analyze(nacl), load_preset("fast"), tmp_path / "x")


def test_cli_prepare_writes_a_vasp_folder(tmp_path):
    src = Path(altermag.__file__).parent / "data" / "examples" / "MnTe.json"
    out = tmp_path / "deck"
    res = CliRunner().invoke(app, ["dft", "prepare", str(src), "--code", "vasp", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "g-wave" in res.output and "G-L:split" in res.output
    for step in ("scf", "bands"):
        assert {"INCAR", "KPOINTS", "POSCAR", "POTCAR.spec"} <= {
            p.name for p in (out / step).iterdir()
        }
    assert (out / "spin_group.json").is_file() and (out / "job.sbatch").is_file()


def test_vasp_preset_keys_are_validated():
    assert load_preset("default")["encut"] == 520.0 and load_preset("fast")["encut"] == 520.0
    from altermag.dft.presets import PresetError

    with pytest.raises(PresetError, match="unknown resources"):
        load_preset("fast", {"resources": {"gpus": 1}})
    with pytest.raises(PresetError, match="wrong type"):
        load_preset("fast", {"vasp_incar": "NCORE = 4"})


@pytest.mark.parametrize("builder", [mnf2, cro2, mnte, cr_bcc_afm])
def test_scf_incar_matches_mpstaticset_key_by_key(builder):
    """Every tag pymatgen's MPStaticSet writes for this magnetic compound is in our SCF INCAR
    with the same value (LMAXMIX 4 for d elements, LASPH, EDIFF = 5e-5 eV x atoms, MP's U on
    oxides and fluorides only, tetrahedra, LREAL off...); ours adds only SYSTEM."""
    import warnings

    from pymatgen.io.vasp.sets import MPStaticSet

    s = builder()
    ours = scf_incar(s, load_preset(DEFAULT_PRESET))
    pmg, magmom = _sorted_structure(s)
    pmg.add_site_property("magmom", magmom)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen's notes about POTCARs not being set up
        mp = MPStaticSet(pmg).incar
    assert "LMAXMIX" in mp and "LASPH" in mp and "EDIFF" in mp
    for key, value in mp.items():
        assert key in ours, f"{key} missing"
        if isinstance(value, list):
            assert ours[key] == pytest.approx(value), key
        elif isinstance(value, float):
            assert ours[key] == pytest.approx(value, rel=1e-9), key
        else:
            assert ours[key] == value, key
    assert set(ours) - set(mp) == {"SYSTEM"}
    if builder in (mnf2, cro2):
        assert ours["LDAU"] is True and ours["LMAXMIX"] == 4
    else:
        assert "LDAU" not in ours  # telluride, metal: no U, as MP


def test_lmaxmix_is_6_for_f_elements_and_bands_step_smears():
    from altermag.dft.vasp.inputs import lmaxmix

    assert lmaxmix(["Gd", "N"]) == 6 and lmaxmix(["Mn", "F"]) == 4 and lmaxmix(["Si"]) is None
    s = mnf2()
    bands = bands_incar(scf_incar(s, load_preset(DEFAULT_PRESET)))
    # tetrahedra need a mesh: the line-mode step smears, keeps LASPH/LMAXMIX/U and MAGMOM
    assert bands["ISMEAR"] == 0 and bands["ICHARG"] == 11 and bands["ISYM"] == 0
    assert bands["LASPH"] is True and bands["LMAXMIX"] == 4 and bands["LDAUU"][0] == 3.9
