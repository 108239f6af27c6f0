"""What a Claude run costs at list prices: the price table per model and the estimate from token counts.

>>> estimate_cost("claude-haiku-4-5-20251001", 1_000_000, 0, 0, 0)
Decimal('1.00')
>>> estimate_cost("some-other-model", 10, 10, 0, 0) is None
True
"""

from __future__ import annotations

import re
from decimal import Decimal

# USD per million tokens: input, output, 5-minute cache write, cache read (prompts under 100k tokens).
PRICES: dict[str, tuple[Decimal, Decimal, Decimal, Decimal]] = {
    "claude-haiku-5-5": (Decimal("0.10"), Decimal("0.50"), Decimal("0.125"), Decimal("0.01")),
    "claude-haiku-4-5": (Decimal("1"), Decimal("5"), Decimal("1.25"), Decimal("0.10")),
    "claude-sonnet-4-5": (Decimal("3"), Decimal("15"), Decimal("3.75"), Decimal("0.30")),
    "claude-sonnet-4-6": (Decimal("3"), Decimal("15"), Decimal("3.75"), Decimal("0.30")),
}
_MTOK = Decimal(1_000_000)


def price_of(model: str) -> tuple[Decimal, Decimal, Decimal, Decimal] | None:
    """Prices for a model id, also for dated ids (`claude-haiku-4-5-20251001`)."""
    for name, prices in PRICES.items():
        if model == name or model.startswith(name + "-"):
            return prices
    return None


def estimate_cost(
    model: str, input_tokens: int, output_tokens: int, cache_write: int, cache_read: int
) -> Decimal | None:
    """USD for one run's usage at list prices (prompts under 100k tokens), or None for an unknown model."""
    p = price_of(model)
    if p is None:
        return None
    inp, outp, write, read = p
    return (input_tokens * inp + output_tokens * outp + cache_write * write + cache_read * read) / _MTOK


def parse_cost(text: str) -> Decimal:
    """The amount of a report's `estimated_cost` (`"0.001234 USD"`); 0 when there is none yet."""
    m = re.match(r"\s*([0-9.]+)", text or "")
    return Decimal(m.group(1)) if m else Decimal("0")
