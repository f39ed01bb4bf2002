"""Prefect deployments of altermag's flows, with cron schedules.

``altermag serve-flows`` serves them from this process (Prefect ``serve``: a long-running
runner that starts scheduled and manually triggered runs). That is the one way this
repository deploys the flows; a work-pool deployment (``flow.deploy(work_pool_name=...)``)
is not set up here. A deployment's ``request`` parameter is a
:class:`~altermag.screening_run.ScreenRequest` as JSON, e.g.
``{"request": {"source": "local", "source_options": {"path": "/data/cifs"}}}``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from prefect import serve
from prefect.client.schemas.schedules import CronSchedule

from altermag_flows.discover import discover
from altermag_flows.guard import SERVED_ENV
from altermag_flows.screen import screen

__all__ = [
    "DEFAULT_CRON",
    "DISCOVER_CRON",
    "discover_deployment",
    "screen_deployment",
    "serve_flows",
]

#: Nightly at 02:00 UTC.
DEFAULT_CRON = "0 2 * * *"
#: Weekly, Sundays at 03:00 UTC (after that night's screening).
DISCOVER_CRON = "0 3 * * 0"


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


def discover_deployment(
    name: str = "weekly-discover",
    cron: str | None = DISCOVER_CRON,
    parameters: dict[str, Any] | None = None,
    timezone: str = "UTC",
) -> Any:
    """The ``discover`` flow as a deployment: screen, then DFT-verify the top candidates."""
    schedules = [CronSchedule(cron=cron, timezone=timezone)] if cron else None
    return discover.to_deployment(
        name=name,
        schedules=schedules,
        parameters=parameters or {},
        tags=["altermag", "discovery", "dft"],
        description="Screen a source, then verify the top candidates with DFT (QE or Slurm).",
    )


def serve_flows(
    cron: str | None = DEFAULT_CRON,
    parameters: dict[str, Any] | None = None,
    name: str = "nightly-screen",
    limit: int = 4,
    discover_cron: str | None = DISCOVER_CRON,
    discover_parameters: dict[str, Any] | None = None,
    discover_name: str = "weekly-discover",
) -> None:
    """Serve the ``screen`` and ``discover`` deployments until interrupted (SIGINT/SIGTERM).

    The operator's parameters are passed to the runs in ``ALTERMAG_SERVED_PARAMETERS``: a run
    may keep them, anything else is checked (:mod:`altermag_flows.guard`).
    """
    os.environ[SERVED_ENV] = json.dumps(
        {"screen": parameters or {}, "discover": discover_parameters or {}}, default=str
    )
    serve(
        screen_deployment(name, cron, parameters),
        discover_deployment(discover_name, discover_cron, discover_parameters),
        limit=limit,
    )
