"""retention for cases closed before retention existed

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 15:00:00.000000

A case closed before retention was added has no retention deadline, so it would be
kept for ever whatever its outcome. Each such case gets a `retention_starts`
deadline due now: the worker plans it as it plans a case that just closed, and
the stewards get the full notice (with *Keep longer*) before anything is expunged.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from core.infra.models import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

RETENTION_KINDS = ("retention_starts", "expunge_notice", "expunge")


def upgrade() -> None:
    cases = sa.table(
        "cases",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("closed_at", UTCDateTime()),
        sa.column("flags", sa.JSON),
    )
    deadlines = sa.table(
        "deadlines",
        sa.column("case_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("due_at", UTCDateTime()),
        sa.column("payload", sa.JSON),
        sa.column("created_at", UTCDateTime()),
    )
    planned = sa.select(deadlines.c.case_id).where(deadlines.c.kind.in_(RETENTION_KINDS))
    closed = sa.select(cases.c.id, cases.c.flags).where(
        cases.c.status == "closed",
        cases.c.closed_at.is_not(None),
        cases.c.id.not_in(planned),
    )
    conn = op.get_bind()
    now = datetime.now(UTC)
    rows = [
        {
            "case_id": case_id,
            "kind": "retention_starts",
            "due_at": now,
            "payload": {"full_notice": True},
            "created_at": now,
        }
        for case_id, flags in conn.execute(closed)
        if not (flags or {}).get("expunged_at")
    ]
    if rows:
        op.bulk_insert(deadlines, rows)


def downgrade() -> None:
    """Nothing to undo: the rows are ordinary deadlines, and fired ones are history."""
