"""Screening throughput: structures per hour through symmetry + order enumeration (+ scoring
when a model checkpoint is available) on the embedded corpus, in-process and on 1 and 2 Dask
worker processes (the path the Prefect flow's chunk tasks take). Target ≥ 100,000 per hour on
2 cores.

Usage: ``python benchmarks/bench_screen.py [--n 1000] [--chunk 50]``
"""

from __future__ import annotations

import argparse
import time
from itertools import islice

from altermag.screening import ScreenSettings
from altermag.screening_run import screen_chunk
from altermag.sources import get_source


def corpus_chunks(n: int, chunk: int) -> list[list]:
    records = list(
        islice((r for p in get_source("corpus", page_size=chunk).pages() for r in p.records), n)
    )
    return [records[i : i + chunk] for i in range(0, len(records), chunk)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=50)
    args = parser.parse_args()
    settings = ScreenSettings()
    chunks = corpus_chunks(args.n, args.chunk)
    n = sum(len(c) for c in chunks)
    sizes = [len(r.structure) for c in chunks for r in c]
    print(
        f"{n} corpus structures, {min(sizes)}-{max(sizes)} sites (median "
        f"{sorted(sizes)[len(sizes) // 2]}), chunks of {args.chunk}"
    )

    t0 = time.perf_counter()
    results = [screen_chunk(c, settings) for c in chunks]
    dt = time.perf_counter() - t0
    n_orders = sum(len(e.result.orders) for r in results for e in r if e.result)
    print(
        f"in-process, 1 core : {n / dt * 3600:>10,.0f} structures/hour "
        f"({dt / n * 1e3:.1f} ms each, {n_orders} orders classified)"
    )

    from dask.distributed import Client, LocalCluster

    for workers in (1, 2):
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            client.submit(screen_chunk, chunks[0][:1], settings).result()  # warm workers
            t0 = time.perf_counter()
            futures = client.map(screen_chunk, chunks, settings=settings, pure=False)
            client.gather(futures)
            dt = time.perf_counter() - t0
        print(f"Dask, {workers} worker(s)   : {n / dt * 3600:>10,.0f} structures/hour")


if __name__ == "__main__":
    main()
