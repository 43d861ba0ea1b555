"""A direct message is no staff channel either, with only the manifest's scopes.

The emulator grants the manifest's bot scopes: `groups:read`, not `im:read`, so
`conversations.info` on a DM answers `missing_scope` (needed `im:read`), and that
answer is itself the refusal (a public channel: see test_casework).
"""

from __future__ import annotations

from sqlalchemy import select

from core.infra.models import OutboxItem
from tests.slack.conftest import Stack


def root_outbox(stack: Stack) -> OutboxItem:
    with stack.db.session() as session:
        return session.scalars(select(OutboxItem).where(OutboxItem.kind == "case.root")).one()


def test_a_direct_message_as_staff_channel_is_refused(stack: Stack) -> None:
    dm, _ = stack.emulator.workspace.open_dm("U_STEW1")
    stack.slack.settings = stack.slack.settings.with_overrides(staff_channel=dm["id"])
    stack.report()
    stack.drain()
    assert root_outbox(stack).status == "pending"
    assert "public" in (root_outbox(stack).last_error or "")
    assert [m for m in stack.dm_messages("U_STEW1") if "COC-1" in m.get("text", "")] == []
