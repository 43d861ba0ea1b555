"""``python -m slackapp.emulator``: the same as ``steward emulator``."""

import sys

from .cli import main

sys.exit(main())
