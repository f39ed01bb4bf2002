"""Screenings asked for over the network read only what the operator allows (no SSRF).

Real local HTTP servers stand in for an internal service (a "secret" answer on loopback)
and for an allowed OPTIMADE provider. A screening through ``POST /screenings`` may not reach
the internal one directly, through ``*``, through the provider's next-page link or through
a redirect, and nothing it fetched or any server path shows up in the public run details.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from altermag_api.app import create_app
from fastapi.testclient import TestClient

from altermag.config import Settings
from altermag.sources import SourceError
from altermag.sources.allow import check_request, check_url
from altermag.store import Store
from tests import literature

SECRET = "TOP-SECRET-internal-answer"


class Server:
    """A loopback HTTP server answering each path from a table, logging what it was asked."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.seen: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.seen.append(self.path)
                path = self.path.split("?")[0]
                status, headers, body = outer.routes.get(path, (404, {}, b"not found"))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def json(self, path: str, data: dict) -> None:
        self.routes[path] = (200, {"Content-Type": "application/json"}, json.dumps(data).encode())

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def internal() -> Iterator[Server]:
    s = Server()
    s.routes["/v1/structures"] = (200, {"Content-Type": "text/plain"}, SECRET.encode())
    s.json("/secret/v1/structures", {"data": [], "meta": {"note": SECRET}})
    yield s
    s.close()


def _entry() -> dict:
    s = literature.mnf2()
    cart = s.frac_coords @ s.lattice
    return {
        "id": "mp-mnf2",
        "type": "structures",
        "attributes": {
            "lattice_vectors": s.lattice.tolist(),
            "cartesian_site_positions": cart.tolist(),
            "species_at_sites": list(s.species),
            "species": [
                {"name": e, "chemical_symbols": [e], "concentration": [1.0]}
                for e in sorted(set(s.species))
            ],
            "chemical_formula_reduced": "F2Mn",
            "dimension_types": [1, 1, 1],
        },
    }


@pytest.fixture
def provider(internal: Server) -> Iterator[Server]:
    """An allowed provider: one MnF2 page whose next link points at the internal server."""
    s = Server()
    s.json(
        "/v1/structures",
        {
            "data": [_entry()],
            "links": {"next": f"{internal.url}/secret/v1/structures"},
            "meta": {"more_data_available": True},
        },
    )
    s.routes["/moved/v1/structures"] = (
        302,
        {"Location": f"{internal.url}/secret/v1/structures"},
        b"",
    )
    yield s
    s.close()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    url = f"sqlite:///{tmp_path / 'altermag.db'}"
    with Store(url) as store:
        key = store.create_api_key("tester")
    app = create_app(url, prefect_api_url=None, out_root=tmp_path / "out")
    with TestClient(app) as client:
        yield client, {"X-API-Key": key}


def _wait(client: TestClient, run_id: int) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = client.get(f"/screenings/{run_id}").json()
        if body["run"]["status"] not in ("running", "queued"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish")


def test_an_internal_url_is_refused_and_never_fetched(
    api: tuple[TestClient, dict[str, str]], internal: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, h = api
    body = {"source": "optimade", "source_options": {"base_url": internal.url}}
    for allowed in (None, "*"):  # the default list, then any public host
        if allowed:
            monkeypatch.setenv("ALTERMAG_ALLOWED_URLS", allowed)
        r = client.post("/screenings", json=body, headers=h)
        assert r.status_code == 422, r.text
        assert SECRET not in r.text
    assert "internal address" in r.json()["detail"]
    assert internal.seen == []


def test_links_and_redirects_of_an_allowed_provider_cannot_reach_inside(
    api: tuple[TestClient, dict[str, str]],
    provider: Server,
    internal: Server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, h = api
    monkeypatch.setenv("ALTERMAG_ALLOWED_URLS", provider.url)
    for base in (provider.url, f"{provider.url}/moved"):
        r = client.post(
            "/screenings",
            json={"source": "optimade", "source_options": {"base_url": base}},
            headers=h,
        )
        assert r.status_code == 202, r.text
        done = _wait(client, r.json()["run_id"])
        assert done["run"]["status"] == "failed"
        text = json.dumps(done)
        assert "not an allowed provider" in text
        assert SECRET not in text
    assert internal.seen == []
    assert len(provider.seen) == 2  # the first page, and the redirecting address
    # the first page's MnF2 was screened before the next link was refused
    cands = client.get("/candidates", params={"run_id": r.json()["run_id"] - 1}).json()["items"]
    assert any(c["formula"] == "MnF2" for c in cands)


def test_server_folders_need_the_operator_and_stay_private(
    api: tuple[TestClient, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, h = api
    folder = tmp_path / "private-cifs"
    folder.mkdir()
    (folder / "broken.cif").write_text("data_x\n_cell_length_a 3\n")
    body = {"source": "local", "source_options": {"path": str(folder)}}
    r = client.post("/screenings", json=body, headers=h)
    assert r.status_code == 422 and str(tmp_path) not in r.text
    r = client.post(
        "/screenings", json={"source": "local", "source_options": {"path": "/etc"}}, headers=h
    )
    assert r.status_code == 422 and "/etc" not in r.text
    monkeypatch.setenv("ALTERMAG_ALLOWED_SOURCES", "local")
    monkeypatch.setenv("ALTERMAG_ALLOWED_PATHS", str(folder))
    r = client.post(
        "/screenings", json={"source": "local", "source_options": {"path": "/etc"}}, headers=h
    )
    assert r.status_code == 422
    r = client.post("/screenings", json=body, headers=h)
    assert r.status_code == 202, r.text
    done = _wait(client, r.json()["run_id"])
    assert done["run"]["n_failed"] == 1
    assert "broken.cif" in json.dumps(done)
    for page in (
        json.dumps(done),
        client.get(done["links"]["report"]).text,
        client.get(done["links"]["report"], params={"fmt": "json"}).text,
    ):
        assert str(tmp_path) not in page and "private-cifs" not in page
    # options a request may not set (headers, api keys, the guard itself)
    for options in ({"path": str(folder), "url_guard": None}, {"path": str(folder), "x": 1}):
        r = client.post(
            "/screenings", json={"source": "local", "source_options": options}, headers=h
        )
        assert r.status_code == 422


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8000/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.0.0.5/",
        "http://localhost:5432/",
        "http://0.0.0.0:4200/api",
        "https://user:pw@optimade.example.org/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/",
    ],
)
def test_check_url_refuses_internal_and_odd_urls_even_with_a_wildcard(url: str) -> None:
    with pytest.raises(SourceError):
        check_url(url, Settings(allowed_urls="*"))


def test_prefixes_match_host_port_and_path_exactly() -> None:
    s = Settings(allowed_urls="https://optimade.example.org/api, http://127.0.0.1:9000")
    check_url("https://optimade.example.org/api/v1/structures?x=1", s)
    check_url("https://OPTIMADE.example.org:443/api", s)
    check_url("http://127.0.0.1:9000/v1/structures", s)  # listed explicitly: allowed
    for url in (
        "https://optimade.example.org.evil.net/api",
        "https://optimade.example.org/apix/v1",
        "https://optimade.example.org:8443/api",
        "http://optimade.example.org/api",
        "http://127.0.0.1:9001/",
    ):
        with pytest.raises(SourceError):
            check_url(url, s)
    with pytest.raises(SourceError, match="not allowed here"):
        check_request("magndata", {"path": "/data"}, Settings())
    check_request("known", {}, Settings())
