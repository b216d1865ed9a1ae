"""Runs carry a heartbeat: a running run whose heartbeat went stale reads as ``interrupted``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

Shipped migrations are never edited: change the schema with a new revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["upgrade", "downgrade"]

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("heartbeat_at")
