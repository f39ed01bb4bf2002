"""``altermag screen``: the main job — screen a source, store everything, rank candidates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from altermag.cli import app
from altermag.cli.options import (
    AllOrdersOption,
    DbOption,
    FilterOption,
    FreshOption,
    LimitOption,
    MaxPerPrototypeOption,
    OutOption,
    PathOption,
    SourceOption,
    UrlOption,
)
from altermag.cli.tables import Column, print_table
from altermag.config import prefect_environment
from altermag.screening_run import REPORT_PAGES, ScreenRequest, available_cores, worker_pool

_DEFAULTS = ScreenRequest()
_HELP = {name: str(f.description) for name, f in ScreenRequest.model_fields.items()}


def _source_options(source: str, path: Path | None, url: str | None, flt: str | None) -> dict:
    if source in ("local", "magndata"):
        if path is None:
            raise typer.BadParameter("--path is needed for this source", param_hint="--path")
        if not path.exists():
            raise typer.BadParameter(f"{path}: no such folder", param_hint="--path")
        if source == "local" and not path.is_dir():
            raise typer.BadParameter(f"{path}: not a folder", param_hint="--path")
        return {"path": str(path)}
    if source == "optimade":
        if url is None:
            raise typer.BadParameter("--url is needed for OPTIMADE", param_hint="--url")
        return {"base_url": url, "filter": flt}
    if source in ("materials_project", "mp"):
        return {"filter": flt, **({"base_url": url} if url else {})}
    return {}


def _expected_total(source: str, limit: int | None) -> int | None:
    if source in ("embedded", "corpus", "known"):
        from altermag.data import corpus_size

        n = corpus_size() if source != "known" else 0
        if source != "corpus":
            try:
                from altermag.data import known_materials

                n += len(known_materials())
            except ImportError:
                pass
        return min(n, limit) if limit else n
    return limit


def _pool_size(workers: int | None, total: int | None, chunk_size: int) -> int:
    """Worker processes for an in-process screening: as asked, else one per available core
    but no more than there are chunks (a small screening runs in this process alone)."""
    if workers is not None:
        return max(1, workers)
    n = available_cores()
    if total is not None:
        n = min(n, -(-total // chunk_size))
    return max(1, n)


class _ChunkWatcher:
    """Follows a flow's progress from the chunk files it writes (the flow may run elsewhere:
    Dask workers, a thread pool), without sharing any object with it."""

    def __init__(self, out: Path, callback: Any, interval: float = 0.5) -> None:
        import threading

        self.out, self.callback, self.interval = out, callback, interval
        self.started = __import__("time").time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        import json

        while not self._stop.wait(self.interval):
            runs = [p for p in self.out.glob("*/chunks") if p.stat().st_mtime >= self.started]
            if not runs:
                continue
            done = errors = 0
            for f in max(runs, key=lambda p: p.stat().st_mtime).glob("*.json"):
                try:
                    data = json.loads(f.read_text())
                except (OSError, ValueError):
                    continue
                done += len(data["ids"])
                errors += len(data["errors"])
            self.callback(done, errors)


TOP_COLUMNS = [
    Column("rank", priority=9, justify="right"),
    Column("id", priority=4, wrap=True),
    Column("formula", priority=10),
    Column("wave", priority=8),
    Column("spin Laue\ngroup", priority=6),
    Column("form factor", priority=3, wrap=True),
    Column("space group", priority=2),
    Column("P(AM\nground)", priority=7, justify="right"),
    Column("P(k=0)", priority=5, justify="right"),
    Column("P(order)", priority=5, justify="right"),
]


def _p(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def print_top(console: Console, rows: list[dict[str, Any]], n: int = 15) -> None:
    """The best ``n`` candidates of a screening, fitted to the terminal."""
    cells = [
        [
            str(r["rank"]),
            r["id"],
            r["formula"],
            r["wave"],
            r["spin_laue_group"],
            r["form_factor"],
            r["space_group"],
            _p(r.get("p_altermagnetic_ground_state")),
            _p(r.get("p_k0")),
            _p(r.get("p_ground_state")),
        ]
        for r in rows[:n]
    ]
    title = f"Top {min(n, len(rows))} altermagnet candidates"
    print_table(console, title, TOP_COLUMNS, cells, hint="candidates.csv")


@app.command(
    help="Screen a source (embedded data by default) for altermagnets: analyze or enumerate "
    "every structure, store all results, write candidates/<run-id>/candidates.csv|json."
)
def screen(
    source: SourceOption = _DEFAULTS.source,
    path: PathOption = None,
    url: UrlOption = None,
    filter: FilterOption = None,
    limit: LimitOption = None,
    db: DbOption = None,
    out: OutOption = None,
    chunk_size: Annotated[int, typer.Option(help=_HELP["chunk_size"])] = _DEFAULTS.chunk_size,
    dask_address: Annotated[str | None, typer.Option(help="tcp://scheduler:8786")] = None,
    dask_workers: Annotated[int | None, typer.Option(help="Local Dask cluster size.")] = None,
    prefect: Annotated[
        bool,
        typer.Option(
            help="Run as a Prefect flow (tracked runs, retries; implied by the Dask options). "
            "Default: in this process, on a pool of worker processes."
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes (default: the available cores; 1: no pool)."),
    ] = None,
    pages: Annotated[
        int, typer.Option(help="Material pages written for the best candidates.")
    ] = REPORT_PAGES,
    fresh: FreshOption = False,
    all_orders: AllOrdersOption = False,
    max_per_prototype: MaxPerPrototypeOption = None,
) -> None:
    import uuid

    from altermag.config import get_settings

    console = Console()
    request = ScreenRequest(
        source=source,
        source_options=_source_options(source, path, url, filter),
        limit=limit,
        chunk_size=chunk_size,
        all_orders=all_orders,
        max_per_prototype=max_per_prototype,
    )
    out = out if out is not None else get_settings().candidates_dir
    key = uuid.uuid4().hex[:24] if fresh else None
    total = _expected_total(request.source, limit)
    use_prefect = prefect or bool(dask_address or dask_workers)
    if use_prefect:
        prefect_environment(quiet=True)
    with Progress(
        TextColumn("screening {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[errors]} errors"),
        TimeElapsedColumn(),
        console=console,
        refresh_per_second=2,  # chunks finish every second or two; Rich's default is 10
    ) as bar:
        task = bar.add_task(request.source, total=total, errors=0)

        def progress(done: int, errors: int) -> None:
            bar.update(task, completed=done, errors=errors)

        if use_prefect:
            from altermag_flows.screen import screen as screen_flow
            from altermag_flows.screen import task_runner_for

            runner = task_runner_for(dask_address, dask_workers)
            flow_fn = screen_flow.with_options(task_runner=runner) if runner else screen_flow
            window = max(2, int(dask_workers or 0)) if (dask_address or dask_workers) else 1
            watcher = _ChunkWatcher(out, progress)
            watcher.start()
            try:
                result = flow_fn(
                    request=request, db_url=db, out_dir=str(out), window=window, key=key
                )
            finally:
                watcher.stop()
            run_id, paths, counts = result["run_id"], result["paths"], result["counts"]
        else:
            from altermag.store import Store

            n_workers = _pool_size(workers, total, request.chunk_size)
            with Store(db) as store, worker_pool(n_workers) as pool:
                outcome = request.run(
                    store,
                    out,
                    key=key,
                    pool=pool,
                    window=2 * n_workers,
                    progress=progress,
                    report_pages=pages,
                )
            run_id, paths, counts = outcome.run_id, outcome.paths, outcome.counts
    import json

    rows = [r for r in json.loads(Path(paths["json"]).read_text()) if r["can_host_altermagnet"]]
    print_top(console, rows)
    console.print(
        f"run {run_id}: {counts.get('screened', 0)} screened, "
        f"{counts.get('candidates', 0)} candidates "
        f"(d: {counts.get('by_wave', {}).get('d', 0)}, "
        f"g: {counts.get('by_wave', {}).get('g', 0)}, "
        f"i: {counts.get('by_wave', {}).get('i', 0)}), {counts.get('errors', 0)} errors"
    )
    for name, p in paths.items():
        console.print(f"  {name}: {p}")
