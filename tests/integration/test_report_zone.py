"""Reports: the form factor in the Brillouin zone, enumerated orders with their moments, the
PDF's summary page and the DFT check with its settings."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from altermag import MagneticStructure, analyze, read_structure
from altermag.reports.bz import brillouin_zone, zone_sections
from altermag.reports.figures import form_factor_function
from altermag.reports.material import _summary_page, material_report, render_html, render_pdf
from tests import literature as lit

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "altermag" / "data" / "examples"
QE = ROOT / "tests" / "data" / "qe"


def _inside(poly: np.ndarray, u: float, v: float, tol: float = 1e-6) -> bool:
    """Point in (or on) a convex counter-clockwise polygon."""
    for a, b in zip(poly, np.roll(poly, -1, axis=0), strict=True):
        if (b[0] - a[0]) * (v - a[1]) - (b[1] - a[1]) * (u - a[0]) < -tol:
            return False
    return True


def test_mnf2_zone_section_is_the_tetragonal_zone_with_its_points() -> None:
    s = lit.mnf2()
    res = analyze(s)
    first, second = zone_sections(s, res, n=41)
    half = np.pi / 4.8734  # π/a
    poly = np.array(first.polygon)
    assert first.name == "kz = 0" and len(poly) == 4
    assert np.allclose(np.sort(np.abs(poly), axis=0), half, atol=1e-6)
    labels = {name: (u, v) for name, u, v in first.labels}
    assert set(labels) == {"Γ", "X", "M"}
    assert np.allclose(labels["Γ"], 0) and np.allclose(np.abs(labels["M"]), half)
    assert sorted(np.abs(labels["X"])) == pytest.approx([0, half])
    assert {name for name, _, _ in second.labels} >= {"Γ", "Z"}


def test_mnte_kz0_is_nodal_so_the_zone_face_is_drawn() -> None:
    s = lit.mnte()
    first, _ = zone_sections(s, analyze(s), n=41)
    assert "zone face" in first.name
    assert first.origin[2] == pytest.approx(np.pi / 6.711, rel=1e-6)  # the A plane, π/c
    assert len(first.polygon) == 6  # the hexagonal face
    assert {name for name, _, _ in first.labels} >= {"A", "H", "L"}


@pytest.mark.parametrize("build", [lit.mnf2, lit.mnte, lit.fe2o3_hexagonal, lit.iwave_hexagonal])
def test_zone_sign_maps_are_sign_f_inside_the_zone(build) -> None:
    s = build()
    res = analyze(s)
    f = form_factor_function(res)
    zone = brillouin_zone(s, res)
    rng = np.random.default_rng(3)
    for sec in zone_sections(s, res, n=61, zone=zone):
        poly = np.array(sec.polygon)
        for name, u, v in sec.labels:  # labelled points lie in the section's zone outline
            assert _inside(poly, u, v, tol=1e-6 * np.abs(poly).max()), name
        checked = 0
        for _ in range(300):
            i, j = rng.integers(0, len(sec.u), size=2)
            k = sec.point(sec.u[j], sec.v[i])
            inside = bool(zone.inside(k[None, :], tol=1e-6)[0])
            assert (sec.sign[i][j] is not None) == inside
            if sec.sign[i][j] is None:
                continue
            value = float(f(*k))
            if abs(value) > 1e-6 * max(1.0, np.abs(k).max() ** 6):
                assert sec.sign[i][j] == np.sign(value)
                checked += 1
        assert checked > 50


def test_enumerated_order_figure_shows_its_moments() -> None:
    """Cr2O3 given without moments: the report draws the rank-1 order (the real, PT-symmetric
    one) with its arrows on the 10-site cell the orders were enumerated on."""
    s = read_structure(EXAMPLES / "Cr2O3.cif")
    rep = material_report(s, analyze(s), source="file", source_id="Cr2O3.cif")
    shown = rep["shown_order"]
    assert shown["rank"] == 1 and shown["verdict"] == "antiferromagnet"
    cell = MagneticStructure.from_dict(shown["cell"])
    moments = cell.magmoms[:, 2]
    cr = moments[np.array(cell.species) == "Cr"]
    assert len(cell) == 10 and sorted(np.sign(cr)) == [-1, -1, 1, 1] and moments.sum() == 0
    assert analyze(cell).verdict == "antiferromagnet"
    assert "Rank-1 enumerated order" in rep["figures"][0]["caption"]


def test_stored_enumerated_order_is_drawn_on_the_stored_cell(tmp_path: Path) -> None:
    from altermag.reports.stored import stored_material_report
    from altermag.store import Store

    s = read_structure(EXAMPLES / "Cr2O3.cif")
    with Store(f"sqlite:///{tmp_path / 's.db'}") as store:
        mid = store.add_material(s, source="file", source_id="Cr2O3.cif")
        order_ids = store.add_result(mid, analyze(s))
        record = store.material(mid)
    rep = stored_material_report(record, order_ids[1])  # rank 2: the hematite-type order
    structure = MagneticStructure.from_dict(rep["structure"])
    assert len(structure) == 30 and structure.magmoms is not None
    again = analyze(structure)
    assert (again.verdict, again.wave) == ("altermagnet", "g")
    assert "form-factor" in [f["key"] for f in rep["figures"]]


def test_dft_section_shows_the_settings_of_the_check(tmp_path: Path) -> None:
    from altermag.reports.stored import stored_material_report
    from altermag.store import Store

    folder = tmp_path / "cro2"
    folder.mkdir()
    shutil.copy(QE / "cro2" / "settings.json", folder / "settings.json")
    s = lit.mnf2()
    with Store(f"sqlite:///{tmp_path / 's.db'}") as store:
        mid = store.add_material(s, source="test", source_id="MnF2")
        (oid,) = store.add_result(mid, analyze(s))
        job = store.add_dft_job(
            mid, "qe", order_id=oid, directory=str(folder), parameters={"preset": "fast"}
        )
        store.set_dft_result(job, {"status": "confirmed", "reason": "M-G split"}, 0.48)
        rep = stored_material_report(store.material(mid))
    settings = rep["dft_settings"]
    assert settings["code"] == "qe" and settings["preset"] == "fast"
    assert settings["ecutwfc"] == "30.0 Ry" and settings["kpoints"] == "4×4×4"
    assert "encut" not in settings  # a VASP setting, not used by this QE check
    html = render_html(rep)
    assert 'id="dft-settings"' in html and "30.0 Ry" in html


def test_pdf_first_page_is_the_summary() -> None:
    s = lit.mnte()
    rep = material_report(
        s,
        analyze(s),
        source="test",
        source_id="MnTe",
        scores=[{"model_version": "m1", "p_altermagnetic_ground_state": 0.31, "p_k0": 0.84}],
        dft={"status": "confirmed", "reason": "G-L split 0.3 eV"},
        dft_settings={"code": "qe", "preset": "fast"},
    )
    page = _summary_page(rep)
    text = " ".join(t.get_text() for t in page.texts)
    for expected in (
        "MnTe",
        "altermagnet · g-wave",
        "²6/²m²m¹m",
        "P6_3'/m'm'c (194.268)",
        "P(altermagnetic ground state) = 0.310, P(k = 0) = 0.840",
        "confirmed: G-L split 0.3 eV (code qe, preset fast)",
    ):
        assert expected in text, expected
    assert len(page.axes) == 2  # the crystal and the form factor in the zone
    pdf = render_pdf(rep)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(
        b"/Type /Page "
    ) >= 1 + len(rep["figures"])


def _segments(line) -> int:
    """Pieces of a line broken by NaN points."""
    xs = np.asarray(line.get_data_3d()[0], float)
    ok = ~np.isnan(xs)
    return int(np.sum(ok[1:] & ~ok[:-1]) + ok[0])


def test_figures_draw_the_cell_its_moments_and_the_labelled_zone() -> None:
    """MnF2: the crystal figure has the 12 cell edges, one marker set per element and one
    arrow per Mn (one up, one down); the zone figure has the 12 edges of the tetragonal zone,
    every labelled point as a marker with its name, and the nodal lines in both sections."""
    import matplotlib.colors as mcolors
    from mpl_toolkits.mplot3d.art3d import Line3DCollection, Path3DCollection

    from altermag.reports.bz import zone_figure
    from altermag.reports.figures import DOWN, UP, crystal_figure, plt

    s = lit.mnf2()
    res = analyze(s)
    moments = [float(m) for m in s.collinear_moments()[0]]
    fig = crystal_figure(s, moments)
    fig.canvas.draw()  # 3D artists hold their projected segments once drawn
    (ax,) = fig.axes
    (cell,) = [ln for ln in ax.lines if mcolors.to_hex(ln.get_color()) == mcolors.to_hex("0.6")]
    assert _segments(cell) == 12
    arrows: dict[str, int] = {}
    for c in ax.collections:
        if isinstance(c, Line3DCollection):
            colour = mcolors.to_hex(c.get_colors()[0])
            arrows[colour] = arrows.get(colour, 0) + len(c.get_segments())
    assert arrows == {UP: 3, DOWN: 3}  # an arrow is its shaft and two strokes of its head
    markers = [c for c in ax.collections if isinstance(c, Path3DCollection)]
    assert sorted(len(c.get_offsets()) for c in markers) == [2, 4]  # 2 Mn, 4 F
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["F", "Mn", "spin up", "spin down"]
    plt.close(fig)

    zone = brillouin_zone(s, res)
    fig = zone_figure(s, res, zone=zone)
    fig.canvas.draw()
    sec1, sec2, ax3 = fig.axes
    (edges,) = ax3.lines
    assert _segments(edges) == 12
    names = {t.get_text().strip() for t in ax3.texts}
    assert names == {"Γ" if n == "G" else n for n in zone.points}
    points = [c for c in ax3.collections if isinstance(c, Path3DCollection)]
    assert sorted(len(c.get_offsets()) for c in points)[0] == len(zone.points)
    for ax2d in (sec1, sec2):
        dashed = [ln for ln in ax2d.lines if ln.get_linestyle() == "--"]
        assert dashed  # the nodal planes kx = 0, ky = 0 cross both sections
        shown = {t.get_text() for t in ax2d.texts}
        assert "Γ" in shown
    plt.close(fig)


def test_every_known_crystal_fits_its_figure() -> None:
    """The crystal figure of each known material, labels and legend included, lies inside its
    canvas (Mn5Si3's and K(RuO2)4's z labels used to reach past the right edge, so their PNG
    was drawn a second time on a larger canvas)."""
    from altermag.data.known import known_materials
    from altermag.reports.figures import crystal_figure, plt

    outside = []
    for known in known_materials():
        s = known.structure
        moments = s.collinear_moments()[0] if s.has_moments else None
        fig = crystal_figure(s, None if moments is None else [float(m) for m in moments])
        fig.canvas.draw()
        box = fig.get_tightbbox(fig.canvas.get_renderer())
        width, height = fig.get_size_inches()
        if box.x0 < 0 or box.y0 < 0 or box.x1 > width or box.y1 > height:
            outside.append((s.formula, box.bounds))
        plt.close(fig)
    assert len(known_materials()) > 40 and outside == []
