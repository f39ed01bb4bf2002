"""The structure-prototype key of a material, stored and indexed (``materials.prototype``).

Candidate pages with ``max_per_prototype`` keep at most N rows per structure prototype, the
rule of :func:`altermag.ranking.rank_candidates`; the key
(:func:`altermag.prototypes.prototype_key`: anonymous formula and space group) is now a
column so the database can count rows per prototype. Existing materials are backfilled from
their stored analysis: the space group number of the result of the material's first stored
order (the crystal's space group, moments ignored, as the screening's files use it) with the
anonymous formula already stored. Materials without a stored order keep an empty key (they
have no candidate rows); storing an analysis of them later sets it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_materials_prototype"
BATCH = 1000


def upgrade() -> None:
    op.add_column(
        "materials", sa.Column("prototype", sa.String(160), server_default="", nullable=False)
    )
    op.create_index(INDEX, "materials", ["prototype"])
    bind = op.get_bind()
    materials = sa.table(
        "materials",
        sa.column("id", sa.Integer),
        sa.column("formula_anonymous", sa.String),
        sa.column("prototype", sa.String),
    )
    orders = sa.table(
        "magnetic_orders",
        sa.column("id", sa.Integer),
        sa.column("material_id", sa.Integer),
        sa.column("result", sa.JSON),
    )
    first = (
        sa.select(orders.c.material_id, sa.func.min(orders.c.id).label("oid"))
        .group_by(orders.c.material_id)
        .subquery()
    )
    rows = bind.execute(
        sa.select(materials.c.id, materials.c.formula_anonymous, orders.c.result)
        .join(first, first.c.material_id == materials.c.id)
        .join(orders, orders.c.id == first.c.oid)
        .order_by(materials.c.id)
    ).all()  # read before writing: SQLite cannot update a table under an open cursor
    update = (
        sa.update(materials)
        .where(materials.c.id == sa.bindparam("mid"))
        .values(prototype=sa.bindparam("proto"))
    )
    batch: list[dict[str, object]] = []
    for mid, anonymous, result in rows:
        sg = (result or {}).get("space_group_number")
        if sg is None or not anonymous:
            continue
        # altermag.prototypes.prototype_key's format: anonymous formula, space group number
        batch.append({"mid": mid, "proto": f"{anonymous} {int(sg)}"})
        if len(batch) >= BATCH:
            bind.execute(update, batch)
            batch = []
    if batch:
        bind.execute(update, batch)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="materials")
    op.drop_column("materials", "prototype")
