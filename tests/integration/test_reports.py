"""Material reports: content for known materials, the form-factor map against f(k), and a
real render in headless Chromium."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from markupsafe import escape

from altermag import analyze
from altermag.reports.figures import form_factor_function
from altermag.reports.material import material_report, render_html, render_pdf
from tests import literature as lit
from tests.requirements import requires

CASES = {
    "MnF2": (lit.mnf2, "altermagnet", "d"),
    "MnTe": (lit.mnte, "altermagnet", "g"),
    "i-hex": (lit.iwave_hexagonal, "altermagnet", "i"),
    "NiO": (lit.nio_afm2, "antiferromagnet", None),
}


@pytest.fixture(scope="module")
def reports() -> dict[str, dict]:
    out = {}
    for name, (build, _, _) in CASES.items():
        s = build()
        out[name] = material_report(s, analyze(s), source="test", source_id=name)
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_report_content(reports: dict[str, dict], name: str) -> None:
    rep = reports[name]
    _, verdict, wave = CASES[name]
    assert rep["summary"]["verdict"] == verdict and rep["summary"]["wave"] == wave
    json.dumps(rep)  # JSON-serialisable
    keys = [f["key"] for f in rep["figures"]]
    assert "crystal" in keys
    assert ("form-factor" in keys) == (verdict == "altermagnet")
    for f in rep["figures"]:
        assert base64.b64decode(f["png_base64"]).startswith(b"\x89PNG")
    html = render_html(rep)
    assert html.count("data:image/png;base64,") == len(rep["figures"])
    assert "http://" not in html and "https://" not in html  # self-contained, offline
    assert rep["summary"]["formula"] in html and verdict in html
    assert rep["provenance"]["altermag_version"] in html
    if verdict == "antiferromagnet":
        assert "translation" in rep["summary"]["afm_reason"]
        assert "translation" in html


def test_mnf2_summary_details(reports: dict[str, dict]) -> None:
    s = reports["MnF2"]["summary"]
    assert s["spin_laue_group"] == "²4/¹m²m¹m" and s["form_factor"] == "kx*ky"
    assert s["nodal_planes"] == "kx = 0, ky = 0"
    html = render_html(reports["MnF2"])
    # the page is autoescaped: the primes of the BNS symbol are HTML entities
    assert "²4/¹m²m¹m" in html and escape("P4_2'/mnm' (136.499)") in html


@pytest.mark.parametrize("name", ["MnF2", "MnTe", "i-hex"])
def test_form_factor_map_matches_f_at_sample_points(reports: dict[str, dict], name: str) -> None:
    """The plotted sign is sign f(k) at every sampled k, and zero on the nodal lines drawn."""
    s = CASES[name][0]()
    res = analyze(s)
    f = form_factor_function(res)
    rng = np.random.default_rng(1)
    for plane in reports[name]["form_factor_planes"]:
        coords = np.array(plane["coords"])
        sign = np.array(plane["sign"])
        o, e1, e2 = (np.array(plane[k]) for k in ("origin", "e1", "e2"))
        for _ in range(200):
            i, j = rng.integers(0, len(coords), size=2)
            k = o + coords[j] * e1 + coords[i] * e2
            val = f(*k)
            if abs(val) > 1e-6:
                assert sign[i, j] == int(np.sign(val))
            else:  # on (or within rounding of) a nodal line
                assert sign[i, j] in (0, int(np.sign(val)))
        for (u0, v0), (u1, v1) in plane["nodal_lines"]:
            for t in np.linspace(0, 1, 7):
                k = o + (u0 + t * (u1 - u0)) * e1 + (v0 + t * (v1 - v0)) * e2
                assert abs(f(*k)) < 1e-9
        assert np.any(sign != 0)
    # the second plane shows the kz dependence for MnTe (kz = 0 is nodal there)
    if name == "MnTe":
        assert reports[name]["form_factor_planes"][0]["name"] == "kz = 1/2"


def test_pdf(reports: dict[str, dict]) -> None:
    pdf = render_pdf(reports["MnTe"])
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 3


def test_cli_report_to_stdout_and_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from altermag.cli import app

    ex = Path(__file__).resolve().parents[2] / "altermag" / "data" / "examples" / "MnF2.mcif"
    result = CliRunner().invoke(app, ["report", str(ex), "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["summary"]["wave"] == "d"
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", str(ex), "--out", str(out)])
    assert result.exit_code == 0 and out.read_text().startswith("<!DOCTYPE html>")
    bad = CliRunner().invoke(app, ["report", str(tmp_path / "missing.cif")])
    assert bad.exit_code == 2 and "no such file" in bad.output


CHECK_SCRIPT = """
<script>
window.addEventListener('load', () => {
  const imgs = Array.from(document.images);
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  document.title = 'IMAGES ' + ok + '/' + imgs.length;
});
</script>
"""


@pytest.mark.browser
@requires("chromium")
def test_report_renders_in_headless_chromium(reports: dict[str, dict], tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium is not None
    html = render_html(reports["MnTe"]).replace("</body>", CHECK_SCRIPT + "</body>")
    page = tmp_path / "report.html"
    page.write_text(html)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
    ]
    out = subprocess.run(
        [chromium, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    n = len(reports["MnTe"]["figures"])
    assert f"<title>IMAGES {n}/{n}</title>" in out.stdout, out.stderr[-2000:]
    console_errors = [
        line
        for line in out.stderr.splitlines()
        if "CONSOLE" in line and re.search(r"error", line, re.I)
    ]
    assert console_errors == []
    shot = tmp_path / "shot.png"
    subprocess.run(
        [chromium, *flags, f"--screenshot={shot}", "--window-size=1100,2000", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes().startswith(b"\x89PNG")


def test_stored_material_report_with_scores_and_dft_band_plot(tmp_path: Path) -> None:
    """``altermag report MATERIAL-ID``: the stored order, model scores and the DFT band plot."""
    from typer.testing import CliRunner

    from altermag.cli import app
    from altermag.reports.figures import plt, to_png
    from altermag.store import Store

    db = f"sqlite:///{tmp_path / 'r.db'}"
    s = lit.mnf2()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    png = tmp_path / "bands.png"
    png.write_bytes(to_png(fig))
    with Store(db) as store:
        mid = store.add_material(s, source="test", source_id="MnF2")
        store.add_result(mid, analyze(s))
        store.add_score(mid, "test-model", 0.41, 0.93)
        job = store.add_dft_job(mid, "qe")
        store.set_dft_result(
            job, {"status": "confirmed", "reason": "split 0.5 eV on M-G", "figure": str(png)}, 0.5
        )
    result = CliRunner().invoke(app, ["report", str(mid), "--db", db, "--format", "json"])
    assert result.exit_code == 0, result.output
    rep = json.loads(result.stdout)
    assert rep["summary"]["wave"] == "d"
    assert rep["scores"][0]["model_version"] == "test-model"
    assert rep["dft"]["status"] == "confirmed"
    assert "dft-bands" in [f["key"] for f in rep["figures"]]
    missing = CliRunner().invoke(app, ["report", "999", "--db", db])
    assert missing.exit_code == 2 and "no material 999" in missing.output


def test_run_report_score_histogram_counts_every_material_in_its_bin() -> None:
    """The run report's score histogram (an SVG, no plotting library): each material is one
    count in the bar of its P(altermagnetic ground state), P = 1 in the last bin."""
    from altermag.reports.run import SCORE_BINS, _score_figures, score_histogram_svg

    scores = {"altermagnet": [0.97, 1.0, 0.96, 0.51], "other": [0.01, 0.02, 0.5, 0.5, 0.5]}
    svg = score_histogram_svg(scores)
    bars = {
        (series, float(edge)): int(n)
        for series, edge, n in re.findall(
            r'data-series="(\w+)" data-bin="([\d.]+)" data-count="(\d+)"', svg
        )
    }
    assert bars == {
        ("altermagnet", 0.95): 3,
        ("altermagnet", 0.5): 1,
        ("other", 0.0): 2,
        ("other", 0.5): 3,
    }
    assert max(edge for _, edge in bars) == 1 - 1 / SCORE_BINS
    (fig,) = _score_figures(scores)
    assert base64.b64decode(fig["svg_base64"]).decode() == svg
    assert _score_figures({"altermagnet": [], "other": []}) == []
