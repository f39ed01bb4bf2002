"""Screening leases: which API process runs a queued screening, and until when.

``lease_owner`` names the process holding a run, ``lease_expires`` when its hold lapses
unless renewed. A run that is ``queued`` or ``running`` with a lapsed (or no) lease is taken
over by the next API process that looks, so screenings resume after a restart.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("screening_runs") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(128), nullable=True))
        batch.add_column(sa.Column("lease_expires", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("screening_runs") as batch:
        batch.drop_column("lease_expires")
        batch.drop_column("lease_owner")
