"""``altermag api`` (serve the REST API with uvicorn) and ``altermag apikey`` (manage keys)."""

from __future__ import annotations

from typing import Annotated

import typer

from altermag.cli import app
from altermag.cli.db import DbOption, create_key, revoke_key

apikey_app = typer.Typer(
    help="API keys for the REST API (stored hashed; needed for requests that change state).",
    no_args_is_help=True,
)
app.add_typer(apikey_app, name="apikey")
apikey_app.command("create", help="Create an API key called NAME and print it (shown once).")(
    create_key
)
apikey_app.command("revoke", help="Revoke the API key called NAME.")(revoke_key)


@apikey_app.command("list", help="Names and dates of every API key (never the keys).")
def list_keys(db: DbOption = None) -> None:
    from altermag.store import Store

    with Store(db) as store:
        for k in store.api_keys():
            state = "active" if k.active else f"revoked {k.revoked_at:%Y-%m-%d %H:%M}"
            typer.echo(f"{k.name}\t{k.created_at:%Y-%m-%d %H:%M}\t{state}")


@app.command(
    "api",
    help="Serve the REST API (FastAPI + uvicorn) over the store at --db or "
    "$ALTERMAG_DATABASE_URL. Screenings go to the Prefect deployment when PREFECT_API_URL "
    "is set, else to a background thread. OpenAPI docs at /docs.",
)
def api(
    host: Annotated[
        str, typer.Option(envvar="ALTERMAG_API_HOST", help="Interface to bind.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(envvar="ALTERMAG_API_PORT", min=1, max=65535, help="TCP port.")
    ] = 8000,
    db: DbOption = None,
    workers: Annotated[
        int,
        typer.Option(
            envvar="ALTERMAG_API_WORKERS",
            min=1,
            max=64,
            help="Worker processes (each with its own connections, page cache and analysis "
            "workers); one per core serves the most pages, one less when the PostgreSQL "
            "server runs on the same machine (it computes its share of a page on a core of "
            "its own).",
        ),
    ] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    warm_up: Annotated[
        bool,
        typer.Option(
            envvar="ALTERMAG_API_WARM_UP",
            help="Start the analysis workers and import the analysis stack before serving "
            "(the first POST /analyze is then as fast as the next).",
        ),
    ] = True,
) -> None:
    import os

    import uvicorn

    if db:
        os.environ["ALTERMAG_DATABASE_URL"] = db  # the factory reads it in every worker
    os.environ["ALTERMAG_API_WARM_UP"] = "1" if warm_up else "0"
    if workers > 1:
        # analyses are CPU-bound: one analysis process per API worker is one per core
        os.environ.setdefault("ALTERMAG_API_ANALYSIS_WORKERS", "1")
    # loop and http "auto": uvloop and httptools (both installed with the api extra) when
    # importable, else asyncio and h11
    uvicorn.run(
        "altermag_api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
    )
