"""Invariances of the spin-group verdict (hypothesis property tests).

The verdict and wave type are properties of the magnetic crystal, not of how it is written
down: they must survive supercells, origin shifts, atom permutations, rigid rotations of the
Cartesian frame, a global spin flip, and noise below the tolerances.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from altermag import MagneticStructure, analyze
from tests import literature as lit

MATERIALS = {
    "MnF2": lit.mnf2,
    "MnTe": lit.mnte,
    "FeSb2": lambda: lit.fesb2("1x1x1"),
    "Cr2O3": lit.cr2o3,
    "NiO": lit.nio_afm2,
    "Fe-bcc": lit.fe_bcc,
    "i-hex": lit.iwave_hexagonal,
}
BUILT = {k: v() for k, v in MATERIALS.items()}
EXPECTED = {
    k: (r.verdict, r.wave, r.spin_laue_group)
    for k, r in ((k, analyze(s)) for k, s in BUILT.items())
}

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
names = st.sampled_from(sorted(MATERIALS))


def _same(name: str, s: MagneticStructure) -> None:
    r = analyze(s)
    assert (r.verdict, r.wave, r.spin_laue_group) == EXPECTED[name]


def test_expected_baseline() -> None:
    assert EXPECTED["MnF2"] == ("altermagnet", "d", "²4/¹m²m¹m")
    assert EXPECTED["MnTe"][1] == "g" and EXPECTED["i-hex"][1] == "i"
    assert EXPECTED["Cr2O3"][0] == EXPECTED["NiO"][0] == "antiferromagnet"


@SETTINGS
@given(name=names, shift=st.tuples(*[st.floats(-1, 1)] * 3))
def test_origin_shift(name: str, shift: tuple[float, float, float]) -> None:
    s = BUILT[name]
    _same(name, MagneticStructure(s.lattice, s.species, s.frac_coords + np.array(shift), s.magmoms))


@SETTINGS
@given(name=names, seed=st.integers(0, 2**31 - 1))
def test_permutation(name: str, seed: int) -> None:
    s = BUILT[name]
    p = np.random.default_rng(seed).permutation(len(s))
    _same(
        name,
        MagneticStructure(s.lattice, tuple(np.array(s.species)[p]), s.frac_coords[p], s.magmoms[p]),
    )


@SETTINGS
@given(name=names, angles=st.tuples(*[st.floats(0, 360)] * 3))
def test_rigid_rotation(name: str, angles: tuple[float, float, float]) -> None:
    s = BUILT[name]
    q = Rotation.from_euler("zyx", angles, degrees=True).as_matrix()
    rotated = MagneticStructure(s.lattice @ q.T, s.species, s.frac_coords, s.magmoms @ q.T)
    _same(name, rotated)
    # the form factor is reported in the standard frame: unchanged by the rotation
    if EXPECTED[name][0] == "altermagnet":
        assert analyze(rotated).form_factor == analyze(s).form_factor


@SETTINGS
@given(name=names)
def test_global_spin_flip(name: str) -> None:
    s = BUILT[name]
    _same(name, s.with_moments(-s.magmoms))


@pytest.mark.parametrize("name", ["MnF2", "MnTe", "Cr2O3", "NiO"])
@pytest.mark.parametrize("cell", [(2, 1, 1), (1, 2, 2), (2, 2, 2)])
def test_supercell(name: str, cell: tuple[int, int, int]) -> None:
    s = BUILT[name].to_pymatgen()
    s.make_supercell(cell)
    sup = MagneticStructure.from_pymatgen(s)
    _same(name, sup)


@SETTINGS
@given(name=names, seed=st.integers(0, 2**31 - 1))
def test_noise_below_tolerance(name: str, seed: int) -> None:
    """≤ 0.02 Å on every atom and ≤ 0.05 μB on every moment (defaults 0.05 Å, 0.15 μB)."""
    s = BUILT[name]
    rng = np.random.default_rng(seed)
    d = rng.normal(size=(len(s), 3))
    d *= 0.02 * rng.uniform(0, 1, size=(len(s), 1)) / np.linalg.norm(d, axis=1, keepdims=True)
    frac = s.frac_coords + d @ np.linalg.inv(s.lattice)
    m = s.magmoms.copy()
    mag = np.linalg.norm(m, axis=1) > 0
    m[mag] *= 1 + rng.uniform(-0.01, 0.01, size=(mag.sum(), 1))
    _same(name, MagneticStructure(s.lattice, s.species, frac, m))


def test_mnf2_with_published_noise_is_a_d_wave_altermagnet() -> None:
    """MnF2 with 0.02 Å position noise and ±4.61/−4.60 μB moments (docs/pitfalls.md: noise)."""
    s = lit.mnf2()
    rng = np.random.default_rng(42)
    d = rng.normal(size=(len(s), 3))
    d *= 0.02 / np.linalg.norm(d, axis=1, keepdims=True)
    frac = s.frac_coords + d @ np.linalg.inv(s.lattice)
    m = np.where(s.magmoms[:, 2] > 0, 4.61, np.where(s.magmoms[:, 2] < 0, -4.60, 0.0))
    r = analyze(MagneticStructure(s.lattice, s.species, frac, m))
    assert (r.verdict, r.wave, r.spin_laue_group) == ("altermagnet", "d", "²4/¹m²m¹m")
    assert any("differ by up to 0.01" in w for w in r.warnings)
    # a user can tighten the tolerances: the noisy structure is then only P1-like
    strict = analyze(MagneticStructure(s.lattice, s.species, frac, m), symprec=1e-4, magtol=1e-3)
    assert strict.verdict != "altermagnet"
