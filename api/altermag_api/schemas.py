"""Response models of the API, generated from the library's own types (one schema).

The store's records and :class:`~altermag.result.SpinGroupResult` are dataclasses; pydantic
builds their JSON schema (and FastAPI the OpenAPI document) from the dataclass fields, so the
API cannot drift from the library. Only envelopes that exist nowhere else are defined here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from altermag.result import SpinGroupResult
from altermag.store import Candidate, DftJobRecord, OrderRecord, RunRecord, ScoreRecord

__all__ = [
    "AnalysisResult",
    "ApiKeyCreated",
    "CandidateList",
    "Health",
    "MaterialOut",
    "ScreeningStarted",
    "ScreeningStatus",
]


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    database: str
    screening_backend: Literal["prefect", "thread"]


class CandidateList(BaseModel):
    """One page of candidates; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[Candidate]
    next_cursor: str | None
    sort: str
    limit: int


class MaterialLinks(BaseModel):
    report_html: str
    report_json: str


class MaterialOut(BaseModel):
    """A stored material: structure, every stored order with its verdict, scores, DFT jobs."""

    id: int
    content_hash: str
    formula: str
    elements: list[str]
    n_sites: int
    source: str | None
    source_id: str | None
    structure: dict[str, Any]
    created_at: str
    orders: list[OrderRecord]
    scores: list[ScoreRecord]
    dft_jobs: list[DftJobRecord]
    ground_state: dict[str, Any] | None = None
    """The latest DFT ground-state search: ``source``, ``formula``, ``code``, ``settings``,
    ``orders`` (label, moments, verdict, wave, energy_ev,
    relative_energy_mev_per_magnetic_atom, status, final_moments), ``ground_state`` (label,
    verdict, wave, margin_mev_per_magnetic_atom), ``verdict``; null before any search."""
    links: MaterialLinks


@dataclass
class AnalysisResult(SpinGroupResult):
    """``altermag analyze --json`` output for one input: the result plus source and formula."""

    source: str = ""
    formula: str = ""


class ScreeningStarted(BaseModel):
    run_id: int
    status: str
    backend: Literal["prefect", "thread"]
    flow_run_id: str | None = None
    links: dict[str, str]


class ScreeningStatus(BaseModel):
    run: RunRecord
    flow_run_id: str | None = None
    links: dict[str, str]


class ApiKeyCreated(BaseModel):
    name: str
    key: str = Field(description="Shown once; only its hash is stored.")
    scope: Literal["read", "write", "admin"]


class Problem(BaseModel):
    """Error body: ``detail`` says what was wrong (a message, or FastAPI's list of invalid
    fields for a request that does not match the schema)."""

    detail: str | list[dict[str, Any]]


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error statuses an operation can answer."""
    meaning = {
        400: "Malformed request (e.g. a cursor this server did not issue, a NUL byte in the "
        "path or query, or a body that cannot be parsed: JSON that is not UTF-8, broken "
        "multipart framing)",
        401: "Missing, unknown or revoked API key",
        403: "The API key's scope does not allow this request",
        404: "Not found",
        409: "Conflict with stored state (e.g. a key name already used)",
        413: "Input larger than the limits (upload bytes, atoms, operations × sites, moments, "
        "analysis time or memory)",
        415: "Unsupported file type",
        422: "Invalid parameters, or a file that could not be read or analysed",
        429: "Every analysis worker busy and the queue full: retry after Retry-After seconds",
        503: "Database or Prefect server unavailable",
    }
    return {c: {"model": Problem, "description": meaning[c]} for c in codes}
