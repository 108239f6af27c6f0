"""The rule book: everything the billing engine knows about clients, rates and rules, as plain values.

The sheet side builds it from the Clients, Rates, Rules and Categories tabs (`functions.sheet.config_tabs`);
the engine only reads it. Lookups are case-insensitive.

    >>> book = RuleBook(clients=(ClientSettings(name="Acme", currency="EUR"),))
    >>> book.client(" acme ").currency
    'EUR'
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ..models import Category, CategoryRule, Frozen
from .caps import Cap
from .discounts import Discount
from .expenses import Expense
from .fixed import FixedFee, Milestone
from .rates import RateCard, RateRow
from .retainer import Retainer
from .rollup import Rollup
from .rounding import NO_ROUNDING, Rounding
from .terms import DEFAULT_TERMS
from .tiers import Tier

DETAILS = ("line item", "line item + person", "line item + week", "entry")  # a client's detail levels
TASK_NOTES = ("none", "summary", "list")  # how much of the task notes a line's description carries


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
    # A month with no approved billable time: True bills the retainer fee and the minimum fee anyway, False
    # bills neither; None (blank, the default) bills the retainer fee but not the minimum fee.
    bill_without_time: bool | None = None
    language: str = ""  # of the client-facing line descriptions (functions/describe); blank = English
    location: str = ""

    @property
    def retainer_without_time(self) -> bool:
        return self.bill_without_time is not False

    @property
    def minimum_without_time(self) -> bool:
        return self.bill_without_time is True

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

    def for_client(self, name: str) -> ClientRules:
        k = name.strip().casefold()

        def mine(items: Sequence[Any]) -> tuple[Any, ...]:
            return tuple(i for i in items if i.client.casefold() == k)

        return ClientRules(
            tiers=mine(self.tiers),
            retainers=mine(self.retainers),
            caps=mine(self.caps),
            fixed_fees=mine(self.fixed_fees),
            milestones=mine(self.milestones),
            expenses=mine(self.expenses),
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

    @property
    def fees(self) -> tuple[FixedFee | Milestone, ...]:
        """The fixed fees, then the milestones: what bills a project by fee instead of hours."""
        return (*self.fixed_fees, *self.milestones)


# --- reading cells -------------------------------------------------------------------------------------------


class BookIndex:
    """Case-insensitive lookups into the book, built once per run (the book itself stays a plain value)."""

    def __init__(self, book: RuleBook):
        self._clients = {c.name.casefold(): c for c in book.clients}
        self._categories = {c.name.casefold(): c for c in book.categories}
        self._rules: dict[str, ClientRules] = {}
        self.book = book

    def client(self, name: str) -> ClientSettings | None:
        return self._clients.get(name.strip().casefold())

    def category(self, name: str) -> Category | None:
        return self._categories.get(name.strip().casefold())

    def rules(self, client: str) -> ClientRules:
        key = client.strip().casefold()
        if key not in self._rules:
            self._rules[key] = self.book.for_client(client)
        return self._rules[key]
