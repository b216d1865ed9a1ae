"""Batches of notebook jobs: one row per batch, one per job (state, claim, heartbeat, outputs).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05

Shipped migrations are never edited: change the schema with a new revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["upgrade", "downgrade"]

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("notebook", sa.Text(), nullable=False),
        sa.Column("kernel_name", sa.String(255), nullable=False),
        sa.Column("output_dir", sa.Text(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("n_jobs", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_batches_created_at", "batches", ["created_at"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "batch_id",
            sa.String(64),
            sa.ForeignKey("batches.id", name="fk_jobs_batch_id_batches", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim", sa.String(64), nullable=True),
        sa.Column("worker", sa.Text(), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("workdir", sa.Text(), nullable=True),
        sa.Column("output_path", sa.Text(), nullable=True),
        sa.Column("html_path", sa.Text(), nullable=True),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("failed_cell", sa.Text(), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.UniqueConstraint("batch_id", "number", name="uq_jobs_batch_id_number"),
    )
    op.create_index("ix_jobs_batch_id_state", "jobs", ["batch_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_jobs_batch_id_state", table_name="jobs")
    op.drop_table("jobs")
    op.drop_index("ix_batches_created_at", table_name="batches")
    op.drop_table("batches")
