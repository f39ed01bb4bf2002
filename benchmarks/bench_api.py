"""Loopback load test of the API (issue 17, item 5) on SQLite and PostgreSQL.

Fills a fresh store with ≥ N candidates (the bundled examples, expanded so each copy is a new
material, as in ``bench_store.py``; every material gets a model score so ``sort=score`` is the
real ranked query), starts ``altermag api`` (uvicorn, warm-up on) on a free loopback port, and
drives it with C concurrent keep-alive clients for S seconds with ``wrk`` (Debian package;
falls back to asyncio + httpx, itself CPU-bound at a few hundred requests/s, when wrk is
missing). Each figure is printed against its anchor (the issue's figure before this work)
and goal, with the 1-minute load average beside it:

* **first POST /analyze after start** (the server answers ``/health``; the next one beside);
* **computed pages** (page cache off): ``top pages`` — clients cycle through the first page
  by score, altermagnets by score, Mn compounds by score (limit 50) — and ``deep pages`` —
  every request follows the ``next_cursor`` of a recent response, walking the whole table;
* **/health**;
* **cached pages**: the top pages with the revision-checked page cache on (and the deep
  walk with the cache on, mostly misses).

Besides requests/s and p50/p99 it prints the API's CPU time per request (all server
processes, from ``/proc``): the load generator, the database and other work share the same
cores, so requests/s are lower bounds and the CPU per request is the figure that says what
the server itself costs.

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

QUERIES: list[dict[str, str | int]] = [
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
        store.add_scores((s.material_id, "bench-v1", rng.random(), None) for s in stored)
        if store.dialect == "postgresql":  # planner statistics, as autovacuum would gather
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("ANALYZE"))
        return n


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def load_httpx(base: str, clients: int, seconds: float) -> list[float]:
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


def load_wrk(
    base: str, clients: int, seconds: float, script: str
) -> tuple[float, float, float, int]:
    """Requests/s, p50 and p99 (ms) and the number of requests, measured by wrk."""
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
    n = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return rps, p50, p99, n


ANCHORS = {
    "computed": "before: 123–141 req/s, p99 0.7–1.5 s",
    "cached": "before: p99 106–133 ms",
    "health": "before: ~530 req/s",
    "analyze": "before: up to 13.6 s",
}
"""The figures of issue 17 this benchmark answers (same machine, before this work)."""
GOALS = {
    "computed": "goal ≥ 1,000 req/s, p99 ≤ 50 ms",
    "cached": "goal p99 ≤ 50 ms",
    "health": "goal ≥ 1,000 req/s",
    "analyze": "goal: as fast as the next ones",
}
WORKLOADS = {  # name: (figure kind, page cache on?)
    "computed top pages": ("computed", 0),
    "computed deep pages": ("computed", 0),
    "/health": ("health", 0),
    "cached top pages": ("cached", 1),
    "deep pages, cache on": ("computed", 1),
}
HEALTH = 'request = function() return wrk.format("GET", "/health") end\n'


def load() -> str:
    """The 1-minute load average, to print beside every figure (the cores are shared)."""
    return f"load {os.getloadavg()[0]:.2f}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and all its descendants (``/proc``)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
            f = stat[stat.rindex(")") + 2 :].split()
            total += (int(f[11]) + int(f[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def bench(label: str, url: str, args: argparse.Namespace) -> None:
    t = time.perf_counter()
    n = fill(url, args.n)
    print(f"{label}: stored {n} candidates in {time.perf_counter() - t:.1f} s ({load()})")
    for cache in args.cache:
        serve(label, url, args, cache)


def start_server(
    url: str, args: argparse.Namespace, cache: int
) -> tuple[subprocess.Popen[bytes], str, float]:
    """``altermag api`` on a free port; returns it, its base URL and its start time (s)."""
    port = free_port()
    env = {
        **os.environ,
        "ALTERMAG_DATABASE_URL": url,
        "ALTERMAG_API_PAGE_CACHE": "4096" if cache else "0",
    }
    env.pop("PREFECT_API_URL", None)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "altermag.cli", "api", "--port", str(port), *_server_args(args)],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.terminate()
            raise RuntimeError("the API did not start")
        time.sleep(0.1)
    return proc, base, time.perf_counter() - t0


def _server_args(args: argparse.Namespace) -> list[str]:
    return ["--workers", str(args.workers), "--log-level", "warning"]


def first_analyze(base: str) -> tuple[float, float]:
    """Seconds of the first ``POST /analyze`` after the server answers, and of a second."""
    data = (ROOT / "altermag" / "data" / "examples" / "Fe2O3.mcif").read_bytes()
    times = []
    for _ in range(2):
        t = time.perf_counter()
        r = httpx.post(f"{base}/analyze", files={"file": ("Fe2O3.mcif", data)}, timeout=120)
        times.append(time.perf_counter() - t)
        if r.status_code != 200 or r.json()["verdict"] != "altermagnet":
            raise RuntimeError(f"POST /analyze answered {r.status_code}: {r.text[:200]}")
    return times[0], times[1]


def serve(label: str, url: str, args: argparse.Namespace, cache: int) -> None:
    proc, base, started = start_server(url, args, cache)
    scripts = {
        "top": WRK_TOP % ", ".join(f'"/candidates?{httpx.QueryParams(q)}"' for q in QUERIES),
        "deep": WRK_DEEP,
        "health": HEALTH,
    }
    try:
        first, second = first_analyze(base)
        print(
            f"{label}: start to ready {started:.1f} s; first POST /analyze after start "
            f"{1e3 * first:.0f} ms, the next {1e3 * second:.0f} ms "
            f"({ANCHORS['analyze']}; {GOALS['analyze']}) ({load()})"
        )
        for name, (kind, on) in WORKLOADS.items():
            if on != cache:
                continue
            script = scripts["health" if kind == "health" else "deep" if "deep" in name else "top"]
            if not shutil.which("wrk"):
                if name != "computed top pages":
                    continue
                asyncio.run(load_httpx(base, args.clients, 2.0))
                cpu0 = cpu_seconds(proc.pid)
                lat = sorted(asyncio.run(load_httpx(base, args.clients, args.seconds)))
                cpu = cpu_seconds(proc.pid) - cpu0
                rps = len(lat) / args.seconds
                p50 = 1e3 * statistics.median(lat)
                p99 = 1e3 * lat[min(len(lat) - 1, int(0.99 * len(lat)))]
                n_req, tool = len(lat), "httpx"
            else:
                load_wrk(base, args.clients, 2.0, script)  # warm-up: connections, caches
                cpu0 = cpu_seconds(proc.pid)
                rps, p50, p99, n_req = load_wrk(base, args.clients, args.seconds, script)
                cpu = cpu_seconds(proc.pid) - cpu0
                tool = "wrk"
            print(
                f"{label}, {name}: {args.clients} clients ({tool}), {args.workers} worker(s): "
                f"{rps:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
                f"API CPU {1e3 * cpu / max(n_req, 1):.2f} ms/request "
                f"({ANCHORS[kind]}; {GOALS[kind]}) ({load()})"
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
        f"CPUs: {os.cpu_count()}; load generator, API and database share them with whatever "
        f"else runs ({load()}). 'API CPU' is the server's CPU time per request (all its "
        "processes): 1000 / that is what one free core would serve."
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
