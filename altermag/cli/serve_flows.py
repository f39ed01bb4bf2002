"""``altermag serve-flows``: serve the Prefect deployments (cron schedules) from this process."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from altermag.cli import app


@app.command(
    "serve-flows",
    help="Serve the screen deployment with a cron schedule (Prefect "
    "serve). Needs PREFECT_API_URL pointing at a Prefect server; stop with Ctrl-C.",
)
def serve_flows(
    cron: Annotated[str, typer.Option(help="Cron schedule ('' for none).")] = "0 2 * * *",
    name: Annotated[str, typer.Option(help="Deployment name.")] = "nightly-screen",
    parameters: Annotated[
        str,
        typer.Option(
            help="Flow parameters as JSON, e.g. "
            '\'{"source": "optimade", "source_options": {"base_url": "..."}}\''
        ),
    ] = "{}",
) -> None:
    from flows.deployments import serve_flows as _serve

    try:
        params = json.loads(parameters)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--parameters") from None
    _serve(cron=cron or None, parameters=params, name=name)
