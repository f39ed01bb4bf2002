"""``altermag db``: schema commands, candidate listing and API keys on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import altermag
from altermag.cli import app
from altermag.io import read_structure
from altermag.store import Store, head

EXAMPLES = Path(__file__).resolve().parents[2] / "altermag" / "data" / "examples"
runner = CliRunner()


def test_upgrade_status_downgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    out = runner.invoke(app, ["db", "status", "--db", url])
    assert out.exit_code == 0 and "schema revision: none" in out.stdout
    out = runner.invoke(app, ["db", "upgrade", "--db", url])
    assert out.exit_code == 0 and f"revision {head()}" in out.stdout
    out = runner.invoke(app, ["db", "status", "--db", url])
    assert "magnetic_orders" in out.stdout and f"schema revision: {head()}" in out.stdout
    out = runner.invoke(app, ["db", "downgrade", "base", "--db", url])
    assert out.exit_code == 0 and "revision base" in out.stdout


def test_candidates_from_the_environment_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("ALTERMAG_DATABASE_URL", url)
    with Store() as store:
        for name in ("MnF2.mcif", "MnTe.json", "CrSb.extxyz", "NiO/POSCAR"):
            s = read_structure(EXAMPLES / name)
            store.add_analysis(s, altermag.analyze(s), source="examples", source_id=name)
    out = runner.invoke(
        app, ["db", "candidates", "--json", "--verdict", "altermagnet", "--element", "Mn"]
    )
    assert out.exit_code == 0, out.output
    page = json.loads(out.stdout)
    assert {(c["formula"], c["wave"]) for c in page["items"]} == {("MnF2", "d"), ("MnTe", "g")}
    assert page["next_cursor"] is None
    out = runner.invoke(app, ["db", "candidates", "--sort", "formula", "--limit", "2"])
    assert out.exit_code == 0 and "next page: --cursor" in out.stdout
    out = runner.invoke(app, ["db", "candidates", "--sort", "colour"])
    assert out.exit_code != 0


def test_api_key_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    out = runner.invoke(app, ["db", "create-key", "ci", "--db", url])
    assert out.exit_code == 0
    key = out.stdout.strip()
    with Store(url) as store:
        assert store.verify_api_key(key) is not None
    assert runner.invoke(app, ["db", "create-key", "ci", "--db", url]).exit_code != 0
    assert runner.invoke(app, ["db", "revoke-key", "ci", "--db", url]).exit_code == 0
    assert runner.invoke(app, ["db", "revoke-key", "ci", "--db", url]).exit_code == 1
    with Store(url) as store:
        assert store.verify_api_key(key) is None
