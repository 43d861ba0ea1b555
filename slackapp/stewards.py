"""Who counts as a steward: a member of the private staff channel, or listed in
`STEWARD_STEWARDS`. Every steward action is checked against this on the server.

Someone removed from the staff channel loses steward rights within about `ttl`
seconds (30 by default), once the background refresh has run."""

from __future__ import annotations

import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


class StewardDirectory:
    """Staff-channel membership, cached briefly so a burst of clicks costs one API call."""

    def __init__(
        self,
        client: WebClient,
        staff_channel: str | None,
        listed: tuple[str, ...] = (),
        ttl: float = 30.0,
    ) -> None:
        self.client = client
        self.staff_channel = staff_channel
        self.listed = frozenset(listed)
        self.ttl = ttl
        self._members: frozenset[str] = frozenset()
        self._fetched_at = 0.0
        self._lock = threading.Lock()
        self._bot_user: str | None = None
        self._refreshing = False

    def is_steward(self, user_id: str) -> bool:
        return user_id in self.listed or user_id in self.members()

    def members(self) -> frozenset[str]:
        """The cached members. Only the very first call waits for Slack; after that a stale
        list is refreshed in the background, so no handler ever waits on this lookup
        (handlers may be holding the database's write lock)."""
        with self._lock:
            fresh = time.monotonic() - self._fetched_at <= self.ttl
            first = self._fetched_at == 0.0
            if first:
                self._refresh()
            elif not fresh and not self._refreshing:
                self._refreshing = True
                threading.Thread(target=self._refresh_in_background, daemon=True).start()
            return self._members

    def _refresh(self) -> None:
        self._members = self._fetch()
        self._fetched_at = time.monotonic()

    def _refresh_in_background(self) -> None:
        members = self._fetch()
        with self._lock:
            self._members = members
            self._fetched_at = time.monotonic()
            self._refreshing = False

    def all(self) -> frozenset[str]:
        return self.listed | self.members()

    def _fetch(self) -> frozenset[str]:
        if not self.staff_channel:
            return frozenset()
        try:
            members: list[str] = []
            cursor = None
            while True:
                answer = self.client.conversations_members(
                    channel=self.staff_channel, cursor=cursor, limit=200
                )
                members.extend(answer.get("members", []))
                cursor = (answer.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except SlackApiError:
            return self._members  # keep the last known list rather than lock everyone out
        return frozenset(members) - {self._bot()}

    def _bot(self) -> str:
        if self._bot_user is None:
            try:
                self._bot_user = self.client.auth_test().get("user_id", "")
            except SlackApiError:
                return ""
        return self._bot_user or ""
