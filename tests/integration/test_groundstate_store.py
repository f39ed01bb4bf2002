"""A ground-state search in the store, the API's material detail and the material report:
the same JSON contract everywhere (recorded real MnF2 run, no pw.x)."""

from __future__ import annotations

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
    return summarize(orders, 2, "MnF2", {"preset": "default"}, source="literature").to_dict()


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
