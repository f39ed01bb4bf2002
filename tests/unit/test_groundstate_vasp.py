"""VASP ground-state decks (one per order) key by key, and reading a real VASP OUTCAR.

No VASP runs here and the repository holds no real VASP output of a ground-state search:
the decks are checked key by key against pymatgen's ``MPStaticSet`` and against each other
(every order the same cell, KPOINTS, ENCUT, U; MAGMOM the order's); the OUTCAR reader is
checked on ASE's real spin-polarised VASP OUTCAR (a Ni cluster written without LORBIT, so
without site moments) against pymatgen's own parser. Reading site moments back from POSCAR
order into the order's site order is not tested on a real VASP output.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from pymatgen.io.vasp.inputs import Incar, Kpoints, Poscar

from altermag.dft.groundstate import plan_orders, prepare_groundstate
from altermag.dft.groundstate.vasp import read_vasp_order, vasp_scf_facts
from altermag.dft.presets import DEFAULT_PRESET, load_preset
from tests.literature import mnf2, mnte, rutile

ASE_VASP = Path(__import__("ase").__file__).parent / "test" / "testdata" / "vasp"


def cro2():
    return rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0)


@pytest.mark.parametrize("builder", [mnf2, cro2, mnte])
def test_one_deck_per_order_mp_keys_same_settings_own_magmom(builder, tmp_path: Path) -> None:
    from pymatgen.io.vasp.sets import MPStaticSet

    settings = load_preset(DEFAULT_PRESET)
    written = prepare_groundstate(builder(), settings, tmp_path, code="vasp", use_prior=False)
    assert len(written) >= 2 and any(p.verdict == "ferromagnet" for p, _ in written)
    incars, shared = [], []
    for plan, folder in written:
        incar = Incar.from_str((folder / "INCAR").read_text())
        poscar = Poscar.from_str((folder / "POSCAR").read_text())
        pmg = poscar.structure.copy()
        pmg.add_site_property("magmom", incar["MAGMOM"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pymatgen's notes about POTCARs not being set up
            mp = MPStaticSet(pmg).incar
        for key, value in mp.items():  # every MP key, same value
            if isinstance(value, list | float):
                assert incar[key] == pytest.approx(value), key
            else:
                assert incar[key] == value, key
        # MAGMOM: the order's signs on the order's sites (POSCAR groups sites by element)
        sites = json.loads((folder / "order.json").read_text())["poscar_sites"]
        signs = [0 if m == 0 else (1 if m > 0 else -1) for m in incar["MAGMOM"]]
        assert signs == [plan.signs[i] for i in sites]
        assert (folder / "POTCAR.spec").is_file() and (folder / "MISSING").is_file()
        incars.append(incar)
        shared.append(
            (
                (folder / "POSCAR").read_text(),
                (folder / "KPOINTS").read_text(),
                (folder / "POTCAR.spec").read_text(),
            )
        )
    assert len(set(shared)) == 1  # one cell, one k-mesh, one POTCAR set
    for key in set(incars[0]) | set(incars[1]):
        if key != "MAGMOM":
            assert incars[0].get(key) == incars[1].get(key), key
    assert incars[0]["MAGMOM"] != incars[1]["MAGMOM"]
    kpoints = Kpoints.from_str(shared[0][1])
    assert kpoints.style == Kpoints.supported_modes.Gamma
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["code"] == "vasp" and manifest["output"] == "OUTCAR"
    assert [o["folder"] for o in manifest["orders"]] == [p.label for p, _ in written]
    assert manifest["settings"]["encut"] == incars[0]["ENCUT"]


def test_outcar_energy_end_and_convergence_as_pymatgen_reads_them() -> None:
    from pymatgen.io.vasp.outputs import Outcar

    outcar = ASE_VASP / "OUTCAR_example_1"  # real VASP, spin-polarised, no LORBIT
    facts = vasp_scf_facts(outcar)
    assert facts.energy_ev == pytest.approx(Outcar(str(outcar)).final_energy, abs=1e-8)
    assert facts.finished and facts.converged
    assert facts.final_moments == []  # no magnetization (x) table without LORBIT


def test_an_outcar_without_site_moments_is_never_compared(tmp_path: Path) -> None:
    """The energy is there, but whether the imposed order survived cannot be told."""
    plan = plan_orders(mnf2(), use_prior=False)[0]
    (tmp_path / "OUTCAR").write_text((ASE_VASP / "OUTCAR_example_1").read_text())
    judged = read_vasp_order(tmp_path, plan, load_preset(DEFAULT_PRESET))
    assert judged.status == "failed" and judged.energy_ev is not None
    assert "site moments" in judged.message
    assert read_vasp_order(tmp_path / "none", plan, load_preset(DEFAULT_PRESET)).status == (
        "failed"
    )
