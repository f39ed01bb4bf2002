"""Prefect deployments of altermag's flows, with cron schedules.

``altermag serve-flows`` serves them from this process (Prefect ``serve``: a long-running
runner that starts scheduled and manually triggered runs). For a work pool instead, use
``prefect.yaml`` (``prefect deploy --all``) and ``prefect worker start --pool altermag``.
"""

from __future__ import annotations

from typing import Any

from prefect import serve
from prefect.client.schemas.schedules import CronSchedule

from flows.screen import screen

__all__ = ["DEFAULT_CRON", "screen_deployment", "serve_flows"]

#: Nightly at 02:00 UTC.
DEFAULT_CRON = "0 2 * * *"


def screen_deployment(
    name: str = "nightly-screen",
    cron: str | None = DEFAULT_CRON,
    parameters: dict[str, Any] | None = None,
    timezone: str = "UTC",
) -> Any:
    """The ``screen`` flow as a deployment (e.g. a nightly incremental OPTIMADE sync)."""
    schedules = [CronSchedule(cron=cron, timezone=timezone)] if cron else None
    return screen.to_deployment(
        name=name,
        schedules=schedules,
        parameters=parameters or {},
        tags=["altermag", "screening"],
        description="Screen a structure source for altermagnets and rank the candidates.",
    )


def serve_flows(
    cron: str | None = DEFAULT_CRON,
    parameters: dict[str, Any] | None = None,
    name: str = "nightly-screen",
    limit: int = 4,
) -> None:
    """Serve the deployments until interrupted (SIGINT/SIGTERM)."""
    serve(screen_deployment(name, cron, parameters), limit=limit)
