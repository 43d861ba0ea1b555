"""The workspace viewer: the emulated Slack workspace as a web page, at ``/``.

``app`` serves it, ``page`` lays out one person's view of the workspace,
``blocks`` and ``mrkdwn`` render Block Kit and Slack's text as HTML, and
``mailbox`` lists the outbound mail folder. ``static/`` holds the page's
stylesheet and its small script, which polls for changes and acts through the
control API. See docs/slack-emulator.md.
"""

from .app import Reply, Viewer

__all__ = ["Reply", "Viewer"]
