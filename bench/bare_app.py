"""A bare Bolt app on Steward's server stack (waitress) whose handler only acks:
the baseline for ack_latency."""

from __future__ import annotations

import sys
import threading

from slack_bolt import App
from slack_sdk import WebClient

from slackapp.web import WebServer


def main() -> None:
    port, secret, api_url = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    client = WebClient(token="xoxb-steward-emulator", base_url=api_url)
    app = App(signing_secret=secret, client=client, token_verification_enabled=False)

    @app.view("report_form")
    def just_ack(ack):  # noqa: ANN001, ANN202
        ack()

    from slack_bolt.adapter.wsgi import SlackRequestHandler

    handler = SlackRequestHandler(app)
    server = WebServer(handler, "127.0.0.1", port)
    server.start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
