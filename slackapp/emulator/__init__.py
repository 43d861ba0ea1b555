"""A local Slack for Steward: Web API, signed interactions and events, control API.

See docs/slack-emulator.md. It imports nothing from core/, mailgateway/ or steward/.
"""

from .blockkit import BlockKitError
from .cli import main
from .client import EmulatorClient
from .emulator import DEFAULT_SIGNING_SECRET, SlackEmulator
from .interactions import ControlError
from .seed import DEFAULT_SEED, load_seed
from .signing import signature, signed_headers

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_SIGNING_SECRET",
    "BlockKitError",
    "ControlError",
    "EmulatorClient",
    "SlackEmulator",
    "load_seed",
    "main",
    "signature",
    "signed_headers",
]
