"""The demo configuration: it parses cleanly, its headers are the tabs' headers, and on the demo's October
exports every rule family of docs/billing-rules.md shows up on the invoices."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from functions.billing.engine import BillingResult, compute_invoices
from functions.models import InvoiceDraft, Period, TimeRow
from functions.sheet.config_tabs import parse_book
from functions.sheet.contract import load_contract
from functions.sheet.preview_tab import preview_rows
from functions.sources.csv_exports import read_export

SAMPLE = Path(__file__).resolve().parents[2] / "functions" / "sample"
TABS = ("Clients", "Rates", "Rules", "Categories")
ISSUE = date(2026, 11, 2)


def read_tab(name: str) -> list[list[str]]:
    with (SAMPLE / "config" / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def tables() -> dict[str, list[list[str]]]:
    return {name: read_tab(name) for name in TABS}


@pytest.fixture(scope="module")
def result(tables) -> BillingResult:
    book, errors = parse_book(tables)
    assert errors == []
    labels: dict[tuple[str, str], str] = {}
    for path in (SAMPLE / "labels.csv", SAMPLE / "history" / "september_labels.csv"):
        with path.open(encoding="utf-8", newline="") as f:
            labels.update({(r["source"], r["entry_id"]): r["category"] for r in csv.DictReader(f)})
    rows: list[TimeRow] = []
    files = sorted((SAMPLE / "exports").glob("*.csv")) + sorted((SAMPLE / "history").glob("september_[hct]*.csv"))
    for path in files:
        _, entries, _ = read_export(path)
        for e in entries:
            rows.append(
                TimeRow(row=len(rows) + 2, entry=e, category=labels.get((e.source, e.source_id), ""), approved=True)
            )
    return compute_invoices(rows, book, Period(year=2026, month=10), ISSUE)


def draft(result: BillingResult, client: str) -> InvoiceDraft:
    return next(d for d in result.drafts if d.client == client)


def test_headers_are_the_tab_headers_and_every_setting_has_a_note(tables):
    contract = load_contract()
    for name in TABS:
        assert tables[name][0] == contract.tab(name).headers, name
    for name in ("Clients", "Rates", "Rules"):
        for col in contract.tab(name).columns:
            if col.key not in ("client", "note", "person", "role", "customer", "currency"):
                assert col.note, f"{name}.{col.header} has no header note"


def test_the_clients_are_the_agencys(tables):
    agency = json.loads((SAMPLE / "agency.json").read_text(encoding="utf-8"))
    expected = {c["name"]: c["currency"] for c in agency["clients"]}
    got = {r[0]: r[2] for r in tables["Clients"][1:]}
    assert got == expected


def test_every_client_is_invoiced_and_nothing_is_held(result):
    assert result.held == {}
    assert len(result.drafts) == 25
    assert all(d.total > 0 for d in result.drafts)


def kinds(d: InvoiceDraft) -> set[str]:
    return {line.kind for line in d.lines}


def test_every_rule_family_shows_up(result):
    # retainers, fees, milestones, caps, minimum, expenses, discounts
    assert "retainer" in kinds(draft(result, "Nimbus Cloud")) and "retainer" in kinds(draft(result, "Evergreen Foods"))
    assert "fixed" in kinds(draft(result, "Cedar Health"))
    milestones = [line for line in draft(result, "Harbor Museum").lines if line.kind == "milestone"]
    assert [line.amount for line in milestones] == [Decimal("6000.00")]  # milestone 2 is not complete
    assert draft(result, "Granite Capital").total == Decimal("9000.00")
    assert "writeoff" in kinds(draft(result, "Granite Capital")) and "writeoff" in kinds(
        draft(result, "Ironclad Security")
    )
    assert draft(result, "Riverside Clinic").total == Decimal("6000.00")
    assert "minimum" in kinds(draft(result, "Riverside Clinic"))
    kestrel = [line for line in draft(result, "Kestrel Aviation").lines if line.kind == "expense"]
    assert sorted(line.amount for line in kestrel) == [Decimal("300.00"), Decimal("1364.00")]
    assert "expense" in kinds(draft(result, "Willow Insurance"))
    for client in ("Dunmore & Co.", "Lumen Energy", "Pioneer Outdoors"):
        assert "discount" in kinds(draft(result, client)), client
    lumen = [line for line in draft(result, "Lumen Energy").lines if line.kind == "discount"]
    assert lumen[0].line_item == "Meetings"
    # tiers and effective dates
    bluefin = draft(result, "Bluefin Logistics")
    assert {line.unit_price for line in bluefin.lines} == {Decimal("150"), Decimal("120")}
    assert sum(line.quantity for line in bluefin.lines if line.unit_price == 150) == Decimal("40")
    assert {line.unit_price for line in draft(result, "Fjord Analytics").lines} >= {Decimal("120"), Decimal("130")}
    # rates by precedence: client + category, client + role, client + person
    assert {
        line.unit_price
        for line in draft(result, "Lumen Energy").lines
        if line.line_item == "Meetings" and line.kind == "hours"
    } == {Decimal("95")}
    assert {line.unit_price for line in draft(result, "Vertex Robotics").lines} == {
        Decimal(x) for x in ("140", "125", "105")
    }
    assert {line.unit_price for line in draft(result, "Pioneer Outdoors").lines if line.kind == "hours"} == {
        Decimal(x) for x in ("115", "145", "100")
    }
    # roll-ups and accounting items
    acme = draft(result, "Acme Retail")
    assert "Support & Maintenance" in {line.line_item for line in acme.lines}
    maintenance = [line for d in result.drafts for line in d.lines if line.line_item == "Maintenance"]
    assert maintenance and all(line.item == "Maintenance" for line in maintenance)
    assert "Project Management & Meetings" in {line.line_item for line in draft(result, "Mosaic Media").lines}
    assert any("matched no entry" in i.message for i in result.issues_for("Xenon Labs"))
    # rounding: billed >= raw for a round-up client, and something was actually rounded
    assert all(line.quantity >= line.raw_hours for line in acme.lines)
    assert any(line.quantity > line.raw_hours for line in acme.lines)
    # detail levels
    tidewater = draft(result, "Tidewater Hotels")
    assert all(len(line.entry_refs) == 1 for line in tidewater.lines)
    assert any("week of" in line.description for line in draft(result, "Fjord Analytics").lines)
    assert any("Chloe Martin" in line.description for line in draft(result, "Cedar Health").lines)
    # tax codes
    assert {line.tax_code for line in draft(result, "Cedar Health").lines} == {"NON"}
    orchard = draft(result, "Orchard Bank")
    assert {line.tax_code for line in orchard.lines if line.line_item == "Support"} == {"NON"}
    assert {line.tax_code for line in orchard.lines if line.line_item != "Support"} == {"TAX"}
    # currencies and terms
    assert {d.currency for d in result.drafts} == {"USD", "EUR", "GBP", "CAD"}
    assert draft(result, "Mosaic Media").due_date == ISSUE
    assert draft(result, "Dunmore & Co.").terms == "Net 45"
    # non-billable time is listed
    assert len(result.non_billable) >= 20


def test_preview_of_the_demo_has_a_total_row_per_client(result):
    rows = preview_rows(result, None)
    col = {h: i for i, h in enumerate(load_contract().tab("Preview").headers)}
    totals = [r for r in rows if r[col["Line"]] == "Total"]
    assert len(totals) == 25
    assert all(r[col["Status"]] == "ready" for r in totals)
