"""SQLAlchemy 2 models of the screening store.

One row per concept:

* :class:`Material` — a crystal (with or without moments) identified by
  :meth:`MagneticStructure.content_hash`, its formula, elements and where it came from;
* :class:`MagneticOrder` — one collinear magnetic order of a material as classified by the
  spin-group engine under given settings (verdict, wave, spin Laue group, form factor, nodal
  planes, the order heuristic and the full :class:`SpinGroupResult` JSON). A structure given
  with moments has one order; a structure without moments has one per enumerated k = 0 order;
* :class:`ModelScore` — the ground-state prior's P(altermagnetic ground state) and P(k = 0)
  of a material for a model version;
* :class:`ScreeningRun` and :class:`RunItem` — a screening run and every input it saw, failed
  inputs included with their error message;
* :class:`DftJob` and :class:`DftResult` — first-principles checks of an order;
* :class:`ApiKey` — hashed keys of the REST API.

The schema itself is created by the Alembic migrations in ``altermag/store/migrations``;
``tests/integration/test_store.py`` checks that they match these models.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "MATERIAL_IDENTITY",
    "MISSING_SCORE",
    "ApiKey",
    "Base",
    "DftJob",
    "DftResult",
    "MagneticOrder",
    "Material",
    "MaterialElement",
    "ModelScore",
    "RunItem",
    "ScreeningRun",
    "StoreState",
]

#: Deterministic constraint names, so that migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

HASH = String(64)
"""Length of a hex SHA-256 digest (content and settings hashes)."""

MISSING_SCORE = -1.0e300
"""Sort key of a missing value (unscored, no DFT result): it sorts after every real one."""
MISSING_SQL = text("-1e300")


def utcnow() -> datetime:
    """Timezone-aware current time in UTC (stored as such on PostgreSQL)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy's declarative configuration
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class Material(Base):
    """A crystal structure, identified by the content hash of lattice, sites and moments."""

    __tablename__ = "materials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(HASH, unique=True)
    formula: Mapped[str] = mapped_column(String(128), index=True)
    n_sites: Mapped[int] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(String(128), index=True)
    """Source of the first sighting (``local``, ``optimade:mp``, ``corpus``...)."""
    source_id: Mapped[str | None] = mapped_column(String(256))
    """Identifier of the entry in that source (file name, ``mp-1234``...)."""
    structure: Mapped[dict[str, Any]] = mapped_column(JSON)
    """:meth:`MagneticStructure.to_dict` of the stored structure."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    element_list: Mapped[str] = mapped_column(String(256), server_default="")
    """The elements, sorted and space separated (``"F Mn"``): read with each candidate row;
    :class:`MaterialElement` rows index them for filters."""
    formula_reduced: Mapped[str] = mapped_column(String(128), index=True, server_default="")
    """OPTIMADE ``chemical_formula_reduced`` (``F2Mn``: alphabetical), for OPTIMADE filters."""
    formula_anonymous: Mapped[str] = mapped_column(String(128), index=True, server_default="")
    """OPTIMADE ``chemical_formula_anonymous`` (``A2B``)."""
    nelements: Mapped[int] = mapped_column(Integer, index=True, server_default="0")
    prototype: Mapped[str] = mapped_column(String(160), index=True, server_default="")
    """Structure-prototype key (``A2B 136``: :func:`altermag.prototypes.prototype_key`), set
    when an analysis of the material is stored; empty until then. Candidate pages with
    ``max_per_prototype`` cap rows per key."""

    elements: Mapped[list[MaterialElement]] = relationship(
        back_populates="material", cascade="all, delete-orphan", lazy="selectin"
    )
    orders: Mapped[list[MagneticOrder]] = relationship(
        back_populates="material", cascade="all, delete-orphan", order_by="MagneticOrder.id"
    )
    scores: Mapped[list[ModelScore]] = relationship(
        back_populates="material", cascade="all, delete-orphan", order_by="ModelScore.id"
    )
    dft_jobs: Mapped[list[DftJob]] = relationship(
        back_populates="material", cascade="all, delete-orphan", order_by="DftJob.id"
    )


# sort=formula on PostgreSQL orders by ``formula COLLATE "C"`` (byte order, as SQLite's
# BINARY): only an index in that collation lets a page walk it instead of sorting every
# candidate. SQLite's plain formula index already is in byte order.
# (The collation goes in as the column's operator-class text: Alembic reflects the index as
# one on ``formula`` either way, and an expression index would never compare equal to it.)
Index("ix_materials_formula_c", Material.formula, postgresql_ops={"formula": 'COLLATE "C"'}).ddl_if(
    dialect="postgresql"
)


class MaterialElement(Base):
    """One chemical element of a material (an index for the OPTIMADE ``elements HAS ...``
    filters; candidate pages test the order rows' own ``element_list`` instead)."""

    __tablename__ = "material_elements"

    material_id: Mapped[int] = mapped_column(
        ForeignKey("materials.id", ondelete="CASCADE"), primary_key=True
    )
    element: Mapped[str] = mapped_column(String(3), primary_key=True, index=True)

    material: Mapped[Material] = relationship(back_populates="elements")


class MagneticOrder(Base):
    """One collinear order of a material and its spin-group classification.

    ``(material_id, settings_hash, moments_key)`` is unique: storing the same analysis of the
    same structure twice adds nothing.
    """

    __tablename__ = "magnetic_orders"
    __table_args__ = (
        UniqueConstraint("material_id", "settings_hash", "moments_key"),
        # Keyset pages of the candidate table walk these indexes (sort key, id) backwards.
        Index("ix_magnetic_orders_score_key", "score_key", "id"),
        Index("ix_magnetic_orders_dft_key", "dft_key", "id"),
        Index("ix_magnetic_orders_dft_gs_key", "dft_gs_key", "id"),
        Index("ix_magnetic_orders_verdict_score_key", "verdict", "score_key", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    material_id: Mapped[int] = mapped_column(
        ForeignKey("materials.id", ondelete="CASCADE"), index=True
    )
    settings_hash: Mapped[str] = mapped_column(HASH)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    moments_key: Mapped[str] = mapped_column(HASH)
    """SHA-256 of the signed collinear moments (μB, rounded) that define this order."""
    moments: Mapped[list[Any] | None] = mapped_column(JSON)
    """Signed collinear moment per site (μB; ±1 for enumerated orders), None if unordered."""
    enumerated: Mapped[bool] = mapped_column(Boolean, default=False)
    verdict: Mapped[str] = mapped_column(String(32), index=True)
    wave: Mapped[str | None] = mapped_column(String(1), index=True)
    spin_laue_group: Mapped[str | None] = mapped_column(String(64))
    form_factor: Mapped[str | None] = mapped_column(Text)
    nodal_planes: Mapped[list[Any]] = mapped_column(JSON)
    heuristic_rank: Mapped[int | None] = mapped_column(Integer)
    """1 = most plausible enumerated order; None for orders given with the structure."""
    heuristic_score: Mapped[float | None] = mapped_column(Float)
    heuristic_reason: Mapped[str | None] = mapped_column(Text)
    p_ground_state: Mapped[float | None] = mapped_column(Float)
    """The ground-state prior's P(ground state) of this enumerated order (``heuristic_rank`` is
    then the prior's rank); 1 for an order given with the structure (taken as its ground
    state, :func:`altermag.ranking.given_order_probability`); None for rows stored without
    the prior."""
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    """:meth:`SpinGroupResult.to_dict` of this order."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Denormalised for the candidate table (kept in step by the store, never set by hand):
    # the material's score under the most recently stored model version, and the latest
    # DFT result of this order, each with a NOT NULL sort key (MISSING_SCORE when absent)
    # that the indexes above order, so a page is an index range scan, not a sort.
    model_version: Mapped[str | None] = mapped_column(String(128))
    score: Mapped[float | None] = mapped_column(Float)
    """The material's P(altermagnetic ground state) from the ground-state prior (latest model
    version; for an order given with the structure 1 for an altermagnet, else 0)."""
    score_key: Mapped[float] = mapped_column(Float, server_default=MISSING_SQL)
    p_k0: Mapped[float | None] = mapped_column(Float)
    """The prior's P(k = 0) of the material under the same model version (None when the model
    gives none), beside its ``score``."""
    dft_status: Mapped[str | None] = mapped_column(String(16))
    """Verdict status of the latest DFT check: confirmed / contradicted / inconclusive."""
    dft_splitting_ev: Mapped[float | None] = mapped_column(Float)
    """Largest spin splitting (eV) found by that check."""
    dft_key: Mapped[float] = mapped_column(Float, server_default=MISSING_SQL)
    dft_ground_state: Mapped[str | None] = mapped_column(String(32))
    """The material's latest DFT ground-state search: the winning order's verdict
    (``altermagnet``, ``ferromagnet``…, `` (near-degenerate)`` appended when it is), or
    ``inconclusive`` (:func:`altermag.dft.groundstate.compare.ground_state_label`)."""
    dft_am_margin_mev: Mapped[float | None] = mapped_column(Float)
    """meV per magnetic atom: > 0 the altermagnetic ground state's margin, < 0 how far the
    best altermagnetic order lies above the ground state
    (:func:`altermag.dft.groundstate.compare.altermagnet_margin`)."""
    dft_gs_key: Mapped[float] = mapped_column(Float, server_default=MISSING_SQL)

    # The material's identity as a candidate row shows it, copied from ``materials`` when the
    # order is stored (a material is never changed once stored: its content hash is its key,
    # its source the first sighting's), so a page reads this table alone.
    formula: Mapped[str] = mapped_column(String(128), server_default="")
    element_list: Mapped[str] = mapped_column(String(256), server_default="")
    content_hash: Mapped[str] = mapped_column(HASH, server_default="")
    source: Mapped[str | None] = mapped_column(String(128))
    source_id: Mapped[str | None] = mapped_column(String(256))

    page_head: Mapped[str] = mapped_column(Text, server_default="")
    """The row's candidate fields that change only when the order is stored again (its
    material and identity, the classification, the heuristic's rank), as the JSON members
    the API's candidate pages send (:func:`altermag.store.pages.page_head`); written with
    the row and by its upsert, so a page reads one value instead of seventeen."""

    material: Mapped[Material] = relationship(back_populates="orders")


MATERIAL_IDENTITY = ("formula", "element_list", "content_hash", "source", "source_id")
"""The columns of ``materials`` copied onto each of its ``magnetic_orders`` rows (same names)."""


class ModelScore(Base):
    """The ground-state prior's answer for a material under one model version."""

    __tablename__ = "model_scores"
    __table_args__ = (UniqueConstraint("material_id", "model_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    material_id: Mapped[int] = mapped_column(
        ForeignKey("materials.id", ondelete="CASCADE"), index=True
    )
    model_version: Mapped[str] = mapped_column(String(128), index=True)
    score: Mapped[float] = mapped_column(Float)
    """P(altermagnetic ground state) (:func:`altermag.ml.prior.p_altermagnetic`)."""
    p_k0: Mapped[float | None] = mapped_column(Float)
    """The ground-state prior's P(k = 0) (``score`` is then P(altermagnetic ground state))."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    material: Mapped[Material] = relationship(back_populates="scores")


class ScreeningRun(Base):
    """One screening of a source: its parameters, status, counts and run-level errors."""

    __tablename__ = "screening_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str | None] = mapped_column(String(128), unique=True)
    """Optional caller-chosen identity: starting a run with an existing key resumes it."""
    source: Mapped[str] = mapped_column(String(256))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True, default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    errors: Mapped[list[Any]] = mapped_column(JSON)
    source_cursor: Mapped[str | None] = mapped_column(Text)
    """The source's page cursor reached so far: a resumed run continues from there."""
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    """The API process running (or holding queued) this run; None when nobody holds it."""
    lease_expires: Mapped[datetime | None] = mapped_column()
    """When the holder's lease lapses unless renewed; then another process takes the run."""

    items: Mapped[list[RunItem]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="RunItem.id"
    )


class RunItem(Base):
    """An input a run saw: the material it became, or the error that stopped it."""

    __tablename__ = "run_items"
    __table_args__ = (UniqueConstraint("run_id", "input_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("screening_runs.id", ondelete="CASCADE"))
    input_ref: Mapped[str] = mapped_column(String(512))
    """The input as the source names it (file path, ``mp-1234``, ``file.xyz#3``)."""
    material_id: Mapped[int | None] = mapped_column(
        ForeignKey("materials.id", ondelete="CASCADE"), index=True
    )
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    run: Mapped[ScreeningRun] = relationship(back_populates="items")


class DftJob(Base):
    """A first-principles check of a material (and of one of its orders)."""

    __tablename__ = "dft_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    material_id: Mapped[int] = mapped_column(
        ForeignKey("materials.id", ondelete="CASCADE"), index=True
    )
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("magnetic_orders.id", ondelete="SET NULL"), index=True
    )
    code: Mapped[str] = mapped_column(String(16))
    """``qe`` or ``vasp``."""
    status: Mapped[str] = mapped_column(String(16), default="pending")
    directory: Mapped[str | None] = mapped_column(String(1024))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    material: Mapped[Material] = relationship(back_populates="dft_jobs")
    result: Mapped[DftResult | None] = relationship(
        back_populates="job", cascade="all, delete-orphan", lazy="selectin"
    )


class DftResult(Base):
    """The outcome of a DFT job: the verdict JSON and the largest spin splitting found."""

    __tablename__ = "dft_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("dft_jobs.id", ondelete="CASCADE"), unique=True)
    verdict: Mapped[dict[str, Any]] = mapped_column(JSON)
    max_splitting_ev: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    job: Mapped[DftJob] = relationship(back_populates="result")


class ApiKey(Base):
    """A REST API key: only its SHA-256 is stored; revoked keys keep their row."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    key_hash: Mapped[str] = mapped_column(HASH, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    scope: Mapped[str] = mapped_column(String(16), default="write", server_default="write")
    """``read`` (reads when they are private), ``write`` (also changes stored state) or
    ``admin`` (also creates, lists and revokes keys); each includes the ones before it."""


class StoreState(Base):
    """One row: a revision number that every committed write transaction increments.

    Readers that cache derived views (the API's candidate pages) compare it to decide
    whether a cached view is still exact; see :meth:`Store.revision`.
    """

    __tablename__ = "store_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger)
