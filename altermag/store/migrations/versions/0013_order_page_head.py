"""Each order row's fixed candidate fields as stored JSON (``magnetic_orders.page_head``).

A page of the API's candidate table read 27 columns per row and encoded each row again;
most of those fields (the material's identity, the classification, the heuristic's rank)
never change once the row is stored. They are now kept as the JSON members the page sends
(:func:`altermag.store.pages.page_head`), written with the row and by its upsert, and a page
reads that one value plus the fields that change later (scores, DFT results). Existing rows
are filled here; a downgrade drops the column (the fields stay in their own columns).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000


def upgrade() -> None:
    from altermag.store.pages import HEAD_FIELDS, page_head

    # plain ADD COLUMN: a batch copy of magnetic_orders would fire ON DELETE SET NULL on
    # dft_jobs.order_id
    op.add_column(
        "magnetic_orders", sa.Column("page_head", sa.Text(), server_default="", nullable=False)
    )
    columns = ["id", *("element_list" if f == "elements" else f for f in HEAD_FIELDS)]
    select = sa.text(
        f"SELECT {', '.join(columns)} FROM magnetic_orders WHERE id > :after ORDER BY id "
        f"LIMIT {BATCH}"
    )
    update = sa.text("UPDATE magnetic_orders SET page_head = :head WHERE id = :id")
    conn = op.get_bind()
    after = -1
    while rows := conn.execute(select, {"after": after}).mappings().all():
        conn.execute(update, [{"head": page_head(row), "id": row["id"]} for row in rows])
        after = rows[-1]["id"]


def downgrade() -> None:
    op.drop_column("magnetic_orders", "page_head")
