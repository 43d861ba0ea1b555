"""codes of conduct kept per case

Revision ID: 0014
Revises: 0004
Create Date: 2026-11-30 10:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.infra.models  # noqa: F401 - custom column types

revision = "0014"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conduct_codes",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("created_at", core.infra.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    op.add_column("cases", sa.Column("conduct_version", sa.String(length=64), nullable=True))
    op.add_column("decisions", sa.Column("public_statement", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("decisions", "public_statement")
    op.drop_column("cases", "conduct_version")
    op.drop_table("conduct_codes")
