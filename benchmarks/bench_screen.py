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
  fresh process of its own, one pinned to each core, ``--pairs`` times (default 4) with the
  cores swapped each time (the geometric mean of the ratios: a core slower than the other
  counts equally on each side). This virtual machine's speed drifts by 10–20 % within
  minutes, so a ratio against a loop measured minutes away says as much about the drift as
  about the screening; side by side, both see the same minutes. Two identical loops run
  this way still differ by about 3 % (one standard deviation of a pair), hence several
  pairs. Target ≤ 1.2×.
* **phases** — inside each of those commands the CPU seconds of each phase are summed (the
  analysis calls inside the run, the prior, the store, the run report and pages, imports,
  the rest: source reading, chunk files, tables, orchestration) and garbage collection is
  counted through ``gc.callbacks``; the whole over the analysis inside the same run is the
  ratio free of the drift between processes, and the analysis inside the run over the bare
  loop beside it shows what running inside the screening costs the analysis itself.
* **second run** — the same command again (it reuses what is done); anchor 293 s.
* **fixed costs** — what the command costs beyond the analysis when there is next to nothing
  to analyse: ``altermag run --workers W --limit 4`` (the interpreter, imports, the store
  created, the worker pool started, the run report and its material pages drawn, the exit),
  its CPU seconds (all processes) and wall seconds less the bare loop's CPU seconds over the
  same 4 structures; the median of 3 runs; target < 5 s.
* **throughput** — structures per hour of ``altermag run --workers W`` (default 2): by the
  wall clock, and as the CPU it needed allows on W free cores (N × 3600 / (CPU seconds / W));
  target ≥ 300,000 per hour on 2 cores, prior included.
* **this machine** (with all 5,959 structures) — the bare loop's CPU over the anchor's (56
  s, the machine the targets were set on), and the fixed costs and the throughput scaled by
  it: what they would be at the anchor machine's speed. The machines this runs on differ by
  up to 4× in speed from hour to hour; the fixed costs and the throughput are CPU work and
  scale with it, so this line tells a slow machine from slower code. The targets are judged
  on the figures measured, not on these.

CPU of a command: its process and its descendants, collected by the wrapper below, which makes
the command wait for its worker pool's fork server at exit so that the server's CPU (and that
of the workers it reaped) is counted.

Usage: ``python benchmarks/bench_screen.py [--n 5959] [--workers 2]`` from the repository root.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
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

ANCHOR_N = 5959  # the embedded structures, all of which the anchor's bare loop analysed
ANCHOR_BARE_CPU_S = 56.0  # bare analyze loop over the ANCHOR_N structures, before the speed work
ANCHOR_SECOND_RUN_S = 293.0
TARGET_RATIO = 1.2
TARGET_FIXED_S = 5.0
TARGET_PER_HOUR = 300_000
CHUNK = 200  # the default chunk size of a screening (ScreenRequest.chunk_size)
FIXED_RUN = 4  # structures of the run that measures the fixed costs

#: Runs ``altermag ARGS`` and, at exit, waits for the worker pool's fork server (which reaped
#: the workers), so that this process's children's rusage holds the whole job's CPU.
WRAPPER = (
    "import atexit, runpy, sys\n"
    "from multiprocessing import forkserver\n"
    "atexit.register(forkserver._forkserver._stop)\n"
    "sys.argv = ['altermag', *sys.argv[1:]]\n"
    "runpy.run_module('altermag.cli', run_name='__main__')\n"
)


#: Runs ``altermag ARGS`` through the command's own entry point with the CPU seconds of each
#: phase summed; an exit handler prints them as JSON on the last line.
PHASES = """
import atexit, gc, json, sys, time
t0 = time.process_time()
import altermag.cli
import altermag.screening as scr
import altermag.screening_run as srun
from altermag.store.repository import Store
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
def report():
    acc["total"] = time.process_time() - t0
    print(json.dumps(acc))
atexit.register(report)  # the command's exit handlers run before it ends without teardown
sys.argv = ["altermag", *sys.argv[1:]]
altermag.cli.entry_point()
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
) -> tuple[float, float, float, dict[str, float]]:
    """(wall s, CPU s, the bare loop's CPU s, the phases) of ``altermag ARGS`` in ``home``
    (run with its phases counted, :data:`PHASES`) and of the bare loop over its ``n``
    structures, the two started together in fresh processes, the command pinned to
    ``cores[0]`` and the loop to ``cores[1]``."""
    import json

    home.mkdir(parents=True)
    env = {**os.environ, "ALTERMAG_HOME": str(home), "COLUMNS": "120"}
    env.pop("ALTERMAG_DATABASE_URL", None)
    out, bare_out = home / "phases.txt", home / "bare.txt"
    with out.open("wb") as fh, bare_out.open("wb") as bare_fh:
        w0 = time.perf_counter()
        cmd = subprocess.Popen(
            [sys.executable, "-c", PHASES, *args],
            env=env,
            preexec_fn=lambda: os.sched_setaffinity(0, {cores[0]}),
            stdout=fh,
            stderr=subprocess.DEVNULL,
        )
        bare = subprocess.Popen(
            [sys.executable, __file__, "--n", str(n), "--bare-loop"],
            stdout=bare_fh,
            preexec_fn=lambda: os.sched_setaffinity(0, {cores[1]}),
        )
        code, cpu = _reaped(cmd)
        wall = time.perf_counter() - w0
        bare_code, _ = _reaped(bare)
    if code or bare_code:
        raise RuntimeError(f"the command exited {code}, the bare loop {bare_code}")
    ph = dict(json.loads(out.read_text().strip().splitlines()[-1]))
    return wall, cpu, float(bare_out.read_text().strip()), ph


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
    parser.add_argument(
        "--n", type=int, default=ANCHOR_N, help=f"embedded structures (all: {ANCHOR_N})"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--pairs",
        type=int,
        default=4,
        help="side-by-side runs of the command and the bare loop (cores swapped each time)",
    )
    parser.add_argument(
        "--bare-loop",
        action="store_true",
        help="only print the CPU seconds of the bare loop over --n structures (the process "
        "run beside the screening)",
    )
    args = parser.parse_args()
    if args.bare_loop:
        records = _first_records(args.n)
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
    c0 = time.process_time()
    _analyze_chunk(records, settings)
    bare = time.process_time() - c0
    print(
        f"bare analyze loop     : {bare:7.1f} s CPU for {n} ({bare / n * 1e3:.1f} ms each; "
        f"anchor {ANCHOR_BARE_CPU_S * n / ANCHOR_N:.1f} s), 1 process  [{load()}]"
    )
    bare_wall = bare_on_workers(records, settings, args.workers)
    floor = n / bare_wall * 3600
    print(
        f"bare loop, {args.workers} workers : {bare_wall:7.1f} s wall "
        f"({floor:,.0f} structures/hour: the floor)  [{load()}]"
    )

    limit = ["--limit", str(n)]
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        a, b = sorted(os.sched_getaffinity(0))[:2]
        pairs = []
        for i in range(1, args.pairs + 1):
            cores = (a, b) if i % 2 else (b, a)
            wall1, cpu1, bare_cpu, ph = side_by_side(
                ["run", "--workers", "1", *limit], home / f"pair{i}", n, cores
            )
            pairs.append((cpu1, bare_cpu, ph))
            print(
                f"screening, 1 process  : {cpu1:7.1f} s CPU, {wall1:.1f} s wall = "
                f"{cpu1 / bare_cpu:.2f}× the bare loop's {bare_cpu:.1f} s CPU, run beside it "
                f"(pair {i}: the command on core {cores[0]}, the loop on core {cores[1]}; the "
                f"whole command); its analysis {ph['analysis']:.1f} s = "
                f"{ph['analysis'] / bare_cpu:.2f}× the loop  [{load()}]"
            )
        ratio = statistics.geometric_mean([cpu / bare_cpu for cpu, bare_cpu, _ in pairs])
        inside = statistics.geometric_mean([ph["analysis"] / bare for _, bare, ph in pairs])
        print(
            f"screening / bare loop : {ratio:7.2f}× (geometric mean of the {len(pairs)} pairs, "
            f"each core on each side in turn; target ≤ {TARGET_RATIO}×); the analysis inside "
            f"the command / the loop: "
            f"{inside:.2f}×  "
            f"[{load()}]"
        )
        mean = {k: sum(ph[k] for *_, ph in pairs) / len(pairs) for k in pairs[0][2]}
        rest = mean["total"] - sum(
            mean[k] for k in ("analysis", "prior", "store", "reports", "imports")
        )
        in_run = statistics.geometric_mean([ph["total"] / ph["analysis"] for *_, ph in pairs])
        print(
            f"phases, 1 process     : {mean['total']:7.1f} s CPU = {in_run:.2f}× the analysis "
            f"inside the same run ({mean['analysis']:.1f} s; target ≤ {TARGET_RATIO}×): prior "
            f"{mean['prior']:.1f} s, store {mean['store']:.1f} s, run report and pages "
            f"{mean['reports']:.1f} s, imports {mean['imports']:.1f} s, the rest {rest:.1f} s "
            f"(source, chunk files, tables); garbage collection {mean['gc']:.1f} s of it all "
            f"(means of the {len(pairs)} commands above)  [{load()}]"
        )
        home = home / f"pair{len(pairs)}"
        again, _ = command(["run", "--workers", "1", *limit], home)
        print(
            f"second run            : {again:7.1f} s wall (anchor {ANCHOR_SECOND_RUN_S:.0f} s; "
            f"the whole command)  [{load()}]"
        )

    pool = ["run", "--workers", str(args.workers)]
    tiny = min(n, FIXED_RUN)
    with tempfile.TemporaryDirectory() as tmp:
        fixed = []
        for i in range(3):
            (Path(tmp) / f"tiny{i}").mkdir()
            wall_t, cpu_t = command([*pool, "--limit", str(tiny)], Path(tmp) / f"tiny{i}")
            c0 = time.process_time()
            _analyze_chunk(records[:tiny], settings)
            bare_t = time.process_time() - c0
            fixed.append((cpu_t - bare_t, wall_t - bare_t))
        fixed_cpu = statistics.median(c for c, _ in fixed)
        fixed_wall = statistics.median(w for _, w in fixed)
        print(
            f"fixed costs           : {fixed_cpu:7.1f} s CPU, {fixed_wall:.1f} s wall (the "
            f"command on {tiny} structures less the bare loop's CPU for them, median of 3; "
            f"target < {TARGET_FIXED_S:.0f} s)  [{load()}]"
        )
        (Path(tmp) / "all").mkdir()
        wall_n, cpu_n = command([*pool, *limit], Path(tmp) / "all")
    rate_wall = n / wall_n * 3600
    rate_cpu = n * 3600 / (cpu_n / args.workers)
    print(
        f"throughput, {args.workers} workers : {rate_wall:>10,.0f} structures/hour by the wall "
        f"clock ({wall_n:.1f} s for {n}; {wall_n / bare_wall:.2f}× the bare loop on "
        f"{args.workers} workers), {rate_cpu:,.0f}/hour as its CPU ({cpu_n:.1f} s) allows on "
        f"{args.workers} free cores (target ≥ {TARGET_PER_HOUR:,})  [{load()}]"
    )
    if n != ANCHOR_N:
        return  # the anchor is the whole corpus's loop; its first structures are the larger
    speed = bare / ANCHOR_BARE_CPU_S
    print(
        f"this machine          : {speed:7.2f}× the anchor machine's analysis time (bare loop "
        f"{bare:.1f} s against {ANCHOR_BARE_CPU_S:.0f} s); at the anchor machine's speed the "
        f"fixed costs would be {fixed_cpu / speed:.1f} s CPU and the throughput "
        f"{rate_cpu * speed:,.0f}/hour by CPU (the bare loop on {args.workers} workers: "
        f"{floor * speed:,.0f}/hour); for comparing machines only: the targets are judged on "
        f"the figures above  [{load()}]"
    )


if __name__ == "__main__":
    main()
