"""Any OPTIMADE provider (Materials Project, OQMD, Alexandria, JARVIS, COD, ...).

Pages through ``{base_url}/v1/structures?filter=...`` following ``links.next``; the cursor is
the URL of the next page, so an interrupted fetch resumes exactly where it stopped. Requests
have a timeout; HTTP 429 and 5xx answers and dropped connections are retried with
exponential backoff (honouring ``Retry-After``). Entries with partial occupancy or vacancies
(OPTIMADE ``structure_features`` "disorder", or species with several chemical symbols or a
concentration below 1) are skipped and counted, as altermag needs ordered structures.

``url_guard`` (set by :meth:`altermag.screening_run.ScreenRequest.open_source` for screenings
requested over the network, :mod:`altermag.sources.allow`) is called with every URL before
it is requested, the provider's next-page links and redirects included. Error messages name
the URL and the HTTP status, never the body of an answer that is not OPTIMADE JSON.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import numpy as np

from altermag.sources import Page, Record, SourceError
from altermag.structure import MagneticStructure

__all__ = ["RESPONSE_FIELDS", "OptimadeSource", "structure_from_optimade"]

RESPONSE_FIELDS = (
    "lattice_vectors",
    "cartesian_site_positions",
    "species_at_sites",
    "species",
    "structure_features",
    "chemical_formula_reduced",
    "dimension_types",
)


def structure_from_optimade(entry: dict[str, Any]) -> tuple[MagneticStructure | None, str | None]:
    """An OPTIMADE structure entry as a :class:`MagneticStructure`, or ``(None, reason)``."""
    attrs = entry.get("attributes") or {}
    try:
        lattice = np.array(attrs["lattice_vectors"], dtype=float)
        cart = np.array(attrs["cartesian_site_positions"], dtype=float)
        names = list(attrs["species_at_sites"])
    except (KeyError, TypeError, ValueError):
        return None, "missing lattice_vectors, cartesian_site_positions or species_at_sites"
    if lattice.shape != (3, 3) or not np.all(np.isfinite(lattice)):
        return None, "not a 3D periodic structure (lattice_vectors incomplete)"
    dims = attrs.get("dimension_types")
    if dims is not None and list(dims) != [1, 1, 1]:
        return None, "not periodic in three dimensions"
    if "disorder" in (attrs.get("structure_features") or []):
        return None, "disordered (structure_features: disorder)"
    species = {s["name"]: s for s in attrs.get("species") or []}
    symbols = []
    for name in names:
        sp = species.get(name)
        if sp is None:
            symbols.append(name)
            continue
        chem = list(sp.get("chemical_symbols") or [])
        conc = list(sp.get("concentration") or [1.0])
        if len(chem) != 1 or chem[0] in ("X", "vacancy") or abs(float(conc[0]) - 1.0) > 1e-6:
            return None, "disordered (partial occupancy or vacancy)"
        symbols.append(chem[0])
    if len(symbols) != len(cart):
        return None, "species_at_sites and cartesian_site_positions differ in length"
    frac = np.linalg.solve(lattice.T, cart.T).T
    return MagneticStructure(lattice, tuple(symbols), frac, None, str(entry.get("id", ""))), None


@dataclass
class OptimadeSource:
    """Structures from an OPTIMADE provider.

    Parameters
    ----------
    base_url
        Provider base URL, e.g. ``https://optimade.materialsproject.org``.
    filter
        OPTIMADE filter, e.g. ``elements HAS ANY "Mn","Fe" AND nelements<=4``.
    page_limit
        Entries per request.
    timeout
        Seconds per request.
    max_retries, backoff
        Retries on 429/5xx/connection errors, waiting ``backoff * 2**attempt`` seconds.
    extra_fields
        Extra (e.g. provider-prefixed ``_mp_...``) response fields kept in the metadata.
    """

    base_url: str
    filter: str | None = None
    page_limit: int = 100
    timeout: float = 30.0
    max_retries: int = 5
    backoff: float = 1.0
    extra_fields: tuple[str, ...] = ()
    name: str = "optimade"
    headers: dict[str, str] = field(default_factory=dict)
    url_guard: Callable[[str], None] | None = field(default=None, repr=False, compare=False)

    def first_url(self) -> str:
        params: dict[str, Any] = {
            "page_limit": self.page_limit,
            "response_fields": ",".join((*RESPONSE_FIELDS, *self.extra_fields)),
        }
        if self.filter:
            params["filter"] = self.filter
        return f"{self.base_url.rstrip('/')}/v1/structures?{urlencode(params)}"

    def _get(self, client: Any, url: str) -> dict[str, Any]:
        import httpx

        last = "no attempt"
        for attempt in range(self.max_retries + 1):
            try:
                resp = client.get(url)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if resp.status_code == 429 or resp.status_code >= 500:
                    last = f"HTTP {resp.status_code}"
                    retry_after = resp.headers.get("Retry-After")
                    if retry_after and retry_after.isdigit() and attempt < self.max_retries:
                        time.sleep(min(float(retry_after), 60.0))
                        continue
                elif resp.status_code >= 400:
                    raise SourceError(
                        f"{url}: HTTP {resp.status_code} from the provider: {_detail(resp)}", url
                    )
                else:
                    try:
                        data = resp.json()
                    except ValueError:
                        kind = resp.headers.get("content-type", "no content type")
                        raise SourceError(
                            f"{url}: malformed response (not JSON) of {len(resp.content)} "
                            f"bytes, {kind[:60]}",
                            url,
                        ) from None
                    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
                        raise SourceError(
                            f"{url}: malformed response (no 'data' list of entries)", url
                        )
                    return data
            if attempt < self.max_retries:
                time.sleep(self.backoff * 2**attempt)
        raise SourceError(
            f"{url}: giving up after {self.max_retries + 1} attempts ({last}); resume from "
            "this URL",
            url,
        )

    def pages(self, cursor: str | None = None) -> Iterator[Page]:
        import httpx

        url: str | None = cursor or self.first_url()
        headers = {"Accept": "application/vnd.api+json, application/json", **self.headers}
        hooks = {"request": [_guarded(self.url_guard)]} if self.url_guard else {}
        with httpx.Client(
            timeout=self.timeout, headers=headers, follow_redirects=True, event_hooks=hooks
        ) as client:
            while url:
                data = self._get(client, url)
                records: list[Record] = []
                skipped: dict[str, int] = {}
                for entry in data["data"]:
                    structure, reason = structure_from_optimade(entry)
                    entry_id = str(entry.get("id"))
                    if structure is None:
                        skipped[reason or "unknown"] = skipped.get(reason or "unknown", 0) + 1
                        continue
                    attrs = entry.get("attributes") or {}
                    meta = {
                        "source": self.name,
                        "provider_url": self.base_url,
                        "formula": attrs.get("chemical_formula_reduced"),
                        **{k: attrs[k] for k in self.extra_fields if k in attrs},
                    }
                    records.append(Record(entry_id, structure, meta))
                links = data.get("links") or {}
                nxt = links.get("next")
                if isinstance(nxt, dict):
                    nxt = nxt.get("href")
                more = (data.get("meta") or {}).get("more_data_available", bool(nxt))
                url = nxt if (nxt and more) else None
                yield Page(records, url, skipped)


def _guarded(guard: Callable[[str], None]) -> Callable[[Any], None]:
    def hook(request: Any) -> None:
        guard(str(request.url))

    return hook


def _detail(resp: Any) -> str:
    """The provider's OPTIMADE error details (JSON:API ``errors``), never a raw body."""
    try:
        errors = resp.json().get("errors") or []
        text = "; ".join(
            str(e.get("detail") or e.get("title")) for e in errors if isinstance(e, dict)
        )
    except (ValueError, AttributeError):
        text = ""
    return text[:200] or "no OPTIMADE error details"
