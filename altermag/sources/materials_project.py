"""The Materials Project, through its own API (``MP_API_KEY``) or its OPTIMADE endpoint.

``mode="optimade"`` (default) needs no key: it pages through MP's OPTIMADE endpoint and keeps
the provider-prefixed fields listed in ``extra_fields`` (e.g. magnetic ordering) when MP serves
them. ``mode="api"`` uses MP's REST API (summary documents with ``ordering``,
``total_magnetization`` and per-site ``magmom`` in the structure) and needs an API key in
``MP_API_KEY`` (or ``api_key=``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from altermag.errors import PARSER_ERRORS, SettingsError
from altermag.sources import Page, Record, SourceError
from altermag.sources.optimade import OptimadeSource
from altermag.structure import MagneticStructure

__all__ = ["MP_API_URL", "MP_OPTIMADE_URL", "MaterialsProjectSource"]

MP_OPTIMADE_URL = "https://optimade.materialsproject.org"
MP_API_URL = "https://api.materialsproject.org"
#: Provider fields of MP's OPTIMADE structures kept when served (magnetic information).
MP_MAGNETIC_FIELDS = ("_mp_ordering", "_mp_total_magnetization", "_mp_magmoms")
_API_FIELDS = "material_id,formula_pretty,structure,ordering,total_magnetization,is_magnetic"


@dataclass
class MaterialsProjectSource:
    """Materials Project structures (see module docstring for the two modes)."""

    mode: str = "optimade"
    filter: str | None = None
    elements: tuple[str, ...] = ()
    base_url: str | None = None
    api_key: str | None = None
    page_limit: int = 100
    timeout: float = 30.0
    max_retries: int = 5
    backoff: float = 1.0
    extra_fields: tuple[str, ...] = MP_MAGNETIC_FIELDS
    name: str = "materials_project"
    url_guard: Callable[[str], None] | None = field(default=None, repr=False, compare=False)
    """Called with every URL before it is requested (:mod:`altermag.sources.allow`)."""

    def __post_init__(self) -> None:
        if self.mode not in ("optimade", "api"):
            raise SettingsError(f"mode must be 'optimade' or 'api', not {self.mode!r}")
        if self.mode == "api":
            self.api_key = self.api_key or os.environ.get("MP_API_KEY")
            if not self.api_key:
                raise SourceError(
                    "the Materials Project API needs an API key: set MP_API_KEY (your key is on "
                    "your Materials Project dashboard) or use the keyless OPTIMADE mode "
                    "(mode='optimade', `altermag fetch materials_project --mp-mode optimade`)"
                )

    def _optimade(self) -> OptimadeSource:
        flt = self.filter
        if flt is None and self.elements:
            flt = "elements HAS ANY " + ",".join(f'"{e}"' for e in self.elements)
        return OptimadeSource(
            base_url=self.base_url or MP_OPTIMADE_URL,
            filter=flt,
            page_limit=self.page_limit,
            timeout=self.timeout,
            max_retries=self.max_retries,
            backoff=self.backoff,
            extra_fields=self.extra_fields,
            name=self.name,
            url_guard=self.url_guard,
        )

    def pages(self, cursor: str | None = None) -> Iterator[Page]:
        if self.mode == "optimade":
            yield from self._optimade().pages(cursor)
            return
        yield from self._api_pages(cursor)

    def _api_pages(self, cursor: str | None) -> Iterator[Page]:
        import httpx
        from pymatgen.core import Structure

        base = (self.base_url or MP_API_URL).rstrip("/")
        skip = int(cursor or 0)
        headers = {"X-API-KEY": str(self.api_key), "Accept": "application/json"}
        hooks: dict[str, list[Callable[[Any], None]]] = {}
        if self.url_guard is not None:
            guard = self.url_guard
            hooks["request"] = [lambda request: guard(str(request.url))]
        with httpx.Client(timeout=self.timeout, headers=headers, event_hooks=hooks) as client:
            while True:
                params: dict[str, Any] = {
                    "_fields": _API_FIELDS,
                    "_limit": self.page_limit,
                    "_skip": skip,
                }
                if self.elements:
                    params["elements"] = ",".join(self.elements)
                url = f"{base}/materials/summary/?{urlencode(params)}"
                resp = client.get(url)
                if resp.status_code in (401, 403):
                    raise SourceError(
                        f"Materials Project refused the API key (HTTP {resp.status_code}): check "
                        "MP_API_KEY",
                        str(skip),
                    )
                if resp.status_code >= 400:
                    raise SourceError(f"{url}: HTTP {resp.status_code}", str(skip))
                docs = resp.json().get("data") or []
                records = []
                for doc in docs:
                    try:
                        s = Structure.from_dict(doc["structure"])
                        ms = MagneticStructure.from_pymatgen(s, label=doc.get("material_id", ""))
                    except PARSER_ERRORS as exc:  # one bad document never stops the page
                        records.append(
                            Record(
                                str(doc.get("material_id")),
                                None,
                                {},
                                error=f"unreadable structure: {exc}",
                            )
                        )
                        continue
                    meta = {
                        "source": self.name,
                        "formula": doc.get("formula_pretty"),
                        "ordering": doc.get("ordering"),
                        "total_magnetization": doc.get("total_magnetization"),
                    }
                    records.append(Record(str(doc["material_id"]), ms, meta))
                skip += len(docs)
                done = len(docs) < self.page_limit
                yield Page(records, None if done else str(skip))
                if done:
                    return
