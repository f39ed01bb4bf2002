"""``altermag analyze``: JSON output in input order, per-file errors, exit status, help."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from altermag.cli import app
from altermag.result import VERDICTS

EXAMPLES = Path(__file__).resolve().parents[2] / "altermag" / "data" / "examples"
BAD = Path(__file__).resolve().parents[1] / "data" / "bad_inputs"
runner = CliRunner()


def test_json_in_input_order_with_errors_and_nonzero_exit() -> None:
    paths = [EXAMPLES / "MnTe.json", BAD / "empty.cif", EXAMPLES / "MnF2.mcif"]
    result = runner.invoke(app, ["analyze", "--json", *map(str, paths)])
    assert result.exit_code == 1
    records = json.loads(result.stdout)
    assert [r["source"] for r in records] == [str(p) for p in paths]
    assert records[0]["formula"] == "MnTe" and records[0]["wave"] == "g"
    assert records[1] == {"source": str(paths[1]), "error": f"{paths[1]}: the file is empty"}
    assert records[2]["verdict"] == "altermagnet"
    assert records[2]["form_factor"] == "kx*ky"
    assert records[2]["spin_laue_group"] == "²4/¹m²m¹m"
    assert records[2]["magnetic_space_group_number"] == "136.499"


def test_all_good_inputs_exit_zero_and_table() -> None:
    result = runner.invoke(app, ["analyze", str(EXAMPLES / "MnF2.mcif")], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "altermagnet" in result.stdout and "MnF2" in result.stdout


def test_magmom_option() -> None:
    poscar = EXAMPLES / "NiO" / "POSCAR"
    result = runner.invoke(app, ["analyze", "--json", "--magmom", "16*2", str(poscar)])
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["verdict"] == "ferromagnet"


def test_structure_without_moments_is_enumerated() -> None:
    result = runner.invoke(app, ["analyze", "--json", str(EXAMPLES / "Cr2O3.cif")])
    rec = json.loads(result.stdout)[0]
    assert rec["enumerated"] and rec["can_host_altermagnet"] and rec["host_waves"] == ["g"]
    assert rec["orders"][0]["rank"] == 1 and rec["orders"][0]["reason"]


def test_help_explains_every_verdict() -> None:
    result = runner.invoke(app, ["analyze", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for verdict in VERDICTS:
        assert verdict in result.stdout


def test_console_script_runs() -> None:
    exe = Path(sys.executable).with_name("altermag")
    out = subprocess.run(
        [str(exe), "analyze", "--json", str(EXAMPLES / "MnF2.mcif")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout)[0]["wave"] == "d"
