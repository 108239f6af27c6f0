"""Money and hours as Decimal, with the rounding rules named.

Every number that is money or hours is built by `D()` (never from a float's binary value) and rounded by
one of the named rules below, so a reader can see which rule applies where.

    >>> D("12.50") * D("1.5")
    Decimal('18.750')
    >>> round_money(D("18.745"))
    Decimal('18.75')
"""

from __future__ import annotations

import decimal
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# The rounding rule for money: an invoice line amount is quantized once, to the cent, half up
# (the rule accountants and QuickBooks use for line amounts). Totals are sums of rounded lines.
MONEY_ROUNDING = ROUND_HALF_UP
CENT = Decimal("0.01")
# Hours are kept to the hundredth of an hour (36 seconds) after conversion from a source.
HOURS_QUANTUM = Decimal("0.01")
HOURS_ROUNDING = ROUND_HALF_UP

# Currencies without minor units (ISO 4217 exponent 0) that agencies meet.
_ZERO_DECIMAL = {"JPY", "KRW", "ISK", "CLP", "VND", "UGX"}

ZERO = Decimal("0")


class NotAnAmount(ValueError):
    """A text that cannot be read as a number; the caller adds where it came from."""


def D(value: object) -> Decimal:
    """Build a Decimal from a str, int, Decimal or float (via its shortest repr, never its binary value)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise NotAnAmount(repr(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        return parse_amount(value)
    raise NotAnAmount(repr(value))


def parse_amount(text: str) -> Decimal:
    """Read an amount as people type it: `1,234.50`, `$95`, `€ 120`, `12.5`, `(30.00)` for negative.

    Raises NotAnAmount for anything ambiguous or wrong (`12,5O`, `1.2.3`, ``).
    """
    s = text.strip().replace("\u00a0", "").replace(" ", "")
    for sym in ("$", "€", "£", "¥", "CHF", "USD", "EUR", "GBP", "CAD", "AUD"):
        s = s.replace(sym, "")
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1]
    if s.startswith("-"):
        negative, s = not negative, s[1:]
    if "," in s:
        # Thousands separators only: "1,234.50". A decimal comma ("12,5") is ambiguous, so refuse it.
        whole = s.split(".")[0]
        groups = whole.split(",")
        if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
            raise NotAnAmount(text)
        s = s.replace(",", "")
    if not s or not all(c.isdigit() or c == "." for c in s) or s.count(".") > 1 or s == ".":
        raise NotAnAmount(text)
    try:
        value = Decimal(s)
    except InvalidOperation as exc:  # pragma: no cover - guarded by the character check above
        raise NotAnAmount(text) from exc
    return -value if negative else value


def minor_unit(currency: str | None) -> Decimal:
    """The smallest unit of a currency: 0.01 for most, 1 for JPY and friends."""
    return Decimal("1") if (currency or "").upper() in _ZERO_DECIMAL else CENT


def round_money(amount: Decimal, currency: str | None = None) -> Decimal:
    """Quantize an amount to the currency's minor unit with MONEY_ROUNDING (half up)."""
    return amount.quantize(minor_unit(currency), rounding=MONEY_ROUNDING)


def round_hours(hours: Decimal) -> Decimal:
    """Quantize hours converted from a source (minutes, HH:MM:SS) to HOURS_QUANTUM, half up."""
    return hours.quantize(HOURS_QUANTUM, rounding=HOURS_ROUNDING)


def line_amount(quantity: Decimal, unit_price: Decimal, currency: str | None = None) -> Decimal:
    """The amount of one invoice line: quantity x unit price, rounded once by MONEY_ROUNDING."""
    with decimal.localcontext() as ctx:
        ctx.prec = 28
        ctx.traps[decimal.Inexact] = False
        return round_money(quantity * unit_price, currency)


def fmt_money(amount: Decimal, currency: str | None = None) -> str:
    """`1,234.50 USD` for people (documents, tables). Never parsed back."""
    q = round_money(amount, currency)
    exponent = q.as_tuple().exponent
    if not isinstance(exponent, int):  # "n", "N" or "F": NaN or infinity, which no document may show
        raise ValueError(f"not a finite amount: {amount}")
    text = f"{q:,.{max(0, -exponent)}f}"
    return f"{text} {currency}" if currency else text
