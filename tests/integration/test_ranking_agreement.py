"""One ranking everywhere: a real screening's CLI table, CSV, JSON, API pages and run report
list the same materials in the same order and count the same candidates.

A small screening of the embedded data (curated known materials given with their moments,
then corpus crystals whose k = 0 orders the ground-state prior scores) is run through
``altermag screen`` into a SQLite file and a PostgreSQL schema. The rule under test is
:func:`altermag.ranking.rank_candidates`: one row per material (its most probable order) by
P(altermagnetic ground state), ties by stored order id; the store's ``sort=score`` pages
must be the same list, through the API's fast path and through its FastAPI route.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from altermag_api.app import create_app
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from altermag.cli import app as cli
from altermag.ranking import rank_candidates
from altermag.store import CandidateQuery, Store

LIMIT = 90
"""Known materials (given orders) and corpus crystals (enumerated orders, prior-scored)."""


def _screen(db_url: str, out: Path, *extra: str) -> tuple[dict[str, Any], str]:
    """Run ``altermag screen`` (one process, no pool); its summary and its printed table."""
    result = CliRunner().invoke(
        cli,
        [
            "screen",
            "--limit",
            str(LIMIT),
            "--chunk-size",
            "30",
            "--db",
            db_url,
            "--out",
            str(out),
            "--workers",
            "1",
            "--pages",
            "0",
            *extra,
        ],
        env={"COLUMNS": "400"},
    )
    assert result.exit_code == 0, result.output
    run_id = int(re.search(r"run (\d+): ", result.output).group(1))  # type: ignore[union-attr]
    summary = json.loads((out / str(run_id) / "summary.json").read_text())
    return summary, result.output


def _api_pages(client: TestClient, params: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        q = {**params, "limit": 37, **({"cursor": cursor} if cursor else {})}
        body = client.get("/candidates", params=q).json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def _pairs(rows: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(int(r["material_id"]), int(r["order_id"])) for r in rows]


def test_cli_files_api_and_report_list_the_same_ranking(db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary, printed = _screen(db_url, out)
    run_id = summary["run_id"]
    run_dir = out / str(run_id)
    rows = json.loads((run_dir / "candidates.json").read_text())
    with (run_dir / "candidates.csv").open() as fh:
        csv_rows = list(csv.DictReader(fh))

    # the files: one row per material, ranked 1..n, by P(altermagnetic ground state)
    assert len(rows) == len(csv_rows) == len({r["material_id"] for r in rows})
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert _pairs(csv_rows) == _pairs(rows)
    p = [r["p_altermagnetic_ground_state"] for r in rows]
    scored = [x for x in p if x is not None]
    assert scored == sorted(scored, reverse=True) and p[: len(scored)] == scored
    assert all(r["order_rank"] == 1 for r in rows)
    # both kinds of input are in the table: given orders (P = 1 for a given altermagnet)
    # and enumerated orders the prior scored (0 < P < 1, with P(k = 0) and P(order))
    given = [r for r in rows if r["p_k0"] is None]  # moments read with the structure
    enumerated = [r for r in rows if r["moments"]]  # signs of an enumerated order
    assert given and enumerated
    for r in given:
        assert r["p_ground_state"] == 1.0
        assert r["p_altermagnetic_ground_state"] == (1.0 if r["verdict"] == "altermagnet" else 0.0)
    for r in enumerated:
        assert 0.0 < r["p_k0"] < 1.0 and 0.0 < r["p_ground_state"] <= 1.0
        assert 0.0 <= r["p_altermagnetic_ground_state"] < 1.0
    assert rank_candidates(rows) == rows  # the files are the ranking's fixed point

    hosts = [r for r in rows if r["can_host_altermagnet"]]
    assert summary["counts"]["candidates"] == len(hosts) > 0

    # the CLI's table: the first hosts, in the files' order, and the files' count
    printed_ids = re.findall(r"^\s*\d+\s+(\S+)\s", printed, flags=re.MULTILINE)
    assert printed_ids == [r["id"] for r in hosts[:15]]
    assert f"{len(hosts)} candidates" in printed

    # `altermag db candidates`: the store's listing of the run, one row per material
    listed = CliRunner().invoke(
        cli, ["db", "candidates", "--db", db_url, "--run", str(run_id), "--limit", "500", "--json"]
    )
    assert listed.exit_code == 0, listed.output
    assert _pairs(json.loads(listed.output)["items"]) == _pairs(rows)

    app = create_app(db_url, prefect_api_url=None, out_root=tmp_path / "api")
    with TestClient(app) as client:
        # the API: the fast path (true/false) and the FastAPI route (1/0) give the files' list
        fast = _api_pages(client, {"run_id": run_id})
        routed = _api_pages(client, {"run_id": run_id, "all_orders": "0"})
        assert _pairs(fast) == _pairs(routed) == _pairs(rows)
        assert [c["score"] for c in fast] == p
        assert [c["p_k0"] for c in fast] == [r["p_k0"] for r in rows]
        assert [c["p_ground_state"] for c in fast] == [r["p_ground_state"] for r in rows]
        # candidates: materials with an altermagnetic order among all their orders
        every = _api_pages(client, {"run_id": run_id, "all_orders": "true"})
        assert len(every) > len(rows)
        am = {c["material_id"] for c in every if c["verdict"] == "altermagnet"}
        assert len(am) == len(hosts)
        # the run report (as the API serves it and as the screening wrote it)
        rep = client.get(f"/reports/runs/{run_id}", params={"format": "json", "top": 1000})
        report = rep.json()
        assert report["n_candidates"] == len(hosts)
        assert [(c["material_id"], c["order_id"]) for c in report["candidates"]] == _pairs(rows)
        assert sum(report["counts_by_verdict"].values()) == len(rows)
        # the report shows the prior's numbers of each row, as the files do
        for c, r in zip(report["candidates"], rows, strict=True):
            assert c["p_altermagnetic_ground_state"] == r["p_altermagnetic_ground_state"]
            assert (c["p_k0"], c["p_ground_state"]) == (r["p_k0"], r["p_ground_state"])
        # the material report of the best enumerated candidate lists its orders with P
        best = next(r for r in rows if r["moments"])
        page = client.get(f"/reports/materials/{best['material_id']}").text
        assert f"{best['p_k0']:.3f}" in page and 'id="stored-orders"' in page
        assert f"{best['p_ground_state']:.3f}</td>" in page
    html = (run_dir / "report.html").read_text()
    top = rows[0]
    assert f"<td>{top['p_altermagnetic_ground_state']:.3f}</td>" in html
    assert f'<b id="n-candidates">{len(hosts)}</b> candidates' in html

    # every order on request: the files and the API agree there too
    _screen(db_url, out, "--all-orders")  # the same run: tables rebuilt, nothing re-analysed
    all_rows = json.loads((run_dir / "candidates.json").read_text())
    assert _pairs(all_rows) == _pairs(every)

    # at most one row per prototype on request
    _screen(db_url, out, "--max-per-prototype", "1")
    capped = json.loads((run_dir / "candidates.json").read_text())
    protos = [r["prototype"] for r in capped]
    assert len(protos) == len(set(protos)) < len(rows)
    assert _pairs(capped) == [(a, b) for a, b in _pairs(rows) if (a, b) in set(_pairs(capped))]
    # the API caps by the stored prototype key with the same rule: the fast path and the
    # route list the capped files' rows, in their order, across pages
    app = create_app(db_url, prefect_api_url=None, out_root=tmp_path / "api2")
    with TestClient(app) as client:
        fast = _api_pages(client, {"run_id": run_id, "max_per_prototype": 1})
        routed = _api_pages(client, {"run_id": run_id, "max_per_prototype": 1, "all_orders": "0"})
        assert _pairs(fast) == _pairs(routed) == _pairs(capped)
        two = _pairs(_api_pages(client, {"run_id": run_id, "max_per_prototype": 2}))
    _screen(db_url, out, "--max-per-prototype", "2")
    assert two == _pairs(json.loads((run_dir / "candidates.json").read_text()))
    assert len(capped) < len(two) <= len(rows)


def test_a_fresh_rescreening_keeps_ranks_and_scores(db_url: str, tmp_path: Path) -> None:
    """Screening the same inputs again (a new run) adds no rows and ranks them the same."""
    first, _ = _screen(db_url, tmp_path / "out")
    with Store(db_url) as store:
        counts = store.row_counts()
    second, _ = _screen(db_url, tmp_path / "out", "--fresh")
    assert second["run_id"] != first["run_id"]
    with Store(db_url) as store:
        again = store.row_counts()
    for table in ("materials", "magnetic_orders", "model_scores", "material_elements"):
        assert again[table] == counts[table], table
    a = json.loads((tmp_path / "out" / str(first["run_id"]) / "candidates.json").read_text())
    b = json.loads((tmp_path / "out" / str(second["run_id"]) / "candidates.json").read_text())
    keys = ("rank", "material_id", "order_id", "p_altermagnetic_ground_state", "p_k0")
    assert [[r[k] for k in keys] for r in a] == [[r[k] for k in keys] for r in b]
    assert first["counts"] == second["counts"]


@pytest.fixture(autouse=True)
def _quiet_prefect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DO_NOT_TRACK", "1")


def test_rescreening_with_another_prior_reranks_the_stored_orders(db_url: str) -> None:
    """When the prior's P(ground state) of a crystal's orders changes, the stored ranks follow
    it (the files of that screening and the store then name the same most probable order);
    the same analysis stored again changes nothing."""
    from altermag.ranking import apply_ranking
    from altermag.screening import ScreenedEntry, ScreenSettings, candidate_rows
    from altermag.symmetry import analyze
    from tests import literature

    bare = literature.mnf2().with_moments(None)
    res = analyze(bare)
    n = len(res.orders)
    assert n >= 2
    settings = ScreenSettings().to_dict()
    with Store(db_url) as store:
        for probs in ([0.9] + [0.1 / (n - 1)] * (n - 1), [0.1 / (n - 1)] * (n - 1) + [0.9]):
            ranked = apply_ranking(bare, res, probs)
            entry = ScreenedEntry("MnF2", "test", bare, ranked, model_score=0.5, p_k0=0.8)
            entry.model_version = "prior-test"
            stored = store.add_screened([entry], settings)
            files = rank_candidates(candidate_rows([entry], "test", stored))
            (api,) = store.candidates(max_rank=1).items
            assert (api.order_id, api.p_ground_state) == (files[0]["order_id"], 0.9)
            assert api.moments == [float(x) for x in ranked.orders[0].signs]
            # the API's JSON pages (each row's stored head, rewritten by the upsert) show the
            # new ranks as the library's pages do
            every = CandidateQuery(max_rank=None)
            library = store.candidates(every, sort="heuristic_score", limit=50).to_dict()
            api_page = orjson.loads(
                store.candidate_page_json(every, sort="heuristic_score", limit=50)
            )
            assert api_page == orjson.loads(orjson.dumps(library))
            assert {tuple(c["moments"]): c["heuristic_rank"] for c in api_page["items"]} == {
                tuple(float(x) for x in o.signs): o.rank for o in ranked.orders
            }
        assert store.row_counts()["magnetic_orders"] == n
        store.add_screened([entry], settings)  # the same ranking again
        assert [c.order_id for c in store.candidates(max_rank=1).items] == [api.order_id]
        assert store.row_counts()["magnetic_orders"] == n


def test_file_report_shows_the_priors_numbers(tmp_path: Path) -> None:
    """``altermag report FILE`` of a crystal without moments ranks its enumerated orders by the
    prior's P(ground state), as a screening does, and shows P(k = 0) and P(AM ground state)."""
    from altermag.ml.prior import predict
    from altermag.structure import MagneticStructure

    cif = Path(__file__).resolve().parents[2] / "altermag/data/examples/Cr2O3.cif"
    out = tmp_path / "cr2o3.json"
    result = CliRunner().invoke(cli, ["report", str(cif), "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    orders = report["result"]["orders"]
    p = [o["p_ground_state"] for o in orders]
    assert [o["rank"] for o in orders] == list(range(1, len(orders) + 1))
    assert p == sorted(p, reverse=True) and abs(sum(p) - 1.0) < 1e-6
    expected = predict(MagneticStructure.from_dict(report["structure"]))
    (score,) = report["scores"]
    assert score["p_k0"] == expected.p_k0
    assert score["p_altermagnetic_ground_state"] == expected.p_altermagnetic_ground_state
    html = CliRunner().invoke(cli, ["report", str(cif), "--out", str(tmp_path / "c.html")])
    assert html.exit_code == 0, html.output
    assert f"{p[0]:.3f}</td>" in (tmp_path / "c.html").read_text()
