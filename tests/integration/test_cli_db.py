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


def test_vacuum_command(tmp_path: Path) -> None:
    """``altermag db vacuum`` compacts a store in place: the sizes and page sizes it prints
    are the file's, and the store lists the same candidates afterwards."""
    url = f"sqlite:///{tmp_path / 'vacuum.db'}"
    with Store(url) as store:
        for name in ("MnF2.mcif", "MnTe.json", "CrSb.extxyz", "NiO/POSCAR"):
            s = read_structure(EXAMPLES / name)
            store.add_analysis(s, altermag.analyze(s), source="examples", source_id=name)
        before = [(c.formula, c.wave) for c in store.iter_candidates(verdict="altermagnet")]
    out = runner.invoke(app, ["db", "vacuum", "--db", url])
    assert out.exit_code == 0, out.output
    size = (tmp_path / "vacuum.db").stat().st_size
    assert f"→ {size / 1e6:.1f} MB, pages of 8192 → 8192 bytes" in out.stdout
    with Store(url) as store:
        after = [(c.formula, c.wave) for c in store.iter_candidates(verdict="altermagnet")]
    assert after == before and {("MnF2", "d"), ("MnTe", "g")} <= set(after)


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


def _cli_pages(url: str, *options: str) -> list[tuple[int, int]]:
    """Every row of ``altermag db candidates --json`` across pages: (material, order) ids."""
    pairs: list[tuple[int, int]] = []
    cursor: list[str] = []
    while True:
        out = runner.invoke(
            app, ["db", "candidates", "--db", url, "--json", "--limit", "2", *options, *cursor]
        )
        assert out.exit_code == 0, out.output
        page = json.loads(out.stdout)
        pairs += [(c["material_id"], c["order_id"]) for c in page["items"]]
        if page["next_cursor"] is None:
            return pairs
        cursor = ["--cursor", page["next_cursor"]]


def test_candidates_capped_per_prototype_as_the_api(tmp_path: Path) -> None:
    """``--max-per-prototype`` keeps the best ranked rows of each structure type (NiAs MnTe
    and CrSb, corundum Cr2O3 and Fe2O3 share one): the rows the API and the store list."""
    from altermag_api.app import create_app
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from altermag.store.candidates import order_cap
    from altermag.store.models import Material

    url = f"sqlite:///{tmp_path / 'proto.db'}"
    with Store(url) as store:
        for name in (
            "MnF2.mcif",
            "MnTe.json",
            "CrSb.extxyz",
            "NiO/POSCAR",
            "Cr2O3.cif",
            "Fe2O3.mcif",
        ):
            s = read_structure(EXAMPLES / name)
            store.add_analysis(s, altermag.analyze(s), source="examples", source_id=name)
        with store.db.reading() as conn:
            proto = {m: k for m, k in conn.execute(select(Material.id, Material.prototype))}
    app_ = create_app(url, prefect_api_url=None, out_root=tmp_path / "api")
    with TestClient(app_) as client, Store(url) as store:
        for cap, all_orders in ((1, False), (2, True)):
            options = ["--max-per-prototype", str(cap)] + (["--all-orders"] * all_orders)
            cli_rows = _cli_pages(url, *options)
            every = _cli_pages(url, *options[2:])
            body = client.get(
                "/candidates",
                params={"max_per_prototype": cap, "all_orders": all_orders, "limit": 500},
            ).json()
            api_rows = [(c["material_id"], c["order_id"]) for c in body["items"]]
            query = {"max_rank": order_cap(None, all_orders), "max_per_prototype": cap}
            stored = [(c.material_id, c.order_id) for c in store.iter_candidates(**query)]
            assert cli_rows == api_rows == stored
            # the cap keeps the best ranked rows of each prototype, in the ranking's order
            seen: dict[str, int] = {}
            kept = []
            for m, o in every:
                seen[proto[m]] = seen.get(proto[m], 0) + 1
                if seen[proto[m]] <= cap:
                    kept.append((m, o))
            assert cli_rows == kept and len(kept) < len(every) and max(seen.values()) > cap
