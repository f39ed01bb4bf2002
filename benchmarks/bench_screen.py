"""The main job at the machine's floor: the whole screening against the bare analysis loop.

Prints, with the load average beside them, each figure of the screening pipeline against its
anchor:

* **bare loop** — ``analyze()`` over the embedded structures in one process (CPU seconds);
  anchor: 56 s CPU for the 5,959 embedded structures.
* **whole screening, one process** — what ``altermag run --workers 1`` does (source, analysis,
  learned prior, store, chunk files, tables, reports), CPU seconds; target: within 1.2× of the
  bare loop.
* **fixed costs** — the intercept of wall time against structures over two screening sizes
  on the worker pool, plus importing the command line; target: < 5 s.
* **throughput** — structures per hour of the whole screening on the worker pool (default:
  2 workers); target: ≥ 300,000 per hour on 2 cores, prior included.
* **second run** — the same screening again (it reuses what is done); anchor: 293 s.

Usage: ``python benchmarks/bench_screen.py [--n 5959] [--workers 2]`` from the repository root.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

from altermag.screening import ScreenSettings
from altermag.screening_run import ScreenRequest, worker_pool
from altermag.sources import get_source
from altermag.store import Store
from altermag.symmetry import analyze

ANCHOR_BARE_CPU_S = 56.0  # bare analyze loop over 5,959 structures (issue measurement)
ANCHOR_SECOND_RUN_S = 293.0
TARGET_RATIO = 1.2
TARGET_FIXED_S = 5.0
TARGET_PER_HOUR = 300_000


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


def screening(n: int, workers: int, home: Path, *, chunk: int = 200) -> tuple[float, float, dict]:
    """(wall s, CPU s of this process, timings) of one whole in-process screening of n."""
    request = ScreenRequest(limit=n, chunk_size=chunk)
    w0, c0 = time.perf_counter(), time.process_time()
    with Store(f"sqlite:///{home / 'altermag.db'}") as store, worker_pool(workers) as pool:
        out = request.run(store, home / "candidates", pool=pool, window=2 * max(1, workers))
    return time.perf_counter() - w0, time.process_time() - c0, out.timings


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=5959, help="embedded structures (all: 5959)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, {load()}")

    # CLI import (part of every command's fixed cost)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import altermag.cli"], check=True)
    t_import = time.perf_counter() - t0

    records = list(islice((r for p in get_source("embedded").pages() for r in p.records), args.n))
    n = len(records)
    settings = ScreenSettings()
    analyze(records[0].structure)  # warm caches shared by both measurements
    c0 = time.process_time()
    for r in records:
        if r.structure is not None:
            analyze(
                r.structure,
                symprec=settings.symprec,
                magtol=settings.magtol,
                cell=settings.cell,
                max_orders=settings.max_orders,
            )
    bare = time.process_time() - c0
    print(
        f"bare analyze loop     : {bare:7.1f} s CPU for {n} ({bare / n * 1e3:.1f} ms each; "
        f"anchor {ANCHOR_BARE_CPU_S * n / 5959:.1f} s)  [{load()}]"
    )

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "one"
        home.mkdir()
        wall1, cpu1, phases = screening(n, 1, home)
        ratio = cpu1 / bare
        print(
            f"screening, 1 process  : {cpu1:7.1f} s CPU, {wall1:.1f} s wall = {ratio:.2f}× the "
            f"bare loop (target ≤ {TARGET_RATIO}×; phases {phases})  [{load()}]"
        )
        t0 = time.perf_counter()
        screening(n, 1, home)
        again = time.perf_counter() - t0
        print(
            f"second run            : {again:7.1f} s wall (anchor {ANCHOR_SECOND_RUN_S:.0f} s)"
            f"  [{load()}]"
        )

        small = min(n, 200)
        homes = [Path(tmp) / "small", Path(tmp) / "all"]
        for h in homes:
            h.mkdir()
        wall_s, _, _ = screening(small, args.workers, homes[0])
        wall_n, _, phases_n = screening(n, args.workers, homes[1])
    per = (wall_n - wall_s) / max(1, n - small)
    fixed = wall_s - per * small + t_import
    rate = n / (wall_n + t_import) * 3600
    print(
        f"fixed costs           : {fixed:7.1f} s (CLI import {t_import:.1f} s; target < "
        f"{TARGET_FIXED_S:.0f} s)  [{load()}]"
    )
    print(
        f"throughput, {args.workers} workers : {rate:>10,.0f} structures/hour for {n} "
        f"({wall_n:.1f} s wall, {per * 1e3:.1f} ms per structure; target ≥ "
        f"{TARGET_PER_HOUR:,}; phases {phases_n})  [{load()}]"
    )


if __name__ == "__main__":
    main()
