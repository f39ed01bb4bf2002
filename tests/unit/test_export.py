"""Exports in standard formats, read back by pymatgen and ASE with the order intact."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import ase.io
import numpy as np
import pytest
from pymatgen.analysis.magnetism import CollinearMagneticStructureAnalyzer
from pymatgen.core import Structure
from pymatgen.io.cif import CifParser
from pymatgen.io.vasp import Incar, Poscar
from typer.testing import CliRunner

from altermag import MagneticStructure, analyze, read_structure
from altermag.cli import app
from altermag.errors import InputError
from altermag.export import to_cif, to_extxyz, to_json, to_mcif, to_poscar, with_order
from tests import literature as lit

EXAMPLES = Path(__file__).resolve().parents[2] / "altermag" / "data" / "examples"
MAGNETS = {
    "MnF2": lit.mnf2,
    "MnTe": lit.mnte,
    "CrSb": lit.crsb,
    "Fe2O3": lit.fe2o3_hexagonal,
    "La2CuO4": lit.la2cuo4,
    "NiO": lit.nio_afm2,
    "FeRh": lit.ferh_g_type,
    "Fe": lit.fe_bcc,
}


def _analyzer(s: Structure) -> CollinearMagneticStructureAnalyzer:
    return CollinearMagneticStructureAnalyzer(s, make_primitive=False, threshold=0.01)


def _parse_mcif(text: str, tmp_path: Path) -> Structure:
    path = tmp_path / "x.mcif"
    path.write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CifParser(path).parse_structures(primitive=False)[0]


@pytest.mark.parametrize("name", list(MAGNETS))
def test_pymatgen_to_altermag_to_mcif_to_pymatgen_keeps_the_order(
    name: str, tmp_path: Path
) -> None:
    """A pymatgen Structure with moments → analyze → mCIF → pymatgen: pymatgen's own
    ordering comparison finds the same order, and the classification is unchanged."""
    original = MAGNETS[name]().to_pymatgen()
    result = analyze(original)
    text = to_mcif(MagneticStructure.from_pymatgen(original))
    assert f"_space_group_magn.number_BNS      {result.magnetic_space_group_number}" in text
    back = _parse_mcif(text, tmp_path)
    back_scalar = MagneticStructure.from_pymatgen(back).to_pymatgen()
    assert _analyzer(original).matches_ordering(back_scalar)
    again = analyze(back)
    assert (again.verdict, again.wave, again.spin_laue_group) == (
        result.verdict,
        result.wave,
        result.spin_laue_group,
    )
    assert again.magnetic_space_group_number == result.magnetic_space_group_number


def test_the_ordering_comparison_tells_orders_apart(tmp_path: Path) -> None:
    """The round-trip check is not vacuous: a ferromagnetic MnF2 does not match the AFM one."""
    afm = lit.mnf2()
    fm = afm.with_moments(np.abs(afm.magmoms))
    back = MagneticStructure.from_pymatgen(_parse_mcif(to_mcif(fm), tmp_path)).to_pymatgen()
    assert not _analyzer(afm.to_pymatgen()).matches_ordering(back)
    assert _analyzer(fm.to_pymatgen()).matches_ordering(back)


def test_mcif_is_the_asymmetric_unit_with_time_reversal_operations(tmp_path: Path) -> None:
    text = to_mcif(read_structure(EXAMPLES / "MnF2.mcif"))
    assert "\"P4_2'/mnm'\"" in text
    magnetic_ops = [ln for ln in text.splitlines() if ln.endswith((",+1", ",-1"))]
    assert len(magnetic_ops) == 16 and sum(ln.endswith(",-1") for ln in magnetic_ops) == 8
    assert "Mn1 Mn 0.000000 0.000000 0.000000 1" in text and "Mn2" not in text
    assert "Mn1 0.00000 0.00000 4.60000" in text


def test_ase_reads_the_mcif_as_a_crystal(tmp_path: Path) -> None:
    """ASE's CIF reader knows no magnetic operations; the plain operations give it every atom."""
    path = tmp_path / "fe2o3.mcif"
    path.write_text(to_mcif(lit.fe2o3_hexagonal()))
    atoms = ase.io.read(path, format="cif")
    assert sorted(atoms.get_chemical_symbols()) == ["Fe"] * 12 + ["O"] * 18


def test_poscar_and_incar_carry_the_order(tmp_path: Path) -> None:
    ms = lit.nio_afm2()
    poscar, incar = to_poscar(ms)
    (tmp_path / "POSCAR").write_text(poscar)
    (tmp_path / "INCAR").write_text(incar)
    structure = Poscar.from_str(poscar).structure
    magmom = Incar.from_str(incar)["MAGMOM"]
    structure.add_site_property("magmom", magmom)
    assert _analyzer(ms.to_pymatgen()).matches_ordering(structure)
    assert analyze(read_structure(tmp_path / "POSCAR")).verdict == "antiferromagnet"


def test_json_is_pymatgen_structure_json() -> None:
    ms = lit.mnte()
    s = Structure.from_dict(json.loads(to_json(ms)))
    assert s.site_properties["magmom"] == [float(m[2]) for m in ms.magmoms]
    assert analyze(s).wave == "g"


def test_extxyz_is_read_by_ase_with_its_moments(tmp_path: Path) -> None:
    path = tmp_path / "crsb.extxyz"
    path.write_text(to_extxyz(lit.crsb()))
    atoms = ase.io.read(path)
    assert np.allclose(atoms.get_initial_magnetic_moments(), lit.crsb().magmoms[:, 2])
    assert analyze(atoms).wave == "g"


def test_cif_is_the_crystal_without_moments(tmp_path: Path) -> None:
    path = tmp_path / "mnte.cif"
    path.write_text(to_cif(lit.mnte()))
    assert len(ase.io.read(path)) == 4
    assert analyze(read_structure(path)).enumerated


def test_enumerated_order_is_chosen_by_rank() -> None:
    cr2o3 = read_structure(EXAMPLES / "Cr2O3.cif")
    first, res1 = with_order(cr2o3)
    second, res2 = with_order(cr2o3, rank=2)
    assert res1.verdict == "antiferromagnet"  # the real, PT-symmetric order of Cr2O3
    assert (res2.verdict, res2.wave) == ("altermagnet", "g")  # the hematite-type order
    assert analyze(second).wave == "g" and len(first) == len(second) == 10
    with pytest.raises(InputError, match="no enumerated order of rank 99"):
        with_order(cr2o3, rank=99)
    with pytest.raises(InputError, match="carries its own moments"):
        with_order(lit.mnf2(), rank=1)
    with pytest.raises(InputError, match="no moments to write"):
        to_mcif(cr2o3)


def test_cli_export_file_and_stored_material(tmp_path: Path) -> None:
    from altermag.store import Store

    runner = CliRunner()
    res = runner.invoke(app, ["export", str(EXAMPLES / "MnF2.mcif")])
    assert res.exit_code == 0, res.output
    assert "_space_group_magn.number_BNS      136.499" in res.stdout
    out = tmp_path / "vasp"
    res = runner.invoke(
        app,
        [
            "export",
            str(EXAMPLES / "Cr2O3.cif"),
            "--order",
            "2",
            "--format",
            "poscar",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert analyze(read_structure(out / "POSCAR")).wave == "g"
    db = f"sqlite:///{tmp_path / 's.db'}"
    mnte = lit.mnte()
    with Store(db) as store:
        mid = store.add_material(mnte, source="test", source_id="MnTe")
        store.add_result(mid, analyze(mnte))
    path = tmp_path / "stored.extxyz"
    res = runner.invoke(
        app, ["export", str(mid), "--db", db, "--format", "extxyz", "--out", str(path)]
    )
    assert res.exit_code == 0, res.output
    assert analyze(ase.io.read(path)).wave == "g"
    bad = runner.invoke(app, ["export", "999", "--db", db])
    assert bad.exit_code == 2 and "no material 999" in bad.output
    bad = runner.invoke(app, ["export", str(EXAMPLES / "Cr2O3.cif"), "--format", "xyz"])
    assert bad.exit_code == 2 and "choose one of" in bad.output
