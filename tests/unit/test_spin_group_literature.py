"""Spin-group verdicts of materials with literature answers (the table of docs/symmetry.md)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from altermag import analyze
from tests import literature as lit

# name: (builder, verdict, wave, spin Laue group)
CASES = {
    "MnF2": (lit.mnf2, "altermagnet", "d", "²4/¹m²m¹m"),
    "FeF2": (lit.fef2, "altermagnet", "d", "²4/¹m²m¹m"),
    "NiF2": (lit.nif2, "altermagnet", "d", "²4/¹m²m¹m"),
    "RuO2": (lit.ruo2, "altermagnet", "d", "²4/¹m²m¹m"),
    "MnTe": (lit.mnte, "altermagnet", "g", "²6/²m²m¹m"),
    "CrSb": (lit.crsb, "altermagnet", "g", "²6/²m²m¹m"),
    "Fe2O3-hex": (lit.fe2o3_hexagonal, "altermagnet", "g", "¹-3²m"),
    "Fe2O3-rh": (lit.fe2o3_rhombohedral, "altermagnet", "g", "¹-3²m"),
    "La2CuO4-LTO": (lit.la2cuo4, "altermagnet", "d", "²m²m¹m"),
    "FeSb2": (lambda: lit.fesb2("1x1x1"), "altermagnet", "d", "²m²m¹m"),
    "FeSb2-112-uudd": (lambda: lit.fesb2("1x1x2", "uudd"), "altermagnet", "d", "²m²m¹m"),
    "KRu4O8": (lit.kru4o8, "altermagnet", "d", "²4/¹m"),
    "i-wave-hexagonal": (lit.iwave_hexagonal, "altermagnet", "i", "¹6/¹m²m²m"),
    "i-wave-cubic": (lit.iwave_cubic, "altermagnet", "i", "¹m-3²m"),
    "NiO-AFM-II": (lit.nio_afm2, "antiferromagnet", None, None),
    "Cr2O3": (lit.cr2o3, "antiferromagnet", None, None),
    "Cr-bcc": (lit.cr_bcc_afm, "antiferromagnet", None, None),
    "FeRh-G": (lit.ferh_g_type, "antiferromagnet", None, None),
    "FeSb2-112-udud": (lambda: lit.fesb2("1x1x2", "udud"), "antiferromagnet", None, None),
    "Fe-bcc": (lit.fe_bcc, "ferromagnet", "s", "¹m-3¹m"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_literature_verdict(name: str) -> None:
    build, verdict, wave, slg = CASES[name]
    res = analyze(build())
    assert res.verdict == verdict
    assert res.wave == wave
    if slg is not None:
        assert res.spin_laue_group == slg


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c[1] == "altermagnet"])
def test_form_factor_vanishes_on_nodal_planes_and_is_odd_under_flips(name: str) -> None:
    """f(k) is zero on every reported nodal plane and non-zero at a generic k."""
    res = analyze(CASES[name][0]())
    kx, ky, kz = sympy.symbols("kx ky kz")
    rng = np.random.default_rng(0)
    for basis in res.form_factor_basis:
        f = sympy.lambdify((kx, ky, kz), sympy.sympify(basis))
        k = rng.normal(size=3)
        assert abs(f(*k)) > 1e-6
        degree = sympy.Poly(sympy.sympify(basis), kx, ky, kz).total_degree()
        assert degree == {"d": 2, "g": 4, "i": 6}[res.wave]
        for plane in res.nodal_planes:
            n = np.array(plane.cartesian_normal)
            for _ in range(3):
                p = rng.normal(size=3)
                p -= (p @ n) * n
                assert abs(f(*p)) < 1e-8, (plane.equation, basis)


def test_mnf2_details() -> None:
    res = analyze(lit.mnf2())
    assert res.form_factor == "kx*ky"
    assert sorted(p.equation for p in res.nodal_planes) == ["kx = 0", "ky = 0"]
    assert all(p.enforced for p in res.nodal_planes)
    assert res.space_group_number == 136
    assert res.magnetic_space_group == "P4_2'/mnm'"
    assert res.magnetic_space_group_number == "136.499"
    assert res.spin_laue_group_ascii == "^2 4/^1 m ^2 m ^1 m"
    assert res.net_moment == 0
    # the sublattices are related by the 4-fold screw and the n-glides, never by t or -1
    assert any("4+[001]|1/2,1/2,1/2" in op for op in res.spin_flip_operations)


def test_hexagonal_and_rhombohedral_hematite_agree() -> None:
    hexa, rh = analyze(lit.fe2o3_hexagonal()), analyze(lit.fe2o3_rhombohedral())
    assert hexa.form_factor == rh.form_factor
    assert len(hexa.nodal_planes) == 4
    assert sum(p.enforced for p in hexa.nodal_planes) == 3


def test_conventional_afm_names_the_operation() -> None:
    assert "translation" in analyze(lit.nio_afm2()).afm_reason
    assert "PT" in analyze(lit.cr2o3()).afm_reason
    assert analyze(lit.nio_afm2()).magnetic_space_group == "C_c2/c"


def test_kru4o8_nodal_planes_not_fixed_by_symmetry() -> None:
    res = analyze(lit.kru4o8())
    assert len(res.form_factor_basis) == 2
    assert res.nodal_planes == []
    assert any("material-dependent orientation" in w for w in res.warnings)


def test_ferrimagnet_and_compensated_ferrimagnet() -> None:
    base = lit.mnf2()
    m = base.magmoms[:, 2].copy()
    ferri = analyze(base.with_moments(np.where(m > 0, 4.6, np.where(m < 0, -3.0, 0.0))))
    assert ferri.verdict == "ferrimagnet" and ferri.wave == "s"
    # Mn and an F site carrying moments that cancel by accident
    comp = m.copy()
    comp[:] = 0
    comp[0], comp[2] = 2.0, -2.0
    res = analyze(base.with_moments(comp))
    assert res.verdict == "compensated_ferrimagnet" and res.wave == "s"


def test_nonmagnetic_and_noncollinear() -> None:
    base = lit.mnf2()
    assert analyze(base.with_moments(np.zeros(len(base)))).verdict == "nonmagnetic"
    vec = np.zeros((len(base), 3))
    vec[0] = [4.6, 0, 0]
    vec[1] = [0, 4.6, 0]
    res = analyze(base.with_moments(vec))
    assert res.verdict == "noncollinear"
    assert res.wave is None
