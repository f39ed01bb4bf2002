"""Security headers on every response, and user errors answered with their 4xx status.

Every answer (JSON, HTML pages, reports, static files, errors) carries

* ``Content-Security-Policy``: everything from this server only, no inline script, no
  framing, no plugins. The self-contained HTML reports keep their ``<style>`` block (they are
  also written as files and read offline), allowed by its SHA-256 hash — computed here from
  the report templates, so the policy follows the templates;
* ``X-Content-Type-Options: nosniff`` and ``X-Frame-Options: DENY``;
* ``Referrer-Policy: no-referrer``.

:func:`altermag_error` answers an :class:`~altermag.errors.AltermagError` that escaped a
route with its status (413 for a limit, 409 for a store conflict, 422 otherwise) and its
message; :func:`invalid_request` answers a request that does not match the schema (422), also
when the body it echoes back is not text.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from altermag.errors import AltermagError

__all__ = [
    "BodyLimitMiddleware",
    "SecurityHeadersMiddleware",
    "altermag_error",
    "content_security_policy",
    "optional_auth_openapi",
    "uses_dependency",
]

log = logging.getLogger(__name__)


def _report_templates() -> Path:
    from altermag.reports import material

    return material.TEMPLATES


@cache
def style_hashes() -> tuple[str, ...]:
    """CSP sources (``'sha256-…'``) of the ``<style>`` blocks of the HTML report templates."""
    out = []
    for template in sorted(_report_templates().glob("*.html.j2")):
        for css in re.findall(r"<style>(.*?)</style>", template.read_text(), flags=re.S):
            if "{{" in css or "{%" in css:
                raise RuntimeError(f"{template.name}: a <style> block must be static")
            digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
            out.append(f"'sha256-{digest}'")
    return tuple(out)


@cache
def content_security_policy() -> str:
    """The policy of every response (see the module docstring)."""
    styles = " ".join(("'self'", *style_hashes()))
    return (
        "default-src 'self'; img-src 'self' data:; "
        f"style-src {styles}; script-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


class SecurityHeadersMiddleware:
    """ASGI middleware adding the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", content_security_policy().encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def altermag_error(request: Request, exc: Exception) -> JSONResponse:
    """A user error (bad input, a limit, a conflict) that escaped a route: its status."""
    status = exc.status if isinstance(exc, AltermagError) else 422
    log.info("%s %s: %s (%d)", request.method, request.url.path, exc, status)
    return JSONResponse({"detail": str(exc)}, status_code=status)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """A request that does not match the schema: 422 with FastAPI's list of invalid fields.

    FastAPI's own handler echoes each invalid input back and fails (a 500) when that input is
    a body of bytes that are not UTF-8 (sent as ``text/plain``, or with no type); here such
    bytes are shown with the undecodable ones replaced by U+FFFD.
    """
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    body = jsonable_encoder(errors, custom_encoder={bytes: _text})
    return JSONResponse({"detail": body}, status_code=422)


class BodyLimitMiddleware:
    """ASGI middleware bounding request bodies while they stream in (413), before any is
    parsed or spooled to disk.

    ``POST /analyze`` may send ``upload_bytes`` of file plus ``overhead`` (multipart framing
    and the form fields); every other request ``other_bytes``. A declared
    ``Content-Length`` above the bound is refused before the body is read; a body that
    grows past it (chunked, or lying about its length) is cut off at the bound.
    """

    def __init__(
        self,
        app: ASGIApp,
        upload_bytes: int,
        other_bytes: int = 1024 * 1024,
        overhead: int = 64 * 1024,
        upload_path: str = "/analyze",
    ) -> None:
        self.app = app
        self.upload_bytes = upload_bytes
        self.other_bytes = other_bytes
        self.overhead = overhead
        self.upload_path = upload_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        upload = scope["path"] == self.upload_path
        bound = self.upload_bytes + self.overhead if upload else self.other_bytes
        what = f"file larger than {self.upload_bytes} bytes" if upload else "request body"
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > bound:
            await _too_large(send, f"{what}: {int(declared)} bytes declared, limit {bound}")
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > bound:
                    from starlette.exceptions import HTTPException

                    raise HTTPException(413, detail=f"{what}: more than {bound} bytes sent")
            return message

        await self.app(scope, counted, send)


async def _too_large(send: Send, detail: str) -> None:
    import json

    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def optional_auth_openapi(app: Any, routes: list[Any], optional: Callable[[Any], bool]) -> None:
    """Declare the key *optional* on the operations of ``routes`` (the routers' own routes,
    mounted without prefix) for which ``optional(route)`` holds, and that query and path
    strings hold no NUL byte (:mod:`altermag_api.nul_guard` answers those with 400).

    FastAPI lists the ``X-API-Key`` scheme on every operation that reads the header, also
    where the key is optional (public reads); OpenAPI says "optional" with an empty
    requirement beside it (``security: [{}, {"APIKeyHeader": []}]``).
    """
    from fastapi.routing import APIRoute

    generate = app.openapi
    patched: list[bool] = []

    def openapi() -> dict[str, Any]:
        schema: dict[str, Any] = generate()  # FastAPI's, cached on the app
        if not patched:
            for route in routes:
                if not isinstance(route, APIRoute) or not optional(route):
                    continue
                item = schema["paths"].get(route.path_format, {})
                for method in route.methods:
                    op = item.get(method.lower())
                    if op is not None and op.get("security") and {} not in op["security"]:
                        op["security"] = [{}, *op["security"]]
            for item in schema["paths"].values():
                for op in item.values():
                    for param in op.get("parameters", []) if isinstance(op, dict) else []:
                        if param.get("in") in ("query", "path"):
                            _no_nul(param.get("schema", {}))
            patched.append(True)
        return schema

    app.openapi = openapi


NO_NUL = "^[^\\x00]*$"
"""The pattern of a query or path string: NUL bytes are refused (400) before routing."""


def _no_nul(schema: dict[str, Any]) -> None:
    """Add :data:`NO_NUL` to every free string of a parameter schema (in place)."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if node.get("type") == "string" and not {"pattern", "enum", "const"} & set(node):
            node["pattern"] = NO_NUL
        for key in ("anyOf", "oneOf", "allOf"):
            stack.extend(node.get(key, []))
        if isinstance(node.get("items"), dict):
            stack.append(node["items"])


def uses_dependency(route: Any, call: Callable[..., Any]) -> bool:
    """Whether ``call`` is among the route's dependencies (at any depth)."""
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        if dep.call is call:
            return True
        stack.extend(dep.dependencies)
    return False
