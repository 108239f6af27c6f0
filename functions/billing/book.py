"""The rule book: everything the billing engine needs from the Clients, Rates, Rules and Categories tabs,
parsed and validated in one pass.

`parse_book(tables)` reads each tab by header (extra or reordered columns are fine), skips blank rows, and
collects every problem as an InputError naming the tab and cell (`Rates!C7: "12,5O" is not an amount`)
instead of stopping at the first. The caller stops the run when the list is not empty.

    >>> book, errors = parse_book({"Clients": [["Client", "Currency"], ["Acme", "USD"]]})
    >>> book.client("acme").currency, errors
    ('USD', [])
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from ..errors import InputError, Location
from ..models import Category, CategoryRule, Frozen, Period
from ..sheet.cells import is_blank, parse_bool, parse_date, parse_decimal, text
from ..sheet.contract import HeaderMap, column_letter, load_contract
from .caps import Cap
from .discounts import Discount
from .expenses import Expense
from .fixed import FixedFee, Milestone
from .rates import RateCard, RateRow
from .retainer import Retainer
from .rollup import DEFAULT_TEMPLATE, Rollup, check_pattern, describe
from .rounding import NO_ROUNDING, Rounding, parse_rounding
from .terms import DEFAULT_TERMS, parse_terms
from .tiers import Tier

Cell = Any
DETAILS = ("line item", "line item + person", "line item + week", "entry")
TASK_NOTES = ("none", "summary", "list")
RULE_KINDS = ("categorize", "rollup", "tier", "retainer", "cap", "fixed fee", "milestone", "expense", "discount")
_KIND_ALIASES = {"category": "categorize", "roll-up": "rollup", "roll up": "rollup", "fixed": "fixed fee",
                 "fixed-fee": "fixed fee", "fixedfee": "fixed fee", "pass-through": "expense", "tiers": "tier",
                 "nte": "cap", "not-to-exceed": "cap"}


class ClientSettings(Frozen):
    """A row of the Clients tab."""

    name: str
    customer: str = ""
    currency: str = "USD"
    terms: str = DEFAULT_TERMS[0]
    due_days: int = DEFAULT_TERMS[1]
    default_rate: Decimal | None = None
    tax_code: str = ""
    tax_exempt: bool = False
    memo: str = ""
    active: bool = True
    detail: str = "line item"
    description: str = ""
    task_notes: str = "none"
    rounding: Rounding = NO_ROUNDING
    minimum_fee: Decimal | None = None
    location: str = ""

    @property
    def accounting_customer(self) -> str:
        return self.customer or self.name


class RuleBook(Frozen):
    """Everything parsed from Clients, Rates, Rules and Categories. Lookups are case-insensitive."""

    categories: tuple[Category, ...] = ()
    category_rules: tuple[CategoryRule, ...] = ()
    clients: tuple[ClientSettings, ...] = ()
    rates: tuple[RateRow, ...] = ()
    rollups: tuple[Rollup, ...] = ()
    tiers: tuple[Tier, ...] = ()
    retainers: tuple[Retainer, ...] = ()
    caps: tuple[Cap, ...] = ()
    fixed_fees: tuple[FixedFee, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    expenses: tuple[Expense, ...] = ()
    discounts: tuple[Discount, ...] = ()

    def client(self, name: str) -> ClientSettings | None:
        return self._clients().get(name.strip().casefold())

    def category(self, name: str) -> Category | None:
        return self._categories().get(name.strip().casefold())

    def rate_card(self) -> RateCard:
        """An index of the rates (build it once per run: it is not cached on the frozen book)."""
        return RateCard(self.rates, {c.name: c.default_rate for c in self.clients if c.default_rate is not None})

    def _clients(self) -> dict[str, ClientSettings]:
        return {c.name.casefold(): c for c in self.clients}

    def _categories(self) -> dict[str, Category]:
        return {c.name.casefold(): c for c in self.categories}

    def for_client(self, name: str) -> "ClientRules":
        k = name.strip().casefold()

        def mine(items: Sequence[Any]) -> tuple[Any, ...]:
            return tuple(i for i in items if i.client.casefold() == k)

        return ClientRules(
            tiers=mine(self.tiers), retainers=mine(self.retainers), caps=mine(self.caps),
            fixed_fees=mine(self.fixed_fees), milestones=mine(self.milestones), expenses=mine(self.expenses),
            discounts=mine(self.discounts),
            rollups=tuple(r for r in self.rollups if not r.client or r.client.casefold() == k),
        )


class ClientRules(Frozen):
    tiers: tuple[Tier, ...] = ()
    retainers: tuple[Retainer, ...] = ()
    caps: tuple[Cap, ...] = ()
    fixed_fees: tuple[FixedFee, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    expenses: tuple[Expense, ...] = ()
    discounts: tuple[Discount, ...] = ()
    rollups: tuple[Rollup, ...] = ()


# --- reading cells -------------------------------------------------------------------------------------------


class _Tab:
    """One tab being read: its header map, and an error list every parser appends to."""

    def __init__(self, name: str, rows: list[list[Cell]] | None, errors: list[InputError]):
        self.name = name
        self.tab = load_contract().tab(name)
        rows = rows or []
        self.hm = HeaderMap(self.tab, list(rows[0]) if rows else [])
        self.body = [(i + 2, list(r)) for i, r in enumerate(rows[1:]) if any(not is_blank(v) for v in r)]
        self.errors = errors
        self.present = bool(rows)

    def where(self, key: str, row: int) -> str:
        i = self.hm.index.get(key)
        return f"{column_letter(i + 1) if i is not None else 'A'}{row}"

    def loc(self, key: str, row: int) -> str:
        return f"{self.name}!{self.where(key, row)}"

    def error(self, key: str, row: int, message: str) -> None:
        self.errors.append(InputError(message, Location(tab=self.name, cell=self.where(key, row))))

    def require(self, *keys: str) -> bool:
        missing = [self.tab.column(k).header for k in keys if k not in self.hm.index]
        if self.present and missing:
            for header in missing:
                self.errors.append(InputError(f'the column "{header}" is missing from the header row',
                                              Location(tab=self.name, cell="1:1")))
            return False
        return self.present

    def text(self, r: list[Cell], key: str) -> str:
        return text(self.hm.get(r, key))

    def _parse(self, r: list[Cell], row: int, key: str, fn: Callable[[object], Any], default: Any = None) -> Any:
        try:
            value = fn(self.hm.get(r, key))
        except ValueError as exc:
            self.error(key, row, str(exc))
            return default
        if isinstance(value, Decimal) and not value.is_finite():
            # A workbook can hold NaN or infinity (a formula gone wrong); no amount or hours is either.
            self.error(key, row, f'"{text(self.hm.get(r, key))}" is not a number')
            return default
        return default if value is None else value

    def money(self, r: list[Cell], row: int, key: str, *, negative_ok: bool = False) -> Decimal | None:
        value = self._parse(r, row, key, parse_decimal)
        if value is not None and value < 0 and not negative_ok:
            self.error(key, row, f'"{text(self.hm.get(r, key))}" is negative; write the amount as a positive number')
            return None
        return value

    def hours(self, r: list[Cell], row: int, key: str) -> Decimal | None:
        value = self._parse(r, row, key, lambda v: parse_decimal(v, "a number of hours"))
        if value is not None and value < 0:
            self.error(key, row, f'"{text(self.hm.get(r, key))}" is negative; hours cannot be negative')
            return None
        return value

    def percent(self, r: list[Cell], row: int, key: str) -> Decimal | None:
        raw = self.hm.get(r, key)
        if is_blank(raw):
            return None
        s = text(raw).replace(" ", "")
        try:
            if s.endswith("%"):
                value = parse_decimal(s[:-1], "a percent")
            else:
                value = parse_decimal(raw, "a percent")
                if value is not None and not value.is_finite():
                    raise ValueError(s)
                # A workbook cell formatted as a percent holds the fraction: 0.1 is 10 %.
                if value is not None and Decimal(0) < value < Decimal(1):
                    value = value * 100
            if value is not None and not value.is_finite():
                raise ValueError(s)
        except ValueError:
            self.error(key, row, f'"{s}" is not a percent (write 10% or 10)')
            return None
        if value is None or not Decimal(0) <= value <= Decimal(1000):
            self.error(key, row, f'"{s}" is not a sensible percent (0 to 1000)')
            return None
        return value

    def boolean(self, r: list[Cell], row: int, key: str, default: bool) -> bool:
        return self._parse(r, row, key, lambda v: parse_bool(v, default), default)

    def date(self, r: list[Cell], row: int, key: str):  # noqa: ANN201
        return self._parse(r, row, key, parse_date)

    def period(self, r: list[Cell], row: int, key: str) -> Period | None:
        raw = self.hm.get(r, key)
        if is_blank(raw):
            return None
        try:
            if hasattr(raw, "year") and hasattr(raw, "month"):  # a sheet turned "2026-10" into a date
                return Period(year=raw.year, month=raw.month)
            return Period.parse(text(raw))
        except ValueError as exc:
            self.error(key, row, str(exc))
            return None

    def choice(self, r: list[Cell], row: int, key: str, options: Sequence[str], default: str) -> str:
        s = " ".join(self.text(r, key).split()).casefold().replace("lineitem", "line item")
        s = s.replace("+", " + ").replace("  ", " ").strip() if s else s
        s = " ".join(s.split())
        if not s:
            return default
        if s in options:
            return s
        # A short list of choices: a looser match still points at the one meant.
        hint = _did_you_mean(s, options, cutoff=0.5)
        self.error(key, row, f'"{self.text(r, key)}" is not one of: {", ".join(options)}{hint}')
        return default


def _did_you_mean(word: str, options: Sequence[str], cutoff: float = 0.6) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=cutoff)
    return f' — did you mean "{close[0]}"?' if close else ""


# --- the tabs ----------------------------------------------------------------------------------------------------


def parse_book(tables: dict[str, list[list[Cell]]]) -> tuple[RuleBook, list[InputError]]:
    """Parse the config tabs (tab name -> rows, header first). Returns the book and every problem found."""
    errors: list[InputError] = []
    categories = _categories(_Tab("Categories", tables.get("Categories"), errors))
    clients = _clients(_Tab("Clients", tables.get("Clients"), errors))
    known_clients = {c.name.casefold(): c.name for c in clients}
    known_categories = {c.name.casefold(): c.name for c in categories}
    rates = _rates(_Tab("Rates", tables.get("Rates"), errors), known_clients, known_categories)
    rules = _rules(_Tab("Rules", tables.get("Rules"), errors), known_clients, known_categories)
    for cap in rules["caps"]:
        client = next((c for c in clients if c.name == cap.client), None)
        if not cap.project and client and client.minimum_fee is not None and client.minimum_fee > cap.amount:
            tab, cell = cap.location.split("!")
            errors.append(InputError(f'the cap for "{cap.client}" ({cap.amount}) is below its Minimum Fee '
                                     f"({client.minimum_fee}) at {client.location}; they cannot both hold",
                                     Location(tab=tab, cell=cell)))
    book = RuleBook(categories=tuple(categories), clients=tuple(clients), rates=tuple(rates), **rules)
    return book, sorted(errors, key=_reading_order)


_TAB_ORDER = {"Categories": 0, "Clients": 1, "Rates": 2, "Rules": 3}
_CELL = re.compile(r"^([A-Z]*)(\d*)")


def _reading_order(error: InputError) -> tuple[int, int, int]:
    """Tab by tab, then row by row, left to right: the order a person fixes them in."""
    loc = error.location
    if loc is None:
        return (9, 0, 0)
    m = _CELL.match(loc.cell or "")
    letters, digits = (m.group(1), m.group(2)) if m else ("", "")
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return (_TAB_ORDER.get(loc.tab or "", 9), int(digits or 0), col)


def _categories(t: _Tab) -> list[Category]:
    out: list[Category] = []
    if not t.require("category"):
        return out
    seen: set[str] = set()
    for row, r in t.body:
        name = t.text(r, "category")
        if not name:
            t.error("category", row, "the category has no name")
            continue
        if name.casefold() in seen:
            t.error("category", row, f'the category "{name}" is listed twice')
            continue
        seen.add(name.casefold())
        out.append(Category(name=name, meaning=t.text(r, "meaning"), billable=t.boolean(r, row, "billable", True),
                            line_item=t.text(r, "line_item")))
    return out


def _clients(t: _Tab) -> list[ClientSettings]:
    out: list[ClientSettings] = []
    if not t.require("client"):
        return out
    seen: set[str] = set()
    for row, r in t.body:
        name = t.text(r, "client")
        if not name:
            t.error("client", row, "the client has no name")
            continue
        if name.casefold() in seen:
            t.error("client", row, f'the client "{name}" is listed twice')
            continue
        seen.add(name.casefold())
        currency = t.text(r, "currency").upper() or "USD"
        if not (len(currency) == 3 and currency.isalpha()):
            t.error("currency", row, f'"{t.text(r, "currency")}" is not a currency code (write USD, EUR, GBP ...)')
            currency = "USD"
        try:
            terms, days = parse_terms(t.text(r, "terms"))
        except ValueError as exc:
            t.error("terms", row, str(exc))
            terms, days = DEFAULT_TERMS
        try:
            rounding = parse_rounding(t.text(r, "rounding"), t.text(r, "round_per"), t.text(r, "minimum_entry"))
        except ValueError as exc:
            bad = "round_per" if "entry or line" in str(exc) else "minimum_entry" if "minute" in str(exc) and \
                "rounding" not in str(exc) else "rounding"
            t.error(bad, row, str(exc))
            rounding = NO_ROUNDING
        template = t.text(r, "description")
        if template:
            try:
                describe(template, line_item="X", count=1, hours="1", period="Oct 2026")
            except Exception:  # noqa: BLE001 - any template that does not format is a typing mistake to report
                t.error("description", row, f'"{template}" is not a usable description template; '
                        f'use fields in braces like {DEFAULT_TEMPLATE}')
                template = ""
        out.append(ClientSettings(
            name=name, customer=t.text(r, "customer"), currency=currency, terms=terms, due_days=days,
            default_rate=t.money(r, row, "default_rate"), tax_code=t.text(r, "tax_code"),
            tax_exempt=t.boolean(r, row, "tax_exempt", False), memo=t.text(r, "memo"),
            active=t.boolean(r, row, "active", True),
            detail=t.choice(r, row, "detail", DETAILS, "line item"), description=template,
            task_notes=t.choice(r, row, "task_notes", TASK_NOTES, "none"), rounding=rounding,
            minimum_fee=t.money(r, row, "minimum_fee"), location=t.loc("client", row),
        ))
    return out


def _known(t: _Tab, row: int, key: str, value: str, known: dict[str, str], what: str) -> str | None:
    """The canonical name, or None after recording `unknown client "Acm" — did you mean "Acme"?`."""
    if not value:
        return ""
    hit = known.get(value.casefold())
    if hit is None:
        t.error(key, row, f'unknown {what} "{value}"{_did_you_mean(value, list(known.values()))}')
    return hit


def _rates(t: _Tab, clients: dict[str, str], categories: dict[str, str]) -> list[RateRow]:
    out: list[RateRow] = []
    if not t.require("rate"):
        return out
    for row, r in t.body:
        client = _known(t, row, "client", t.text(r, "client"), clients, "client")
        category = _known(t, row, "category", t.text(r, "category"), categories, "category")
        person, role = t.text(r, "person"), t.text(r, "role")
        rate = t.money(r, row, "rate")
        start, end = t.date(r, row, "effective_from"), t.date(r, row, "effective_to")
        if is_blank(t.hm.get(r, "rate")):
            t.error("rate", row, "the rate is missing")
        if not (client or person or role) and client is not None:
            t.error("client", row, "the rate applies to nobody: fill Client, Person or Role")
            continue
        if category and not client:
            t.error("category", row, "a category rate needs a Client")
            continue
        if start and end and end < start:
            t.error("effective_to", row, f"the rate ends ({end}) before it starts ({start})")
            continue
        if client is None or category is None or rate is None:
            continue
        out.append(RateRow(client=client, person=person, role=role, category=category, rate=rate,
                           effective_from=start, effective_to=end, location=t.loc("rate", row)))
    _overlaps(t, out)
    return out


def _overlaps(t: _Tab, rates: list[RateRow]) -> None:
    """Two rows for the same who with overlapping dates leave the rate ambiguous: say so."""
    groups: dict[tuple[str, ...], list[RateRow]] = {}
    for r in rates:
        groups.setdefault((r.client.casefold(), r.person.casefold(), r.role.casefold(), r.category.casefold()),
                          []).append(r)
    for rows in groups.values():
        for i, a in enumerate(rows):
            for b in rows[i + 1:]:
                if (a.effective_from == b.effective_from) and _overlap(a, b):
                    tab, cell = b.location.split("!")
                    t.errors.append(InputError(f"this rate overlaps the one at {a.location} for the same dates; "
                                               "give one of them an Effective From", Location(tab=tab, cell=cell)))


def _overlap(a: RateRow, b: RateRow) -> bool:
    from datetime import date as _d
    a0, a1 = a.effective_from or _d.min, a.effective_to or _d.max
    b0, b1 = b.effective_from or _d.min, b.effective_to or _d.max
    return a0 <= b1 and b0 <= a1


def _kind(t: _Tab, r: list[Cell], row: int) -> str | None:
    raw = " ".join(t.text(r, "rule").split()).casefold()
    kind = _KIND_ALIASES.get(raw, raw)
    if kind in RULE_KINDS:
        return kind
    if not raw:
        t.error("rule", row, f"the rule has no kind; write one of: {', '.join(RULE_KINDS)}")
    else:
        t.error("rule", row, f'unknown rule "{t.text(r, "rule")}"{_did_you_mean(raw, RULE_KINDS)}')
    return None


def _rules(t: _Tab, clients: dict[str, str], categories: dict[str, str]) -> dict[str, tuple[Any, ...]]:
    out: dict[str, list[Any]] = {k: [] for k in ("category_rules", "rollups", "tiers", "retainers", "caps",
                                                 "fixed_fees", "milestones", "expenses", "discounts")}
    if not t.require("rule"):
        return {k: tuple(v) for k, v in out.items()}
    for row, r in t.body:
        kind = _kind(t, r, row)
        client = _known(t, row, "client", t.text(r, "client"), clients, "client")
        category = _known(t, row, "category", t.text(r, "category"), categories, "category")
        if kind is None or client is None or category is None:
            continue
        loc = t.loc("rule", row)
        field = t.text(r, "field").casefold() or "any"
        if field not in ("notes", "task", "project", "any"):
            t.error("field", row, f'"{t.text(r, "field")}" is not a field to match; write notes, task, project or any'
                    f'{_did_you_mean(field, ("notes", "task", "project", "any"))}')
            continue
        pattern, project = t.text(r, "pattern"), t.text(r, "project")
        line_item, item, tax = t.text(r, "line_item"), t.text(r, "accounting_item"), t.text(r, "tax_code")
        description = t.text(r, "description")
        if pattern and (problem := check_pattern(pattern)):
            t.error("pattern", row, problem)
            continue
        needs_client = kind not in ("categorize", "rollup")
        if needs_client and not client:
            t.error("client", row, f"a {kind} rule needs a Client")
            continue
        n_errors = len(t.errors)
        if kind == "categorize":
            if not pattern:
                t.error("pattern", row, "a categorize rule needs a Pattern (words separated by |, or /regex/)")
            if not category:
                t.error("category", row, "a categorize rule needs the Category to suggest")
            if len(t.errors) == n_errors:
                out["category_rules"].append(CategoryRule(category=category, pattern=pattern, field=field,
                                                          client=client, line_item=line_item, location=loc))
        elif kind == "rollup":
            if not line_item:
                t.error("line_item", row, "a rollup rule needs the Line Item the entries go to")
            elif not (category or project or pattern or item or tax):
                t.error("line_item", row, "this rollup matches nothing and maps nothing: fill Category, Project or "
                        "Pattern, or an Accounting Item")
            else:
                out["rollups"].append(Rollup(client=client, category=category, project=project, field=field,
                                             pattern=pattern, line_item=line_item, item=item, tax_code=tax,
                                             location=loc))
        elif kind == "tier":
            rate = t.money(r, row, "rate")
            if rate is None and len(t.errors) == n_errors:
                t.error("rate", row, "a tier needs the Rate of its hours")
            up_to = t.hours(r, row, "hours")
            if len(t.errors) == n_errors and rate is not None:
                out["tiers"].append(Tier(client=client, up_to=up_to, rate=rate, location=loc))
        elif kind == "retainer":
            fee, hours = t.money(r, row, "amount"), t.hours(r, row, "hours")
            over, cap = t.money(r, row, "rate"), t.hours(r, row, "rollover_cap")
            if fee is None and is_blank(t.hm.get(r, "amount")):
                t.error("amount", row, "a retainer needs its monthly fee in Amount")
            if hours is None and is_blank(t.hm.get(r, "hours")):
                t.error("hours", row, "a retainer needs the hours its fee includes in Hours")
            if len(t.errors) == n_errors and fee is not None and hours is not None:
                out["retainers"].append(Retainer(client=client, fee=fee, included_hours=hours, overage_rate=over,
                                                 rollover_cap=cap, line_item=line_item or "Retainer", item=item,
                                                 description=description, location=loc))
        elif kind == "cap":
            amount = t.money(r, row, "amount")
            if amount is None and len(t.errors) == n_errors:
                t.error("amount", row, "a cap needs the not-to-exceed Amount")
            elif amount is not None:
                out["caps"].append(Cap(client=client, project=project, amount=amount, location=loc))
        elif kind in ("fixed fee", "milestone"):
            amount = t.money(r, row, "amount")
            period = t.period(r, row, "period")
            if not project:
                t.error("project", row, f"a {kind} needs the Project it bills")
            if amount is None and is_blank(t.hm.get(r, "amount")):
                t.error("amount", row, f"a {kind} needs its fee in Amount")
            if kind == "milestone" and period is None and is_blank(t.hm.get(r, "period")):
                t.error("period", row, "a milestone needs the Period (YYYY-MM) it is billed in")
            complete = t.boolean(r, row, "complete", False)
            if len(t.errors) == n_errors and amount is not None:
                common = dict(client=client, project=project, amount=amount, line_item=line_item, item=item,
                              tax_code=tax, description=description, location=loc)
                if kind == "fixed fee":
                    out["fixed_fees"].append(FixedFee(period=period, **common))
                else:
                    out["milestones"].append(Milestone(period=period, complete=complete, **common))
        elif kind == "expense":
            amount, markup = t.money(r, row, "amount"), t.percent(r, row, "percent")
            period = t.period(r, row, "period")
            if not description:
                t.error("description", row, "an expense needs a Description (it is the line's text)")
            if amount is None and is_blank(t.hm.get(r, "amount")):
                t.error("amount", row, "an expense needs its cost in Amount")
            if len(t.errors) == n_errors and amount is not None:
                out["expenses"].append(Expense(client=client, description=description, amount=amount,
                                               markup=markup or Decimal(0), period=period,
                                               line_item=line_item or "Expenses", item=item, tax_code=tax,
                                               location=loc))
        elif kind == "discount":
            percent, amount = t.percent(r, row, "percent"), t.money(r, row, "amount")
            period = t.period(r, row, "period")
            if len(t.errors) == n_errors:
                if (percent is None) == (amount is None):
                    t.error("percent", row, "a discount needs either a Percent or an Amount (one of them)")
                elif percent is not None and percent > 100:
                    t.error("percent", row, f"a discount of {percent}% is more than the whole invoice")
                else:
                    out["discounts"].append(Discount(client=client, line_item=line_item, percent=percent,
                                                     amount=amount, period=period, description=description,
                                                     location=loc))
    _cross_checks(t, out)
    return {k: tuple(v) for k, v in out.items()}


def _cross_checks(t: _Tab, out: dict[str, list[Any]]) -> None:
    """Rules that are fine alone but contradict each other."""
    def err(location: str, message: str) -> None:
        tab, cell = location.split("!")
        t.errors.append(InputError(message, Location(tab=tab, cell=cell)))

    by_client: dict[str, list[Any]] = {}
    for r in out["retainers"]:
        by_client.setdefault(r.client.casefold(), []).append(r)
    for rows in by_client.values():
        for extra in rows[1:]:
            err(extra.location, f'"{extra.client}" already has a retainer at {rows[0].location}; keep one')
    tiers_by: dict[str, list[Tier]] = {}
    for tier in out["tiers"]:
        tiers_by.setdefault(tier.client.casefold(), []).append(tier)
    for key, rows in tiers_by.items():
        if key in by_client:
            err(rows[0].location, f'"{rows[0].client}" has both tiers and a retainer; use one of them')
        ups = [r.up_to for r in rows if r.up_to is not None]
        if len(ups) != len(set(ups)):
            err(rows[-1].location, f'two tiers of "{rows[0].client}" end at the same hours')
        if sum(1 for r in rows if r.up_to is None) > 1:
            err(rows[-1].location, f'"{rows[0].client}" has more than one open-ended tier (blank Hours)')
        if all(r.up_to is not None for r in rows):
            err(rows[-1].location, f'the last tier of "{rows[0].client}" needs a blank Hours (everything beyond)')
    fee_projects: dict[tuple[str, str], str] = {}
    for f in out["fixed_fees"] + out["milestones"]:
        fee_projects.setdefault((f.client.casefold(), f.project.casefold()), f.location)
    caps_seen: dict[tuple[str, str], str] = {}
    for c in out["caps"]:
        key = (c.client.casefold(), c.project.casefold())
        if key in caps_seen:
            err(c.location, f"this cap repeats the one at {caps_seen[key]}; keep one")
        caps_seen[key] = c.location
