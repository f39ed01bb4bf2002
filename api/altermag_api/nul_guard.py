"""Refuse requests whose path or query string carries a NUL byte.

PostgreSQL text cannot hold NUL (``\\x00``); a filter value such as ``?formula=%00`` would
otherwise reach the database driver and come back as a 500. No legitimate parameter of this
API contains NUL, so such requests are answered 400 before routing.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["NulGuardMiddleware"]

_BODY = json.dumps({"detail": "NUL bytes are not allowed in paths or query parameters"}).encode()


class NulGuardMiddleware:
    """ASGI middleware answering 400 to a path or query string containing NUL."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"").lower()
            path = scope.get("path", "")
            raw = scope.get("raw_path") or b""
            if b"%00" in query or b"\x00" in query or "\x00" in path or b"%00" in raw.lower():
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(_BODY)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": _BODY})
                return
        await self.app(scope, receive, send)
