"""``altermag report --run RUN-ID``: the screening report from the store (counts by verdict and
wave, ranked table linking to material reports, failed inputs)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from altermag.cli import app
from altermag.store import Store
from altermag.symmetry import analyze
from tests import literature


def _seed(db_url: str) -> int:
    with Store(db_url) as store:
        run_id = store.start_run("literature")
        for build in (literature.mnf2, literature.crsb, literature.cr2o3):
            s = build()
            store.add_analysis(
                s, analyze(s), source="literature", run_id=run_id, input_ref=s.formula
            )
        store.record_error(run_id, "empty.cif", "empty file")
        store.finish_run(run_id)
    return run_id


def test_cli_run_report_json_and_html(db_url: str, tmp_path: Path) -> None:
    run_id = _seed(db_url)
    res = CliRunner().invoke(
        app, ["report", "--run", str(run_id), "--db", db_url, "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert rep["run"]["id"] == run_id and rep["run"]["n_failed"] == 1
    assert rep["counts_by_verdict"] == {"altermagnet": 2, "antiferromagnet": 1}
    assert rep["counts_by_wave"] == {"d": 1, "g": 1}
    assert rep["errors"] == ["empty.cif: empty file"]
    assert {c["formula"] for c in rep["candidates"]} == {"MnF2", "CrSb", "Cr2O3"}
    out = tmp_path / "run.html"
    res = CliRunner().invoke(
        app, ["report", "--run", str(run_id), "--db", db_url, "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert "Screening run" in html and "empty.cif" in html
    assert f'href="material-{rep["candidates"][0]["material_id"]}.html"' in html
    missing = CliRunner().invoke(app, ["report", "--run", "9999", "--db", db_url])
    assert missing.exit_code == 2
    pdf = CliRunner().invoke(
        app, ["report", "--run", str(run_id), "--db", db_url, "--format", "pdf"]
    )
    assert pdf.exit_code != 0


def test_run_reports_leave_the_garbage_collector_as_they_found_it(
    db_url: str, tmp_path: Path
) -> None:
    """The pages are drawn with the screening's objects frozen out of collections; afterwards,
    and after a failure, every object is collectable again."""
    import gc

    import pytest

    from altermag.screening_run import write_run_reports

    run_id = _seed(db_url)
    with Store(db_url) as store:
        paths = write_run_reports(store, run_id, tmp_path, pages=2)
        assert gc.get_freeze_count() == 0
        pages = sorted((tmp_path / "materials").glob("*.html"))
        assert len(pages) == 2 and paths["report"].is_file()
        assert all("data:image/png;base64," in p.read_text() for p in pages)

        def broken(material_id: int) -> None:
            raise RuntimeError("the database went away")

        store.material = broken  # type: ignore[method-assign]
        with pytest.raises(RuntimeError, match="went away"):
            write_run_reports(store, run_id, tmp_path, pages=1)
        assert gc.get_freeze_count() == 0
