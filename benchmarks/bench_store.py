"""Write and query speed of the screening store on SQLite and PostgreSQL.

Stores N analysed structures (the bundled examples, uniformly expanded so every copy is a new
material; structures without moments carry all their enumerated orders) in chunks of
``--chunk`` with ``Store.add_analyses`` (one transaction per chunk, as the screening flow
does), then stores the same chunks again (idempotent: nothing added), scores every material
(``add_scores``, one transaction),
and times candidate pages: the first page of the altermagnets by score, a page deep in the
table reached by cursor, and an element filter. Prints structures per hour for the write
path; the screening target is ≥ 100,000 structures per hour end to end.

With ``--corpus N`` it times instead the store phase of a screening: the first N embedded
structures screened with the learned prior (analysis and prior outside the timing, frozen out
of the garbage collector's scans like the rest of a long-lived process's heap), then
``Store.add_screened`` chunk by chunk as ``altermag run`` stores them, and again (a re-screen:
nothing added), in CPU seconds (``time.process_time``) with the load average beside them.

Usage: ``python benchmarks/bench_store.py [--n 2000] [--chunk 200] [--postgres URL]
[--corpus 5959]`` (``--postgres ''`` skips PostgreSQL).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from altermag import MagneticStructure, analyze
from altermag.io import read_structure
from altermag.store import AnalysisItem, Store

if TYPE_CHECKING:
    from altermag.screening import ScreenedEntry

EXAMPLES = Path(__file__).resolve().parents[1] / "altermag" / "data" / "examples"
FILES = ["MnF2.mcif", "MnTe.json", "CrSb.extxyz", "Fe2O3.mcif", "NiO/POSCAR", "Cr2O3.cif"]


def workload(n: int) -> list[AnalysisItem]:
    """n items: examples with and without moments, each copy expanded by a new factor."""
    base = []
    for name in FILES:
        s = read_structure(EXAMPLES / name)
        base.append((name, s, analyze(s)))
        if s.has_moments:
            bare = s.with_moments(None)
            base.append((name + ":bare", bare, analyze(bare)))
    items = []
    for i in range(n):
        name, s, r = base[i % len(base)]
        f = 1.0 + 1e-3 * (i // len(base))
        scaled = MagneticStructure(s.lattice * f, s.species, s.frac_coords, s.magmoms, s.label)
        items.append(AnalysisItem(scaled, r, f"{name}#{i}", "bench", f"{name}#{i}"))
    return items


def median_ms(fn: Callable[[], object], runs: int = 15) -> float:
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def bench(url: str, items: list[AnalysisItem], chunk: int) -> None:
    with Store(url) as store:
        run_id = store.start_run("bench")
        chunks = [items[i : i + chunk] for i in range(0, len(items), chunk)]
        t = time.perf_counter()
        stored = []
        for c in chunks:
            stored += store.add_analyses(c, run_id=run_id)
        first = time.perf_counter() - t
        counts = store.row_counts()
        t = time.perf_counter()
        for c in chunks:
            store.add_analyses(c, run_id=run_id)
        again = time.perf_counter() - t
        assert store.row_counts() == counts, "re-storing added rows"
        t = time.perf_counter()
        store.add_scores(
            (st.material_id, "bench-v1", (k * 7919 % 1000) / 1000, None)
            for k, st in enumerate(stored)
        )
        scoring = time.perf_counter() - t

        top = median_ms(lambda: store.candidates(verdict="altermagnet", sort="score", limit=50))
        cursor = None
        for _ in range(10):
            cursor = store.candidates(sort="score", limit=100, cursor=cursor).next_cursor
        deep = median_ms(lambda: store.candidates(sort="score", limit=100, cursor=cursor))
        mn = median_ms(lambda: store.candidates(elements=["Mn", "F"], sort="formula", limit=50))
        n = len(items)
        print(
            f"  {counts['materials']} materials, {counts['magnetic_orders']} orders "
            f"in chunks of {chunk}"
        )
        print(
            f"  first store  {first:7.2f} s  {n / first:8.0f} structures/s "
            f"({3600 * n / first:,.0f} per hour)"
        )
        print(f"  store again  {again:7.2f} s  {n / again:8.0f} structures/s (nothing added)")
        print(
            f"  add_score    {scoring:7.2f} s  {n / scoring:8.0f} scores/s (one transaction each)"
        )
        print(f"  candidates: top 50 altermagnets by score {top:6.1f} ms")
        print(f"              page 11 (rows 1001-1100) by cursor {deep:6.1f} ms")
        print(f"              contains Mn and F, by formula {mn:6.1f} ms")


def screened_corpus(n: int, chunk: int) -> tuple[dict[str, Any], list[list[ScreenedEntry]]]:
    """The first n embedded structures screened (with the prior when installed), by chunk."""
    from itertools import islice

    from altermag.screening import ScreenSettings, score_entries, screen_records
    from altermag.sources import get_source

    records = list(islice((r for p in get_source("embedded").pages() for r in p.records), n))
    settings = ScreenSettings()
    chunks = []
    for i in range(0, len(records), chunk):
        entries = screen_records(records[i : i + chunk], settings)
        score_entries(entries)
        chunks.append(entries)
    return settings.to_dict(), chunks


def bench_screened(url: str, settings: dict[str, Any], chunks: list[list[ScreenedEntry]]) -> None:
    """CPU seconds of ``add_screened`` over the chunks, first and again."""
    n = sum(len(c) for c in chunks)
    with Store(url) as store:
        run_id = store.start_run("embedded", settings, key="bench-store")
        for label in ("first store", "store again"):
            c0, w0 = time.process_time(), time.perf_counter()
            for c in chunks:
                store.add_screened(c, settings, run_id=run_id)
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
            one, five, fifteen = os.getloadavg()
            print(
                f"  {label}: {cpu:6.2f} s CPU ({1e3 * cpu / n:.3f} ms a structure), "
                f"{wall:6.2f} s wall  [load {one:.1f}/{five:.1f}/{fifteen:.1f}]"
            )
        counts = store.row_counts()
        print(f"  {counts['materials']} materials, {counts['magnetic_orders']} orders")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--chunk", type=int, default=200)
    ap.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--corpus", type=int, default=0, help="screened embedded structures")
    args = ap.parse_args()
    if args.corpus:
        settings, chunks = screened_corpus(args.corpus, args.chunk)
        gc.freeze()

        def run(url: str) -> None:
            bench_screened(url, settings, chunks)
    else:
        items = workload(args.n)

        def run(url: str) -> None:
            bench(url, items, args.chunk)

    with tempfile.TemporaryDirectory() as tmp:
        print(f"SQLite ({tmp}/bench.db, WAL)")
        run(f"sqlite:///{tmp}/bench.db")
    if not args.postgres:
        return
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    name = f"altermag_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL skipped: {exc.__class__.__name__}: {exc}".splitlines()[0])
        return
    try:
        print(f"PostgreSQL ({name})")
        run(args.postgres.rsplit("/", 1)[0] + "/" + name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
