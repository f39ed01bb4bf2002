"""Plain records returned by the store (no live database objects leak out of a session).

Every record has ``to_dict()`` (JSON-ready: datetimes as ISO 8601 strings in UTC), so the
API, reports and flows can serialise them without knowing SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from altermag.result import SpinGroupResult
from altermag.structure import MagneticStructure

__all__ = [
    "ApiKeyRecord",
    "Candidate",
    "CandidatePage",
    "DftJobRecord",
    "MaterialRecord",
    "OrderRecord",
    "RunItemRecord",
    "RunRecord",
    "ScoreRecord",
    "StoredAnalysis",
]


def as_utc(value: datetime | None) -> datetime | None:
    """Timestamps read back from SQLite are naive; they were written in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


class _Record:
    _plain: bool = False
    """True when every field is JSON-ready already (no datetimes or nested records)."""

    def to_dict(self) -> dict[str, Any]:
        if self._plain:
            return dict(vars(self))
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class OrderRecord(_Record):
    """A stored magnetic order with its spin-group classification."""

    id: int
    material_id: int
    settings_hash: str
    settings: dict[str, Any]
    moments: list[float] | None
    enumerated: bool
    verdict: str
    wave: str | None
    spin_laue_group: str | None
    form_factor: str | None
    nodal_planes: list[dict[str, Any]]
    heuristic_rank: int | None
    heuristic_score: float | None
    heuristic_reason: str | None
    result: SpinGroupResult
    """The full spin-group classification of this order."""
    created_at: datetime
    p_ground_state: float | None = None
    """The ground-state prior's P(ground state) (enumerated orders scored by the prior)."""

    def spin_group_result(self) -> SpinGroupResult:
        """The stored :class:`SpinGroupResult` (the same object as :attr:`result`)."""
        return self.result


@dataclass(frozen=True)
class ScoreRecord(_Record):
    """The ground-state prior's score of a material: ``score`` is P(altermagnetic ground
    state), ``p_k0`` P(k = 0) (None for a model that gives none)."""

    id: int
    material_id: int
    model_version: str
    score: float
    created_at: datetime
    p_k0: float | None = None
    """The ground-state prior's P(k = 0) (``score`` is then P(altermagnetic ground state))."""


@dataclass(frozen=True)
class DftJobRecord(_Record):
    """A DFT job and, once parsed, its verdict and largest spin splitting (eV)."""

    id: int
    material_id: int
    order_id: int | None
    code: str
    status: str
    directory: str | None
    parameters: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    verdict: dict[str, Any] | None = None
    max_splitting_ev: float | None = None


@dataclass(frozen=True)
class MaterialRecord(_Record):
    """A material with every stored order, score and DFT job."""

    id: int
    content_hash: str
    formula: str
    elements: list[str]
    n_sites: int
    source: str | None
    source_id: str | None
    structure: dict[str, Any]
    created_at: datetime
    orders: list[OrderRecord] = field(default_factory=list)
    scores: list[ScoreRecord] = field(default_factory=list)
    dft_jobs: list[DftJobRecord] = field(default_factory=list)

    def magnetic_structure(self) -> MagneticStructure:
        """The stored structure as a :class:`MagneticStructure`."""
        return MagneticStructure.from_dict(self.structure)

    @property
    def ground_state(self) -> dict[str, Any] | None:
        """The latest DFT ground-state search (:mod:`altermag.dft.groundstate` JSON: orders,
        energies, ground state, verdict, and the band check on the winner), if any."""
        done = [
            j
            for j in self.dft_jobs
            if j.verdict and j.status == "completed" and j.parameters.get("kind") == "groundstate"
        ]
        return done[-1].verdict if done else None


@dataclass(frozen=True)
class RunItemRecord(_Record):
    """An input a run saw: its material, or the error message that stopped it."""

    input_ref: str
    material_id: int | None
    error: str | None


@dataclass(frozen=True)
class RunRecord(_Record):
    """A screening run with its counts and the inputs that failed."""

    id: int
    key: str | None
    source: str
    parameters: dict[str, Any]
    status: str
    counts: dict[str, Any]
    errors: list[Any]
    started_at: datetime
    finished_at: datetime | None
    source_cursor: str | None
    n_inputs: int
    n_materials: int
    n_failed: int
    failed_inputs: list[RunItemRecord] = field(default_factory=list)


@dataclass(frozen=True)
class Candidate(_Record):
    """One row of the candidate table: a magnetic order, its material and its model score."""

    _plain = True  # numbers, strings and JSON lists only: to_dict copies the fields

    order_id: int
    material_id: int
    formula: str
    elements: list[str]
    content_hash: str
    source: str | None
    source_id: str | None
    verdict: str
    wave: str | None
    spin_laue_group: str | None
    form_factor: str | None
    nodal_planes: list[dict[str, Any]]
    moments: list[float] | None
    enumerated: bool
    heuristic_rank: int | None
    heuristic_score: float | None
    heuristic_reason: str | None
    settings_hash: str
    model_version: str | None
    score: float | None
    """P(altermagnetic ground state) of the material under ``model_version`` (the prior)."""
    dft_status: str | None = None
    """Latest DFT check of this order: ``confirmed``, ``contradicted`` or ``inconclusive``."""
    dft_splitting_ev: float | None = None
    """Largest spin splitting (eV) that check found."""
    p_ground_state: float | None = None
    """The ground-state prior's P(this order is the ground state) among the material's
    enumerated orders (1 for an order given with the structure; None: not scored)."""
    p_k0: float | None = None
    """The prior's P(k = 0) of the material (``score`` is then P(altermagnetic ground state);
    for an order given with the structure ``score`` is 1 for an altermagnet, else 0)."""
    dft_ground_state: str | None = None
    """The material's DFT ground-state search: the winner's verdict (`` (near-degenerate)``
    appended when it is) or ``inconclusive``; None: no search."""
    dft_am_margin_mev: float | None = None
    """meV per magnetic atom: > 0 the altermagnetic ground state's margin over the next
    order, < 0 how far the best altermagnetic order lies above the ground state."""

    @property
    def ground_state_label(self) -> str:
        """The ground-state search in a table cell: the winner's verdict and the altermagnetic
        margin (``"altermagnet AM +12.3 meV"``); empty when no search is stored."""
        if self.dft_ground_state is None:
            return ""
        if self.dft_am_margin_mev is None:
            return self.dft_ground_state
        return f"{self.dft_ground_state} {self.am_margin_label}"

    @property
    def am_margin_label(self) -> str:
        """``"AM ±x.x meV"`` (meV per magnetic atom, see ``dft_am_margin_mev``) or empty."""
        m = self.dft_am_margin_mev
        return "" if m is None else f"AM {m:+.1f} meV"


@dataclass(frozen=True)
class CandidatePage(_Record):
    """A page of candidates and the cursor of the next page (None on the last page)."""

    items: list[Candidate]
    next_cursor: str | None
    sort: str
    limit: int


@dataclass(frozen=True)
class ApiKeyRecord(_Record):
    """An API key's metadata (never the key itself)."""

    id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None
    scope: str = "write"

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        """Whether this key's scope includes ``scope`` (read < write < admin)."""
        from altermag.store.keys import SCOPES

        return SCOPES.index(self.scope) >= SCOPES.index(scope)


@dataclass(frozen=True)
class StoredAnalysis(_Record):
    """Where one analysed structure went: its material row and its order rows."""

    material_id: int
    order_ids: list[int]
