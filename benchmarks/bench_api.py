"""Loopback load test of the API against its speed goals, on SQLite and PostgreSQL.

Fills a fresh store with ≥ N candidates (the bundled examples, expanded so each copy is a new
material, as in ``bench_store.py``; every material gets a model score so ``sort=score`` is the
real ranked query), starts ``altermag api --workers <cores>`` (uvicorn, warm-up on; one
worker less on PostgreSQL, whose server on this machine needs a core of its own) on a free
loopback port, and drives it with C concurrent keep-alive clients for S seconds with
``wrk`` (Debian package ``wrk``: ``apt-get install wrk``). wrk only cycles through fixed
URLs (no Lua response callback), so it costs a small fraction of the server's CPU; without
wrk the benchmark falls back to asyncio + httpx (itself CPU-bound at a few hundred
requests/s, so its throughput figures are the client's). Each figure is printed against its
anchor (the figure measured before the speed work) and goal (MET / not met), with the 1-minute
load average beside it:

* **first POST /analyze after start** (the server answers ``/health``; the next one beside);
* **computed pages** (page cache off): ``top pages`` — clients cycle through the first page
  by score, altermagnets by score, Mn compounds by score (limit 50) — and ``deep pages`` —
  clients cycle through every page of ``sort=score`` (the cursors of one walk through the
  table, collected before the run);
* **/health**;
* **cached pages**: the top pages and the deep pages with the revision-checked page cache on
  (after the 2 s warm-up every page is a hit).

Besides requests/s and p50/p99 it prints the **CPU time per request** of the API (all
server processes, from ``/proc``), of PostgreSQL (the server processes of the benchmark's
database) and of the load generator: the cores are shared with whatever else runs, so
requests/s and latencies are what the machine gave at that load, while CPU per request is
what the service itself costs (1000 / that = requests/s one free core would serve). A
table of all figures closes the output.

Usage: ``python benchmarks/bench_api.py [--n 10000] [--clients 50] [--seconds 10]
[--workers W] [--cache 0 1] [--databases sqlite postgresql] [--postgres URL]``
(``--postgres ''`` or ``--databases sqlite`` skips PostgreSQL, ``--databases postgresql``
SQLite).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import resource
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
        if store.dialect == "postgresql":
            # what autovacuum does to tables this fresh (every order was rewritten once when
            # its score was copied onto it): dead rows gone, the visibility map set for
            # index-only scans, planner statistics gathered; the server here runs with
            # autovacuum off, a production one with it on
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
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


WRK_URLS = """
local urls = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", urls[(i %% #urls) + 1])
end
"""
"""wrk script cycling through fixed URLs (no response callback: wrk then never hands a
body to Lua, and stays a small fraction of the server's CPU)."""


def deep_urls(base: str, limit: int = 50) -> list[str]:
    """The URL of every page of ``sort=score`` (the cursors of a walk through the table)."""
    urls = [f"/candidates?sort=score&limit={limit}"]
    with httpx.Client(base_url=base, timeout=60) as client:
        while True:
            page = client.get(urls[-1]).json()
            if not page["next_cursor"]:
                return urls
            urls.append(f"/candidates?sort=score&limit={limit}&cursor={page['next_cursor']}")


def _ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if m is None:
        raise ValueError(f"unexpected wrk latency {value!r}")
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[m.group(2)]


def load_wrk(
    base: str, clients: int, seconds: float, script: str
) -> tuple[float, float, float, int, float]:
    """Requests/s, p50 and p99 (ms), the number of requests and wrk's own CPU seconds."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--latency", "-s", f.name, base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    os.unlink(f.name)
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        print(f"  {m.group(1)} requests failed")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    n = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return rps, p50, p99, n, wrk_cpu


ANCHORS = {
    "computed": "before: 123–141 req/s, p99 0.7–1.5 s",
    "cached": "before: p99 106–133 ms",
    "health": "before: ~530 req/s",
    "analyze": "before: up to 13.6 s",
}
"""The figures this benchmark answers, as measured before the speed work (same machine)."""
GOALS = {  # kind: (text, minimum req/s, maximum p99 ms)
    "computed": ("goal ≥ 1,000 req/s, p99 ≤ 50 ms", 1000.0, 50.0),
    "cached": ("goal p99 ≤ 50 ms", 0.0, 50.0),
    "health": ("goal ≥ 1,000 req/s", 1000.0, float("inf")),
}
WORKLOADS = {  # name: (figure kind, page cache on?)
    "computed top pages": ("computed", 0),
    "computed deep pages": ("computed", 0),
    "/health": ("health", 0),
    "cached top pages": ("cached", 1),
    "cached deep pages": ("cached", 1),
}
HEALTH = 'request = function() return wrk.format("GET", "/health") end\n'
SUMMARY: list[str] = []
"""One line per figure, printed again at the end as a table."""


def load() -> str:
    """The 1-minute load average, to print beside every figure (the cores are shared)."""
    return f"load {os.getloadavg()[0]:.2f}"


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (``/proc``; 0 when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    f = stat[stat.rindex(")") + 2 :].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and all its descendants (``/proc``)."""
    total = 0.0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            total += _proc_cpu(p)
            for task in Path(f"/proc/{p}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL server process serving the database of ``url`` (a
    local server: its processes are read from ``/proc``); empty for SQLite, whose work is
    done inside the API processes."""
    if not url.startswith("postgresql"):
        return {}
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            pids = conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalars()
            return {int(p): _proc_cpu(int(p)) for p in pids}
    finally:
        engine.dispose()


def db_cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the database's processes spent between two :func:`backend_cpu` reads
    (processes started in between count in full)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def default_workers(url: str) -> int:
    """uvicorn workers for the store at ``url`` on this machine: one per usable core, less
    one for a PostgreSQL server on this machine (a loopback URL), which computes its share
    of every page on a core of its own."""
    cores = len(os.sched_getaffinity(0))
    if url.startswith("postgresql") and re.search(r"@(127\.0\.0\.1|localhost|\[::1\])[:/]", url):
        return max(1, cores - 1)
    return cores


def bench(label: str, url: str, args: argparse.Namespace) -> None:
    args = argparse.Namespace(**{**vars(args), "workers": args.workers or default_workers(url)})
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
    deep = deep_urls(base)
    top = [f"/candidates?{httpx.QueryParams(q)}" for q in QUERIES]
    scripts = {
        "top": WRK_URLS % ", ".join(f'"{u}"' for u in top),
        "deep": WRK_URLS % ", ".join(f'"{u}"' for u in deep),
        "health": HEALTH,
    }
    try:
        first, second = first_analyze(base)
        line = (
            f"{label}: start to ready {started:.1f} s; first POST /analyze after start "
            f"{1e3 * first:.0f} ms, the next {1e3 * second:.0f} ms "
            f"({ANCHORS['analyze']}; goal: as fast as the next ones) ({load()})"
        )
        print(line, flush=True)
        SUMMARY.append(
            f"| first POST /analyze | {label} | {1e3 * first:.0f} ms (next {1e3 * second:.0f} ms)"
            f" | | | {os.getloadavg()[0]:.1f} |"
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
                db0 = backend_cpu(url)
                t0 = time.process_time()
                lat = sorted(asyncio.run(load_httpx(base, args.clients, args.seconds)))
                client_cpu = time.process_time() - t0
                cpu = cpu_seconds(proc.pid) - cpu0
                rps = len(lat) / args.seconds
                p50 = 1e3 * statistics.median(lat)
                p99 = 1e3 * lat[min(len(lat) - 1, int(0.99 * len(lat)))]
                n_req, tool = len(lat), "httpx"
            else:
                load_wrk(base, args.clients, 2.0, script)  # warm-up: connections, caches
                cpu0 = cpu_seconds(proc.pid)
                db0 = backend_cpu(url)
                rps, p50, p99, n_req, client_cpu = load_wrk(
                    base, args.clients, args.seconds, script
                )
                cpu = cpu_seconds(proc.pid) - cpu0
                tool = "wrk"
            db = db_cpu_between(db0, backend_cpu(url))
            text_goal, min_rps, max_p99 = GOALS[kind]
            met = "MET" if rps >= min_rps and p99 <= max_p99 else "not met"
            per = 1e3 * cpu / max(n_req, 1)
            per_db = 1e3 * db / max(n_req, 1)
            db_text = f", database {per_db:.2f} ms" if url.startswith("postgresql") else ""
            per_client = 1e3 * client_cpu / max(n_req, 1)
            print(
                f"{label}, {name}: {args.clients} clients ({tool}, {per_client:.2f} ms "
                f"CPU/request), {args.workers} worker(s): "
                f"{rps:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
                f"CPU/request: API {per:.2f} ms{db_text} "
                f"({ANCHORS[kind]}; {text_goal}: {met}) ({load()})",
                flush=True,
            )
            SUMMARY.append(
                f"| {name} | {label} | {rps:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms | "
                f"{met} | {per:.2f} ms{f' + DB {per_db:.2f} ms' if db_text else ''} | "
                f"{os.getloadavg()[0]:.1f} |"
            )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="minimum stored candidates")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument(
        "--workers",
        type=int,
        default=None,
        help="uvicorn worker processes (default: one per usable core; one less with a "
        "PostgreSQL server on this machine)",
    )
    ap.add_argument(
        "--cache",
        type=int,
        nargs="+",
        default=[0, 1],
        help="page cache off (0) / on (1) (ALTERMAG_API_PAGE_CACHE)",
    )
    ap.add_argument(
        "--databases",
        nargs="+",
        choices=("sqlite", "postgresql"),
        default=["sqlite", "postgresql"],
        help="the databases to measure",
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
        f"else runs ({load()}). CPU/request: the server's CPU time per request (API: all its "
        "processes; database: PostgreSQL's processes of the benchmark database); 1000 / that "
        "is what one free core would serve."
    )
    if "sqlite" in args.databases:
        with tempfile.TemporaryDirectory() as tmp:
            bench("SQLite", f"sqlite:///{tmp}/bench.db", args)
    if args.postgres and "postgresql" in args.databases:
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
    print("\n| figure | database | measured | goal | CPU / request | load |")
    print("|---|---|---|---|---|---|")
    print("\n".join(SUMMARY))


if __name__ == "__main__":
    main()
