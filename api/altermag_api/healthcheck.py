"""Health checks of the compose services: ``python -m altermag_api.healthcheck api|prefect|worker``.

Exit status 0 when the service answers. Addresses come from the same environment variables
the services read, so the compose file and the tests run identical commands.
"""

from __future__ import annotations

import os
import sys

import httpx

__all__ = ["check"]


def check(service: str) -> str:
    """The URL checked for ``service``; raises on a missing or unhealthy answer."""
    if service == "api":
        url = f"http://127.0.0.1:{os.environ.get('ALTERMAG_API_PORT', '8000')}/health"
    elif service == "prefect":
        url = f"http://127.0.0.1:{os.environ.get('PREFECT_SERVER_API_PORT', '4200')}/api/health"
    elif service == "worker":  # the served deployment exists on the server
        deployment = os.environ.get("ALTERMAG_DEPLOYMENT", "screen/nightly-screen")
        url = f"{os.environ['PREFECT_API_URL'].rstrip('/')}/deployments/name/{deployment}"
    else:
        raise ValueError(f"unknown service {service!r}: api, prefect or worker")
    httpx.get(url, timeout=5).raise_for_status()
    return url


if __name__ == "__main__":
    try:
        check(sys.argv[1] if len(sys.argv) > 1 else "api")
    except Exception as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        sys.exit(1)
