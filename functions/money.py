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
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache

# The rounding rule for money: an invoice line amount is quantized once, to the cent, half up
# (the rule accountants and QuickBooks use for line amounts). Totals are sums of rounded lines.
MONEY_ROUNDING = ROUND_HALF_UP
CENT = Decimal("0.01")
# Hours are exact. Every tracker records whole seconds (or minutes), so hours that are a whole number of seconds
# to within float noise are that many seconds (`exact_hours`), kept as seconds / 3600 to 28 digits and, for
# arithmetic, as the exact fraction (`hours_fraction`). Nothing cuts them to 0.01 h on the way in.
SECONDS_PER_HOUR = 3600
_SECOND_SNAP = Decimal("0.000001")  # seconds: a value this close to a whole second is that second
_HOURS_LIMIT = Decimal(10) ** 9  # beyond any real entry; bounds are the sheet side's to report

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


@lru_cache(maxsize=65536)
def hours_from_seconds(seconds: int) -> Decimal:
    """Hours of a duration in whole seconds: 450 -> 0.125, 420 -> 0.11666... (28 digits, the same every time).

    >>> hours_from_seconds(450), hours_from_seconds(5400)
    (Decimal('0.125'), Decimal('1.5'))
    """
    with decimal.localcontext() as ctx:
        ctx.prec = 28
        ctx.rounding = decimal.ROUND_HALF_EVEN
        return Decimal(seconds) / Decimal(SECONDS_PER_HOUR)


@lru_cache(maxsize=65536)  # a month's entries repeat a few hundred distinct durations
def whole_seconds(hours: Decimal) -> int | None:
    """The number of seconds `hours` stands for, when it is a whole number of them to within float noise
    (0.11666666666666667 h is 420 s); None for hours that are not (0.1234 h is 444.24 s, kept as typed)."""
    if not hours.is_finite() or abs(hours) > _HOURS_LIMIT:
        return None
    with decimal.localcontext() as ctx:
        ctx.prec = 40
        seconds = hours * SECONDS_PER_HOUR
        nearest = seconds.to_integral_value(rounding=decimal.ROUND_HALF_EVEN)
        return int(nearest) if abs(seconds - nearest) <= _SECOND_SNAP else None


def exact_hours(hours: Decimal) -> Decimal:
    """Hours as the source meant them: whole seconds as `hours_from_seconds`, anything else unchanged.

    >>> exact_hours(Decimal("0.11666666666666667")) == hours_from_seconds(420), exact_hours(Decimal("0.1234"))
    (True, Decimal('0.1234'))
    """
    seconds = whole_seconds(hours)
    return hours if seconds is None else hours_from_seconds(seconds)


@lru_cache(maxsize=65536)
def hours_fraction(hours: Decimal) -> Fraction:
    """The exact value of hours for arithmetic: 7 minutes is 7/60, not 0.1167.

    >>> hours_fraction(hours_from_seconds(420)), hours_fraction(Decimal("0.1234"))
    (Fraction(7, 60), Fraction(617, 5000))
    """
    seconds = whole_seconds(hours)
    return Fraction(hours) if seconds is None else Fraction(seconds, SECONDS_PER_HOUR)


HOURS_PLACES = Decimal("0.0001")


def tidy_hours(hours: Decimal | Fraction) -> Decimal:
    """Hours for people to read, to at most 4 places (10 minutes shows as 0.1667 h), without trailing zeros or
    an exponent: invoice lines, Preview, the time detail of documents. Display only: nothing is billed from it.

    >>> tidy_hours(Fraction(1, 6)), tidy_hours(Decimal("2.50")), tidy_hours(hours_from_seconds(2525))
    (Decimal('0.1667'), Decimal('2.5'), Decimal('0.7014'))
    """
    if isinstance(hours, Fraction):
        hours = Decimal(hours.numerator) / Decimal(hours.denominator)
    q = hours.quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)
    if q == q.to_integral_value():
        return q.quantize(Decimal(1))
    return q.normalize()


def hours_shown(hours: Decimal) -> Decimal:
    """Hours for people to read in a summary (to the hundredth, half up). Never billed from."""
    return hours.quantize(CENT, rounding=ROUND_HALF_UP)


def exact_sum(values: Iterable[Fraction]) -> Fraction:
    """The exact sum of many fractions, added by denominator first (hours share a few: 3600, 60, 100 ...),
    which is many times faster than adding Fractions one by one.

    >>> exact_sum([Fraction(1, 3), Fraction(1, 3), Fraction(1, 3), Fraction(1, 4)])
    Fraction(5, 4)
    """
    # the same Fraction objects recur (hours are made once per distinct value): count each object, then add
    times: dict[int, int] = {}
    objects: dict[int, Fraction] = {}
    for v in values:
        k = id(v)
        n = times.get(k)
        if n is None:
            times[k] = 1
            objects[k] = v  # held here, so no id is reused while counting
        else:
            times[k] = n + 1
    by_denominator: dict[int, int] = {}
    for k, n in times.items():
        v = objects[k]
        by_denominator[v.denominator] = by_denominator.get(v.denominator, 0) + v.numerator * n
    return sum((Fraction(n, d) for d, n in by_denominator.items()), Fraction(0))


def round_fraction(amount: Fraction, currency: str | None = None) -> Decimal:
    """An exact amount (a Fraction) quantized once to the currency's minor unit with MONEY_ROUNDING.

    >>> round_fraction(Fraction(11, 6) * 300), round_fraction(Fraction(1, 200))
    (Decimal('550.00'), Decimal('0.01'))
    """
    unit = Fraction(minor_unit(currency))
    steps, rest = divmod(abs(amount), unit)
    if rest * 2 >= unit:  # half up: away from zero at exactly half a unit
        steps += 1
    value = Decimal(int(steps)) * minor_unit(currency)
    return -value if amount < 0 else value


def line_amount(quantity: Decimal, unit_price: Decimal, currency: str | None = None) -> Decimal:
    """The amount of one invoice line: quantity x unit price, rounded once by MONEY_ROUNDING."""
    with decimal.localcontext() as ctx:
        ctx.prec = 28
        ctx.traps[decimal.Inexact] = False
        return round_money(quantity * unit_price, currency)


QUANTITY_PLACES = (4, 5, 6, 7)  # QuickBooks keeps 7 decimals of Qty and UnitPrice; 4 reads best


def exact_line(quantity: Fraction, unit_price: Decimal, currency: str | None = None) -> tuple[Decimal, Decimal]:
    """(quantity to show, amount) of a line billed at an exact quantity: the amount is quantity x unit price
    rounded once (MONEY_ROUNDING); the quantity shown has the fewest places, from 4 to 7, at which
    shown quantity x unit price rounds to that same amount, the check QuickBooks makes (error 6070). The nearest
    value at 4 to 7 places is tried first, then, from 5 places, the value on the other side of the exact
    quantity (an amount on a half cent needs the quantity just above it: 17/6 h at 359.37 is 1,018.215, shown
    as 2.83334), so what is shown is always within 0.00001 h of the exact quantity.

    >>> exact_line(Fraction(11, 6), Decimal(300))  # 110 minutes at 300/h
    (Decimal('1.83333'), Decimal('550.00'))
    >>> exact_line(Fraction(3, 1), Decimal("95.50"))
    (Decimal('3'), Decimal('286.50'))
    """
    amount = round_fraction(quantity * Fraction(unit_price), currency)
    exact = Decimal(quantity.numerator) / Decimal(quantity.denominator)
    tries = [(places, ROUND_HALF_UP) for places in QUANTITY_PLACES] + [
        (places, rounding)
        for places in QUANTITY_PLACES[1:]
        for rounding in (decimal.ROUND_CEILING, decimal.ROUND_FLOOR)
    ]
    shown, found = exact, False
    for places, rounding in tries:
        shown = exact.quantize(Decimal(1).scaleb(-places), rounding=rounding)
        if line_amount(shown, unit_price, currency) == amount:
            found = True
            break
    if not found:  # no quantity of 7 places makes it (a huge rate): show the nearest; the amount stays exact
        shown = exact.quantize(Decimal(1).scaleb(-QUANTITY_PLACES[-1]), rounding=ROUND_HALF_UP)
    if shown == shown.to_integral_value():
        return shown.quantize(Decimal(1)), amount
    return shown.normalize(), amount


def fmt_money(amount: Decimal, currency: str | None = None) -> str:
    """`1,234.50 USD` for people (documents, tables). Never parsed back."""
    q = round_money(amount, currency)
    exponent = q.as_tuple().exponent
    if not isinstance(exponent, int):  # "n", "N" or "F": NaN or infinity, which no document may show
        raise ValueError(f"not a finite amount: {amount}")
    text = f"{q:,.{max(0, -exponent)}f}"
    return f"{text} {currency}" if currency else text
