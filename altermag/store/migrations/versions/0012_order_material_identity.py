"""The material's identity on each order row (formula, elements, content hash, source).

A candidate row shows its material's formula, element list, content hash, source and source
id. They were read per row from ``materials`` (a nested-loop index lookup for every row of
every page). A material is never changed once stored (its content hash is its key, its
source the first sighting's), so these five columns are now copied onto its order rows when
they are stored, and a page reads ``magnetic_orders`` alone. Existing rows are filled from
their material; a downgrade drops the copies (``materials`` keeps the values).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("formula", "element_list", "content_hash", "source", "source_id")


def upgrade() -> None:
    # plain ADD COLUMN: a batch copy of magnetic_orders would fire ON DELETE SET NULL on
    # dft_jobs.order_id
    op.add_column(
        "magnetic_orders",
        sa.Column("formula", sa.String(128), server_default="", nullable=False),
    )
    op.add_column(
        "magnetic_orders",
        sa.Column("element_list", sa.String(256), server_default="", nullable=False),
    )
    op.add_column(
        "magnetic_orders",
        sa.Column("content_hash", sa.String(64), server_default="", nullable=False),
    )
    op.add_column("magnetic_orders", sa.Column("source", sa.String(128), nullable=True))
    op.add_column("magnetic_orders", sa.Column("source_id", sa.String(256), nullable=True))
    copies = ", ".join(
        f"{c} = (SELECT m.{c} FROM materials m WHERE m.id = magnetic_orders.material_id)"
        for c in COLUMNS
    )
    op.execute(f"UPDATE magnetic_orders SET {copies}")


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.drop_column("magnetic_orders", column)
