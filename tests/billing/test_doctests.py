"""The examples in the billing and settings-tab modules' docstrings run, so they cannot go stale."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "billing.book",
    "billing.expenses",
    "billing.rollup",
    "billing.rounding",
    "billing.terms",
    "billing.tiers",
    "sheet.config_tabs",
    "sheet.tab_reader",
    "money",
    "values",
    "summaries",
    "settings",
    "transport",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str):
    module = importlib.import_module(f"functions.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
