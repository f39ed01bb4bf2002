"""Markup in file names, labels, sources, run parameters, error messages and query strings
comes out escaped in every HTML report and page, and every answer carries the security
headers (a strict Content-Security-Policy that still admits the reports' own style)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import pytest
from altermag_api.app import create_app
from fastapi.testclient import TestClient

from altermag.store import Store
from altermag.symmetry import analyze
from tests import literature as lit

PAYLOAD = "\"'><img src=x onerror=alert(1)><script>alert(1)</script>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"  # what a reader sees, as text
RAW_MARKERS = ("<img src=x", "<script>alert", "onerror=alert(1)>")


@pytest.fixture
def client(db_url: str) -> Iterator[tuple[TestClient, dict[str, int]]]:
    ids: dict[str, int] = {}
    with Store(db_url) as store:
        run = store.start_run("local", {"path": f"/data/{PAYLOAD}"})
        s = lit.mnf2()
        s = s.__class__(s.lattice, s.species, s.frac_coords, s.magmoms, f"MnF2{PAYLOAD}")
        mid = store.add_material(s, source=f"upload{PAYLOAD}", source_id=f"x{PAYLOAD}.mcif")
        store.record_input(run, f"x{PAYLOAD}.mcif", mid)
        store.add_result(mid, analyze(s))
        store.record_error(run, f"bad{PAYLOAD}.cif", f"bad{PAYLOAD}.cif: the file is empty")
        store.finish_run(run)
        ids.update(run=run, material=mid)
    with TestClient(create_app(db_url, prefect_api_url=None)) as c:
        yield c, ids


def _assert_escaped(body: str, where: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in body, f"{where}: unescaped {marker!r}"


def test_payloads_come_out_escaped_in_reports_and_pages(
    client: tuple[TestClient, dict[str, int]],
) -> None:
    c, ids = client
    pages = {
        "material report": f"/reports/materials/{ids['material']}",
        "run report": f"/reports/runs/{ids['run']}",
        "candidate browser": "/",
        "candidate browser, formula filter": f"/?formula={PAYLOAD}",
        "candidate browser, source filter": f"/?source={PAYLOAD}",
        "runs page": "/runs",
    }
    shown = {}
    for where, url in pages.items():
        r = c.get(url)
        assert r.status_code == 200, (where, r.text[:300])
        assert r.headers["content-type"].startswith("text/html")
        _assert_escaped(r.text, where)
        shown[where] = ESCAPED in r.text.replace("&#34;", '"').replace("&#39;", "'")
    # the payload is shown (as text), not dropped: the reports name the file and the source
    assert shown["material report"] and shown["run report"], shown
    assert shown["candidate browser, formula filter"], "the filter echoes what was typed"


def test_report_files_escape_the_payload() -> None:
    """The same renderers write the report files of ``altermag report``."""
    from altermag.reports.material import material_report, render_html

    s = lit.mnf2()
    s = s.__class__(s.lattice, s.species, s.frac_coords, s.magmoms, f"MnF2{PAYLOAD}")
    html = render_html(material_report(s, analyze(s), source=PAYLOAD, source_id=PAYLOAD))
    _assert_escaped(html, "material report file")
    assert ESCAPED in html.replace("&#34;", '"').replace("&#39;", "'")


def test_every_answer_has_the_security_headers_and_the_policy_admits_the_report_style(
    client: tuple[TestClient, dict[str, int]],
) -> None:
    c, ids = client
    for url in (
        "/health",
        "/candidates",
        "/",
        "/docs",
        "/openapi.json",
        "/static/altermag.css",
        "/nonexistent",
        f"/reports/materials/{ids['material']}",
        f"/reports/runs/{ids['run']}",
    ):
        r = c.get(url)
        assert r.headers["x-content-type-options"] == "nosniff", url
        assert r.headers["x-frame-options"] == "DENY", url
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, url
        assert "unsafe-inline" not in csp, url
    for url in (f"/reports/materials/{ids['material']}", f"/reports/runs/{ids['run']}"):
        r = c.get(url)
        styles = re.findall(r"<style>(.*?)</style>", r.text, flags=re.S)
        assert styles, url
        for css in styles:  # every inline style block is admitted by its hash
            digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in r.headers["content-security-policy"], url
        assert " style=" not in r.text, f"{url}: an inline style attribute needs its own hash"
