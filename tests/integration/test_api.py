"""The REST API over a real store (SQLite file and PostgreSQL), in-process with TestClient.

Stored rows are real spin-group analyses of published structures; the assertions are about
the physics they carry (MnF2 is a d-wave altermagnet, Cr2O3 a conventional antiferromagnet)
and about the HTTP contract (filters, pages, 4xx for bad input, 401 without a valid key).
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from altermag_api.app import create_app
from fastapi.testclient import TestClient

from altermag.cli.analyze import analyze_paths
from altermag.store import Store
from altermag.symmetry import analyze
from altermag.symmetry.request import AnalyzeRequest
from tests import literature

EXAMPLES = Path(__file__).resolve().parents[2] / "altermag" / "data" / "examples"
BUILDERS = {
    "MnF2": literature.mnf2,
    "MnTe": literature.mnte,
    "CrSb": literature.crsb,
    "Cr2O3": literature.cr2o3,
    "NiO": literature.nio_afm2,
    "Fe": literature.fe_bcc,
}


@pytest.fixture
def seeded(db_url: str) -> Iterator[tuple[str, dict[str, int]]]:
    """The database with six published magnets stored (given moments) in one run."""
    ids = {}
    with Store(db_url) as store:
        run_id = store.start_run("literature")
        for name, build in BUILDERS.items():
            structure = build()
            stored = store.add_analysis(
                structure,
                analyze(structure),
                source="literature",
                source_id=name,
                run_id=run_id,
                input_ref=name,
            )
            ids[name] = stored.material_id
        store.record_error(run_id, "broken.cif", "no atoms")
        store.finish_run(run_id)
        ids["run"] = run_id
    yield db_url, ids


@pytest.fixture
def client(seeded: tuple[str, dict[str, int]], tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(seeded[0], prefect_api_url=None, out_root=tmp_path / "out")
    with TestClient(app) as c:
        yield c


@pytest.fixture
def key(seeded: tuple[str, dict[str, int]]) -> str:
    """An admin key (it may manage other keys)."""
    with Store(seeded[0]) as store:
        return store.create_api_key("tester", "admin")


def test_health_reports_the_database(client: TestClient, db_url: str) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.json()["database"] == db_url.split(":")[0].split("+")[0]
    assert r.json()["screening_backend"] == "thread"


def test_candidates_filter_by_verdict_wave_and_element(client: TestClient) -> None:
    alter = client.get("/candidates", params={"verdict": "altermagnet"}).json()["items"]
    assert {c["formula"] for c in alter} == {"MnF2", "MnTe", "CrSb"}
    assert all(c["form_factor"] for c in alter)
    g = client.get("/candidates", params={"verdict": "altermagnet", "wave": "g"}).json()
    assert {c["formula"] for c in g["items"]} == {"MnTe", "CrSb"}  # NiAs type: g-wave
    mn = client.get("/candidates", params=[("element", "Mn"), ("element", "f")]).json()
    assert [c["formula"] for c in mn["items"]] == ["MnF2"]
    afm = client.get("/candidates", params={"verdict": "antiferromagnet"}).json()["items"]
    assert {c["formula"] for c in afm} == {"Cr2O3", "NiO"}


def test_cursor_pages_cover_every_candidate_once(client: TestClient) -> None:
    everything = client.get("/candidates", params={"sort": "formula", "limit": 500}).json()
    assert everything["next_cursor"] is None
    names = [c["formula"] for c in everything["items"]]
    assert names == sorted(names) and len(names) == len(BUILDERS)
    seen, cursor = [], None
    while True:
        params = {"sort": "formula", "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/candidates", params=params).json()
        assert len(page["items"]) <= 2
        seen += [c["order_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [c["order_id"] for c in everything["items"]]


def test_candidate_queries_are_bounded_and_checked(client: TestClient) -> None:
    assert client.get("/candidates", params={"limit": 0}).status_code == 422
    assert client.get("/candidates", params={"limit": 501}).status_code == 422
    assert client.get("/candidates", params={"run_id": 2**31}).status_code == 422
    assert client.get("/candidates", params={"sort": "splitting"}).status_code == 422
    assert client.get("/candidates", params={"verdict": "magnet"}).status_code == 422
    bad = client.get("/candidates", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400 and "cursor" in bad.json()["detail"]
    other = client.get("/candidates", params={"sort": "formula", "limit": 1}).json()
    r = client.get("/candidates", params={"sort": "score", "cursor": other["next_cursor"]})
    assert r.status_code == 400 and "sort" in r.json()["detail"]


def test_candidates_by_run_and_csv_export(
    client: TestClient, seeded: tuple[str, dict[str, int]]
) -> None:
    run = seeded[1]["run"]
    assert len(client.get("/candidates", params={"run_id": run}).json()["items"]) == 6
    assert client.get("/candidates", params={"run_id": run + 1}).json()["items"] == []
    r = client.get("/candidates.csv", params={"verdict": "altermagnet", "sort": "formula"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["formula"] for row in rows] == ["CrSb", "MnF2", "MnTe"]
    mnf2 = next(row for row in rows if row["formula"] == "MnF2")
    assert mnf2["wave"] == "d" and mnf2["verdict"] == "altermagnet"


def test_material_has_structure_orders_and_report_links(
    client: TestClient, seeded: tuple[str, dict[str, int]]
) -> None:
    mid = seeded[1]["MnF2"]
    m = client.get(f"/materials/{mid}").json()
    assert m["formula"] == "MnF2" and m["elements"] == ["F", "Mn"]
    assert len(m["structure"]["species"]) == 6
    (order,) = m["orders"]
    assert order["verdict"] == "altermagnet" and order["wave"] == "d"
    assert order["result"]["spin_laue_group"] == order["spin_laue_group"]
    assert client.get(m["links"]["report_json"]).json()["summary"]["verdict"] == "altermagnet"
    html = client.get(m["links"]["report_html"])
    assert html.headers["content-type"].startswith("text/html") and "MnF2" in html.text
    assert client.get("/materials/999999").status_code == 404
    assert client.get("/materials/0").status_code == 422
    assert client.get(f"/materials/{2**31}").status_code == 422
    assert client.get(f"/reports/materials/{mid}", params={"order_id": 999999}).status_code == 404


def test_run_report_counts_verdicts_and_lists_errors(
    client: TestClient, seeded: tuple[str, dict[str, int]]
) -> None:
    run = seeded[1]["run"]
    rep = client.get(f"/reports/runs/{run}", params={"format": "json"}).json()
    assert rep["counts_by_verdict"] == {"altermagnet": 3, "antiferromagnet": 2, "ferromagnet": 1}
    assert rep["counts_by_wave"] == {"d": 1, "g": 2}
    assert rep["errors"] == ["broken.cif: no atoms"]
    links = {c["formula"]: c["link"] for c in rep["candidates"]}
    assert client.get(links["CrSb"], params={"format": "json"}).json()["summary"]["wave"] == "g"
    html = client.get(f"/reports/runs/{run}").text
    assert "broken.cif" in html and f'href="{links["MnF2"]}"' in html
    assert client.get("/reports/runs/999999").status_code == 404


def test_analyze_upload_matches_the_cli_json(client: TestClient) -> None:
    path = EXAMPLES / "MnF2.mcif"
    with path.open("rb") as fh:
        r = client.post("/analyze", files={"file": ("MnF2.mcif", fh)})
    assert r.status_code == 200, r.text
    (cli,) = analyze_paths([path], AnalyzeRequest())
    got = r.json()
    assert got["verdict"] == "altermagnet" and got["wave"] == "d"
    cli["source"] = "MnF2.mcif"
    assert got == cli


def test_analyze_poscar_with_magmom_form_field(client: TestClient, tmp_path: Path) -> None:
    nio = literature.nio_afm2()
    poscar = tmp_path / "POSCAR"
    nio.to_pymatgen().to(filename=str(poscar), fmt="poscar")
    moments = " ".join(f"{m:g}" for m in (nio.magmoms[:, 2]))
    r = client.post(
        "/analyze", files={"file": ("POSCAR", poscar.read_bytes())}, data={"magmom": moments}
    )
    assert r.status_code == 200, r.text
    assert r.json()["verdict"] == "antiferromagnet" and not r.json()["enumerated"]
    bare = client.post("/analyze", files={"file": ("POSCAR", poscar.read_bytes())})
    assert bare.json()["enumerated"] is True and bare.json()["orders"]


def test_analyze_rejects_bad_uploads_with_the_reason(client: TestClient) -> None:
    r = client.post("/analyze", files={"file": ("broken.cif", b"data_x\n_cell_length_a 3\n")})
    assert r.status_code == 422 and "broken.cif" in r.json()["detail"]
    r = client.post("/analyze", files={"file": ("notes.txt", b"hello")})
    assert r.status_code == 415
    r = client.post("/analyze", files={"file": ("big.cif", b"#" * (5 * 1024 * 1024 + 1))})
    assert r.status_code == 413
    r = client.post("/analyze", files={"file": ("x.json", b"{not json")})
    assert r.status_code == 422
    assert client.post("/analyze").status_code == 422
    with (EXAMPLES / "MnF2.mcif").open("rb") as fh:
        r = client.post("/analyze", files={"file": ("MnF2.mcif", fh)}, data={"symprec": "-1"})
    assert r.status_code == 422


def _wait_run(client: TestClient, run_id: int, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/screenings/{run_id}").json()["run"]
        if run["status"] not in ("running", "queued"):
            return run
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} still running")


def test_screening_needs_a_valid_key_then_runs_in_the_background(
    client: TestClient, key: str
) -> None:
    body = {"source": "known", "limit": 4}
    assert client.post("/screenings", json=body).status_code == 401
    wrong = client.post("/screenings", json=body, headers={"X-API-Key": "am_nope"})
    assert wrong.status_code == 401
    r = client.post("/screenings", json=body, headers={"X-API-Key": key})
    assert r.status_code == 202, r.text
    started = r.json()
    assert started["backend"] == "thread"
    run = _wait_run(client, started["run_id"])
    assert run["status"] == "completed", run
    assert run["n_inputs"] == 4 and run["counts"]["inputs"] == 4
    cands = client.get(started["links"]["candidates"]).json()["items"]
    assert {c["material_id"] for c in cands} and all(c["verdict"] for c in cands)
    assert client.get("/screenings/999999").status_code == 404


def test_invalid_screening_request_is_a_422(client: TestClient, key: str) -> None:
    h = {"X-API-Key": key}
    assert client.post("/screenings", json={"source": "ftp"}, headers=h).status_code == 422
    assert client.post("/screenings", json={"limit": 0}, headers=h).status_code == 422
    bad = {"source": "local", "source_options": {"path": "/nonexistent/cifs"}}
    r = client.post("/screenings", json=bad, headers=h)  # server folders: operator's allowlist
    assert r.status_code == 422 and "not allowed" in r.json()["detail"]
    assert "/nonexistent/cifs" not in r.json()["detail"]
    r = client.post("/screenings", json={"source": "known", "source_options": {"x": 1}}, headers=h)
    assert r.status_code == 422


def test_revoked_key_is_refused(client: TestClient, key: str) -> None:
    h = {"X-API-Key": key}
    made = client.post("/keys", json={"name": "second", "scope": "admin"}, headers=h)
    assert made.status_code == 201 and made.json()["scope"] == "admin"
    second = {"X-API-Key": made.json()["key"]}
    assert [k["name"] for k in client.get("/keys", headers=second).json()] == ["tester", "second"]
    assert client.delete("/keys/second", headers=h).status_code == 204
    assert client.get("/keys", headers=second).status_code == 401
    assert client.post("/screenings", json={"limit": 1}, headers=second).status_code == 401
    assert client.delete("/keys/second", headers=h).status_code == 404
    assert client.get("/keys").status_code == 401


def test_key_scopes_and_names(client: TestClient, key: str) -> None:
    """Only an admin key creates, lists or revokes other keys; any key may revoke itself; a
    name is used once (also after revocation): 409, never 500."""
    admin = {"X-API-Key": key}
    made = {
        scope: client.post("/keys", json={"name": scope, "scope": scope}, headers=admin)
        for scope in ("read", "write")
    }
    assert all(r.status_code == 201 for r in made.values())
    read, write = ({"X-API-Key": made[s].json()["key"]} for s in ("read", "write"))
    for h in (read, write):
        assert client.post("/keys", json={"name": "x"}, headers=h).status_code == 403
        assert client.get("/keys", headers=h).status_code == 403
        assert client.delete("/keys/tester", headers=h).status_code == 403
    assert client.post("/screenings", json={"limit": 1}, headers=read).status_code == 403
    listed = {k["name"]: k["scope"] for k in client.get("/keys", headers=admin).json()}
    assert listed == {"tester": "admin", "read": "read", "write": "write"}
    dup = client.post("/keys", json={"name": "write"}, headers=admin)
    assert dup.status_code == 409 and "exists already" in dup.json()["detail"]
    assert client.delete("/keys/read", headers=read).status_code == 204  # itself
    assert client.get("/keys", headers=read).status_code == 401
    again = client.post("/keys", json={"name": "read"}, headers=admin)
    assert again.status_code == 409  # the revoked key's name is not reused
    assert client.get("/keys", headers=admin).status_code == 200  # admin untouched


def test_private_mode_and_cors(seeded: tuple[str, dict[str, int]], key: str) -> None:
    app = create_app(
        seeded[0],
        prefect_api_url=None,
        require_key_for_reads=True,
        cors_origins=["https://example.org"],
    )
    with TestClient(app) as c:
        assert c.get("/candidates").status_code == 401
        assert c.get("/candidates", headers={"X-API-Key": key}).status_code == 200
        pre = c.options(
            "/candidates",
            headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
        )
        assert pre.headers["access-control-allow-origin"] == "https://example.org"
        other = c.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_page_cache_is_never_stale(seeded: tuple[str, dict[str, int]], tmp_path: Path) -> None:
    """Cached pages are served only until anything is written to the store."""
    url = seeded[0]
    params = {"sort": "newest", "limit": 50}
    with (
        TestClient(create_app(url, prefect_api_url=None)) as cached,
        TestClient(create_app(url, prefect_api_url=None, page_cache=0)) as fresh,
    ):
        assert cached.app.state.page_cache is not None  # on by default
        assert fresh.app.state.page_cache is None
        before = cached.get("/candidates", params=params).json()["items"]
        assert cached.get("/candidates", params=params).json()["items"] == before  # a hit
        assert fresh.get("/candidates", params=params).json()["items"] == before
        with Store(url) as store:  # another process's write
            fef2 = literature.fef2()
            revision = store.revision()
            store.add_analysis(fef2, analyze(fef2), source="literature")
            assert store.revision() == revision + 1
            store.candidates()  # reads leave it alone
            assert store.revision() == revision + 1
        now = cached.get("/candidates", params=params).json()["items"]
        assert now[0]["formula"] == "FeF2" and now[1:] == before
        assert fresh.get("/candidates", params=params).json()["items"] == now


def test_cached_pages_keep_validation_auth_and_cors(seeded: tuple[str, dict[str, int]]) -> None:
    """The cache answers only query strings the endpoint answered with 200 itself."""
    url = seeded[0]
    with TestClient(create_app(url, prefect_api_url=None, cors_origins=["https://a.org"])) as c:
        for _ in range(2):
            assert c.get("/candidates", params={"limit": 0}).status_code == 422
            assert c.get("/candidates", params={"cursor": "nonsense"}).status_code == 400
            hit = c.get("/candidates", params={"limit": 3}, headers={"Origin": "https://a.org"})
            assert hit.status_code == 200 and len(hit.json()["items"]) == 3
            assert hit.headers["access-control-allow-origin"] == "https://a.org"
    with TestClient(create_app(url, prefect_api_url=None, require_key_for_reads=True)) as c:
        key = c.app.state.store.create_api_key("reader")
        assert c.get("/candidates", headers={"X-API-Key": key}).status_code == 200
        assert c.get("/candidates").status_code == 401  # the same page, not from the cache


def test_cli_apikey_create_list_revoke(client: TestClient, db_url: str) -> None:
    from typer.testing import CliRunner

    from altermag.cli import app as cli

    made = CliRunner().invoke(cli, ["apikey", "create", "ops", "--scope", "admin", "--db", db_url])
    assert made.exit_code == 0, made.output
    h = {"X-API-Key": made.stdout.strip()}
    assert client.get("/keys", headers=h).status_code == 200
    assert CliRunner().invoke(cli, ["apikey", "revoke", "ops", "--db", db_url]).exit_code == 0
    assert client.get("/keys", headers=h).status_code == 401
    listed = CliRunner().invoke(cli, ["apikey", "list", "--db", db_url])
    assert listed.exit_code == 0 and "ops" in listed.stdout and "revoked" in listed.stdout


def test_revision_reads_are_batched_and_never_older_than_the_request() -> None:
    """Each request sees every write made before it arrived; concurrent ones share a read."""
    import asyncio

    from altermag_api.page_cache import RevisionReader

    state = {"revision": 0, "reads": 0}

    def read() -> int:
        state["reads"] += 1
        seen = state["revision"]
        time.sleep(0.01)  # a slow round trip: writes land while it is in flight
        return seen

    async def scenario() -> None:
        reader = RevisionReader(read)

        async def request() -> None:
            state["revision"] += 1  # a write committed just before this request arrives
            before = state["revision"]
            assert await reader.get() >= before

        await asyncio.gather(*(request() for _ in range(40)))
        for _ in range(3):  # later arrivals, each after its own write
            await asyncio.gather(*(request() for _ in range(10)))

    asyncio.run(scenario())
    assert state["reads"] <= 8  # 70 requests, a handful of round trips


def test_nul_bytes_in_queries_are_a_400_on_every_database(client: TestClient) -> None:
    # PostgreSQL text cannot hold NUL: without the guard this reached the driver as a 500
    for url in ("/candidates?formula=%00", "/candidates.csv?formula=Mn%00F2", "/materials?q=%00"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "NUL" in response.json()["detail"]
    assert client.get("/candidates?formula=MnF2").status_code == 200
    # the guard answers before routing, so every operation can answer it: each says so
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        url = re.sub(r"\{[^}]+\}", "1", path) + "?q=%00"
        for method, operation in operations.items():
            assert client.request(method, url).status_code == 400, (method, path)
            assert "400" in operation["responses"], (method, path)


def test_unreadable_bodies_get_a_documented_4xx_never_a_500(client: TestClient, key: str) -> None:
    """Bodies that are not what a route reads (bytes that are not UTF-8, as JSON, as text or
    untyped; broken multipart framing) are answered with a status the OpenAPI document lists
    for that operation and a ``detail``: FastAPI's own validation handler failed with a 500
    on non-UTF-8 text, and its 400 for non-UTF-8 JSON was undocumented."""
    spec = client.get("/openapi.json").json()["paths"]
    garbled = b"II\xff\xfeR\xc3"
    bodies = {
        "/screenings": [("application/json", garbled), ("text/plain", garbled), (None, garbled)],
        "/keys": [("application/json", garbled), ("application/octet-stream", garbled)],
        "/analyze": [
            ("multipart/form-data; boundary=xyz", garbled),
            ("multipart/form-data", garbled),  # no boundary
            ("text/plain", garbled),
        ],
    }
    seen = set()
    for path, cases in bodies.items():
        documented = {int(code) for code in spec[path]["post"]["responses"]}
        for content_type, body in cases:
            headers = {"X-API-Key": key}
            if content_type:
                headers["Content-Type"] = content_type
            response = client.post(path, content=body, headers=headers)
            assert 400 <= response.status_code < 500, (path, content_type, response.text)
            assert response.status_code in documented, (path, content_type, response.status_code)
            assert response.json()["detail"], (path, content_type)
            seen.add(response.status_code)
    assert seen == {400, 422}  # both kinds of refusal were exercised
