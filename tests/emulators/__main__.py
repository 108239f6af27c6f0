"""`python -m tests.emulators up`: every emulator at once, with the environment to export (tests/emulators/up.py)."""

from __future__ import annotations

import sys

from tests.emulators.up import main

sys.exit(main())
