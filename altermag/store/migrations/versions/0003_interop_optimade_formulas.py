"""OPTIMADE formulas and element count on each material, for OPTIMADE filters.

``formula_reduced`` (``F2Mn``, elements in alphabetical order) and ``formula_anonymous``
(``A2B``) are OPTIMADE's ``chemical_formula_reduced`` and ``chemical_formula_anonymous``;
string comparisons on them must run in the database, so they are stored, indexed, next to
pymatgen's ``formula`` (``MnF2``). Existing rows are filled from their stored structures.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from altermag.formulas import optimade_formulas

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("formula_reduced", "formula_anonymous", "nelements")


def upgrade() -> None:
    op.add_column(
        "materials",
        sa.Column("formula_reduced", sa.String(128), server_default="", nullable=False),
    )
    op.add_column(
        "materials",
        sa.Column("formula_anonymous", sa.String(128), server_default="", nullable=False),
    )
    op.add_column(
        "materials", sa.Column("nelements", sa.Integer(), server_default="0", nullable=False)
    )
    for name in COLUMNS:
        op.create_index(f"ix_materials_{name}", "materials", [name])
    conn = op.get_bind()
    rows = []
    for material_id, structure in conn.execute(sa.text("SELECT id, structure FROM materials")):
        species = (json.loads(structure) if isinstance(structure, str) else structure)["species"]
        reduced, anonymous = optimade_formulas(species)
        rows.append({"m": material_id, "r": reduced, "a": anonymous, "n": len(set(species))})
    if rows:
        conn.execute(
            sa.text(
                "UPDATE materials SET formula_reduced = :r, formula_anonymous = :a, "
                "nelements = :n WHERE id = :m"
            ),
            rows,
        )


def downgrade() -> None:
    for name in COLUMNS:
        op.drop_index(f"ix_materials_{name}", table_name="materials")
        op.drop_column("materials", name)
