"""indexes for a large record: open cases by status, a case's pending deadlines,
a person's parties

Revision ID: 0017
Revises: 0015
Create Date: 2026-11-30 12:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_status_id", "cases", ["status", "id"])
    op.drop_index("ix_cases_status", table_name="cases")
    op.create_index(
        "ix_deadlines_case_pending",
        "deadlines",
        ["case_id", "fired_at", "cancelled_at", "due_at"],
    )
    op.create_index("ix_parties_person_id", "parties", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_parties_person_id", table_name="parties")
    op.drop_index("ix_deadlines_case_pending", table_name="deadlines")
    op.create_index("ix_cases_status", "cases", ["status"])
    op.drop_index("ix_cases_status_id", table_name="cases")
