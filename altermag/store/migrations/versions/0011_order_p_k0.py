"""P(k = 0) on the candidate rows (``magnetic_orders.p_k0``), beside the score.

The candidate table shows each order's score and P(k = 0) under the most recently stored
model version. The score was already copied onto the order rows; P(k = 0) was read per row
from ``model_scores`` (a correlated lookup on every page row). It is now copied too, kept in
step wherever scores are written (:func:`altermag.store.scores.sync_scores`). Existing rows
are filled from the score row of their material under the version they carry. A downgrade
drops the copy (``model_scores.p_k0`` keeps the values).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN: a batch copy of magnetic_orders would fire ON DELETE SET NULL on
    # dft_jobs.order_id
    op.add_column("magnetic_orders", sa.Column("p_k0", sa.Float(), nullable=True))
    op.execute(
        "UPDATE magnetic_orders SET p_k0 = (SELECT s.p_k0 FROM model_scores s "
        "WHERE s.material_id = magnetic_orders.material_id "
        "AND s.model_version = magnetic_orders.model_version) "
        "WHERE model_version IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_column("magnetic_orders", "p_k0")
