"""``altermag serve-flows``: serve the Prefect deployments (cron schedules) from this process."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from altermag.cli import app


@app.command(
    "serve-flows",
    help="Serve the screen and discover deployments with cron schedules (Prefect "
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
    discover_cron: Annotated[
        str, typer.Option(help="Cron schedule of the discover deployment ('' for none).")
    ] = "0 3 * * 0",
    discover_name: Annotated[str, typer.Option(help="Discover deployment name.")] = (
        "weekly-discover"
    ),
    discover_parameters: Annotated[
        str, typer.Option(help="Discover flow parameters as JSON, e.g. '{\"top\": 3}'")
    ] = "{}",
) -> None:
    from altermag_flows.deployments import serve_flows as _serve

    try:
        params = json.loads(parameters)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--parameters") from None
    try:
        disc = json.loads(discover_parameters)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--discover-parameters") from None
    _serve(
        cron=cron or None,
        parameters=params,
        name=name,
        discover_cron=discover_cron or None,
        discover_parameters=disc,
        discover_name=discover_name,
    )
