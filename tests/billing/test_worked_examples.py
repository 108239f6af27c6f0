"""Every worked example in docs/billing-rules.md, run as a test: the document is the table of cases.

An example is a `### Example: ...` section holding markdown tables, each after a label line:
`Clients:`, `Rates:`, `Rules:`, `Categories:` (config tabs, headers as in the sheet), `Time:` (rows of the
Time tab), `Invoices:` (the Invoices tab: Client, Period, Invoice — invoices already made), and `Invoice:` /
`Invoice for <client>:` (the lines the engine must produce, in order; only the columns shown are compared).
Expectation lines: `Total: 1,234.50`, `Due: 2026-12-01`, `Held: <words>`, `Not billed: <words>`,
`Non-billable: 3.5 h`, `Duplicate: 1.5 h`, `Warning: <words>`, `Error: <exact validation message>`,
`No invoice.`
Period 2026-10, issue date 2026-11-01, rows approved unless the Approved column says otherwise.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from functions.billing.engine import compute_invoices
from functions.models import Period, TimeEntry, TimeRow
from functions.money import parse_amount
from functions.sheet.config_tabs import parse_book
from functions.values import parse_bool

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "billing-rules.md"
CATEGORIES = list(csv.reader((ROOT / "functions/sample/config/Categories.csv").open(encoding="utf-8")))
PERIOD = Period(year=2026, month=10)
ISSUE = date(2026, 11, 1)
_LABEL = re.compile(r"^(Clients|Rates|Rules|Categories|Time|Invoices|Invoice(?: for (?P<client>.+))?):\s*$")
_EXPECT = re.compile(
    r"^(Total|Due|Held|Not billed|Non-billable|Duplicate|Warning|Error)(?: for (?P<client>[^:]+))?: (?P<value>.+)$"
)


@dataclass
class Example:
    title: str
    tables: dict[str, list[list[str]]] = field(default_factory=dict)
    expects: list[tuple[str, str, str]] = field(default_factory=list)  # (what, client, value)
    no_invoice: bool = False

    def __repr__(self) -> str:
        return self.title


def _cells(line: str) -> list[str]:
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def load_examples() -> list[Example]:
    out: list[Example] = []
    current: Example | None = None
    table: list[list[str]] | None = None
    in_code = False
    for raw in DOC.read_text(encoding="utf-8").splitlines():
        line = raw.rstrip()
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        if line.startswith("#"):
            current = Example(title=line.split(":", 1)[1].strip()) if line.startswith("### Example:") else None
            if current:
                out.append(current)
            table = None
            continue
        if current is None:
            continue
        if m := _LABEL.match(line):
            name = (
                "Invoice:" + (m.group("client") or "")
                if line.startswith("Invoice ") or line.startswith("Invoice:")
                else m.group(1)
            )
            table = current.tables.setdefault(name, [])
            continue
        if line.startswith("|") and table is not None:
            cells = _cells(line)
            if not all(set(c) <= set("-: ") for c in cells):
                table.append(cells)
            continue
        if not line.strip() and table is not None and not table:
            continue  # the blank line between a label and its table
        table = None
        if m := _EXPECT.match(line.strip()):
            current.expects.append((m.group(1), (m.group("client") or "").strip(), m.group("value").strip()))
        elif line.strip() == "No invoice.":
            current.no_invoice = True
    return out


EXAMPLES = load_examples()


def _rows(table: list[list[str]], default_client: str) -> list[TimeRow]:
    header, body = table[0], table[1:]
    rows = []
    for n, cells in enumerate(body, start=2):
        v = dict(zip(header, cells, strict=True))
        entry = TimeEntry(
            source="doc",
            source_id=v.get("Ref") or f"t{n - 1}",
            date=v["Date"],
            client=v.get("Client") or default_client,
            project=v.get("Project", ""),
            task=v.get("Task", ""),
            person=v.get("Person") or "Ana Ruiz",
            role=v.get("Role", ""),
            notes=v.get("Notes", ""),
            hours=v["Hours"],
            billable=parse_bool(v.get("Billable"), True),
            rate=v.get("Tracker Rate") or None,
            currency=v.get("Tracker Currency") or None,
        )
        rows.append(
            TimeRow(
                row=n,
                entry=entry,
                category=v.get("Category", ""),
                line_item=v.get("Line Item", ""),
                rate_override=parse_amount(v["Rate Override"]) if v.get("Rate Override") else None,
                approved=parse_bool(v.get("Approved"), True),
                invoice=v.get("Invoice", ""),
                comment=v.get("Comment", ""),
            )
        )
    return rows


def test_the_document_has_examples_for_every_rule_family():
    titles = " ".join(e.title.casefold() for e in EXAMPLES)
    for word in (
        "precedence",
        "effective",
        "roll-up",
        "detail",
        "rounding",
        "tier",
        "retainer",
        "cap",
        "fixed fee",
        "milestone",
        "discount",
        "tax",
        "terms",
        "non-billable",
        "expense",
        "validation",
    ):
        assert word in titles, f"no worked example about {word}"
    assert len(EXAMPLES) >= 16


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.title for e in EXAMPLES])
def test_worked_example(example: Example):
    tables = {k: v for k, v in example.tables.items() if not k.startswith(("Time", "Invoice"))}
    made = example.tables.get("Invoices", [])
    invoices = [(r[0], r[1], r[2]) for r in made[1:]] if made else []
    tables.setdefault("Categories", CATEGORIES)
    book, errors = parse_book(tables)
    expected_errors = [v for what, _, v in example.expects if what == "Error"]
    assert [str(e) for e in errors] == expected_errors
    if "Time" not in example.tables:
        return
    default_client = tables["Clients"][1][0]
    result = compute_invoices(_rows(example.tables["Time"], default_client), book, PERIOD, ISSUE, invoices=invoices)
    drafts = {d.client: d for d in [*result.drafts, *result.held_drafts.values()]}
    if example.no_invoice:
        assert result.drafts == ()
    for name, table in example.tables.items():
        if not name.startswith("Invoice:"):
            continue
        client = name.split(":", 1)[1] or default_client
        assert client in drafts, f"no invoice for {client}; held: {result.held}"
        header, body = table[0], table[1:]
        got = drafts[client].lines
        shown = [[_shown(line, h) for h in header] for line in got]
        want = [[_norm(h, c) for h, c in zip(header, cells, strict=True)] for cells in body]
        assert shown == want
    for what, client, value in example.expects:
        client = client or default_client
        if what == "Total":
            assert drafts[client].total == parse_amount(value.split()[0])
        elif what == "Due":
            assert drafts[client].due_date.isoformat() == value
        elif what == "Held":
            assert value in result.held.get(client, ""), result.held
        elif what == "Not billed":
            assert value in result.not_billed.get(client, ""), result.not_billed
        elif what == "Non-billable":
            assert sum(n.hours for n in result.non_billable[client]) == Decimal(value.split()[0])
        elif what == "Duplicate":
            assert sum(n.hours for n in result.duplicates[client]) == Decimal(value.split()[0])
        elif what == "Warning":
            assert any(value in str(i) for i in result.issues), [str(i) for i in result.issues]
    if not any(w == "Held" for w, _, _ in example.expects):
        assert result.held == {}, result.held
    if not any(w == "Not billed" for w, _, _ in example.expects):
        assert result.not_billed == {}, result.not_billed


def _norm(header: str, cell: str) -> object:
    if header in ("Quantity", "Hours", "Rate", "Amount"):
        return parse_amount(cell) if cell else Decimal(0)
    if header == "Entries":
        return int(cell or 0)
    return cell


def _shown(line, header: str) -> object:
    return {
        "Kind": line.kind,
        "Description": line.description,
        "Line Item": line.line_item,
        "Item": line.item,
        "Quantity": line.quantity,
        "Hours": line.raw_hours,
        "Rate": line.unit_price,
        "Amount": line.amount,
        "Tax": line.tax_code,
        "Entries": len(line.entry_refs),
    }[header]
