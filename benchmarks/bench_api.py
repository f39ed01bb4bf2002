"""Loopback load test of ``GET /candidates`` on SQLite and PostgreSQL.

Fills a fresh store with ≥ N candidates (the bundled examples, expanded so each copy is a new
material, as in ``bench_store.py``; every material gets a model score so ``sort=score`` is the
real ranked query), starts ``altermag api`` (uvicorn) on a free loopback port, and runs C
concurrent keep-alive clients for S seconds with ``wrk`` (Debian package; falls back to
asyncio + httpx, itself CPU-bound at a few hundred requests/s, when wrk is missing).

Two workloads per database and server configuration:

* ``top pages``: clients cycle through three queries — the first page by score,
  altermagnets by score, Mn compounds by score (limit 50) — what a dashboard or a
  ranking client asks again and again;
* ``deep pages``: every request follows the ``next_cursor`` of a recent response, walking
  the whole table by score (pages the cache has not seen: the query path itself).

Each is measured with the revision-checked page cache off and on (``--cache``).
Prints requests/s, p50 and p99 latency. Targets: ≥ 1,000 requests/s and p99 ≤ 50 ms with 50
clients. The load generator runs on the same 2-core machine as the server, so the two share
the CPUs: figures are lower bounds for a server with its own cores.

Usage: ``python benchmarks/bench_api.py [--n 10000] [--clients 50] [--seconds 10]
[--workers 2] [--cache 0 1] [--postgres URL]`` (``--postgres ''`` skips PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_store import workload  # noqa: E402

from altermag.store import Store  # noqa: E402

QUERIES = [
    {"sort": "score", "limit": 50},
    {"verdict": "altermagnet", "sort": "score", "limit": 50},
    {"element": "Mn", "sort": "score", "limit": 50},
]


def fill(url: str, n_candidates: int) -> int:
    """Store analyses until there are at least ``n_candidates`` candidate rows."""
    n_items = max(1, n_candidates // 3)
    with Store(url) as store:
        while True:
            items = workload(n_items)
            run_id = store.start_run("bench-api")
            stored = []
            for i in range(0, len(items), 500):
                stored += store.add_analyses(items[i : i + 500], run_id=run_id)
            n = store.row_counts()["magnetic_orders"]
            if n >= n_candidates:
                break
            n_items *= 2
        rng = random.Random(0)
        store.add_scores((s.material_id, "bench-v1", rng.random(), rng.random()) for s in stored)
        if store.dialect == "postgresql":  # planner statistics, as autovacuum would gather
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("ANALYZE"))
        return n


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def load(base: str, clients: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker(k: int) -> None:
            nonlocal errors
            i = k
            while time.perf_counter() < stop:
                t = time.perf_counter()
                try:
                    r = await client.get("/candidates", params=QUERIES[i % len(QUERIES)])
                    ok = r.status_code == 200 and bool(r.json()["items"])
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - t)
                errors += not ok
                i += 1

        await asyncio.gather(*(worker(k) for k in range(clients)))
    if errors:
        print(f"  {errors} of {len(latencies)} requests failed")
    return latencies


WRK_TOP = """
local queries = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", queries[(i %% #queries) + 1])
end
"""

WRK_DEEP = """
local cursor = nil
request = function()
  if cursor then
    return wrk.format("GET", "/candidates?sort=score&limit=50&cursor=" .. cursor)
  end
  return wrk.format("GET", "/candidates?sort=score&limit=50")
end
response = function(status, headers, body)
  cursor = string.match(body, '"next_cursor":%s*"([^"]+)"')
end
"""


def _ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if m is None:
        raise ValueError(f"unexpected wrk latency {value!r}")
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[m.group(2)]


def load_wrk(base: str, clients: int, seconds: float, script: str) -> tuple[float, float, float]:
    """Requests/s, p50 and p99 (ms) measured by wrk with a Lua request script."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--latency", "-s", f.name, base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(f.name)
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        print(f"  {m.group(1)} requests failed")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    return rps, p50, p99


def bench(label: str, url: str, args: argparse.Namespace) -> None:
    t = time.perf_counter()
    n = fill(url, args.n)
    print(f"{label}: stored {n} candidates in {time.perf_counter() - t:.1f} s")
    for cache in args.cache:
        serve(f"{label}, page cache {'on' if cache else 'off'}", url, args, cache)


def serve(label: str, url: str, args: argparse.Namespace, cache: int) -> None:
    port = free_port()
    env = {
        **os.environ,
        "ALTERMAG_DATABASE_URL": url,
        "ALTERMAG_API_PAGE_CACHE": "4096" if cache else "0",
    }
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "altermag"),
            "api",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    workloads = {
        "top pages": WRK_TOP % ", ".join(f'"/candidates?{httpx.QueryParams(q)}"' for q in QUERIES),
        "deep pages": WRK_DEEP,
    }
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the API did not start")
            time.sleep(0.3)
        for name, script in workloads.items():
            if shutil.which("wrk"):
                load_wrk(base, args.clients, 2.0, script)  # warm-up: connections, caches
                rps, p50, p99 = load_wrk(base, args.clients, args.seconds, script)
                tool = "wrk"
            elif name == "top pages":
                asyncio.run(load(base, args.clients, 2.0))
                lat = sorted(asyncio.run(load(base, args.clients, args.seconds)))
                rps = len(lat) / args.seconds
                p50 = 1e3 * statistics.median(lat)
                p99 = 1e3 * lat[min(len(lat) - 1, int(0.99 * len(lat)))]
                tool = "httpx"
            else:
                continue
            print(
                f"{label}, {name}: {args.clients} clients ({tool}), {args.workers} worker(s): "
                f"{rps:,.0f} requests/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms "
                "(targets ≥ 1,000 req/s, p99 ≤ 50 ms)"
            )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="minimum stored candidates")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    ap.add_argument(
        "--cache",
        type=int,
        nargs="+",
        default=[0, 1],
        help="page cache off (0) / on (1) (ALTERMAG_API_PAGE_CACHE)",
    )
    ap.add_argument(
        "--postgres",
        default=os.environ.get(
            "ALTERMAG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = ap.parse_args()
    print(
        f"CPUs: {os.cpu_count()}; load generator and server share them; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        bench("SQLite", f"sqlite:///{tmp}/bench.db", args)
    if args.postgres:
        name = f"bench_api_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            bench("PostgreSQL", args.postgres.rsplit("/", 1)[0] + "/" + name, args)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
