"""The screening run and its Prefect flow: results, errors, idempotency, resume after SIGKILL."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from altermag.screening import ScreenedEntry, ScreenSettings
from altermag.screening_run import ScreenRequest, run_screening
from altermag.sources import Record, get_source
from altermag.store import Store

EXAMPLES = Path(__file__).resolve().parents[2] / "altermag" / "data" / "examples"


@pytest.fixture
def source_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "inputs"
    shutil.copytree(EXAMPLES, folder)
    (folder / "corrupt.cif").write_bytes(b"\x00\x01\x02 not a cif" * 20)
    return folder


def test_local_screening_stores_everything_and_records_the_bad_file(
    db_url: str,
    source_folder: Path,
    tmp_path: Path,
) -> None:
    with Store(db_url) as store:
        out = run_screening(
            get_source("local", path=source_folder, page_size=3),
            store,
            ScreenSettings(),
            tmp_path / "cand",
            source_name="local",
            source_options={"path": str(source_folder)},
        )
        run = store.run(out.run_id)
        assert run.status == "completed"
        assert run.n_inputs == 7 and run.n_failed == 1
        assert run.failed_inputs[0].input_ref == "corrupt.cif"
        assert "binary data" in run.failed_inputs[0].error
        rows = json.loads(out.paths["json"].read_text())
        # one row per material; the four altermagnets given with moments lead (a given order
        # is taken as the ground state: P(AM ground state) = 1), then the prior's scores
        assert len({r["id"] for r in rows}) == len(rows) == 6
        top = rows[:4]
        assert {r["id"] for r in top} == {"MnF2.mcif", "MnTe.json", "CrSb.extxyz", "Fe2O3.mcif"}
        assert all(r["p_altermagnetic_ground_state"] == 1.0 for r in top)
        assert all(r["ranking"].startswith("symmetry+prior:") for r in rows)
        scores = [r["p_altermagnetic_ground_state"] for r in rows]
        assert scores == sorted(scores, reverse=True)
        assert out.counts["candidates"] == sum(r["can_host_altermagnet"] for r in rows)
        assert {r["id"]: r["wave"] for r in rows}["MnF2.mcif"] == "d"
        assert out.counts["errors"] == 1 and out.counts["screened"] == 6
        # the run report lists the failed input and links the written material reports
        html = out.paths["report"].read_text()
        assert "corrupt.cif" in html and "binary data" in html
        assert 'id="fig-score-distribution"' in html
        linked = set(re.findall(r'href="(materials/\d+\.html)"', html))
        assert linked and all((out.out_dir / link).exists() for link in linked)
        before = store.row_counts()
        again = run_screening(
            get_source("local", path=source_folder, page_size=3),
            store,
            ScreenSettings(),
            tmp_path / "cand",
            source_name="local",
            source_options={"path": str(source_folder)},
            key="another-run",
        )
        assert store.row_counts()["materials"] == before["materials"]
        assert store.row_counts()["magnetic_orders"] == before["magnetic_orders"]
        assert again.counts == out.counts


def _screen_cmd(db: str, out: Path) -> list[str]:
    exe = str(Path(sys.executable).with_name("altermag"))
    return [
        exe,
        "screen",
        "--source",
        "corpus",
        "--limit",
        "400",
        "--chunk-size",
        "40",
        "--no-prefect",
        "--db",
        db,
        "--out",
        str(out),
    ]


def _rows(out: Path) -> list[dict]:
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return json.loads((run_dir / "candidates.json").read_text())


@pytest.fixture
def process_groups() -> Iterator[list[int]]:
    """Process groups the test starts (``start_new_session``); whatever is left in them is
    killed on the way out, passed or failed: the worker pool of a screening whose main process
    was killed (the fork server and its workers outlive it, idle) included.
    """
    groups: list[int] = []
    yield groups
    for pgid in groups:
        _kill_group(pgid)


def _kill_group(pgid: int, timeout: float = 10.0) -> None:
    """SIGKILL every process of the group, until none is left (or ``timeout`` passes); those
    that are this process's children are reaped here, the orphans by init."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            return
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-pgid, os.WNOHANG)[0]:
                pass
        time.sleep(0.05)


def _screen(db: str, out: Path, env: dict[str, str], groups: list[int]) -> None:
    """``altermag screen`` to its end, in a process group of its own (see process_groups)."""
    cmd = _screen_cmd(db, out)
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    groups.append(proc.pid)
    stdout, stderr = proc.communicate()
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd, stdout, stderr)


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_equals_uninterrupted(
    tmp_path: Path, process_groups: list[int]
) -> None:
    env = {**os.environ, "COLUMNS": "120"}
    ref_db, ref_out = f"sqlite:///{tmp_path / 'ref.db'}", tmp_path / "ref"
    _screen(ref_db, ref_out, env, process_groups)

    db, out = f"sqlite:///{tmp_path / 'k.db'}", tmp_path / "k"
    proc = subprocess.Popen(
        _screen_cmd(db, out),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    process_groups.append(proc.pid)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        chunks = list(out.glob("*/chunks/*.json"))
        if len(chunks) >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 3 <= len(list(out.glob("*/chunks/*.json"))) < 10, "killed too late to test resume"
    _screen(db, out, env, process_groups)

    def strip(rows: list[dict]) -> list[dict]:
        return sorted(rows, key=lambda r: r["id"])

    assert strip(_rows(out)) == strip(_rows(ref_out))
    with Store(db) as a, Store(ref_db) as b:
        ca, cb = a.row_counts(), b.row_counts()
        for table in ("materials", "magnetic_orders", "run_items"):
            assert ca[table] == cb[table]
        assert a.runs()[0].status == "completed"


@pytest.mark.prefect
def test_prefect_flow_runs_the_screening(
    prefect_harness: None, source_folder: Path, tmp_path: Path
) -> None:
    from altermag_flows.screen import screen

    db = f"sqlite:///{tmp_path / 'flow.db'}"
    request = ScreenRequest(
        source="local", source_options={"path": str(source_folder)}, chunk_size=2
    )
    result = screen(request=request, db_url=db, out_dir=str(tmp_path / "cand"), window=2)
    assert result["counts"]["screened"] == 6 and result["counts"]["errors"] == 1
    assert Path(result["paths"]["csv"]).read_text().count("\n") == 7
    with Store(db) as store:
        assert store.run(result["run_id"]).n_failed == 1


def test_a_second_run_reuses_what_is_done(db_url: str, source_folder: Path, tmp_path: Path) -> None:
    """The same screening again analyses nothing, stores nothing, keeps its reports and gives
    the same tables (the source was read to its end: the cursor is None)."""

    def once():
        with Store(db_url) as store:
            return run_screening(
                get_source("local", path=source_folder, page_size=3),
                store,
                ScreenSettings(),
                tmp_path / "cand",
                source_name="local",
                source_options={"path": str(source_folder)},
            )

    first = once()
    assert first.timings["analysis"] > 0
    report = first.paths["report"]
    stamp = report.stat().st_mtime_ns
    rows = json.loads(first.paths["json"].read_text())
    second = once()
    assert second.run_id == first.run_id
    assert second.timings["analysis"] == 0 and second.timings["store"] == 0
    assert report.stat().st_mtime_ns == stamp
    assert json.loads(second.paths["json"].read_text()) == rows
    assert second.counts == first.counts


def test_worker_pool_gives_the_in_process_answer(tmp_path: Path) -> None:
    """Chunks analysed on two forkserver workers and stored in source order: the same rows,
    the same stored orders and material pages as one process."""
    from altermag.screening_run import worker_pool

    outcomes = {}
    for workers in (1, 2):
        request = ScreenRequest(source="known", limit=24, chunk_size=5)
        with (
            Store(f"sqlite:///{tmp_path / f'w{workers}.db'}") as store,
            worker_pool(workers) as pool,
        ):
            assert (pool is None) == (workers == 1)
            out = request.run(store, tmp_path / f"w{workers}", pool=pool, window=2 * workers)
            counts = store.row_counts()
        rows = json.loads(out.paths["json"].read_text())
        pages = sorted(p.name for p in (out.out_dir / "materials").glob("*.html"))
        outcomes[workers] = (rows, counts["materials"], counts["magnetic_orders"], pages)
    assert outcomes[1] == outcomes[2]
    assert len(outcomes[1][0]) == 24 and len(outcomes[1][3]) == 3


def test_a_screening_collects_garbage_with_its_thresholds_and_restores_the_callers(
    tmp_path: Path,
) -> None:
    """Chunks are analysed and stored under the screening's garbage-collection thresholds
    (young objects held for a chunk) and without automatic collections (one per chunk, as
    it starts); the caller's thresholds and collector are back afterwards, also when the run
    fails."""
    import gc

    from altermag.screening_run import SCREENING_GC_THRESHOLDS, sequential

    seen: list[tuple[int, ...]] = []
    automatic: list[bool] = []

    def executor(
        chunks: Sequence[list[Record]], settings: ScreenSettings
    ) -> list[list[ScreenedEntry]]:
        seen.append(gc.get_threshold())
        automatic.append(gc.isenabled())
        return sequential(chunks, settings)

    before = gc.get_threshold()
    assert before != SCREENING_GC_THRESHOLDS
    with Store(f"sqlite:///{tmp_path / 'gc.db'}") as store:
        out = ScreenRequest(source="known", limit=4, chunk_size=2).run(
            store, tmp_path / "out", executor=executor, report_pages=0
        )
        assert out.counts["screened"] == 4
        assert seen == [SCREENING_GC_THRESHOLDS] * 2
        assert automatic == [False, False]
        assert gc.get_threshold() == before
        assert gc.isenabled()
        with pytest.raises(RuntimeError):
            ScreenRequest(source="known", limit=2).run(
                store, tmp_path / "out", executor=_failing_executor, key="fails"
            )
        assert gc.get_threshold() == before
        assert gc.isenabled()


def _failing_executor(
    chunks: Sequence[list[Record]], settings: ScreenSettings
) -> list[list[ScreenedEntry]]:
    raise RuntimeError("analysis failed")


def test_screen_succeeds_on_a_busy_cpu(tmp_path: Path) -> None:
    """``altermag screen`` on a CPU kept busy by spinning processes (two per core): it needs
    no server to start in time, finishes, and prints no Prefect log line."""
    from altermag.screening_run import available_cores

    spin = "while True: pass"
    busy = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(2 * available_cores())]
    try:
        time.sleep(1.0)
        env = {**os.environ, "ALTERMAG_HOME": str(tmp_path), "COLUMNS": "120"}
        env.pop("PREFECT_API_URL", None)
        done = subprocess.run(
            [sys.executable, "-m", "altermag.cli", "screen", "--source", "known", "--limit", "12"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        for p in busy:
            p.kill()
            p.wait()
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "run 1: 12 screened" in output
    assert "prefect" not in output.lower()
    assert (tmp_path / "candidates" / "1" / "report.html").is_file()


def test_resume_with_a_chunk_file_ahead_of_the_cursor_loses_nothing(
    db_url: str, tmp_path: Path
) -> None:
    """A run stopped after writing a chunk file but before saving the cursor after it (the
    window a SIGKILL hits when it follows the chunk files) reads that page again and still
    screens every record up to its limit, with the tables of an uninterrupted run."""
    import hashlib
    from itertools import islice

    def once(out: Path, store: Store):
        return run_screening(
            get_source("corpus", page_size=10),
            store,
            ScreenSettings(),
            out,
            source_name="corpus",
            limit=40,
            key=out.name,
        )

    with Store(db_url) as store:
        ref = once(tmp_path / "ref", store)
        ref_rows = json.loads(ref.paths["json"].read_text())
        assert ref.counts["screened"] == 40
        # the same screening, stopped after the third page's chunk file: the cursor still
        # points at that page and the fourth page was never read
        pages = islice(get_source("corpus", page_size=10).pages(None), 3)
        starts = [None] + [p.next_cursor for p in pages]
        run = once(tmp_path / "cut", store)
        chunks = run.out_dir / "chunks"

        def name(cursor: str | None) -> str:
            return hashlib.sha256(str(cursor).encode()).hexdigest()[:20] + ".json"

        (chunks / name(starts[3])).unlink()
        store.set_run_cursor(run.run_id, starts[2])
        store.finish_run(run.run_id, status="failed", counts={}, errors=["killed"])
        resumed = once(tmp_path / "cut", store)
    assert resumed.run_id == run.run_id
    assert resumed.counts["screened"] == 40
    assert json.loads(resumed.paths["json"].read_text()) == ref_rows


def _group_alive(pgid: int) -> list[str]:
    """Command lines of the processes of group ``pgid`` that still run (zombies, which hold
    no memory and only wait to be reaped, excluded)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # ended while we looked
            continue
        state, _ppid, pgrp = text[text.rindex(")") + 2 :].split()[:3]
        if int(pgrp) == pgid and state not in "ZX":
            alive.append(f"{stat.parent.name}: {cmdline[:120]}")
    return alive


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="lists processes in /proc")
@pytest.mark.parametrize("stop", ["SIGKILL", "SIGTERM", "Ctrl-C"])
def test_a_stopped_screening_leaves_no_process_behind(
    stop: str, tmp_path: Path, process_groups: list[int]
) -> None:
    """A screening on two workers stopped mid-run (SIGKILL of its main process: the OOM
    killer, ``kill -9``, a batch system's limit; SIGTERM; Ctrl-C, which signals the whole
    foreground group) ends entirely: its workers, fork server and resource tracker follow."""
    env = {**os.environ, "COLUMNS": "120", "ALTERMAG_HOME": str(tmp_path)}
    out = tmp_path / "out"
    cmd = [
        str(Path(sys.executable).with_name("altermag")),
        "screen",
        "--source",
        "embedded",
        "--limit",
        "2000",
        "--chunk-size",
        "20",
        "--workers",
        "2",
        "--no-prefect",
        "--db",
        f"sqlite:///{tmp_path / 'k.db'}",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    process_groups.append(proc.pid)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list(out.glob("*/chunks/*.json")):
        time.sleep(0.05)
    assert list(out.glob("*/chunks/*.json")), "the screening stored no chunk"
    assert proc.poll() is None, "the screening ended before it could be stopped"
    assert len(_group_alive(proc.pid)) == 5  # main, resource tracker, fork server, 2 workers
    if stop == "Ctrl-C":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(getattr(signal, stop))
    proc.wait(timeout=120)
    left = _group_alive(proc.pid)
    deadline = time.monotonic() + 30
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = _group_alive(proc.pid)
    assert not left, f"still running after the screening was stopped ({stop}): {left}"
