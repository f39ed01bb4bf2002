"""k-paths chosen from the form factor: split where |f| is largest, nodal controls."""

from __future__ import annotations

import numpy as np
import pytest

import altermag
from altermag.dft.kpath import FormFactor, build_kpath, interior_mask
from altermag.structure import MagneticStructure
from tests.literature import cr_bcc_afm, iwave_cubic, kru4o8, mnf2, mnte, rutile


def cro2() -> MagneticStructure:
    return rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0)


def _kinds(structure: MagneticStructure) -> dict[str, str]:
    path = build_kpath(structure, altermag.analyze(structure))
    return {s.name: s.kind for s in path.segments}


@pytest.mark.parametrize("builder", [cro2, mnf2])
def test_rutile_d_wave_splits_on_m_gamma_and_not_on_gamma_x(builder):
    s = builder()
    result = altermag.analyze(s)
    assert result.form_factor == "kx*ky"
    path = build_kpath(s, result)
    kinds = {seg.name: seg.kind for seg in path.segments}
    assert kinds["G-X"] == "nodal"
    assert kinds["G-Z"] == "nodal"
    assert kinds["M-G"] == "split"
    assert path.primary is not None and path.primary.name == "M-G"
    # X-M lies on the kx = π/a face: nonsymmorphic degeneracy, not judged
    assert kinds["X-M"] == "boundary"
    assert path.points["G"] == [0.0, 0.0, 0.0]
    assert path.points["M"] == [0.5, 0.5, 0.0]


def test_rotated_input_cell_gives_the_same_classification():
    """The form factor is in the standard frame; a rotated input cell must not change it."""
    s = cro2()
    angle = np.deg2rad(30.0)
    rot = np.array(
        [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
    )
    rotated = MagneticStructure(
        s.lattice @ rot.T, s.species, s.frac_coords, s.magmoms, label="CrO2-rot"
    )
    assert _kinds(rotated) == _kinds(s)


def test_g_wave_mnte_keeps_nodal_basal_plane_and_finds_split_segment():
    s = mnte()
    result = altermag.analyze(s)
    assert result.wave == "g"
    path = build_kpath(s, result)
    kinds = {seg.name: seg.kind for seg in path.segments}
    # f ∝ ky (3kx² − ky²) kz vanishes for kz = 0 and along Γ–A
    assert kinds["G-M"] == kinds["K-G"] == kinds["G-A"] == "nodal"
    # the standard path meets f ≠ 0 only on zone faces (kz = π/c), so Γ–L is added: the
    # direction of the largest splitting reported for MnTe
    primary = path.primary
    assert primary is not None and primary.name == "G-L" and not primary.standard
    ff = FormFactor(result.form_factor, s.lattice, np.array(result.frame_rotation), path.k_ref)
    mid = (np.array(primary.start) + np.array(primary.end)) / 2
    assert ff.value(mid)[0] > 0.01


def test_i_wave_cubic_has_split_and_nodal_segments():
    s = iwave_cubic()
    result = altermag.analyze(s)
    assert result.wave == "i"
    path = build_kpath(s, result)
    assert any(seg.kind == "split" for seg in path.segments)
    assert any(seg.kind == "nodal" for seg in path.segments)
    assert not path.warnings


def test_conventional_afm_has_only_nodal_segments_of_its_own_zone():
    s = cr_bcc_afm()
    result = altermag.analyze(s)
    assert result.verdict == "antiferromagnet"
    path = build_kpath(s, result)
    assert {seg.kind for seg in path.segments} == {"nodal"}
    # the magnetic (CsCl) cell is simple cubic: Γ, X, M, R
    assert set(path.points) == {"G", "X", "M", "R"}
    assert path.primary is None


def test_kpoints_share_segment_ends_and_respect_density():
    s = cro2()
    path = build_kpath(s, altermag.analyze(s))
    k, ranges = path.kpoints(s.lattice, density=10.0)
    assert len(ranges) == len(path.segments)
    for (first, last), seg in zip(ranges, path.segments, strict=True):
        assert np.allclose(k[first], seg.start) and np.allclose(k[last], seg.end)
    # G-X-M-G-Z-R-A-Z is continuous: consecutive ranges share an index
    assert ranges[1][0] == ranges[0][1]
    recip = 2 * np.pi * np.linalg.inv(s.lattice).T
    steps = np.linalg.norm(np.diff(k[ranges[0][0] : ranges[0][1] + 1] @ recip, axis=0), axis=1)
    assert steps.max() <= 1 / 10.0 + 1e-9


def test_interior_mask_marks_zone_faces():
    lat = np.diag([4.0, 4.0, 3.0])
    k = np.array([[0, 0, 0], [0.25, 0.1, 0], [0.5, 0.2, 0.0], [0.1, 0.1, 0.5], [0.6, 0, 0]])
    assert interior_mask(k, lat).tolist() == [True, True, False, False, False]


def test_form_factor_with_free_coefficients_uses_every_harmonic():
    """²4/¹m (KRu4O8) allows a1 (kx² − ky²) + a2 kx ky: split unless both vanish."""
    s = kru4o8()
    result = altermag.analyze(s)
    assert len(result.form_factor_basis) == 2
    path = build_kpath(s, result)
    assert path.primary is not None
    ff = FormFactor(result.form_factor, s.lattice, np.eye(3), 1.0, basis=result.form_factor_basis)
    # zero only on the kz axis (in the standard frame), non-zero on both harmonics' zeros
    assert ff.value(np.zeros(3))[0] == 0.0
    q = np.array(result.frame_rotation)
    recip = 2 * np.pi * np.linalg.inv(s.lattice).T
    to_frac = np.linalg.inv(recip)

    def frac(k_std: list[float]) -> np.ndarray:
        return (q.T @ np.array(k_std)) @ to_frac

    ff = FormFactor(result.form_factor, s.lattice, q, 1.0, basis=result.form_factor_basis)
    assert ff.value(frac([0.0, 0.0, 0.3]))[0] < 1e-9
    assert ff.value(frac([0.3, 0.3, 0.0]))[0] > 1e-3  # kx² − ky² = 0 there, kx ky ≠ 0
    assert ff.value(frac([0.3, 0.0, 0.0]))[0] > 1e-3  # kx ky = 0 there, kx² − ky² ≠ 0


# With the lattice 2π·1 the reciprocal vectors are the Cartesian axes: fractional k are the
# Cartesian k (1/Å) of the standard frame, and the values below are the polynomials at k.
CUBIC_2PI = 2 * np.pi * np.eye(3)
D_WAVE = "kx**2 - ky**2"
G_WAVE = "kx**3*kz - 3*kx*ky**2*kz"  # ρ³ cos 3φ · kz (²6/²m²m¹m, MnTe)
I_WAVE = "kx**4*ky**2 - kx**4*kz**2 - kx**2*ky**4 + kx**2*kz**4 + ky**4*kz**2 - ky**2*kz**4"
# = (kx² − ky²)(ky² − kz²)(kx² − kz²) (¹m-3²m)
_S = 1 / np.sqrt(3)

# text: (degree, [(k, f(k) by hand)], direction of the largest |f| on the unit sphere, that |f|)
WRITTEN_OUT = {
    "d": (
        D_WAVE,
        2,
        [([0.3, 0.1, 0.7], 0.08), ([0.2, 0.5, -1.0], -0.21), ([1.5, 0.0, 0.0], 2.25)],
        [1.0, 0.0, 0.0],
        1.0,
    ),
    "g": (
        G_WAVE,
        4,
        [([0.5, 0.2, 0.4], 0.026), ([1.0, 1.0, 1.0], -2.0), ([0.0, 2.0, 3.0], 0.0)],
        [np.sqrt(3) / 2, 0.0, 0.5],  # θ = 60°, φ = 0: (√3/2)³ · 1/2
        3 * np.sqrt(3) / 16,
    ),
    "i": (
        I_WAVE,
        6,
        [([1.0, 2.0, 3.0], -120.0), ([0.5, 0.0, 1.0], -0.1875), ([2.0, 1.0, 0.0], 12.0)],
        [np.sqrt((1 + _S) / 2), 0.0, np.sqrt((1 - _S) / 2)],  # kx², kz² = (1 ± 1/√3)/2
        1 / (6 * np.sqrt(3)),
    ),
}


@pytest.mark.parametrize("wave", list(WRITTEN_OUT))
def test_form_factor_is_the_polynomial_normalised_on_the_sphere(wave: str) -> None:
    """|f(k)| / max over the sphere |k| = k_ref of |f|, with f written out by hand."""
    text, degree, points, k_max, f_max = WRITTEN_OUT[wave]
    ff = FormFactor(text, CUBIC_2PI)
    k = np.array([p for p, _ in points])
    by_hand = np.abs([f for _, f in points])
    values = ff.value(k)
    # the largest |f| on the sphere is found by sampling it: reached within a percent
    assert 1.0 <= ff.value(np.array(k_max))[0] <= 1.01
    np.testing.assert_allclose(values, by_hand / f_max, rtol=0.01, atol=1e-15)
    # ratios do not depend on the normalisation: exactly the polynomial's
    np.testing.assert_allclose(values * by_hand[0], by_hand * values[0], rtol=1e-12, atol=1e-15)
    # no point of the sphere exceeds the maximum
    u = np.random.default_rng(3).normal(size=(20000, 3))
    u /= np.linalg.norm(u, axis=1)[:, None]
    assert ff.value(u).max() <= ff.value(np.array(k_max))[0] * (1 + 1e-12)
    # homogeneous of the wave's degree: doubling k and k_ref leaves |f| normalised the same
    twice = FormFactor(text, CUBIC_2PI, k_ref=2.0)
    np.testing.assert_allclose(twice.value(2 * k), values, rtol=1e-12, atol=1e-15)
    assert ff.value(3 * k[:1])[0] == pytest.approx(3**degree * values[0], rel=1e-12)


@pytest.mark.parametrize(
    "text, normals",
    [
        (D_WAVE, [[1, 1, 0], [1, -1, 0]]),
        (G_WAVE, [[0, 0, 1], [1, 0, 0], [1, np.sqrt(3), 0], [1, -np.sqrt(3), 0]]),
        (I_WAVE, [[1, 1, 0], [1, -1, 0], [0, 1, 1], [0, 1, -1], [1, 0, 1], [1, 0, -1]]),
    ],
)
def test_form_factor_vanishes_on_its_nodal_planes(text: str, normals: list[list[float]]) -> None:
    """E↑ = E↓ on the nodal planes: |f| is zero there (round-off), not at most points next
    to them (those near another nodal plane aside)."""
    ff = FormFactor(text, CUBIC_2PI)
    rng = np.random.default_rng(4)
    for normal in normals:
        n = np.array(normal, float) / np.linalg.norm(normal)
        k = rng.normal(size=(50, 3))
        k -= (k @ n)[:, None] * n
        assert ff.value(k).max() < 1e-12, normal
        assert np.median(ff.value(k + 0.05 * n)) > 1e-6, normal


def test_free_coefficients_need_the_basis_of_harmonics() -> None:
    """a1 (kx² − ky²) + a2 kx ky: |f| is √(f₁² + f₂²) of the harmonics, zero only on kz."""
    text = "a1*(kx**2 - ky**2) + a2*(kx*ky)"
    with pytest.raises(ValueError, match="free coefficients"):
        FormFactor(text, CUBIC_2PI)
    ff = FormFactor(text, CUBIC_2PI, basis=["kx**2 - ky**2", "kx*ky"])
    k = np.array([[0.3, 0.1, 0.5], [1.0, 0.0, 0.0], [0.3, 0.3, 0.2], [0.0, 0.0, 0.4]])
    # (kx² − ky²)² + (kx ky)² = ρ⁴ (cos² 2φ + sin² 2φ / 4): largest (1) at φ = 0 on the sphere
    by_hand = np.sqrt([0.08**2 + 0.03**2, 1.0, 0.09**2, 0.0])
    np.testing.assert_allclose(ff.value(k), by_hand, rtol=0.01, atol=1e-15)
    np.testing.assert_allclose(ff.value(k) * by_hand[1], by_hand * ff.value(k)[1], rtol=1e-12)
