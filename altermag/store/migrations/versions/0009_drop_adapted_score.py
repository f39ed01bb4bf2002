"""Drop the OT-adapted score: only the retired crystal GNN had one.

``model_scores.adapted_score`` and its copy on the candidate table
(``magnetic_orders.adapted_score``, the sort key ``adapted_key`` and its index) held the
legacy GNN's probability after optimal-transport adaptation. The ground-state prior has no
adapted score (``docs/model.md``), so the columns go; ``score`` is the prior's
P(altermagnetic ground state) and ``model_scores.p_k0`` its P(k = 0). A downgrade restores
the columns empty (missing): the dropped values are not kept.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_magnetic_orders_adapted_key"


def upgrade() -> None:
    # plain DROP COLUMN (SQLite >= 3.35, once the index is gone): a batch copy of
    # magnetic_orders would drop the old table, and its ON DELETE SET NULL would cut every
    # DFT job's link to its order
    op.drop_index(INDEX, table_name="magnetic_orders")
    op.drop_column("magnetic_orders", "adapted_key")
    op.drop_column("magnetic_orders", "adapted_score")
    op.drop_column("model_scores", "adapted_score")


def downgrade() -> None:
    op.add_column("model_scores", sa.Column("adapted_score", sa.Float(), nullable=True))
    op.add_column("magnetic_orders", sa.Column("adapted_score", sa.Float(), nullable=True))
    op.add_column(
        "magnetic_orders",
        sa.Column("adapted_key", sa.Float(), server_default=sa.text("-1e300"), nullable=False),
    )
    op.create_index(INDEX, "magnetic_orders", ["adapted_key", "id"])
