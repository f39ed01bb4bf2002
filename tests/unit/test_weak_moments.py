"""Zero is relative: weak but ordered moments keep their spin group, dropped moments warn.

Literature answers: RuO2 is a d-wave altermagnet with a reported moment of only ~0.05 μB
(Berlijn et al., PRL 118, 077201 (2017)); URu2Si2's large-moment phase is type-I
antiferromagnetic on a body-centred lattice (moment ~0.03–0.04 μB at ambient pressure,
Broholm et al., PRL 58, 1467 (1987)), so the centring translation flips the spin: a
conventional antiferromagnet.
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Lattice, Structure

from altermag import MagneticStructure, analyze
from altermag.symmetry.spin_group import MOMENT_FLOOR, effective_magtol
from tests import literature as lit


def _scaled(ms: MagneticStructure, factor: float) -> MagneticStructure:
    assert ms.magmoms is not None
    return ms.with_moments(ms.magmoms * factor)


def test_mnf2_weak_and_strong_moments_have_one_spin_group() -> None:
    strong = _scaled(lit.mnf2(), 5.0 / 4.6)
    weak = _scaled(lit.mnf2(), 0.1 / 4.6)
    a, b = analyze(strong), analyze(weak)
    assert (a.verdict, a.wave, a.spin_laue_group) == ("altermagnet", "d", "²4/¹m²m¹m")
    assert (b.verdict, b.wave, b.spin_laue_group) == (a.verdict, a.wave, a.spin_laue_group)
    assert b.n_magnetic_sites == a.n_magnetic_sites == 2
    assert any("weak moments" in w for w in b.warnings)
    assert not any("weak moments" in w for w in a.warnings)


def test_ruo2_with_its_reported_005_muB_is_a_d_wave_altermagnet() -> None:
    ruo2 = _scaled(lit.ruo2(), 0.05 / 0.23)
    res = analyze(ruo2)
    assert (res.verdict, res.wave, res.spin_laue_group) == ("altermagnet", "d", "²4/¹m²m¹m")


def test_uru2si2_weak_type_i_order_is_a_conventional_antiferromagnet() -> None:
    s = Structure.from_spacegroup(
        "I4/mmm",
        Lattice.tetragonal(4.128, 9.573),
        ["U", "Ru", "Si"],
        [[0, 0, 0], [0, 0.5, 0.25], [0, 0, 0.371]],
    )
    ms = MagneticStructure.from_pymatgen(s)
    moments = [
        (0.04 if abs(f[2] % 1.0) < 1e-3 else -0.04) if el == "U" else 0.0
        for el, f in zip(ms.species, ms.frac_coords, strict=True)
    ]
    res = analyze(ms.with_moments(moments))
    assert res.verdict == "antiferromagnet"
    assert res.n_magnetic_sites == 2
    assert res.afm_reason is not None and res.afm_reason.startswith("[C2||t]")


def test_a_dropped_non_zero_moment_warns() -> None:
    ms = lit.mnf2()
    assert ms.magmoms is not None
    m = ms.magmoms.copy()
    fluorine = [i for i, el in enumerate(ms.species) if el == "F"]
    m[fluorine, 2] = 0.08  # induced ligand moments, below magtol next to 4.6 μB
    res = analyze(ms.with_moments(m))
    assert (res.verdict, res.wave) == ("altermagnet", "d")
    assert res.n_magnetic_sites == 2
    dropped = [w for w in res.warnings if "treated as non-magnetic" in w]
    assert len(dropped) == 1 and dropped[0].startswith("4 non-zero moment(s)")


def test_numerical_noise_alone_is_nonmagnetic_but_not_silent() -> None:
    ms = _scaled(lit.mnf2(), 0.5 * MOMENT_FLOOR / 4.6)
    res = analyze(ms)
    assert res.verdict == "nonmagnetic"
    assert any("treated as non-magnetic" in w for w in res.warnings)


def test_tolerance_is_relative_with_floor_and_ceiling() -> None:
    assert effective_magtol(np.array([5.0, -5.0]), 0.15) == 0.15
    assert effective_magtol(np.array([0.05, -0.05]), 0.15) == MOMENT_FLOOR
    assert np.isclose(effective_magtol(np.array([0.5, -0.5]), 0.15), 0.05)
    assert effective_magtol(np.zeros(3), 0.15) == MOMENT_FLOOR
