"""The DFT ground-state verdict on the candidate table: a column and a sort.

Adds to ``magnetic_orders`` the material's latest ground-state search, denormalised like
the other candidate columns: ``dft_ground_state`` (the winning order's verdict, or
``inconclusive``), ``dft_am_margin_mev`` (meV per magnetic atom: > 0 the altermagnetic
ground state's margin, < 0 how far the best altermagnetic order lies above the ground state)
and its NOT NULL sort key ``dft_gs_key`` (``-1e300`` when missing) with a ``(key, id)``
index, so ``sort=dft_ground_state`` pages are index range scans. Filled from the stored
completed searches (DFT jobs of kind ``groundstate``; the latest per material wins).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 13:40:00
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MISSING = sa.text("-1e300")
INDEX = "ix_magnetic_orders_dft_gs_key"


def upgrade() -> None:
    from altermag.store.dft_jobs import ground_state_columns

    # plain ALTER TABLE (no batch copy on SQLite: recreating magnetic_orders would set the
    # DFT jobs' order_id to NULL through their ON DELETE SET NULL foreign key)
    op.add_column("magnetic_orders", sa.Column("dft_ground_state", sa.String(32), nullable=True))
    op.add_column("magnetic_orders", sa.Column("dft_am_margin_mev", sa.Float(), nullable=True))
    op.add_column(
        "magnetic_orders",
        sa.Column("dft_gs_key", sa.Float(), server_default=MISSING, nullable=False),
    )
    op.create_index(INDEX, "magnetic_orders", ["dft_gs_key", "id"])
    conn = op.get_bind()
    jobs = conn.execute(
        sa.text(
            "SELECT j.material_id, j.parameters, r.verdict "
            "FROM dft_jobs j JOIN dft_results r ON r.job_id = j.id "
            "WHERE j.status = 'completed' ORDER BY j.id"
        )
    ).all()
    for material_id, parameters, verdict in jobs:  # oldest first: the latest search wins
        verdict = json.loads(verdict) if isinstance(verdict, str) else verdict
        parameters = json.loads(parameters) if isinstance(parameters, str) else parameters
        if (parameters or {}).get("kind") != "groundstate" or not isinstance(verdict, dict):
            continue
        values = ground_state_columns(verdict)
        if values["dft_ground_state"] is None:
            continue
        conn.execute(
            sa.text(
                "UPDATE magnetic_orders SET dft_ground_state = :gs, dft_am_margin_mev = :m, "
                "dft_gs_key = :key WHERE material_id = :mid"
            ),
            {
                "gs": values["dft_ground_state"],
                "m": values["dft_am_margin_mev"],
                "key": values["dft_gs_key"],
                "mid": material_id,
            },
        )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="magnetic_orders")
    for name in ("dft_gs_key", "dft_am_margin_mev", "dft_ground_state"):
        op.drop_column("magnetic_orders", name)
