"""Initial schema: materials, orders, scores, runs, DFT jobs and results, API keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 23:04:40.243626
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_api_keys_name")),
    )
    op.create_table(
        "materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("formula", sa.String(length=128), nullable=False),
        sa.Column("n_sites", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=True),
        sa.Column("source_id", sa.String(length=256), nullable=True),
        sa.Column("structure", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_materials")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_materials_content_hash")),
    )
    op.create_index(op.f("ix_materials_formula"), "materials", ["formula"])
    op.create_index(op.f("ix_materials_source"), "materials", ["source"])

    op.create_table(
        "screening_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=True),
        sa.Column("source", sa.String(length=256), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("source_cursor", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_runs")),
        sa.UniqueConstraint("key", name=op.f("uq_screening_runs_key")),
    )
    op.create_index(op.f("ix_screening_runs_status"), "screening_runs", ["status"])

    op.create_table(
        "magnetic_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("settings_hash", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("moments_key", sa.String(length=64), nullable=False),
        sa.Column("moments", sa.JSON(), nullable=True),
        sa.Column("enumerated", sa.Boolean(), nullable=False),
        sa.Column("verdict", sa.String(length=32), nullable=False),
        sa.Column("wave", sa.String(length=1), nullable=True),
        sa.Column("spin_laue_group", sa.String(length=64), nullable=True),
        sa.Column("form_factor", sa.Text(), nullable=True),
        sa.Column("nodal_planes", sa.JSON(), nullable=False),
        sa.Column("heuristic_rank", sa.Integer(), nullable=True),
        sa.Column("heuristic_score", sa.Float(), nullable=True),
        sa.Column("heuristic_reason", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_magnetic_orders_material_id_materials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_magnetic_orders")),
        sa.UniqueConstraint(
            "material_id",
            "settings_hash",
            "moments_key",
            name=op.f("uq_magnetic_orders_material_id_settings_hash_moments_key"),
        ),
    )
    op.create_index(op.f("ix_magnetic_orders_material_id"), "magnetic_orders", ["material_id"])
    op.create_index(op.f("ix_magnetic_orders_verdict"), "magnetic_orders", ["verdict"])
    op.create_index(op.f("ix_magnetic_orders_wave"), "magnetic_orders", ["wave"])

    op.create_table(
        "material_elements",
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("element", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_material_elements_material_id_materials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("material_id", "element", name=op.f("pk_material_elements")),
    )
    op.create_index(op.f("ix_material_elements_element"), "material_elements", ["element"])

    op.create_table(
        "model_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=128), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("adapted_score", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_model_scores_material_id_materials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_scores")),
        sa.UniqueConstraint(
            "material_id", "model_version", name=op.f("uq_model_scores_material_id_model_version")
        ),
    )
    op.create_index(op.f("ix_model_scores_material_id"), "model_scores", ["material_id"])
    op.create_index(op.f("ix_model_scores_model_version"), "model_scores", ["model_version"])

    op.create_table(
        "run_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("input_ref", sa.String(length=512), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_run_items_material_id_materials"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["screening_runs.id"],
            name=op.f("fk_run_items_run_id_screening_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_items")),
        sa.UniqueConstraint("run_id", "input_ref", name=op.f("uq_run_items_run_id_input_ref")),
    )
    op.create_index(op.f("ix_run_items_material_id"), "run_items", ["material_id"])

    op.create_table(
        "dft_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("directory", sa.String(length=1024), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_dft_jobs_material_id_materials"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["magnetic_orders.id"],
            name=op.f("fk_dft_jobs_order_id_magnetic_orders"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dft_jobs")),
    )
    op.create_index(op.f("ix_dft_jobs_material_id"), "dft_jobs", ["material_id"])
    op.create_index(op.f("ix_dft_jobs_order_id"), "dft_jobs", ["order_id"])

    op.create_table(
        "dft_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.JSON(), nullable=False),
        sa.Column("max_splitting_ev", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["dft_jobs.id"],
            name=op.f("fk_dft_results_job_id_dft_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dft_results")),
        sa.UniqueConstraint("job_id", name=op.f("uq_dft_results_job_id")),
    )


def downgrade() -> None:
    op.drop_table("dft_results")
    op.drop_index(op.f("ix_dft_jobs_order_id"), table_name="dft_jobs")
    op.drop_index(op.f("ix_dft_jobs_material_id"), table_name="dft_jobs")

    op.drop_table("dft_jobs")
    op.drop_index(op.f("ix_run_items_material_id"), table_name="run_items")

    op.drop_table("run_items")
    op.drop_index(op.f("ix_model_scores_model_version"), table_name="model_scores")
    op.drop_index(op.f("ix_model_scores_material_id"), table_name="model_scores")

    op.drop_table("model_scores")
    op.drop_index(op.f("ix_material_elements_element"), table_name="material_elements")

    op.drop_table("material_elements")
    op.drop_index(op.f("ix_magnetic_orders_wave"), table_name="magnetic_orders")
    op.drop_index(op.f("ix_magnetic_orders_verdict"), table_name="magnetic_orders")
    op.drop_index(op.f("ix_magnetic_orders_material_id"), table_name="magnetic_orders")

    op.drop_table("magnetic_orders")
    op.drop_index(op.f("ix_screening_runs_status"), table_name="screening_runs")

    op.drop_table("screening_runs")
    op.drop_index(op.f("ix_materials_source"), table_name="materials")
    op.drop_index(op.f("ix_materials_formula"), table_name="materials")

    op.drop_table("materials")
    op.drop_table("api_keys")
