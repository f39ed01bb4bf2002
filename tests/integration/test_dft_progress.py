"""``altermag dft run`` shows a real pw.x run's progress (marker ``dft``, about a minute of one
core): the CsCl-type AFM Cr deck, SCF then bands, followed live from the outputs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.requirements import requires

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.dft,
    requires("pw.x", "qe-pseudos"),
    pytest.mark.usefixtures("debian_pseudos"),  # the PAW runs of tests/data/qe, at 30 Ry
]


def test_dft_run_reports_scf_iterations_and_kpoints(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "COLUMNS": "80",
        "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("", "api", "flows")),
    }
    cli = [sys.executable, "-m", "altermag", "dft"]
    deck = tmp_path / "cr"
    structure = ROOT / "tests" / "data" / "qe" / "cr_afm" / "structure.json"
    subprocess.run(
        [*cli, "prepare", str(structure), "--preset", "fast", "--out", str(deck)],
        check=True,
        env=env,
        capture_output=True,
        timeout=300,
    )
    run = subprocess.run(
        [*cli, "run", str(deck)], env=env, capture_output=True, text=True, timeout=1800
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "completed: SCF converged and bands computed" in run.stdout
    lines = run.stderr.splitlines()
    scf = next(line for line in lines if "SCF" in line)
    assert "iteration" in scf and "accuracy" in scf and "converged" in scf
    assert any("k-point" in line and "done" in line for line in lines)
    assert max(len(line) for line in lines) <= 80
