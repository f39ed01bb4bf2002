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
