"""A ground-state search in the store, the API's material detail and the material report:
the same JSON contract everywhere (recorded real MnF2 run, no pw.x)."""

from __future__ import annotations

import re
from pathlib import Path

from altermag_api.app import create_app
from fastapi.testclient import TestClient

from altermag import analyze
from altermag.dft.groundstate import plan_orders, read_order, summarize
from altermag.dft.presets import load_preset
from altermag.reports.material import render_html
from altermag.reports.stored import stored_material_report
from altermag.store import Store
from tests.literature import mnf2

RECORDED = Path(__file__).parents[1] / "data" / "qe" / "groundstate" / "mnf2"


def _search() -> dict:
    settings = load_preset("default")
    plans = plan_orders(mnf2(), use_prior=False)
    others = [(p.label, p.signs) for p in plans]
    orders = [read_order(RECORDED / p.label, p, settings, others) for p in plans]
    return summarize(
        orders, 2, "MnF2", {"preset": "default"}, source="literature", near_degenerate_mev=5.0
    ).to_dict()


def test_search_is_stored_served_and_reported(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    data = _search()
    with Store(db) as store:
        s = mnf2()
        mid = store.add_analysis(s, analyze(s), source="literature", source_id="MnF2").material_id
        job = store.add_dft_job(mid, "qe", parameters={"kind": "groundstate"}, status="running")
        store.set_dft_result(job, data, None)
        record = store.material(mid)
    assert record is not None and record.ground_state == data
    assert record.ground_state["ground_state"]["label"] == "AM1"
    report = stored_material_report(record)
    assert report["ground_state"]["verdict"] == "altermagnet"
    assert any(f["key"] == "dft-ground-state" for f in report["figures"])
    html = render_html(report)
    assert 'id="dft-ground-state"' in html and "AM1 ★" in html
    with TestClient(create_app(db, prefect_api_url=None, out_root=tmp_path / "out")) as c:
        r = c.get(f"/materials/{mid}")
    assert r.status_code == 200, r.text
    served = r.json()["ground_state"]
    assert served["ground_state"] == data["ground_state"]
    assert [o["label"] for o in served["orders"]] == ["AM1", "FM"]
    assert served["orders"][1]["relative_energy_mev_per_magnetic_atom"] > 5.0


# ----------------------------------------------------------------- the candidate table
def _recorded(name: str, structure) -> dict:
    """A recorded real search (tests/data/qe/groundstate/<name>) read back as the store
    keeps it."""
    settings = load_preset("default")
    plans = plan_orders(structure, use_prior=False)
    others = [(p.label, p.signs) for p in plans]
    folder = RECORDED.parent / name
    orders = [read_order(folder / p.label, p, settings, others) for p in plans]
    n_mag = sum(1 for s in plans[0].signs if s != 0)
    return summarize(
        orders, n_mag, structure.formula, {"preset": "default"}, near_degenerate_mev=5.0
    ).to_dict()


def _store_searches(store: Store) -> dict[str, tuple[int, dict]]:
    """MnF2 (AM ground state), CrO2 (FM ground state) with their searches, MnTe without."""
    from tests.literature import mnte, rutile

    cro2 = rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0)
    out = {}
    run_id = store.start_run("literature")
    for name, s, data in (
        ("MnF2", mnf2(), _recorded("mnf2", mnf2())),
        ("CrO2", cro2, _recorded("cro2", cro2)),
        ("MnTe", mnte(), None),
    ):
        bare = s.with_moments(None)
        mid = store.add_analysis(bare, analyze(bare), source="literature", run_id=run_id)
        mid = mid.material_id
        store.record_input(run_id, name, mid)
        if data is not None:
            job = store.add_dft_job(mid, "qe", parameters={"kind": "groundstate"})
            store.set_dft_result(job, data, None)
        out[name] = (mid, data)
    store.finish_run(run_id)
    return {**out, "run": (run_id, {})}


def test_candidates_sort_and_show_the_dft_ground_state(db_url: str, tmp_path: Path) -> None:
    """The search's verdict and altermagnetic margin on every order of its material: MnF2's
    AM1 ground state 17.4 meV per Mn below FM first, CrO2 (FM ground state, AM1 360 meV per
    Cr above) next, MnTe (no search) last; the same in the store, both API paths, the CSV
    export, the CLI table and the run report."""
    from typer.testing import CliRunner

    from altermag.cli import app
    from altermag.reports.run import run_candidates, run_report

    with Store(db_url) as store:
        found = _store_searches(store)
        mnf2_margin = found["MnF2"][1]["ground_state"]["margin_mev_per_magnetic_atom"]
        cro2_am = next(o for o in found["CrO2"][1]["orders"] if o["verdict"] == "altermagnet")
        cro2_margin = -cro2_am["relative_energy_mev_per_magnetic_atom"]
        assert mnf2_margin > 5.0 and cro2_margin < -100.0  # the physics of the recordings
        page = store.candidates(sort="dft_ground_state", limit=10, max_rank=1)
        got = [(c.formula, c.dft_ground_state, c.dft_am_margin_mev) for c in page.items]
        assert got == [
            ("MnF2", "altermagnet", mnf2_margin),
            ("CrO2", "ferromagnet", cro2_margin),
            ("MnTe", None, None),
        ]
        every = list(store.iter_candidates(formula="MnF2", max_rank=None))
        assert len(every) == 2 and {c.dft_ground_state for c in every} == {"altermagnet"}
        run_id = found["run"][0]
        run = store.run(run_id)
        assert run is not None
        report = run_report(run, run_candidates(store, run_id)[0])
        rows = {r["formula"]: r for r in report["candidates"]}
        assert rows["CrO2"]["dft_ground_state"] == "ferromagnet"
        assert rows["MnF2"]["dft_am_margin_mev"] == mnf2_margin
    app_ = create_app(db_url, prefect_api_url=None, out_root=tmp_path / "out")
    with TestClient(app_) as c:
        fast = c.get("/candidates?sort=dft_ground_state&limit=2").json()
        # all_orders=0 is a spelling only the route takes: the framework's answer
        routed = c.get("/candidates?sort=dft_ground_state&limit=2&all_orders=0").json()
        assert fast == routed
        assert [i["formula"] for i in fast["items"]] == ["MnF2", "CrO2"]
        nxt = c.get(f"/candidates?sort=dft_ground_state&limit=2&cursor={fast['next_cursor']}")
        assert [i["formula"] for i in nxt.json()["items"]] == ["MnTe"]
        csv = c.get("/candidates.csv?sort=dft_ground_state").text.splitlines()
        page = c.get("/?sort=dft_ground_state")
    # the browser's column: verdict and margin as text, escaped, no script in the page
    cells = re.findall(r'<td class="ground-state">(.*?)</td>', page.text)
    shown = [re.sub(r"<[^>]+>", "", cell) for cell in cells]
    assert shown == [
        f"altermagnet AM {mnf2_margin:+.1f} meV",
        f"ferromagnet AM {cro2_margin:+.1f} meV",
        "",
    ]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text) is None
    header = csv[0].split(",")
    first = dict(zip(header, csv[1].split(","), strict=False))
    assert first["formula"] == "MnF2" and first["dft_ground_state"] == "altermagnet"
    assert float(first["dft_am_margin_mev"]) == mnf2_margin
    res = CliRunner().invoke(
        app, ["db", "candidates", "--db", db_url, "--sort", "dft_ground_state", "--json"]
    )
    assert res.exit_code == 0, res.output
    assert [i["formula"] for i in __import__("json").loads(res.stdout)["items"]][:2] == [
        "MnF2",
        "CrO2",
    ]


def test_migration_fills_the_ground_state_columns(db_url: str) -> None:
    """A store upgraded from 0007 shows the searches stored before the columns existed."""
    from altermag.store.migrate import downgrade, upgrade

    with Store(db_url) as store:
        found = _store_searches(store)
    downgrade(db_url, "0007")
    upgrade(db_url)
    with Store(db_url) as store:
        items = store.candidates(sort="dft_ground_state", limit=3, max_rank=1).items
    assert [(c.formula, c.dft_ground_state) for c in items] == [
        ("MnF2", "altermagnet"),
        ("CrO2", "ferromagnet"),
        ("MnTe", None),
    ]
    margin = found["MnF2"][1]["ground_state"]["margin_mev_per_magnetic_atom"]
    assert items[0].dft_am_margin_mev == margin
