"""Is a channel private? Asked of Slack with the scopes the manifest grants, and no more.

The manifest grants `groups:read` and not `channels:read`, so that Steward can
read private channels it was invited to but nothing about public ones. Slack's
`conversations.info` then answers:

- a private channel the bot is in: `ok`, with `is_private: true`;
- a public channel: `missing_scope`, `needed: channels:read` (a direct message
  or group DM: `needed: im:read` / `mpim:read`);
- a private channel the bot is not in, or no channel at all: `channel_not_found`.

So `missing_scope` is itself the answer "this is not a private channel". An app
granted `channels:read` anyway gets `ok` with `is_private: false` instead; both
mean the same refusal.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

# What Slack's `needed` names for each kind of conversation that is not a private channel.
NOT_PRIVATE = {
    "channels:read": "a public channel",
    "im:read": "a direct message",
    "mpim:read": "a group direct message",
}


def not_private_reason(client: WebClient, channel: str) -> str | None:
    """Why ``channel`` is not a private channel (e.g. "a public channel"), or None if it is.

    Any other refusal (``channel_not_found``, ``invalid_auth``...) is raised as
    Slack's own SlackApiError: it says nothing about privacy.
    """
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as exc:
        if exc.response.get("error") != "missing_scope":
            raise
        needed = str(exc.response.get("needed") or "")
        return NOT_PRIVATE.get(needed, f"not a private channel (Slack needs {needed})")
    if info.get("is_im"):
        return NOT_PRIVATE["im:read"]
    if info.get("is_mpim"):
        return NOT_PRIVATE["mpim:read"]
    if not info.get("is_private"):
        return NOT_PRIVATE["channels:read"]
    return None
