"""The candidate browser in headless Chromium against a real ``altermag api`` server: filters,
paging, a report link, the screenings page and the offline API docs, with a clean console
under the pages' strict Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api_server import ApiServer, FilledStore, fill_store
from tests.browser import Browser, require_chromium

pytestmark = pytest.mark.browser

ROWS = "Array.from(document.querySelectorAll('#candidates tbody tr:not(:has(td.empty))'))"
CELLS = ROWS + ".map(r => Array.from(r.cells).map(c => c.textContent.trim()))"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiServer, FilledStore]]:
    home = tmp_path_factory.mktemp("browser")
    filled = fill_store(f"sqlite:///{home / 'altermag.db'}", copies=4)
    server = ApiServer(filled.url, home)
    yield server, filled
    server.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    require_chromium()
    b = Browser(tmp_path / "profile")
    yield b
    b.close()


def _total(server: ApiServer, **params: object) -> int:
    n, cursor = 0, None
    while True:
        query = {**params, "limit": 500, **({"cursor": cursor} if cursor else {})}
        page = httpx.get(f"{server.url}/candidates", params=query, timeout=30).json()
        n += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return n


def test_filters_from_the_form(served: tuple[ApiServer, FilledStore], browser: Browser) -> None:
    server, _ = served
    browser.goto(server.url + "/")
    assert browser.evaluate(ROWS + ".length") == 25
    # tick "altermagnet" and wave "g", type an element, apply
    browser.evaluate(
        "document.querySelector('input[name=verdict][value=altermagnet]').checked = true;"
        "document.querySelector('input[name=wave][value=g]').checked = true;"
        "document.querySelector('input[name=elements]').value = 'Te';"
    )
    browser.click("#apply")
    assert "wave=g" in browser.url() and "elements=Te" in browser.url()
    rows = browser.evaluate(CELLS)
    assert rows and {r[0] for r in rows} == {"MnTe"}
    assert all(r[1] == "altermagnet" and r[2] == "g" and r[3] == "²6/²m²m¹m" for r in rows)
    assert len(rows) == _total(server, verdict="altermagnet", wave="g", element="Te")
    # the form shows what is applied
    assert browser.evaluate("document.querySelector('input[name=wave][value=g]').checked")
    # DFT status and probability
    browser.goto(server.url + "/?dft=confirmed")
    assert [r[0] for r in browser.evaluate(CELLS)] == ["MnF2"]
    browser.goto(server.url + "/?min_score=0.8&sort=score")
    scores = [float(r[5]) for r in browser.evaluate(CELLS)]
    assert scores and min(scores) >= 0.8 and scores == sorted(scores, reverse=True)
    assert browser.console_errors() == []


def test_paging_forward_and_back(served: tuple[ApiServer, FilledStore], browser: Browser) -> None:
    server, _ = served
    total = _total(server, all_orders="true")  # every order: enough rows for three pages
    assert total > 50  # three pages of 25
    browser.goto(server.url + "/?sort=formula&all=1")
    seen: list[list[str]] = []
    pages = [browser.evaluate(CELLS)]
    while browser.evaluate("!!document.querySelector('#next')"):
        browser.click("#next")
        pages.append(browser.evaluate(CELLS))
    seen = [row for page in pages for row in page]
    assert len(seen) == total and len(pages) == -(-total // 25)
    formulas = [r[0] for r in seen]
    assert formulas == sorted(formulas, key=lambda f: f.encode())  # byte order, as the store
    browser.click("#prev")
    assert browser.evaluate(CELLS) == pages[-2]
    assert browser.evaluate("document.querySelector('#page-number').textContent").endswith(
        str(len(pages) - 1)
    )
    browser.click("#first")
    assert browser.evaluate(CELLS) == pages[0]
    assert browser.console_errors() == []


def test_a_row_links_to_its_report(served: tuple[ApiServer, FilledStore], browser: Browser) -> None:
    server, _ = served
    browser.goto(server.url + "/?formula=F2Mn&dft=confirmed")
    assert browser.evaluate(CELLS)[0][0] == "MnF2"
    browser.click("#candidates a.report")
    assert "/reports/materials/" in browser.url()
    assert browser.evaluate("document.title").startswith("MnF2")
    n = browser.wait_for(
        "document.images.length && Array.from(document.images).every(i => i.complete) && "
        "Array.from(document.images).filter(i => i.naturalWidth > 0).length"
    )
    assert n >= 2  # the crystal with its moments and the form factor
    assert "confirmed" in browser.evaluate("document.body.textContent")


def test_screenings_page(served: tuple[ApiServer, FilledStore], browser: Browser) -> None:
    server, filled = served
    browser.goto(server.url + "/runs")
    cells = browser.evaluate(
        "Array.from(document.querySelectorAll('#runs tbody tr')).map(r => "
        "Array.from(r.cells).map(c => c.textContent.trim()))"
    )
    assert cells[0][0] == str(filled.run_id) and cells[0][2] == "completed"
    browser.click("#runs a.report")
    assert browser.evaluate("document.title").startswith(f"Screening run {filled.run_id}")
    assert "broken.cif" in browser.evaluate("document.body.textContent")


def test_api_docs_render_offline(
    served: tuple[ApiServer, FilledStore], browser: Browser, tmp_path: Path
) -> None:
    """Swagger UI from this server's own assets (Chromium's network is only loopback here)."""
    server, _ = served
    browser.goto(server.url + "/docs")
    operations = browser.wait_for("document.querySelectorAll('.opblock').length", timeout=60)
    assert operations >= 10
    text = browser.evaluate("document.body.textContent")
    assert "/candidates" in text and "/analyze" in text
    assert browser.console_errors() == []
    browser.goto(server.url + "/")
    browser.screenshot(tmp_path / "candidates.png")
    assert (tmp_path / "candidates.png").read_bytes().startswith(b"\x89PNG")


def test_the_console_check_sees_csp_violations(browser: Browser, tmp_path: Path) -> None:
    """The clean-console assertions above can fail: an inline script under the pages' policy
    is reported."""
    from altermag_api.routes.browser import CSP

    page = tmp_path / "inline.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="{CSP}">'
        "</head><body><script>document.title = 'ran'</script></body></html>"
    )
    browser.goto(page.as_uri())
    assert browser.evaluate("document.title") != "ran"
    assert any("Content Security Policy" in e for e in browser.console_errors())
