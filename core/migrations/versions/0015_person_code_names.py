"""person code names

Revision ID: 0015
Revises: 0012
Create Date: 2026-11-30 11:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("code_name", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_people_code_name"), "people", ["code_name"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_people_code_name"), table_name="people")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("code_name")
