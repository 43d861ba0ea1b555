"""A bare aiosmtpd server that accepts and discards: the baseline for smtp_ingest."""

from __future__ import annotations

import sys
import time

from aiosmtpd.controller import Controller


class Discard:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


def main() -> None:
    port = int(sys.argv[1])
    controller = Controller(
        Discard(),
        hostname="127.0.0.1",
        port=port,
        decode_data=False,
        enable_SMTPUTF8=True,
    )
    controller.start()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
