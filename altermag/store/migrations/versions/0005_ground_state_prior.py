"""The ground-state prior's numbers: P(ground state) per enumerated order, P(k = 0) per score.

``magnetic_orders.p_ground_state`` is the prior's probability that the order is the crystal's
ground state among its enumerated orders (its ``heuristic_rank`` is then the prior's rank);
``model_scores.p_k0`` is the prior's P(k = 0) of the material (``score`` is P(altermagnetic
ground state)). Both are NULL for rows stored before the prior or without it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("magnetic_orders", sa.Column("p_ground_state", sa.Float(), nullable=True))
    op.add_column("model_scores", sa.Column("p_k0", sa.Float(), nullable=True))


def downgrade() -> None:
    # plain DROP COLUMN (SQLite >= 3.35): a batch copy of magnetic_orders would drop the old
    # table, and its ON DELETE SET NULL would cut every DFT job's link to its order
    op.drop_column("model_scores", "p_k0")
    op.drop_column("magnetic_orders", "p_ground_state")
