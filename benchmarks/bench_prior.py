"""The ground-state prior's cost inside a screening, and the screening rate it allows.

Over the first ``--n`` embedded structures (as ``altermag run`` reads them), in this one
process, after a warm-up that loads the prior and the lazy symmetry tables:

* **analysis** — :func:`altermag.screening.screen_records` with ``score=False`` (read
  structure → spin-group classification or k = 0 order enumeration): CPU and wall seconds;
* **prior** — :func:`altermag.screening.score_entries` on those entries (descriptors of the
  crystal and of each enumerated order, P(k = 0), P(ground state) of each order,
  P(altermagnetic ground state), the orders re-ranked): CPU and wall seconds;
* **rate** — structures per hour that analysis + prior allow on ``--cores`` free cores from
  their CPU seconds (N × 3600 / (CPU / cores)), and by this process's wall clock on one core
  (N × 3600 / wall); target ≥ 100,000 per hour on the 2-core machine, prior included.

Every figure is printed with the load average beside it (``os.getloadavg()``): the machine
is shared, so CPU seconds are the comparable figures. The store, chunk files and reports
are outside this count (``benchmarks/bench_screen.py`` times the whole command).

Usage: ``python benchmarks/bench_prior.py [--n 2000] [--cores 2]`` from the repository root.
"""

from __future__ import annotations

import argparse
import os
import time
from itertools import islice

from altermag.screening import ScreenSettings, score_entries, screen_records
from altermag.sources import get_source

TARGET_PER_HOUR = 100_000


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}/{fifteen:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="embedded structures (all: 5959)")
    parser.add_argument("--cores", type=int, default=2, help="cores the rate is given for")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, {load()}")

    records = list(islice((r for p in get_source("embedded").pages() for r in p.records), args.n))
    n = len(records)
    bare = ScreenSettings(score=False)
    score_entries(screen_records(records[:5], bare))  # warm-up: prior, tables, imports

    c0, w0 = time.process_time(), time.perf_counter()
    entries = screen_records(records, bare)
    cpu_analysis, wall_analysis = time.process_time() - c0, time.perf_counter() - w0
    c0, w0 = time.process_time(), time.perf_counter()
    version = score_entries(entries)
    cpu_prior, wall_prior = time.process_time() - c0, time.perf_counter() - w0
    scored = sum(e.model_score is not None for e in entries)
    orders = sum(len(e.result.orders) for e in entries if e.result is not None)

    print(
        f"analysis : {cpu_analysis:7.1f} s CPU ({cpu_analysis / n * 1e3:.2f} ms each), "
        f"{wall_analysis:.1f} s wall for {n} structures  [{load()}]"
    )
    print(
        f"prior    : {cpu_prior:7.1f} s CPU ({cpu_prior / n * 1e3:.2f} ms each, "
        f"{cpu_prior / max(scored, 1) * 1e3:.2f} ms per scored crystal; {scored} scored, "
        f"{orders} orders; {version}), {wall_prior:.1f} s wall = "
        f"{cpu_prior / cpu_analysis:.0%} of the analysis CPU  [{load()}]"
    )
    cpu, wall = cpu_analysis + cpu_prior, wall_analysis + wall_prior
    print(
        f"rate     : {n * 3600 / (cpu / args.cores):,.0f} structures/hour as the CPU allows on "
        f"{args.cores} free cores, {n * 3600 / wall:,.0f}/hour by the wall clock of this one "
        f"process (target ≥ {TARGET_PER_HOUR:,} on 2 cores)  [{load()}]"
    )


if __name__ == "__main__":
    main()
