"""A crafted MAGNDATA zip cannot make ``fetch``/``screen`` unpack gigabytes.

The archives here are real deflate zips: 64 MiB of one repeated byte deflates to about
64 KiB (ratio ~1000), far beyond what CIF text reaches (about 5-20).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from altermag.errors import LimitError
from altermag.sources import get_source, iter_records
from altermag.sources.magndata import extract_mcifs


def _bomb(path: Path, mib: int = 64) -> Path:
    block = b"0" * 2**20
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open("mcif/0.1.mcif", "w", force_zip64=True) as member,
    ):
        for _ in range(mib):
            member.write(block)
    return path


def test_a_highly_compressed_member_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    archive = _bomb(tmp_path / "bomb.zip")
    assert archive.stat().st_size < 2**20
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(LimitError, match="compressed size"):
        extract_mcifs(archive, out)
    # what was written before the refusal is bounded by the ratio, not the declared size
    written = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert written <= 200 * archive.stat().st_size
    with pytest.raises(LimitError):
        list(iter_records(get_source("magndata", path=archive)))


def test_the_total_and_member_count_are_bounded(tmp_path: Path) -> None:
    text = "data_x\n" + "_cell_length_a 4.0\n" * 200
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i in range(5):
            zf.writestr(f"0.{i}.mcif", text)
    out = tmp_path / "out"
    out.mkdir()
    assert len(extract_mcifs(archive, out)) == 5  # within the default bounds
    with pytest.raises(LimitError, match="more than"):
        extract_mcifs(archive, tmp_path / "o2", max_total_bytes=3 * len(text))
    with pytest.raises(LimitError, match="members"):
        extract_mcifs(archive, tmp_path / "o3", max_members=4)


def test_fetching_a_bomb_stays_small_and_says_why(tmp_path: Path) -> None:
    """The CLI's fetch of a 64 MiB bomb ends with a clear error, its memory well below it
    (measured against fetching a one-file archive, which imports the same code)."""
    archive = _bomb(tmp_path / "bomb.zip")
    small = tmp_path / "small.zip"
    with zipfile.ZipFile(small, "w") as zf:
        zf.writestr("0.1.mcif", "data_x\n")
    code = (
        "import resource, sys\n"
        "from altermag.cli import app\n"
        "try:\n"
        "    app(['fetch', 'magndata', '--path', sys.argv[1], '--out', sys.argv[2]])\n"
        "except SystemExit as e:\n"
        "    print('exit', e.code)\n"
        "print('maxrss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(archive), str(tmp_path / "fetched")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    text = out.stdout + out.stderr
    assert "exit 1" in text, text
    assert "compressed size" in text
    assert "Traceback" not in text
    rss_mb = int(text.split("maxrss_kb")[1].split()[0]) / 1024
    idle = subprocess.run(
        [sys.executable, "-c", code, str(small), str(tmp_path / "fetched-small")],
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    idle_mb = int(idle.split("maxrss_kb")[1].split()[0]) / 1024
    assert rss_mb < idle_mb + 32, (rss_mb, idle_mb)  # the bomb is 64 MiB unpacked
