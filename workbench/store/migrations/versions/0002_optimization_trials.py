"""Optimization trials: one row per parameter set an optimization evaluated.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-15

Shipped migrations are never edited: change the schema with a new revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["upgrade", "downgrade"]

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trials",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            sa.String(128),
            sa.ForeignKey("runs.id", name="fk_trials_run_id_runs", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.UniqueConstraint("run_id", "number", name="uq_trials_run_id_number"),
    )
    op.create_index("ix_trials_run_id", "trials", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_trials_run_id", table_name="trials")
    op.drop_table("trials")
