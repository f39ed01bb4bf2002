"""Server-side checks of the parameters of a served flow run.

Anyone who can reach the Prefect API can start a run of a served deployment with parameters
of their choosing. The flows therefore check, when they run from a deployment, that what
decides *where* a run writes and *what* it may read or submit is the operator's:

* ``db_url``, ``out_dir`` and ``workdir`` are None or the values the operator served the
  deployment with (``altermag serve-flows --parameters``): never another database or folder;
* a ``request`` other than the operator's own passes the operator's allowlists
  (:mod:`altermag.sources.allow`: sources, URLs, folders, option keys);
* ``key`` is None or a key the API made (``api-`` and 32 hex digits), so a run cannot
  reopen another run's row;
* Slurm resources are limited to node, task, CPU and time counts within bounds (partition,
  account, QOS and raw options come from the operator's preset), the preset is a built-in one,
  and counts such as ``top``, ``window`` and ``wait_s`` stay within bounds.

``serve_flows`` puts the operator's parameters in ``ALTERMAG_SERVED_PARAMETERS`` (JSON by
flow name) for the runs it starts. A flow called directly (the command line, tests) is the
operator's own and is not checked.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any

from altermag.errors import SettingsError
from altermag.screening_run import ScreenRequest

__all__ = [
    "SERVED_ENV",
    "SLURM_LIMITS",
    "check_discover",
    "check_screen",
    "served_parameters",
    "served_run",
]

SERVED_ENV = "ALTERMAG_SERVED_PARAMETERS"
SLURM_LIMITS = {"nodes": 16, "ntasks": 1024, "cpus_per_task": 128}
"""Largest counts a served run may ask Slurm for; ``time`` at most :data:`MAX_SLURM_HOURS`."""
MAX_SLURM_HOURS = 72
_API_KEY = re.compile(r"api-[0-9a-f]{32}")


def served_run() -> bool:
    """True inside a flow run started from a deployment (not a direct call)."""
    try:
        from prefect.runtime import deployment
    except ImportError:  # pragma: no cover - prefect is what calls these flows
        return False
    return deployment.id is not None


def served_parameters(flow: str) -> dict[str, Any]:
    """The parameters the operator served ``flow`` with (empty if none)."""
    try:
        table = json.loads(os.environ.get(SERVED_ENV, "") or "{}")
    except ValueError:
        return {}
    value = table.get(flow) if isinstance(table, dict) else None
    return dict(value) if isinstance(value, dict) else {}


def _same_or_none(name: str, value: Any, operator: Mapping[str, Any]) -> None:
    if value is None or value == operator.get(name):
        return
    raise SettingsError(
        f"{name} cannot be chosen for a served run: the worker's own is used (the operator "
        "sets it with serve-flows --parameters)"
    )


def _request(request: Any, operator: Mapping[str, Any]) -> None:
    if request is None:
        return
    req = request if isinstance(request, ScreenRequest) else ScreenRequest.model_validate(request)
    own = operator.get("request")
    if own is not None and req == ScreenRequest.model_validate(own):
        return
    from altermag.sources.allow import check_request

    check_request(req.source, req.source_options)


def _bounded(name: str, value: Any, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise SettingsError(f"{name} must be a number from {lo:g} to {hi:g}, got {value!r}")


def check_screen(
    request: Any, db_url: Any, out_dir: Any, window: Any, key: Any, flow: str = "screen"
) -> None:
    """Raise :class:`~altermag.errors.SettingsError` for a served ``screen`` run's parameters
    outside the rules of the module."""
    operator = served_parameters(flow)
    _same_or_none("db_url", db_url, operator)
    _same_or_none("out_dir", out_dir, operator)
    _bounded("window", window, 1, 64)
    if key is not None and not (isinstance(key, str) and _API_KEY.fullmatch(key)):
        raise SettingsError("key must be one the API made (api- and 32 hex digits)")
    _request(request, operator)


def _hours(time: str) -> float:
    days, _, rest = time.rpartition("-")
    parts = [int(p) for p in rest.split(":")]
    if days:  # D-HH[:MM[:SS]]
        return int(days) * 24 + parts[0] + sum(p / 60**i for i, p in enumerate(parts[1:], 1))
    if len(parts) == 1:  # minutes
        return parts[0] / 60
    if len(parts) == 2:  # MM:SS
        return parts[0] / 60 + parts[1] / 3600
    return parts[0] + parts[1] / 60 + parts[2] / 3600


def _slurm(resources: Any) -> None:
    if resources is None:
        return
    if not isinstance(resources, Mapping):
        raise SettingsError("slurm_resources must be an object")
    allowed = {*SLURM_LIMITS, "time"}
    extra = sorted(set(resources) - allowed)
    if extra:
        raise SettingsError(
            f"slurm_resources {', '.join(extra)} cannot be chosen for a served run (the "
            "operator's preset sets them); allowed: " + ", ".join(sorted(allowed))
        )
    from altermag.hpc.slurm import Resources

    res = Resources(**dict(resources))  # one safe word per value, or SettingsError
    for name, top in SLURM_LIMITS.items():
        if getattr(res, name) > top:
            raise SettingsError(f"slurm_resources {name} is above {top}")
    if "time" in resources and _hours(res.time) > MAX_SLURM_HOURS:
        raise SettingsError(f"slurm_resources time is above {MAX_SLURM_HOURS} hours")


def check_discover(
    request: Any,
    top: Any,
    db_url: Any,
    out_dir: Any,
    workdir: Any,
    code: Any,
    preset: Any,
    runner: Any,
    wait_s: Any,
    slurm_resources: Any,
) -> None:
    """Raise :class:`~altermag.errors.SettingsError` for a served ``discover`` run's parameters
    outside the rules of the module."""
    from altermag.dft.presets import available_presets

    operator = served_parameters("discover")
    for name, value in (("db_url", db_url), ("out_dir", out_dir), ("workdir", workdir)):
        _same_or_none(name, value, operator)
    _bounded("top", top, 1, 50)
    _bounded("wait_s", wait_s, 0, 7 * 86400)
    if code not in ("auto", "qe", "vasp"):
        raise SettingsError("code must be auto, qe or vasp")
    if runner not in ("auto", "local", "slurm", "prepare"):
        raise SettingsError("runner must be auto, local, slurm or prepare")
    if preset not in available_presets() and preset != operator.get("preset"):
        raise SettingsError(f"preset must be one of {', '.join(available_presets())}")
    if slurm_resources != operator.get("slurm_resources"):
        _slurm(slurm_resources)
    _request(request, operator)
