"""The main job at the machine's floor: the whole screening against the bare analysis loop.

One run prints every figure of the screening pipeline against its target or anchor, each with
the load average beside it (``os.getloadavg()``: on a shared machine wall time says little, so
every figure is also given in CPU seconds, of all the processes of the job together):

* **CLI import** — ``python -c "import altermag.cli"`` (part of every command's fixed cost).
* **bare loop** — ``analyze()`` over the first ``--n`` embedded structures in one process
  (CPU seconds; anchor: 56 s for all 5,959), and the same loop on 2 worker processes (wall
  seconds: the floor the screening's worker pool is compared with, like with like).
* **whole screening, one process** — ``altermag run --workers 1 --limit N`` in a fresh
  process and a fresh ``ALTERMAG_HOME``: the command as a user runs it (imports, source,
  analysis, learned prior, store, chunk files, tables, run report and material pages); its
  CPU seconds as a multiple of the bare loop's, the bare loop run at the same time in a
  fresh process of its own, one pinned to each core, twice with the cores swapped (the
  geometric mean of the two ratios: a core slower than the other counts once on each
  side). This virtual machine's speed drifts by 10–20 % within minutes, so a ratio against
  a loop measured minutes away says as much about the drift as about the screening; side
  by side, both see the same minutes. Target ≤ 1.2×.
* **phases** — the same command run in one process with each phase's CPU seconds summed
  (the analysis calls inside the run, the prior, the store, the run report and pages,
  imports, the rest: source reading, chunk files, tables, orchestration) and garbage
  collection counted through ``gc.callbacks``; the whole over the analysis inside the same
  run is the ratio free of the drift between processes.
* **second run** — the same command again (it reuses what is done); anchor 293 s.
* **fixed costs** — ``altermag run --workers W`` on the first 2 × 200 × W structures and on
  all of them: the intercept of its CPU seconds (all processes) and of its wall seconds
  against the bare loop's CPU seconds for the same structures (structures differ in cost:
  the first ones, the known materials, are larger than the average); target < 5 s. The
  small run has two chunks per worker, so every worker is busy in both runs.
* **throughput** — structures per hour of ``altermag run --workers W`` (default 2): by the
  wall clock, and as the CPU it needed allows on W free cores (N × 3600 / (CPU seconds / W));
  target ≥ 300,000 per hour on 2 cores, prior included.

CPU of a command: its process and its descendants, collected by the wrapper below, which makes
the command wait for its worker pool's fork server at exit so that the server's CPU (and that
of the workers it reaped) is counted.

Usage: ``python benchmarks/bench_screen.py [--n 5959] [--workers 2]`` from the repository root.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from pathlib import Path

from altermag.screening import ScreenSettings
from altermag.sources import Record, get_source
from altermag.symmetry import analyze

ANCHOR_BARE_CPU_S = 56.0  # bare analyze loop over 5,959 structures (issue measurement)
ANCHOR_SECOND_RUN_S = 293.0
TARGET_RATIO = 1.2
TARGET_FIXED_S = 5.0
TARGET_PER_HOUR = 300_000
CHUNK = 200  # the default chunk size of a screening (ScreenRequest.chunk_size)

#: Runs ``altermag ARGS`` and, at exit, waits for the worker pool's fork server (which reaped
#: the workers), so that this process's children's rusage holds the whole job's CPU.
WRAPPER = (
    "import atexit, runpy, sys\n"
    "from multiprocessing import forkserver\n"
    "atexit.register(forkserver._forkserver._stop)\n"
    "sys.argv = ['altermag', *sys.argv[1:]]\n"
    "runpy.run_module('altermag.cli', run_name='__main__')\n"
)


#: Runs ``altermag ARGS`` in this process with the CPU seconds of each phase summed; prints
#: them as JSON on the last line.
PHASES = """
import gc, json, sys, time
t0 = time.process_time()
import altermag.cli
import altermag.screening as scr
import altermag.screening_run as srun
from altermag.store.repository import Store
from typer.main import get_command
acc = {"analysis": 0.0, "prior": 0.0, "store": 0.0, "reports": 0.0, "gc": 0.0}
def timed(name, f):
    def wrapper(*a, **k):
        c = time.process_time()
        try:
            return f(*a, **k)
        finally:
            acc[name] += time.process_time() - c
    return wrapper
scr.analyze = timed("analysis", scr.analyze)
scr.score_entries = timed("prior", scr.score_entries)
Store.add_screened = timed("store", Store.add_screened)
srun.write_run_reports = timed("reports", srun.write_run_reports)
def collecting(phase, info, _t=[0.0]):
    if phase == "start":
        _t[0] = time.process_time()
    else:
        acc["gc"] += time.process_time() - _t[0]
gc.callbacks.append(collecting)
acc["imports"] = time.process_time() - t0
get_command(altermag.cli.app).main(sys.argv[1:], standalone_mode=False)
acc["total"] = time.process_time() - t0
print(json.dumps(acc))
"""


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}/{fifteen:.1f}"


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def command(args: list[str], home: Path) -> tuple[float, float]:
    """(wall s, CPU s of the process and its descendants) of ``altermag ARGS`` in ``home``."""
    env = {**os.environ, "ALTERMAG_HOME": str(home), "COLUMNS": "120"}
    env.pop("ALTERMAG_DATABASE_URL", None)
    c0, w0 = _children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-c", WRAPPER, *args], env=env, check=True, capture_output=True)
    return time.perf_counter() - w0, _children_cpu() - c0


def _reaped(proc: subprocess.Popen[bytes]) -> tuple[int, float]:
    """(exit status, CPU s of ``proc`` and the descendants it reaped), from ``wait4``."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime


def side_by_side(
    args: list[str], home: Path, n: int, cores: tuple[int, int]
) -> tuple[float, float, float]:
    """(wall s, CPU s) of ``altermag ARGS`` in ``home`` and the CPU s of the bare loop over
    its ``n`` structures, the two started together in fresh processes, the command pinned
    to ``cores[0]`` and the loop to ``cores[1]``."""
    home.mkdir(parents=True)
    env = {**os.environ, "ALTERMAG_HOME": str(home), "COLUMNS": "120"}
    env.pop("ALTERMAG_DATABASE_URL", None)
    out = home / "bare.txt"
    with out.open("wb") as fh:
        w0 = time.perf_counter()
        cmd = subprocess.Popen(
            [sys.executable, "-c", WRAPPER, *args],
            env=env,
            preexec_fn=lambda: os.sched_setaffinity(0, {cores[0]}),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bare = subprocess.Popen(
            [sys.executable, __file__, "--n", str(n), "--bare-loop"],
            stdout=fh,
            preexec_fn=lambda: os.sched_setaffinity(0, {cores[1]}),
        )
        code, cpu = _reaped(cmd)
        wall = time.perf_counter() - w0
        bare_code, _ = _reaped(bare)
    if code or bare_code:
        raise RuntimeError(f"the command exited {code}, the bare loop {bare_code}")
    return wall, cpu, float(out.read_text().strip())


def phases(args: list[str], home: Path) -> dict[str, float]:
    """CPU seconds of each phase of ``altermag ARGS`` run in one fresh process."""
    import json

    env = {**os.environ, "ALTERMAG_HOME": str(home), "COLUMNS": "120"}
    env.pop("ALTERMAG_DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", PHASES, *args], env=env, check=True, capture_output=True, text=True
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def _analyze_chunk(records: list[Record], settings: ScreenSettings) -> int:
    """The bare analysis of a chunk on a worker (returns only how many were analyzed)."""
    for r in records:
        if r.structure is not None:
            analyze(
                r.structure,
                symprec=settings.symprec,
                magtol=settings.magtol,
                cell=settings.cell,
                max_orders=settings.max_orders,
            )
    return len(records)


def _first_records(n: int) -> list[Record]:
    """The first ``n`` embedded structures, as a screening reads them."""
    return list(islice((r for p in get_source("embedded").pages() for r in p.records), n))


def _warm() -> None:
    from altermag.screening_run import _worker_init

    _worker_init()


def bare_on_workers(records: list[Record], settings: ScreenSettings, workers: int) -> float:
    """Wall seconds of the bare loop on ``workers`` processes, chunks as a screening has them
    (the pool started and its workers warm before the clock starts)."""
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    chunks = [records[i : i + CHUNK] for i in range(0, len(records), CHUNK)]
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_warm) as pool:
        list(pool.map(_analyze_chunk, [records[:1]] * workers, [settings] * workers))
        w0 = time.perf_counter()
        list(pool.map(_analyze_chunk, chunks, [settings] * len(chunks)))
        return time.perf_counter() - w0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=5959, help="embedded structures (all: 5959)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--bare-loop",
        action="store_true",
        help="only print the CPU seconds of the bare loop over --n structures (the process "
        "run beside the screening)",
    )
    args = parser.parse_args()
    if args.bare_loop:
        records = list(_first_records(args.n))
        c0 = time.process_time()
        _analyze_chunk(records, ScreenSettings())
        print(time.process_time() - c0)
        return
    print(f"{os.cpu_count()} cores, {load()}")

    c0, w0 = _children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-c", "import altermag.cli"], check=True)
    t_import, c_import = time.perf_counter() - w0, _children_cpu() - c0
    print(f"CLI import            : {c_import:7.2f} s CPU, {t_import:.2f} s wall  [{load()}]")

    records = _first_records(args.n)
    n = len(records)
    settings = ScreenSettings()
    _analyze_chunk(records[:1], settings)  # imports and lazy tables outside the timing
    small = min(n, 2 * CHUNK * args.workers)
    c0 = time.process_time()
    _analyze_chunk(records[:small], settings)
    bare_small = time.process_time() - c0
    _analyze_chunk(records[small:], settings)
    bare = time.process_time() - c0
    print(
        f"bare analyze loop     : {bare:7.1f} s CPU for {n} ({bare / n * 1e3:.1f} ms each; "
        f"anchor {ANCHOR_BARE_CPU_S * n / 5959:.1f} s), 1 process  [{load()}]"
    )
    bare_wall = bare_on_workers(records, settings, args.workers)
    print(
        f"bare loop, {args.workers} workers : {bare_wall:7.1f} s wall "
        f"({n / bare_wall * 3600:,.0f} structures/hour: the floor)  [{load()}]"
    )

    limit = ["--limit", str(n)]
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        a, b = sorted(os.sched_getaffinity(0))[:2]
        pairs = [
            side_by_side(["run", "--workers", "1", *limit], home / f"pair{i}", n, cores)
            for i, cores in enumerate(((a, b), (b, a)), 1)
        ]
        for i, (wall1, cpu1, bare_cpu) in enumerate(pairs, 1):
            print(
                f"screening, 1 process  : {cpu1:7.1f} s CPU, {wall1:.1f} s wall = "
                f"{cpu1 / bare_cpu:.2f}× the bare loop's {bare_cpu:.1f} s CPU, run beside it "
                f"(pair {i}: the command on core {(a, b)[i - 1]}, the loop on the other; the "
                f"whole command)  [{load()}]"
            )
        ratio = (pairs[0][1] / pairs[0][2] * pairs[1][1] / pairs[1][2]) ** 0.5
        print(
            f"screening / bare loop : {ratio:7.2f}× (geometric mean of the two pairs: each core "
            f"ran each side once; target ≤ {TARGET_RATIO}×)  [{load()}]"
        )
        home = home / "pair2"
        again, _ = command(["run", "--workers", "1", *limit], home)
        print(
            f"second run            : {again:7.1f} s wall (anchor {ANCHOR_SECOND_RUN_S:.0f} s; "
            f"the whole command)  [{load()}]"
        )

    with tempfile.TemporaryDirectory() as tmp:
        ph = phases(["run", "--workers", "1", *limit], Path(tmp))
    rest = ph["total"] - sum(ph[k] for k in ("analysis", "prior", "store", "reports", "imports"))
    print(
        f"phases, 1 process     : {ph['total']:7.1f} s CPU = {ph['total'] / ph['analysis']:.2f}× "
        f"the analysis inside the same run ({ph['analysis']:.1f} s; target ≤ {TARGET_RATIO}×): "
        f"prior {ph['prior']:.1f} s, store {ph['store']:.1f} s, run report and pages "
        f"{ph['reports']:.1f} s, imports {ph['imports']:.1f} s, the rest {rest:.1f} s "
        f"(source, chunk files, tables); garbage collection {ph['gc']:.1f} s of it all  "
        f"[{load()}]"
    )

    pool = ["run", "--workers", str(args.workers)]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "small").mkdir()
        (Path(tmp) / "all").mkdir()
        wall_s, cpu_s = command([*pool, "--limit", str(small)], Path(tmp) / "small")
        wall_n, cpu_n = command([*pool, *limit], Path(tmp) / "all")
    if n > small:
        # against the bare loop's CPU of the same structures, not their number: the first
        # ones (the known materials, larger cells) cost more than the average
        per_cpu = (cpu_n - cpu_s) / (bare - bare_small)
        per_wall = (wall_n - wall_s) / (bare - bare_small)
        fixed_cpu = cpu_s - per_cpu * bare_small
        fixed_wall = wall_s - per_wall * bare_small
        print(
            f"fixed costs           : {fixed_cpu:7.1f} s CPU, {fixed_wall:.1f} s wall (intercepts "
            f"against the bare loop's CPU over the first {small} and all {n} structures; the "
            f"CLI import included; target < {TARGET_FIXED_S:.0f} s)  [{load()}]"
        )
    rate_wall = n / wall_n * 3600
    rate_cpu = n * 3600 / (cpu_n / args.workers)
    print(
        f"throughput, {args.workers} workers : {rate_wall:>10,.0f} structures/hour by the wall "
        f"clock ({wall_n:.1f} s for {n}; {wall_n / bare_wall:.2f}× the bare loop on "
        f"{args.workers} workers), {rate_cpu:,.0f}/hour as its CPU ({cpu_n:.1f} s) allows on "
        f"{args.workers} free cores (target ≥ {TARGET_PER_HOUR:,})  [{load()}]"
    )


if __name__ == "__main__":
    main()
