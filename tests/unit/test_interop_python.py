"""pymatgen and ASE objects in and out of altermag, and results as MSONable job outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase import Atoms
from monty.json import MontyDecoder, MontyEncoder, jsanitize
from pymatgen.analysis.magnetism import CollinearMagneticStructureAnalyzer, Ordering
from pymatgen.core import Species, Structure
from pymatgen.electronic_structure.core import Magmom

from altermag import MagneticStructure, SpinGroupResult, analyze
from altermag.errors import InputError
from tests import literature as lit


def _pmg(ms: MagneticStructure, magmom: list | None) -> Structure:
    s = Structure(ms.lattice, list(ms.species), ms.frac_coords)
    if magmom is not None:
        s.add_site_property("magmom", magmom)
    return s


def test_analyze_takes_a_pymatgen_structure_with_scalar_moments() -> None:
    mnf2 = lit.mnf2()
    res = analyze(_pmg(mnf2, [float(m[2]) for m in mnf2.magmoms]))
    assert (res.verdict, res.wave, res.form_factor) == ("altermagnet", "d", "kx*ky")


@pytest.mark.parametrize("kind", ["lists", "Magmom"])
def test_analyze_takes_a_pymatgen_structure_with_vector_moments(kind: str) -> None:
    mnte = lit.mnte()
    vectors = [list(m) for m in mnte.magmoms]
    magmom = vectors if kind == "lists" else [Magmom(v) for v in vectors]
    res = analyze(_pmg(mnte, magmom))
    assert (res.verdict, res.wave) == ("altermagnet", "g")


def test_pymatgen_magmom_with_spin_axis_is_read_in_the_global_frame() -> None:
    """Magmom(5, saxis=x) is a moment along x: NiO's AFM-II stays a conventional AFM."""
    nio = lit.nio_afm2()
    magmom = [Magmom(float(m[2]), saxis=[1, 0, 0]) for m in nio.magmoms]
    ms = MagneticStructure.from_pymatgen(_pmg(nio, magmom))
    assert np.allclose(ms.magmoms[:, 0], nio.magmoms[:, 2]) and np.allclose(ms.magmoms[:, 2], 0)
    assert analyze(ms).verdict == "antiferromagnet"


def test_pymatgen_species_spin_carries_the_moments() -> None:
    mnf2 = lit.mnf2()
    s = Structure(
        mnf2.lattice,
        [
            Species(el, 2 if el == "Mn" else -1, spin=float(m[2]))
            for el, m in zip(mnf2.species, mnf2.magmoms, strict=True)
        ],
        mnf2.frac_coords,
    )
    assert analyze(s).wave == "d"


def test_pymatgen_structure_without_moments_is_enumerated() -> None:
    res = analyze(_pmg(lit.mnf2(), None))
    assert res.enumerated and res.can_host_altermagnet and "d" in res.host_waves


def test_analyze_takes_ase_atoms_with_scalar_and_vector_initial_moments() -> None:
    crsb = lit.crsb()
    scalar = Atoms(
        list(crsb.species),
        scaled_positions=crsb.frac_coords,
        cell=crsb.lattice,
        pbc=True,
        magmoms=crsb.magmoms[:, 2],
    )
    assert (analyze(scalar).verdict, analyze(scalar).wave) == ("altermagnet", "g")
    vector = scalar.copy()
    vector.arrays.pop("initial_magmoms")
    vector.set_initial_magnetic_moments(
        np.column_stack([0 * crsb.magmoms[:, :2], crsb.magmoms[:, 2]])
    )
    assert analyze(vector).wave == "g"
    bare = scalar.copy()
    bare.arrays.pop("initial_magmoms")
    assert analyze(bare).enumerated


def test_analyze_rejects_other_objects_by_name() -> None:
    with pytest.raises(TypeError, match=r"got builtins\.dict"):
        analyze({"lattice": []})


def test_ase_atoms_without_periodicity_are_refused() -> None:
    with pytest.raises(InputError, match="not periodic"):
        MagneticStructure.from_ase(Atoms("Fe2", positions=[[0, 0, 0], [2, 0, 0]], cell=[5, 5, 5]))


def test_to_pymatgen_writes_scalars_that_pymatgen_collinear_tools_read() -> None:
    for build, ordering in ((lit.mnf2, Ordering.AFM), (lit.fe_bcc, Ordering.FM)):
        ms = build()
        s = ms.to_pymatgen()
        assert all(isinstance(m, float) for m in s.site_properties["magmom"])
        analyzer = CollinearMagneticStructureAnalyzer(s, make_primitive=False)
        assert analyzer.ordering == ordering
        assert np.allclose(analyzer.magmoms, ms.magmoms[:, 2])
        json.loads(s.to(fmt="json"))  # pymatgen's own JSON writer takes it


def test_collinear_moments_off_z_keep_their_axis_through_pymatgen() -> None:
    ms = lit.mnf2()
    along_x = ms.with_moments(np.column_stack([ms.magmoms[:, 2], 0 * ms.magmoms[:, :2]]))
    s = along_x.to_pymatgen()
    assert s.properties["magmom_axis"] == [1.0, 0.0, 0.0]
    assert CollinearMagneticStructureAnalyzer(s, make_primitive=False).ordering == Ordering.AFM
    back = MagneticStructure.from_pymatgen(Structure.from_str(s.to(fmt="json"), fmt="json"))
    assert np.allclose(back.magmoms, along_x.magmoms)


def test_noncollinear_moments_stay_vectors() -> None:
    ms = lit.mnf2()
    m = ms.magmoms.copy()
    m[0] = [3.0, 0.0, 3.0]
    s = ms.with_moments(m).to_pymatgen()
    assert s.site_properties["magmom"][0] == [3.0, 0.0, 3.0]
    assert np.allclose(MagneticStructure.from_pymatgen(s).magmoms, m)


def test_ase_round_trip_keeps_the_order() -> None:
    ms = lit.mnte()
    atoms = ms.to_ase()
    assert atoms.get_initial_magnetic_moments().shape == (len(ms),)
    back = MagneticStructure.from_ase(atoms)
    assert np.allclose(back.magmoms, ms.magmoms) and np.allclose(back.lattice, ms.lattice)


def test_results_are_msonable_job_outputs() -> None:
    """What jobflow does with a job's output: jsanitize(strict) to store it, MontyDecoder to
    read it back; plain MontyEncoder/MontyDecoder JSON as well."""
    for structure in (lit.mnf2(), lit.mnf2().with_moments(None)):
        res = analyze(structure)
        stored = jsanitize(res, strict=True, allow_bson=True, enum_values=True)
        assert stored["@class"] == "SpinGroupResult" and stored["@module"] == "altermag.result"
        back = MontyDecoder().process_decoded(stored)
        assert isinstance(back, SpinGroupResult) and back == res
        assert json.loads(json.dumps(res, cls=MontyEncoder), cls=MontyDecoder) == res
    ms = lit.mnte()
    back_ms = json.loads(json.dumps(ms, cls=MontyEncoder), cls=MontyDecoder)
    assert isinstance(back_ms, MagneticStructure) and np.allclose(back_ms.magmoms, ms.magmoms)
