"""Reading structures: every supported format, and the exact error for every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from altermag import analyze, read_structure
from altermag.io import StructureReadError, parse_magmom

EXAMPLES = Path(__file__).resolve().parents[2] / "altermag" / "data" / "examples"
BAD = Path(__file__).resolve().parents[1] / "data" / "bad_inputs"


def test_parse_magmom_vasp_syntax() -> None:
    assert parse_magmom("2*5 -5 5 4*0") == [5, 5, -5, 5, 0, 0, 0, 0]
    assert parse_magmom([1, -1]) == [1.0, -1.0]
    with pytest.raises(ValueError, match="bad MAGMOM token 'x'"):
        parse_magmom("1 x")
    with pytest.raises(ValueError, match="non-finite"):
        parse_magmom("1 inf")


@pytest.mark.parametrize(
    ("path", "verdict", "wave"),
    [
        ("MnF2.mcif", "altermagnet", "d"),
        ("Fe2O3.mcif", "altermagnet", "g"),
        ("MnTe.json", "altermagnet", "g"),
        ("CrSb.extxyz", "altermagnet", "g"),
        ("NiO/POSCAR", "antiferromagnet", None),
    ],
)
def test_every_format_reads_and_classifies(path: str, verdict: str, wave: str | None) -> None:
    s = read_structure(EXAMPLES / path)
    assert s.magmoms is not None
    res = analyze(s)
    assert (res.verdict, res.wave) == (verdict, wave)


def test_mcif_symmetry_expansion_gives_moments_on_all_sites() -> None:
    s = read_structure(EXAMPLES / "MnF2.mcif")
    assert s.formula == "MnF2" and len(s) == 6
    mn = [m[2] for sp, m in zip(s.species, s.magmoms, strict=True) if sp == "Mn"]
    assert sorted(mn) == [-4.6, 4.6]


def test_cif_without_moments_and_with_magmom_override(tmp_path: Path) -> None:
    s = read_structure(EXAMPLES / "Cr2O3.cif")
    assert s.magmoms is None
    mn = read_structure(EXAMPLES / "NiO" / "POSCAR", magmom="16*0")
    assert analyze(mn).verdict == "nonmagnetic"


def test_altermag_json_round_trip(tmp_path: Path) -> None:
    s = read_structure(EXAMPLES / "MnF2.mcif")
    p = tmp_path / "mnf2.json"
    p.write_text(json.dumps(s.to_dict()))
    t = read_structure(p)
    assert np.allclose(t.magmoms, s.magmoms) and t.species == s.species


# file -> the exact message after "<path>: "
BAD_CASES = {
    "empty.cif": "the file is empty",
    "blank_POSCAR": "the file is empty",
    "junk.cif": "binary data, not a structure file",
    "truncated.mcif": "not a readable CIF (Time reversal operator could not be parsed.)",
    "truncated.json": "not valid JSON (Expecting value at line 1)",
    "disordered.cif": "site 2 is disordered or partially occupied (Fe 0.5, Co 0.5); altermag "
    "needs an ordered structure (pick one configuration, e.g. with pymatgen's "
    "OrderDisorderedStructureTransformation)",
    "magmom_mismatch/POSCAR": "MAGMOM has 8 values for 16 sites (expected 16 collinear or 48 "
    "non-collinear values)",
    "nan_moment/POSCAR": "INCAR beside it: MAGMOM contains a non-finite value (nan)",
    "overlap/POSCAR": "atoms 2 (Mn) and 3 (F) overlap: 0.08 Å apart (< 0.5 Å)",
    "bad_structure.json": "JSON is neither altermag's structure format (lattice, species, "
    "frac_coords, magmoms) nor a pymatgen Structure (AttributeError: 'list' object has no "
    "attribute 'get')",
    "does_not_exist.cif": "no such file",
    "truncated_loop.cif": "not a readable CIF (integer modulo by zero)",
}


@pytest.mark.parametrize("name", list(BAD_CASES))
def test_bad_input_gets_its_exact_error(name: str) -> None:
    path = BAD / name
    with pytest.raises(StructureReadError) as info:
        read_structure(path)
    assert str(info.value) == f"{path}: {BAD_CASES[name]}"
    assert info.value.path == str(path)


def test_nan_moment_from_ase(tmp_path: Path) -> None:
    p = tmp_path / "nan.extxyz"
    text = (EXAMPLES / "CrSb.extxyz").read_text().splitlines()
    # replace the first moment column value with nan
    fields = text[2].split()
    fields[-1] = "nan"
    text[2] = " ".join(fields)
    p.write_text("\n".join(text) + "\n")
    with pytest.raises(StructureReadError, match=r"moment of site 1 \(Cr\) is NaN or infinite"):
        read_structure(p)


def test_magmom_override_count_mismatch() -> None:
    with pytest.raises(StructureReadError, match="MAGMOM has 2 values for 6 sites"):
        read_structure(EXAMPLES / "MnF2.mcif", magmom="5 -5")


def test_malformed_mcif_moment_is_an_error_not_zero(tmp_path: Path) -> None:
    """MAGNDATA has values like ``-3.11.``: pymatgen would read every moment as 0."""
    text = (EXAMPLES / "MnF2.mcif").read_text().replace("Mn1 0.0 0.0 4.6", "Mn1 0.0 0.0 4.6.")
    p = tmp_path / "MnF2_bad.mcif"
    p.write_text(text)
    with pytest.raises(StructureReadError) as info:
        read_structure(p)
    assert str(info.value) == (
        f"{p}: the moment of Mn1 has z component '4.6.', not a number (fix the value in the "
        "file; altermag does not guess moments)"
    )
    # a standard uncertainty and the "not applicable" dot stay readable
    ok = tmp_path / "MnF2_su.mcif"
    ok.write_text(text.replace("Mn1 0.0 0.0 4.6.", "Mn1 . 0.0 4.6(2)"))
    res = analyze(read_structure(ok))
    assert (res.verdict, res.wave) == ("altermagnet", "d")


def test_pw_input_moments_come_from_species_labels(tmp_path: Path) -> None:
    """The project's own hematite deck (Fe1 up, Fe2 down) is the g-wave altermagnet it was
    written from, whatever order the species are listed in; ASE alone read it as a ferromagnet."""
    from typer.testing import CliRunner

    from altermag.cli import app

    out = tmp_path / "hematite"
    result = CliRunner().invoke(
        app, ["dft", "prepare", str(EXAMPLES / "Fe2O3.mcif"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    deck = out / "scf.in"
    s = read_structure(deck)
    res = analyze(s)
    assert (res.verdict, res.wave, res.spin_laue_group) == ("altermagnet", "g", "¹-3²m")
    fe = sorted(float(m[2]) for el, m in zip(s.species, s.magmoms, strict=True) if el == "Fe")
    assert fe == [-4.9, -4.9, 4.9, 4.9]
    # species listed O, Fe2, Fe1: starting_magnetization(i) follows the ATOMIC_SPECIES lines
    text = deck.read_text()
    lines = text.splitlines()
    i = lines.index("ATOMIC_SPECIES")
    species = lines[i + 1 : i + 4]
    assert [ln.split()[0] for ln in species] == ["Fe1", "Fe2", "O"]
    lines[i + 1 : i + 4] = [species[2], species[1], species[0]]
    swapped = "\n".join(lines).replace("starting_magnetization(1) = 0.9800", "@1")
    swapped = swapped.replace("starting_magnetization(2) = -0.9800", "@2")
    swapped = swapped.replace("starting_magnetization(3) = 0.0000", "@3")
    swapped = swapped.replace("@1", "starting_magnetization(3) = 0.98d0")
    swapped = swapped.replace("@2", "starting_magnetization(2) = -0.98D0")
    swapped = swapped.replace("@3", "starting_magnetization(1) = 0.0")
    other = tmp_path / "swapped.in"
    other.write_text(swapped)
    t = read_structure(other)
    assert np.allclose(t.magmoms, s.magmoms)
    # spin-unpolarised: no moments, the orders are enumerated
    plain = tmp_path / "nspin1.in"
    plain.write_text(text.replace("nspin = 2", "nspin = 1"))
    assert read_structure(plain).magmoms is None


def test_incar_backslash_continuation(tmp_path: Path) -> None:
    folder = tmp_path / "NiO"
    folder.mkdir()
    (folder / "POSCAR").write_text((EXAMPLES / "NiO" / "POSCAR").read_text())
    (folder / "INCAR").write_text(
        "SYSTEM = NiO AFM-II\nISPIN = 2\nMAGMOM = 1.9 -1.9 -1.9 1.9 \\\n"
        "  -1.9 1.9 1.9 -1.9 \\\n  8*0\n"
    )
    split = read_structure(folder / "POSCAR")
    whole = read_structure(EXAMPLES / "NiO" / "POSCAR")
    assert split.magmoms is not None and whole.magmoms is not None
    assert np.allclose(split.magmoms, whole.magmoms)
    assert analyze(split).verdict == "antiferromagnet"


def test_result_dict_is_the_dataclass_dict_and_round_trips() -> None:
    """``SpinGroupResult.to_dict`` (built without ``dataclasses.asdict``'s deep copies) gives
    asdict's data for a given altermagnet and for an enumeration (orders, nodal planes, order
    cell), and ``from_dict`` restores the same result."""
    from dataclasses import asdict

    from altermag.result import SpinGroupResult

    mnf2 = read_structure(EXAMPLES / "MnF2.mcif")
    given, enumerated = analyze(mnf2), analyze(mnf2.with_moments(None))
    assert given.verdict == "altermagnet" and given.nodal_planes
    assert "altermagnet" in {o.result.verdict for o in enumerated.orders}
    for res in (given, enumerated):
        data = res.to_dict()
        assert data == asdict(res)
        assert json.loads(json.dumps(data)) == data
        assert SpinGroupResult.from_dict(data) == res
