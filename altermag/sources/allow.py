"""Which sources, URLs and folders a screening asked for over the network may use.

A screening started through ``POST /screenings`` or a served Prefect deployment is asked for
by someone other than the operator, so what it may read comes from the operator's settings
(:class:`altermag.config.Settings`), not from the request:

``ALTERMAG_ALLOWED_SOURCES``
    Comma-separated source names (default ``embedded,known,corpus,optimade,materials_project``;
    ``local`` and ``magndata`` read server folders and are off unless listed).
``ALTERMAG_ALLOWED_URLS``
    Comma-separated URL prefixes an OPTIMADE or Materials Project ``base_url`` (and every
    page and redirect the provider points to) must start with; default the Materials
    Project's two public endpoints. ``*`` allows any public host: a name that resolves to a
    loopback, private, link-local, multicast or reserved address is refused unless a prefix
    names it explicitly, so ``*`` cannot reach the machine's own services or the cloud
    metadata address.
``ALTERMAG_ALLOWED_PATHS``
    Comma-separated folders a ``local``/``magndata`` ``path`` must lie in (default none).

Source options are also limited to the known, harmless keys of each source (no headers,
API keys or timeouts from a request). The command line, run by the operator, is not limited.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from altermag.config import Settings, get_settings
from altermag.sources import SourceError

__all__ = ["SAFE_OPTIONS", "check_request", "check_url", "is_internal", "url_guard"]

SAFE_OPTIONS: dict[str, frozenset[str]] = {
    "embedded": frozenset({"which", "page_size"}),
    "known": frozenset({"page_size"}),
    "corpus": frozenset({"page_size"}),
    "local": frozenset({"path", "page_size"}),
    "magndata": frozenset({"path", "page_size"}),
    "optimade": frozenset({"base_url", "filter", "page_limit", "extra_fields"}),
    "materials_project": frozenset(
        {"mode", "filter", "elements", "base_url", "page_limit", "extra_fields"}
    ),
}
"""Options a request may set, per source (the page size is set from ``chunk_size``)."""

_PORTS = {"http": 80, "https": 443}


def _parts(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _PORTS:
        raise SourceError("only http and https URLs can be fetched")
    if parts.username is not None or parts.password is not None:
        raise SourceError("a URL with a user name or password is not allowed")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise SourceError("the URL has no host")
    try:
        port = parts.port or _PORTS[scheme]
    except ValueError:
        raise SourceError("the URL has an invalid port") from None
    return scheme, host, port, parts.path or "/"


def is_internal(address: str) -> bool:
    """True for loopback, private, link-local, shared, multicast, reserved or unspecified IPs."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _resolve(host: str, port: int) -> list[str]:
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise SourceError(f"cannot resolve the host {host!r}") from None
    return sorted({str(info[4][0]) for info in infos})


def _prefix_match(url: tuple[str, str, int, str], prefix: str) -> bool:
    try:
        p_scheme, p_host, p_port, p_path = _parts(prefix)
    except SourceError:
        return False
    scheme, host, port, path = url
    if (scheme, host, port) != (p_scheme, p_host, p_port):
        return False
    p_path = p_path.rstrip("/")
    return not p_path or path == p_path or path.startswith(p_path + "/")


def check_url(url: str, settings: Settings | None = None) -> None:
    """Raise :class:`~altermag.errors.SourceError` unless ``url`` may be fetched.

    The message names the host, never anything fetched.
    """
    settings = settings or get_settings()
    parsed = _parts(url)
    entries = settings.allowed_url_list
    if any(_prefix_match(parsed, e) for e in entries if e != "*"):
        return
    scheme, host, port, _ = parsed
    if "*" not in entries:
        raise SourceError(
            f"{scheme}://{host}:{port} is not an allowed provider (the operator lists them in "
            "ALTERMAG_ALLOWED_URLS)"
        )
    if any(is_internal(a) for a in _resolve(host, port)):
        raise SourceError(
            f"{host} is an internal address (loopback, private or link-local); the operator "
            "must list it in ALTERMAG_ALLOWED_URLS to allow it"
        )


def url_guard(settings: Settings | None = None) -> Callable[[str], None]:
    """:func:`check_url` bound to ``settings``: a source calls it before every request."""
    settings = settings or get_settings()

    def guard(url: str) -> None:
        check_url(url, settings)

    return guard


def check_request(
    source: str, options: Mapping[str, Any], settings: Settings | None = None
) -> None:
    """Raise :class:`~altermag.errors.SourceError` unless a screening requested over the network
    may read ``source`` with ``options`` (see the module for the rules)."""
    settings = settings or get_settings()
    name = "materials_project" if source == "mp" else source
    if name not in settings.allowed_source_list:
        raise SourceError(
            f"source {name!r} is not allowed here (the operator lists allowed sources in "
            "ALTERMAG_ALLOWED_SOURCES)"
        )
    extra = sorted(set(options) - SAFE_OPTIONS.get(name, frozenset()))
    if extra:
        raise SourceError(f"source option(s) {', '.join(extra)} cannot be set in a request")
    if "base_url" in options or name == "optimade":
        base = options.get("base_url")
        if not isinstance(base, str):
            raise SourceError("base_url must be a URL")
        check_url(base, settings)
    if name in ("local", "magndata"):
        path = options.get("path")
        if not isinstance(path, str):
            raise SourceError("path must be a folder name")
        roots = [Path(p).resolve() for p in settings.allowed_path_list]
        target = Path(path).resolve()
        if not any(target == r or r in target.parents for r in roots):
            raise SourceError(
                "this path is not in an allowed folder (the operator lists them in "
                "ALTERMAG_ALLOWED_PATHS)"
            )
