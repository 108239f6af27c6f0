"""The domain records every stage passes along: immutable pydantic v2 models, money as Decimal.

A time entry comes from a source, gets a category suggestion, becomes a row of the Time tab that people
review, and ends up (through the billing engine) on a line of an invoice draft, which an accounting
system turns into a created invoice.

    >>> e = TimeEntry(source="harvest", source_id="h-1", date="2026-10-01", client="Acme", person="Ana Ruiz",
    ...               hours="1.5")
    >>> e.ref, e.hours
    ('harvest:h-1', Decimal('1.5'))
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from json.encoder import encode_basestring
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from .money import D, exact_hours, round_money


class Frozen(BaseModel):
    """Base for immutable records; change one with `model_copy(update=...)`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """A record from values the code itself made from records already validated (a suggestion a stage
        computed, a row of an entry the run holds): no validation. What `model_construct` does, without its
        per-field default lookup, which cost more than validating (3 s per 100,000 rows). Never for values
        read from outside: those go through the constructor."""
        got = _TRUSTED.get(cls)
        if got is None:
            got = _TRUSTED[cls] = _trusted_defaults(cls)
        defaults, required, names = got
        if not (required <= values.keys() <= names):
            raise TypeError(f"{cls.__name__}.trusted needs {sorted(required)} and takes only {sorted(names)}")
        fields = defaults.copy()  # in the fields' order, as validation makes them
        fields.update(values)
        m = cls.__new__(cls)
        _set(m, "__dict__", fields)
        _set(m, "__pydantic_fields_set__", set(values))
        _set(m, "__pydantic_extra__", None)
        _set(m, "__pydantic_private__", None)
        return m


_TRUSTED: dict[type, tuple[dict[str, Any], frozenset[str], frozenset[str]]] = {}
_set = object.__setattr__  # as pydantic sets a model's internals


def _trusted_defaults(cls: type[Frozen]) -> tuple[dict[str, Any], frozenset[str], frozenset[str]]:
    """(every field with its default, None where it has none; the fields without one; every field's name)."""
    if cls.__pydantic_post_init__ or cls.__private_attributes__:
        raise TypeError(f"{cls.__name__} has a post-init or private attributes: build it with its constructor")
    defaults: dict[str, Any] = {}
    required = set()
    for name, f in cls.model_fields.items():
        if f.default_factory is not None:
            raise TypeError(f"{cls.__name__}.{name} has a default factory: build it with its constructor")
        if f.is_required():
            required.add(name)
        defaults[name] = None if f.is_required() else f.default
    return defaults, frozenset(required), frozenset(defaults)


_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


class Period(Frozen):
    """A billing month, written `2026-10`."""

    year: int
    month: int = Field(ge=1, le=12)

    @classmethod
    def parse(cls, text: str) -> Period:
        m = _PERIOD.match(text.strip())
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise ValueError(f'"{text}" is not a period; write it as YYYY-MM, for example 2026-10')
        return cls(year=int(m.group(1)), month=int(m.group(2)))

    @classmethod
    def of(cls, day: date) -> Period:
        return cls(year=day.year, month=day.month)

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def contains(self, day: date) -> bool:
        return day.month == self.month and day.year == self.year

    def previous(self) -> Period:
        return Period(year=self.year - 1, month=12) if self.month == 1 else Period(year=self.year, month=self.month - 1)

    def label(self) -> str:
        """`Oct 2026`, for descriptions people read."""
        return self.start.strftime("%b %Y")

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


class TimeEntry(Frozen):
    """One tracked time entry, normalized from any source. Identity is (source, source_id)."""

    source: str
    source_id: str
    date: date
    client: str
    project: str = ""
    task: str = ""
    person: str
    role: str = ""
    email: str = ""
    notes: str = ""
    hours: Decimal
    billable: bool = True
    rate: Decimal | None = None  # the rate the time tracker carried, if any
    currency: str | None = None
    url: str = ""
    tags: tuple[str, ...] = ()

    @field_validator("hours", "rate", mode="before")
    @classmethod
    def _decimal(cls, v: object) -> object:
        return None if v is None else D(v)

    @field_validator("hours")
    @classmethod
    def _exact(cls, v: Decimal) -> Decimal:
        """A whole number of seconds read back from a sheet as a float is those seconds again (money.exact_hours)."""
        return exact_hours(v)

    @cached_property
    def ref(self) -> str:
        """`source:source_id`, the string form of the identity used in ledgers and line audits (made once per
        entry: a 100,000-entry refresh reads it over a million times)."""
        return f"{self.source}:{self.source_id}"

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with `update` applied; its `ref` is made again from the copy's own fields."""
        copied = super().model_copy(update=update, deep=deep)
        if update:
            copied.__dict__.pop("ref", None)
        return copied

    def sync_fields(self) -> dict[str, str]:
        """The fields a refresh compares to see whether the source changed an entry."""
        return {
            "date": self.date.isoformat(),
            "client": self.client,
            "project": self.project,
            "task": self.task,
            "person": self.person,
            "role": self.role,
            "notes": self.notes,
            "hours": str(self.hours.normalize()) if self.hours else "0",
            "billable": "TRUE" if self.billable else "FALSE",
            "rate": "" if self.rate is None else str(self.rate.normalize()),
            "currency": self.currency or "",
        }

    def sync_hash(self) -> str:
        """The first 16 hex digits of the sha256 of `json.dumps(self.sync_fields(), sort_keys=True,
        ensure_ascii=False)`. The hashes are stored in people's sheets, so they must never change: the same
        JSON text is built here directly (the keys in sorted order, each string quoted by the function
        json.dumps uses), a third of the cost of json.dumps; tests/test_sync_hash_stable.py pins both."""
        q = encode_basestring
        hours = str(self.hours.normalize()) if self.hours else "0"
        rate = "" if self.rate is None else str(self.rate.normalize())
        billable = '"TRUE"' if self.billable else '"FALSE"'
        blob = (
            f'{{"billable": {billable}, "client": {q(self.client)}, '
            f'"currency": {q(self.currency or "")}, "date": "{self.date.isoformat()}", "hours": {q(hours)}, '
            f'"notes": {q(self.notes)}, "person": {q(self.person)}, "project": {q(self.project)}, '
            f'"rate": {q(rate)}, "role": {q(self.role)}, "task": {q(self.task)}}}'
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


SuggestionSource = Literal["rule", "memory", "model", "ai", "none"]


class Suggestion(Frozen):
    """A category suggested for an entry, with where it came from and how sure it is (0..1)."""

    category: str
    source: SuggestionSource
    confidence: float = Field(ge=0.0, le=1.0)
    line_item: str = ""
    description: str = ""  # a short client-facing description, when the categorizer writes one

    @property
    def low_confidence(self) -> bool:
        return self.confidence < LOW_CONFIDENCE


LOW_CONFIDENCE = 0.6
# Hours in one entry above which the Time tab flags it and the preview warns: most likely a timer left running.
LONG_ENTRY_HOURS = Decimal("12")


class Category(Frozen):
    """A row of the Categories tab."""

    name: str
    meaning: str = ""
    billable: bool = True
    line_item: str = ""  # default line item for the category (the category itself when blank)
    keywords: str = ""  # optional words people write for this work, comma separated (any language)


class CategoryRule(Frozen):
    """A categorize rule from the Rules tab: if `field` matches `pattern` -> `category`.

    `field` is one of notes, task, project, any; `pattern` is keywords separated by `|`, or `/regex/`.
    `client` limits the rule to one client when set. Earlier rows win.
    """

    category: str
    pattern: str
    field: Literal["notes", "task", "project", "any"] = "any"
    client: str = ""
    line_item: str = ""
    location: str = ""  # `Rules!A5`, for messages

    def matches(self, entry: TimeEntry) -> bool:
        if self.client and self.client.casefold() != entry.client.casefold():
            return False
        haystacks = {
            "notes": [entry.notes],
            "task": [entry.task],
            "project": [entry.project],
            "any": [entry.notes, entry.task, entry.project],
        }[self.field]
        p = self.pattern.strip()
        if len(p) >= 2 and p.startswith("/") and p.endswith("/"):
            rx = re.compile(p[1:-1], re.IGNORECASE)
            return any(rx.search(h) for h in haystacks)
        words = [w.strip().casefold() for w in p.split("|") if w.strip()]
        return any(w in h.casefold() for h in haystacks for w in words)


class TimeRow(Frozen):
    """A row of the Time tab: the entry as last synced, plus people's review and the pipeline's output."""

    row: int  # 1-based row number in the tab
    entry: TimeEntry
    # review columns, owned by people
    category: str = ""
    line_item: str = ""
    rate_override: Decimal | None = None
    approved: bool = False
    comment: str = ""
    # output columns, owned by the pipeline
    suggested_category: str = ""
    suggested_by: str = ""
    confidence: float | None = None
    suggested_description: str = ""
    flags: str = ""
    invoice: str = ""
    sync_hash: str = ""

    @property
    def invoiced(self) -> bool:
        return bool(self.invoice.strip())

    @property
    def effective_category(self) -> str:
        return self.category.strip()


LineKind = Literal[
    "hours", "fixed", "milestone", "retainer", "expense", "discount", "writeoff", "minimum", "adjustment"
]


class InvoiceLine(Frozen):
    """One line of an invoice. `amount` is rounded once (money.MONEY_ROUNDING); totals are sums of amounts."""

    description: str
    line_item: str
    item: str = ""  # the accounting system's item (QuickBooks service Item); the line item when blank
    kind: LineKind = "hours"
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    raw_hours: Decimal = Decimal("0")
    service_date: date | None = None
    tax_code: str = ""
    entry_refs: tuple[str, ...] = ()
    detail: tuple[str, ...] = ()  # people-readable audit notes (rule applied, rounding, ...)
    # What the client reads (functions/describe, or a person's edit in Preview); `description` is the
    # engine's own text, which stays in Preview. Not part of the content hash, so a reworded line is
    # still the same invoice.
    client_description: str = ""
    description_by: str = ""  # who wrote client_description: ai, offline, rules or edited (see describe.known)

    @property
    def shown_description(self) -> str:
        """The line's text on the document, in the ledger and in the accounting system."""
        return self.client_description or self.description

    @field_validator("quantity", "unit_price", "amount", "raw_hours", mode="before")
    @classmethod
    def _decimal(cls, v: object) -> object:
        return D(v)

    @property
    def accounting_item(self) -> str:
        return self.item or self.line_item


class Party(Frozen):
    """Who sends or receives an invoice, as its document shows them; blank fields are left out."""

    name: str = ""
    address: str = ""  # one line of the address per line of text
    contact: str = ""
    email: str = ""
    phone: str = ""
    tax_id: str = ""


class Letterhead(Frozen):
    """What a client's invoice document says besides its lines: the agency (Agency tab, else settings), the
    client's billing details (Clients tab), how to pay, tax rates the documents may compute, and the client's
    rounding rule in words. Documents only: `InvoiceDraft.content_hash` leaves it out."""

    agency: Party = Party()
    logo: bytes = b""  # a PNG or JPEG
    payment: str = ""  # bank details, one per line
    pay_link: str = ""
    footer: str = ""
    tax_rates: tuple[tuple[str, Decimal], ...] = ()  # (tax code, rate as a fraction: 0.2 for 20 %)
    bill_to: Party = Party()
    rounding: str = ""  # "each entry rounded up to 15 min"
    unset: str = ""  # with no agency name set: the sentence that says what to set, shown as the sender


class InvoiceDraft(Frozen):
    """An invoice the billing engine wants created for one client and period."""

    client: str
    customer: str  # the accounting customer (QuickBooks DisplayName or Id); the client name when blank
    period: str
    currency: str
    issue_date: date
    due_date: date
    terms: str = ""
    memo: str = ""
    tax_code: str = ""
    lines: tuple[InvoiceLine, ...]
    letterhead: Letterhead | None = None  # for documents (functions.sheet.agency_tab); not in content_hash

    @computed_field  # type: ignore[prop-decorator]  # mypy refuses any decorator over @property; pydantic's documented way
    @property
    def total(self) -> Decimal:
        return round_money(sum((line.amount for line in self.lines), Decimal("0")), self.currency)

    @property
    def entry_refs(self) -> tuple[str, ...]:
        return tuple(ref for line in self.lines for ref in line.entry_refs)

    def content_hash(self) -> str:
        """A hash of what the invoice says: same contents, same hash (drives conflicts and request ids)."""
        payload = {
            "client": self.client,
            "customer": self.customer,
            "period": self.period,
            "currency": self.currency,
            "lines": [
                [
                    line.description,
                    line.accounting_item,
                    line.kind,
                    str(line.quantity),
                    str(line.unit_price),
                    str(line.amount),
                    line.tax_code,
                    sorted(line.entry_refs),
                ]
                for line in self.lines
            ],
        }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()

    @property
    def key(self) -> str:
        """The deterministic invoice key: client, period and contents, e.g. `acme-corp/2026-10/3f9a1c2b7d`."""
        return f"{slug(self.client)}/{self.period}/{self.content_hash()[:10]}"


class CreatedInvoice(Frozen):
    """An invoice the accounting system confirmed. `status` says whether this run created it."""

    key: str
    client: str
    period: str
    number: str
    external_id: str = ""
    url: str = ""
    currency: str
    total: Decimal
    line_count: int
    entry_refs: tuple[str, ...] = ()
    document: str = ""  # path of the readable document, for the local ledger
    status: Literal["created", "existing"] = "created"
    created_at: datetime | None = None


IssueLevel = Literal["error", "warning", "info"]


class Issue(Frozen):
    """A warning or error about billing or input, shown in Preview and in summaries."""

    level: IssueLevel
    message: str
    client: str = ""
    where: str = ""  # a place the sheet side named: `Rates!C7`, `Time!J12`
    row: int | None = None  # a Time row (1-based, as in the sheet) and the field of it the issue is about;
    field: str = ""  # the sheet side turns them into a cell through the tab's real header (`located`)

    def located(self, cell: Callable[[int, str], str]) -> Issue:
        """This issue with `where` named by `cell(row, field)` (the Time tab as it is laid out now)."""
        if self.where or self.row is None:
            return self
        return self.model_copy(update={"where": cell(self.row, self.field)})

    def __str__(self) -> str:
        where = self.where or (f"Time row {self.row}" if self.row is not None else "")
        prefix = f"{where}: " if where else ""
        return f"{prefix}{self.message}"


def slug(text: str) -> str:
    """`Acme Corp.` -> `acme-corp` (stable, ASCII, for keys and file names)."""
    s = re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")
    return s or "x"
