"""The everyday command line: version, help, narrow terminals, reports on a terminal, pw.x
progress."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import threading
import time
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from altermag import __version__
from altermag.cli import app
from altermag.cli.progress import follow_pw
from altermag.dft.qe.progress import PwProgress

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "altermag" / "data" / "examples"
QE = ROOT / "tests" / "data" / "qe"
runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"altermag {__version__}"


def test_flags_are_shown_as_flags_in_help() -> None:
    result = runner.invoke(app, ["analyze", "--help"], env={"COLUMNS": "100"})
    lines = {ln.split()[1]: ln for ln in result.stdout.splitlines() if ln.startswith("│ --")}
    assert "<bool>" not in lines["--json"] and "<bool>" not in lines["--help"]
    assert "<str>" in lines["--magmom"] and "<float>" in lines["--symprec"]
    screen = runner.invoke(app, ["screen", "--help"], env={"COLUMNS": "100"}).stdout
    assert "--prefect" in screen and "--no-prefect" in screen and "<bool>" not in screen


def test_analyze_table_is_readable_at_80_columns() -> None:
    files = [EXAMPLES / n for n in ("MnF2.mcif", "Fe2O3.mcif", "Cr2O3.cif", "NiO/POSCAR")]
    result = runner.invoke(app, ["analyze", *map(str, files)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(ln) for ln in lines) <= 80
    words = {w for ln in lines for w in ln.split()}
    assert {"altermagnet", "antiferromagnet", "MnF2", "Fe2O3", "²4/¹m²m¹m"} <= words
    assert "not shown at this width: nodal planes, space group, MSG (BNS)" in " ".join(
        ln.strip() for ln in lines
    )
    wide = runner.invoke(app, ["analyze", *map(str, files)], env={"COLUMNS": "200"}).stdout
    assert "P4_2'/mnm' (136.499)" in wide and "not shown" not in wide


def _run_on_a_terminal(args: list[str], home: Path) -> tuple[int, str]:
    """Run the CLI with stdout on a pseudo-terminal; returns (status, what the terminal got)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "altermag", *args],
        stdout=follower,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "ALTERMAG_HOME": str(home), "COLUMNS": "100"},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(leader)
    return proc.returncode, b"".join(chunks).decode(errors="replace")


def test_report_on_a_terminal_goes_to_a_file_not_the_screen(tmp_path: Path) -> None:
    code, screen = _run_on_a_terminal(["report", str(EXAMPLES / "MnF2.mcif")], tmp_path)
    assert code == 0
    assert "<html" not in screen.lower() and "base64" not in screen
    page = tmp_path / "reports" / "MnF2.html"
    assert page.read_text().startswith("<!DOCTYPE html>")
    piped = subprocess.run(
        [sys.executable, "-m", "altermag", "report", str(EXAMPLES / "MnF2.mcif")],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    assert piped.stdout.startswith(b"<!DOCTYPE html>")  # redirected: stdout, as before
    assert piped.stdout.rstrip().endswith(b"</html>")  # all of it, though the process ends fast


def test_pw_progress_reads_recorded_runs() -> None:
    scf = PwProgress.of_file(QE / "cro2" / "scf.out")
    assert (scf.calculation, scf.scf_iteration, scf.converged, scf.done) == ("scf", 18, True, True)
    assert scf.total_energy_ry is not None and abs(scf.total_energy_ry + 662.49267326) < 1e-6
    bands = PwProgress.of_file(QE / "cro2" / "bands.out")
    assert (bands.calculation, bands.kpoint, bands.n_kpoints) == ("bands", 98, 98)
    text = (QE / "cr_afm" / "scf.out").read_text()
    reader = PwProgress()
    iterations = []
    for i in range(0, len(text), 997):  # chunks that cut lines anywhere
        iterations.append(reader.feed(text[i : i + 997]).scf_iteration)
    whole = PwProgress.of_file(QE / "cr_afm" / "scf.out")
    assert reader.feed("\n") == whole
    assert [n for n in iterations if n] == sorted(n for n in iterations if n)  # only forward


def test_follow_pw_shows_a_run_as_its_output_grows(tmp_path: Path) -> None:
    """A recorded SCF and bands run written line by line, as pw.x writes it."""
    buf = io.StringIO()
    seen: list[str] = []

    def writer() -> None:
        for name in ("scf", "bands"):
            lines = (QE / "cro2" / f"{name}.out").read_text().splitlines(keepends=True)
            with (tmp_path / f"{name}.out").open("w") as fh:
                for i in range(0, len(lines), 25):
                    fh.writelines(lines[i : i + 25])
                    fh.flush()
                    time.sleep(0.01)
                    if name == "scf" and i == 200:  # mid-SCF: wait for the display to catch up
                        deadline = time.monotonic() + 10
                        while time.monotonic() < deadline and not seen:
                            status = progress.tasks[0].fields["status"] if progress.tasks else ""
                            if status.startswith("iteration"):
                                seen.append(status)
                            time.sleep(0.01)

    console = Console(file=buf, width=80)
    outputs = [("SCF", tmp_path / "scf.out"), ("bands", tmp_path / "bands.out")]
    with follow_pw(outputs, console=console, interval=0.02) as progress:
        thread = threading.Thread(target=writer)
        thread.start()
        thread.join()
    final = buf.getvalue()
    assert "iteration 18 · accuracy 2.0e-08 Ry · E -662.49267 Ry · converged" in final
    assert "k-point 98/98 · done" in final
    assert max(len(line) for line in final.splitlines()) <= 80
    assert seen and seen[0].startswith("iteration") and "converged" not in seen[0]


def test_stored_candidates_table_is_readable_at_80_columns(tmp_path: Path) -> None:
    from tests.api_server import fill_store

    db = f"sqlite:///{tmp_path / 'c.db'}"
    fill_store(db)
    result = runner.invoke(app, ["db", "candidates", "--db", db], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(ln) for ln in lines) <= 80
    words = {w for ln in lines for w in ln.split()}
    assert {"altermagnet", "antiferromagnet", "ferromagnet", "La2CuO4"} <= words


def test_screen_with_a_missing_folder_or_a_mistyped_source_says_so(tmp_path: Path) -> None:
    env = {"ALTERMAG_HOME": str(tmp_path)}
    missing = Path("/nonexistent-altermag")
    for source in ("local", "magndata"):
        result = runner.invoke(app, ["screen", "--source", source, "--path", str(missing)], env=env)
        assert result.exit_code == 2
        assert f"{missing}: no such folder" in result.output
        assert "Traceback" not in result.output
    result = runner.invoke(app, ["screen", "--source", "embeded"], env=env)
    assert result.exit_code == 2
    assert "--source: Input should be 'embedded'" in result.output
    assert "Traceback" not in result.output


def test_sources_refuse_a_missing_folder_with_a_user_error(tmp_path: Path) -> None:
    from altermag.errors import AltermagError
    from altermag.sources import get_source

    for name in ("local", "magndata"):
        try:
            get_source(name, path=str(tmp_path / "nope"))
        except AltermagError as exc:
            assert str(exc) == f"source path {tmp_path / 'nope'}: no such folder" + (
                " or zip file" if name == "magndata" else ""
            )
        else:
            raise AssertionError(f"{name} accepted a missing folder")


def test_prefect_telemetry_is_off_unless_turned_on(monkeypatch) -> None:
    from altermag.config import prefect_environment

    names = (
        "DO_NOT_TRACK",
        "PREFECT_SERVER_ANALYTICS_ENABLED",
        "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY",
        "PREFECT_LOGGING_LEVEL",
        "ALTERMAG_TELEMETRY",
    )
    for name in names:
        monkeypatch.delenv(name, raising=False)
    prefect_environment(quiet=True)
    assert os.environ["DO_NOT_TRACK"] == "1"
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert os.environ["PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY"] == "false"
    assert os.environ["PREFECT_LOGGING_LEVEL"] == "WARNING"
    for name in names:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALTERMAG_TELEMETRY", "1")
    prefect_environment()
    assert "DO_NOT_TRACK" not in os.environ
    assert "PREFECT_SERVER_ANALYTICS_ENABLED" not in os.environ


def test_run_and_screen_need_no_prefect_by_default() -> None:
    for command in ("run", "screen"):
        help_text = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output
        assert "--prefect" in help_text and "--workers" in help_text
    import inspect

    from altermag.cli.run import run
    from altermag.cli.screen import screen

    for fn in (run, screen):
        assert inspect.signature(fn).parameters["prefect"].default is False
