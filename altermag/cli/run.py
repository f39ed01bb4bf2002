"""``altermag run``: the main job — screen the embedded data (known materials + corpus)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from altermag.cli import app
from altermag.cli.options import AllOrdersOption, DbOption, FreshOption, MaxPerPrototypeOption


@app.command(
    help="The main job: screen the embedded default data (curated known materials and "
    "the hypothetical-compound corpus) on this machine's cores, store every result in the "
    "default database and write the ranked candidates. A second run reuses what is done."
)
def run(
    db: DbOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default $ALTERMAG_HOME/candidates).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Screen at most N records.")] = None,
    prefect: Annotated[
        bool, typer.Option(help="Run as a Prefect flow (default: in this process).")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes (default: the available cores; 1: no pool)."),
    ] = None,
    fresh: FreshOption = False,
    all_orders: AllOrdersOption = False,
    max_per_prototype: MaxPerPrototypeOption = None,
) -> None:
    from altermag.cli.screen import _DEFAULTS, screen
    from altermag.screening_run import REPORT_PAGES

    screen(
        source="embedded",
        path=None,
        url=None,
        filter=None,
        limit=limit,
        db=db,
        out=out,
        chunk_size=_DEFAULTS.chunk_size,
        dask_address=None,
        dask_workers=None,
        prefect=prefect,
        workers=workers,
        pages=REPORT_PAGES,
        fresh=fresh,
        all_orders=all_orders,
        max_per_prototype=max_per_prototype,
    )
