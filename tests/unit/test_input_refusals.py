"""Inputs that used to give a verdict, a hang, a traceback or too many inputs are refused
with a clear message (negative occupancy, a moment for no site, FIFOs, full disks, damaged
compressed DFT outputs, resuming a screening into another output folder)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from altermag import read_structure
from altermag.cli import app
from altermag.errors import SettingsError
from altermag.io import StructureReadError
from altermag.screening_run import ScreenRequest, run_screening
from altermag.sources import Page, get_source
from altermag.store import Store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "altermag" / "data" / "examples"
QE_RUN = ROOT / "tests" / "data" / "qe" / "cro2"


def test_a_negative_occupancy_is_an_input_error_not_a_verdict(tmp_path: Path) -> None:
    text = (EXAMPLES / "Cr2O3.cif").read_text()
    line = "  Cr  Cr0  12  0.00000000  0.00000000  0.15250000  1"
    assert line in text
    bad = tmp_path / "neg.cif"
    bad.write_text(text.replace(line, line[:-1] + "-1"))
    with pytest.raises(StructureReadError, match="occupancy -1"):
        read_structure(bad)
    over = tmp_path / "over.mcif"
    mcif = (EXAMPLES / "MnF2.mcif").read_text()
    over.write_text(mcif.replace("Mn1 Mn 0.00000 0.00000 0.00000 1", "Mn1 Mn 0 0 0 1.5"))
    with pytest.raises(StructureReadError, match=r"occupancy 1\.5"):
        read_structure(over)


def test_a_moment_row_for_an_unknown_label_is_an_input_error(tmp_path: Path) -> None:
    text = (EXAMPLES / "MnF2.mcif").read_text()
    assert "\nMn1 0.0 0.0 4.6" in text
    bad = tmp_path / "unknown.mcif"
    bad.write_text(text.replace("\nMn1 0.0 0.0 4.6", "\nMn1 0.0 0.0 4.6\nMn7 0.0 0.0 -4.6"))
    with pytest.raises(StructureReadError, match="Mn7"):
        read_structure(bad)
    result = CliRunner().invoke(app, ["analyze", "--json", str(bad)])
    assert '"error"' in result.output and "verdict" not in result.output
    assert read_structure(EXAMPLES / "MnF2.mcif").magmoms is not None  # the good file reads


def test_a_fifo_is_refused_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "structure.cif"
    os.mkfifo(fifo)

    def unblock() -> None:  # a reader that waited on the FIFO gets an empty file after 5 s
        time.sleep(5)
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK) if _has_reader(fifo) else None
        if fd is not None:
            os.close(fd)

    threading.Thread(target=unblock, daemon=True).start()
    with pytest.raises(StructureReadError, match="not a regular file"):
        read_structure(fifo)


def _has_reader(fifo: Path) -> bool:
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:  # ENXIO: nobody has it open for reading
        return False
    return True


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "altermag.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def test_dft_parse_refuses_a_fifo_instead_of_hanging(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(QE_RUN, run)
    (run / "bands.out").unlink()
    os.mkfifo(run / "bands.out")  # nothing will ever write to it
    try:
        out = _cli("dft", "parse", str(run), timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("dft parse hung on a FIFO")
    assert out.returncode == 2
    assert "bands.out is not a regular file" in out.stderr
    assert "Traceback" not in out.stderr


def test_dft_parse_of_a_truncated_xml_gz_says_so(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(QE_RUN, run)
    (xml,) = run.rglob("data-file-schema.xml.gz")
    data = xml.read_bytes()
    xml.write_bytes(data[: len(data) * 7 // 10])
    out = _cli("dft", "parse", str(run))
    assert out.returncode == 2, out.stderr
    assert "truncated or damaged" in out.stderr
    assert "Aborted" not in out.stderr + out.stdout and "Traceback" not in out.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux /dev/full")
def test_a_full_disk_is_a_message_not_a_traceback() -> None:
    """/dev/full answers every write with ENOSPC, as a full disk does."""
    out = _cli("dft", "parse", str(QE_RUN), "--figure", "/dev/full")
    assert out.returncode == 1, out.stderr
    assert "error: cannot write" in out.stderr and "disk is full" in out.stderr
    assert "Traceback" not in out.stderr


class _Dying:
    """The known-materials source, killed (an exception) after ``pages`` pages."""

    def __init__(self, pages: int) -> None:
        self.inner = get_source("known", page_size=2)
        self.name = "known"
        self.left = pages

    def pages(self, cursor: str | None = None) -> Iterator[Page]:
        for page in self.inner.pages(cursor):
            if self.left == 0:
                raise KeyboardInterrupt  # the process is killed here
            self.left -= 1
            yield page


def test_resuming_into_another_output_folder_is_refused(tmp_path: Path) -> None:
    request = ScreenRequest(source="known", limit=6, chunk_size=2, score=False)
    settings = request.settings()
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        with pytest.raises(KeyboardInterrupt):
            run_screening(
                _Dying(2), store, settings, tmp_path / "A", source_name="known", limit=6, key="k"
            )
        assert store.run(1).n_inputs == 4
        with pytest.raises(SettingsError, match="another output folder"):
            run_screening(
                _Dying(9), store, settings, tmp_path / "B", source_name="known", limit=6, key="k"
            )
        done = run_screening(
            _Dying(9), store, settings, tmp_path / "A", source_name="known", limit=6, key="k"
        )
        assert store.run(done.run_id).n_inputs == 6
        assert done.counts["screened"] == 6
