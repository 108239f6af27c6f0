"""The examples in the billing modules' docstrings run, so they cannot go stale."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["book", "expenses", "rollup", "rounding", "terms", "tiers"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str):
    module = importlib.import_module(f"functions.billing.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
