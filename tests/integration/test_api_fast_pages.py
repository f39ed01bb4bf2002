"""The computed-page fast path of ``GET /candidates`` against the library's own pages.

:class:`altermag_api.fast_pages.CandidatePagesMiddleware` answers well-formed candidate
queries without FastAPI, from :meth:`Store.candidate_page_json`. The contract: for every
filter and sort, page after page, the body is the library's page
(``store.candidates(...).to_dict()``) — the same orders of the same magnets with the same
scores and cursors — and anything it is not sure about is answered by the route exactly as
before (422 / 400 bodies included). Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from altermag_api.app import create_app
from altermag_api.fast_pages import parse_candidate_query
from fastapi.testclient import TestClient
from httpx import QueryParams
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from altermag.store import CandidateQuery, Store
from altermag.store.candidates import order_cap
from altermag.symmetry import analyze
from tests import literature

MAGNETS = {
    "MnF2": literature.mnf2,  # d-wave altermagnet
    "MnTe": literature.mnte,  # g-wave altermagnet
    "CrSb": literature.crsb,  # g-wave altermagnet
    "Cr2O3": literature.cr2o3,  # conventional antiferromagnet
    "NiO": literature.nio_afm2,  # conventional antiferromagnet
    "Fe": literature.fe_bcc,  # ferromagnet
}

QUERIES: list[dict[str, Any]] = [
    {},
    {"verdict": "altermagnet"},
    {"verdict": ["altermagnet", "antiferromagnet"], "wave": ["d", "g"]},
    {"element": "Mn"},
    {"element": ["mn", "F"]},
    {"formula": "F2Mn"},
    {"min_score": "0.25", "max_rank": "1"},
    {"source": "literature", "dft_status": "unchecked"},
    {"run_id": "1"},
    {"all_orders": "true", "verdict": "altermagnet"},
    {"all_orders": "false", "element": "Cr"},
]
SORTS = [
    "score",
    "dft_splitting",
    "dft_ground_state",
    "heuristic_score",
    "formula",
    "newest",
]


@pytest.fixture
def scored(db_url: str) -> Iterator[str]:
    """Six published magnets with their spin-group analyses and model scores."""
    with Store(db_url) as store:
        run_id = store.start_run("literature")
        stored = [
            store.add_analysis(build(), analyze(build()), source="literature", run_id=run_id)
            for build in MAGNETS.values()
        ]
        store.add_scores(
            (s.material_id, "m1", 0.1 + 0.15 * i, min(1.0, 0.2 + 0.15 * i))
            for i, s in enumerate(stored)
        )
    yield db_url


def _library_page(
    store: Store, params: dict[str, Any], sort: str, cursor: str | None
) -> dict[str, Any]:
    lists = {k: v if isinstance(v, list) else [v] for k, v in params.items()}
    one = {k: v[0] for k, v in lists.items()}
    query = CandidateQuery(
        verdict=lists.get("verdict"),
        wave=lists.get("wave"),
        elements=tuple(lists.get("element", ())),
        source=one.get("source"),
        run_id=int(one["run_id"]) if "run_id" in one else None,
        min_score=float(one["min_score"]) if "min_score" in one else None,
        max_rank=order_cap(
            int(one["max_rank"]) if "max_rank" in one else None,
            one.get("all_orders") == "true",
        ),
        formula=one.get("formula"),
        dft_status=lists.get("dft_status"),
    )
    page = store.candidates(query, sort=sort, cursor=cursor, limit=2)
    return orjson.loads(orjson.dumps(page.to_dict()))


@pytest.mark.parametrize("page_cache", [0, 64])
def test_fast_pages_are_the_library_pages(scored: str, tmp_path: Path, page_cache: int) -> None:
    """Every filter x sort, walked page by page (limit 2), equals ``store.candidates``."""
    app = create_app(scored, prefect_api_url=None, out_root=tmp_path, page_cache=page_cache)
    with TestClient(app) as client, Store(scored) as store:
        seen_altermagnets = set()
        for params in QUERIES:
            for sort in SORTS:
                cursor = None
                for _ in range(10):
                    q = {**params, "sort": sort, "limit": 2}
                    if cursor:
                        q["cursor"] = cursor
                    qs = str(QueryParams(q)).encode()
                    assert parse_candidate_query(qs) is not None  # served by the fast path
                    r = client.get("/candidates?" + qs.decode())
                    assert r.status_code == 200, r.text
                    assert r.headers["content-type"] == "application/json"
                    body = r.json()
                    assert body == _library_page(store, params, sort, cursor)
                    for item in body["items"]:
                        if item["verdict"] == "altermagnet":
                            seen_altermagnets.add((item["formula"], item["wave"]))
                    cursor = body["next_cursor"]
                    if cursor is None:
                        break
                else:
                    pytest.fail("more pages than candidates")
        # the physics the pages carry: MnF2 d-wave, MnTe and CrSb g-wave
        assert seen_altermagnets == {("MnF2", "d"), ("MnTe", "g"), ("CrSb", "g")}


def test_stored_rows_get_their_page_heads_from_the_migration(scored: str) -> None:
    """Migration 0013 writes the JSON head of every order row already stored (given and
    enumerated orders): the pages after it are byte for byte the pages of rows written
    with their heads, under every sort."""
    from altermag.store.migrate import downgrade, upgrade

    every = CandidateQuery(max_rank=None)
    with Store(scored) as store:
        bare = literature.cr2o3().with_moments(None)  # enumerated orders, ranked
        store.add_analysis(bare, analyze(bare), source="literature")
        before = {s: store.candidate_page_json(every, sort=s, limit=500) for s in SORTS}
    assert all(len(orjson.loads(page)["items"]) > len(MAGNETS) for page in before.values())
    downgrade(scored, "0012")
    upgrade(scored)
    with Store(scored) as store:
        assert {s: store.candidate_page_json(every, sort=s, limit=500) for s in SORTS} == before


def test_fast_pages_see_every_committed_write(scored: str, tmp_path: Path) -> None:
    """The fast path's long-lived connection reads the newest commit (no old snapshot)."""
    app = create_app(scored, prefect_api_url=None, out_root=tmp_path, page_cache=0)
    with TestClient(app) as client:
        before = client.get("/candidates", params={"sort": "newest"}).json()["items"]
        with Store(scored) as store:
            fef2 = literature.fef2()
            store.add_analysis(fef2, analyze(fef2), source="literature")
        now = client.get("/candidates", params={"sort": "newest"}).json()["items"]
        assert now[0]["formula"] == "FeF2" and now[0]["verdict"] == "altermagnet"
        assert now[1:] == before


def test_declined_queries_get_the_routes_answers(scored: str, tmp_path: Path) -> None:
    """Unknown, repeated, empty or out-of-range parameters go on to FastAPI's route."""
    for qs in [
        b"limit=0",
        b"limit=501",
        b"limit=05",
        b"min_score=1.5",
        b"min_score=1e-1",
        b"verdict=paramagnet",
        b"element=Mnn1",
        b"sort=mass",
        b"sort=score&sort=newest",
        b"source=",
        b"colour=red",
        b"formula=" + b"A" * 201,
        b"all_orders=1",  # FastAPI reads 1/yes/on as true; the fast path takes true/false
    ]:
        assert parse_candidate_query(qs) is None, qs
    assert parse_candidate_query(b"element=Mn&element=o&min_score=0.5&limit=500") is not None
    app = create_app(scored, prefect_api_url=None, out_root=tmp_path)
    with TestClient(app) as client:
        bad = client.get("/candidates", params={"limit": 0})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "limit"]
        assert client.get("/candidates", params={"verdict": "paramagnet"}).status_code == 422
        # a malformed cursor passes the fast path's parsing; the route answers its 400
        r = client.get("/candidates", params={"cursor": "nonsense"})
        assert r.status_code == 400 and "invalid cursor" in r.json()["detail"]
        newest = client.get("/candidates", params={"sort": "newest", "limit": 1}).json()
        r = client.get("/candidates", params={"sort": "score", "cursor": newest["next_cursor"]})
        assert r.status_code == 400 and "sort='newest'" in r.json()["detail"]
        # an unknown parameter is ignored by the route, as before
        assert client.get("/candidates", params={"colour": "red"}).json()["items"]


_KEYS = st.sampled_from(
    [
        "verdict",
        "wave",
        "element",
        "source",
        "run_id",
        "min_score",
        "max_rank",
        "formula",
        "dft_status",
        "sort",
        "cursor",
        "limit",
        "colour",
        "Limit",
    ]
)
_VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            *[
                "altermagnet",
                "antiferromagnet",
                "ferromagnet",
                "paramagnet",
                "d",
                "g",
                "x",
                "Mn",
                "mn",
                "F",
                "Mnn",
                "Mnnn",
            ],
            *[
                "MnF2",
                "F2Mn",
                "literature",
                "unchecked",
                "confirmed",
                "score",
                "newest",
                "formula",
                "mass",
            ],
            *[
                "0",
                "1",
                "2",
                "05",
                "+1",
                "-1",
                "1e-1",
                "0.5",
                ".5",
                "1.",
                "1.0",
                "1.5",
                "500",
                "501",
                "1000",
                "1001",
                "2147483648",
            ],
            *["nonsense", "eyJzIjoic2NvcmUiLCJrIjoxLCJpIjoxfQ", "%20", "%C3%A9", "a+b"],
        ]
    ),
    st.text(alphabet="aAzZ09._-+%& =", max_size=6),
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(pairs=st.lists(st.tuples(_KEYS, _VALUES), max_size=5))
def test_fast_path_answers_as_the_route_would(
    fast_and_route: tuple[TestClient, TestClient, str], pairs: list[tuple[str, str]]
) -> None:
    """Any query string: the public app (fast path) answers what the route answers.

    The private app (``require_key_for_reads``) has no fast path: every request goes through
    FastAPI's route, so it is the reference for status and body."""
    fast, route, key = fast_and_route
    qs = "&".join(f"{k}={v}" for k, v in pairs)
    a = fast.get("/candidates?" + qs)
    b = route.get("/candidates?" + qs, headers={"X-API-Key": key})
    assert a.status_code == b.status_code, qs
    assert a.json() == b.json(), qs


@pytest.fixture(scope="module")
def fast_and_route(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, TestClient, str]]:
    tmp = tmp_path_factory.mktemp("fast_and_route")
    url = f"sqlite:///{tmp / 'altermag.db'}"
    with Store(url) as store:
        stored = [
            store.add_analysis(build(), analyze(build()), source="literature")
            for build in MAGNETS.values()
        ]
        store.add_scores((s.material_id, "m1", 0.2 * i, None) for i, s in enumerate(stored))
        key = store.create_api_key("reader", scope="read")
    public = create_app(url, prefect_api_url=None, out_root=tmp, page_cache=0)
    private = create_app(url, prefect_api_url=None, out_root=tmp, require_key_for_reads=True)
    with TestClient(public) as fast, TestClient(private) as route:
        yield fast, route, key


def test_private_reads_use_the_page_cache_only_after_the_key_check(
    scored: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With private reads a repeated page comes from the cache, but only to a request whose
    key passed: without a key, or with a revoked one, the cached page is not answered."""
    with Store(scored) as store:
        key = store.create_api_key("reader", scope="read")
        revoked = store.create_api_key("gone", scope="read")
        store.revoke_api_key("gone")
    app = create_app(scored, prefect_api_url=None, out_root=tmp_path, require_key_for_reads=True)
    params = {"verdict": "altermagnet", "sort": "score", "limit": "2"}
    with TestClient(app) as client:
        first = client.get("/candidates", params=params, headers={"X-API-Key": key})
        assert first.status_code == 200 and first.json()["items"]

        def no_database(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("the repeated page was computed again")

        monkeypatch.setattr(Store, "candidates", no_database)
        again = client.get("/candidates", params=params, headers={"X-API-Key": key})
        assert again.status_code == 200 and again.content == first.content
        assert client.get("/candidates", params=params).status_code == 401
        refused = client.get("/candidates", params=params, headers={"X-API-Key": revoked})
        assert refused.status_code == 401 and "items" not in refused.json()


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_fast_pages_reconnect_when_the_server_dropped_their_connection(
    scored: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page connection the server ended (restart, idle timeout, an administrator) is
    replaced on the next page, which the fast path still answers itself."""
    from sqlalchemy import create_engine, text

    from altermag.store.pages import PAGE_CONNECTION_NAME

    app = create_app(scored, prefect_api_url=None, out_root=tmp_path, page_cache=0)
    with TestClient(app) as client:
        first = client.get("/candidates", params={"sort": "newest"})
        assert first.status_code == 200 and first.json()["items"]
        engine = create_engine(scored)
        with engine.connect() as conn:
            ended = conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM "
                    "pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = :name) AS t"
                ),
                {"name": PAGE_CONNECTION_NAME},
            ).scalar_one()
        engine.dispose()
        assert ended >= 1

        def not_the_route(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("the route answered: the fast path gave up")

        monkeypatch.setattr(Store, "candidates", not_the_route)
        again = client.get("/candidates", params={"sort": "newest"})
        assert again.status_code == 200 and again.content == first.content


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_page_statements_are_planned_once_per_connection(scored: str) -> None:
    """On PostgreSQL every page of one query shape (here: walks by score, one cursor after
    another) runs the prepared statement's one generic plan, on the event-loop connections
    and on the per-thread ones: the server plans a shape once, not once per page."""
    import asyncio

    from altermag.store.pages import PageReader, _Compiled

    sql = "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE "
    like = {"like": "%magnetic_orders.score_key <= %"}  # the pages after the first
    plans = _Compiled(sql + "%(like)s", None, like)  # psycopg's placeholders
    plans_async = _Compiled(sql + "$1", ["like"], like)  # asyncpg's
    query = CandidateQuery()
    reader = PageReader(scored, async_connections=1)
    try:
        n_pages = 0
        for _ in range(3):
            cursor = None
            while True:
                cursor = orjson.loads(reader.page(query, cursor=cursor, limit=1))["next_cursor"]
                n_pages += 1
                if not cursor:
                    break
        assert n_pages >= 12  # psycopg prepares a statement at its fifth execution
        conn = reader._connection().driver_connection
        (thread_plans,) = conn.execute(plans.sql, plans.params).fetchall()

        async def on_the_loop() -> Any:
            for _ in range(3):
                cursor = None
                while True:
                    body = await reader.page_async(query, cursor=cursor, limit=1)
                    if not (cursor := orjson.loads(body)["next_cursor"]):
                        break
            rows = await reader._rows_async(plans_async, plans_async.bind())
            await reader.aclose()
            return rows

        (loop_plans,) = asyncio.run(on_the_loop())
    finally:
        reader.close()
    for generic, custom in (thread_plans, loop_plans):
        assert generic >= 1 and custom == 0
