"""snapshot files

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 10:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.infra.models  # noqa: F401 - custom column types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "snapshot_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("original_filename", sa.String(length=1024), nullable=True),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", core.infra.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["snapshot_id"], ["message_snapshots.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_snapshot_files_snapshot_id"), "snapshot_files", ["snapshot_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_snapshot_files_snapshot_id"), table_name="snapshot_files")
    op.drop_table("snapshot_files")
