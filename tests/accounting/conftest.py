"""Fixtures for the accounting tests: a fresh QuickBooks + Intuit OAuth emulator per test."""

from __future__ import annotations

import pytest

from tests.emulators.quickbooks import QuickBooksEmulator


@pytest.fixture
def emu():
    e = QuickBooksEmulator(hang_seconds=0.6)
    e.start()
    yield e
    e.stop()
