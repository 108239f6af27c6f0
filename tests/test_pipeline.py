"""The monthly run through the service layer: refresh -> a person's edits -> refresh -> preview -> create.

The sheet is an in-memory SheetStore (a stand-in for the workbook or Google Sheet, which have their own
tests); the ledger, categorizer, merge and billing engine are the real ones.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions import pipeline
from functions.accounting.ledger import Ledger
from functions.config import Settings, bootstrap
from functions.errors import InputErrors, LockedError
from functions.models import Period, TimeEntry
from functions.values import parse_bool
from tests.fakes import ListSource, MemorySheet
from tests.seeding import seed_categories

OCT = Period.parse("2026-10")
NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def entries(n: int = 6, client: str = "Acme", **kw) -> list[TimeEntry]:
    notes = [
        "Checkout API endpoint",
        "Hotfix: login regression",
        "mtg w/ client re: Q4",
        "wireframes for cart",
        "=SUM(A1) formula in notes",
        "-fixed header",
    ]
    out = []
    for i in range(n):
        base = dict(
            source="csv",
            source_id=f"{client[:1]}{i}",
            date=date(2026, 10, 1) + timedelta(days=i),
            client=client,
            person="Ana Ruiz",
            role="Developer",
            notes=notes[i % len(notes)],
            hours=Decimal("1.5"),
            currency="USD",
        )
        base.update(kw)
        out.append(TimeEntry(**base))
    return out


def setup(tmp_path, source_entries, sheet=None):
    sheet = sheet or MemorySheet()
    seed_categories(sheet)
    sheet.reads = sheet.writes = 0  # count the runs' own calls
    ledger = Ledger(tmp_path / "ledger.sqlite", tmp_path / "invoices")
    services = bootstrap(
        Settings(workdir=tmp_path), sheet=sheet, accounting=ledger, source=ListSource(source_entries), clock=lambda: NOW
    )
    return services, sheet, ledger


def configure_clients(sheet: MemorySheet, rates: dict[str, str]) -> None:
    """As a person: fill in the Default Rate and Terms of the clients refresh added."""
    for r, row in enumerate(sheet.tabs["Clients"][1:], start=2):
        client = row[sheet.col("Clients", "Client")]
        if client in rates:
            sheet.set("Clients", r, "Default Rate", rates[client])
            sheet.set("Clients", r, "Terms", "Net 30")


def time_rows(sheet: MemorySheet) -> dict[str, int]:
    """entry id -> row number in the Time tab."""
    c = sheet.col("Time", "Entry ID")
    return {row[c]: i for i, row in enumerate(sheet.tabs["Time"][1:], start=2) if len(row) > c and row[c]}


def approve_all(sheet: MemorySheet) -> None:
    for r in time_rows(sheet).values():
        sheet.set("Time", r, "Approved", True)


def test_refresh_appends_suggests_and_adds_new_clients(tmp_path):
    services, sheet, _ = setup(tmp_path, entries() + entries(2, client="Bluefin"))
    s = pipeline.refresh(services, OCT)
    assert (s.imported, s.new, s.updated) == (8, 8, 0)
    assert s.new_clients == ["Acme", "Bluefin"]
    assert s.clients["Acme"].entries == 6 and s.clients["Acme"].billable_hours == Decimal("9.0")
    assert sum(s.suggestions.values()) == 8
    rows = time_rows(sheet)
    assert sheet.get("Time", rows["A4"], "Notes") == "=SUM(A1) formula in notes"  # stays text
    assert sheet.get("Time", rows["A1"], "Category") == sheet.get("Time", rows["A1"], "Suggested Category")
    assert len(sheet.tabs["Runs"]) == 2
    # a second refresh of the same data changes nothing but the run log
    writes_before = [list(r) for r in sheet.tabs["Time"]]
    again = pipeline.refresh(services, OCT)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 8)
    assert sheet.tabs["Time"] == writes_before


def test_time_without_a_client_adds_no_blank_client(tmp_path):
    services, sheet, _ = setup(tmp_path, entries(1) + entries(1, client=""))
    s = pipeline.refresh(services, OCT)
    assert s.new_clients == ["Acme"]
    assert [r[0] for r in sheet.tabs["Clients"][1:]] == ["Acme"]


def test_one_read_and_one_write_per_refresh_whatever_the_size(tmp_path):
    services, sheet, _ = setup(tmp_path, entries(300))
    pipeline.refresh(services, OCT)
    assert (sheet.reads, sheet.writes) == (1, 1)


def test_the_whole_month_and_exactly_once(tmp_path):
    services, sheet, ledger = setup(tmp_path, entries() + entries(3, client="Bluefin"))
    pipeline.refresh(services, OCT)
    configure_clients(sheet, {"Acme": "100", "Bluefin": "150"})
    approve_all(sheet)
    rows = time_rows(sheet)
    sheet.set("Time", rows["A0"], "Rate Override", "200")

    preview = pipeline.preview(services, OCT)
    assert {i.client: i.total for i in preview.invoices} == {"Acme": Decimal("1050.00"), "Bluefin": Decimal("675.00")}
    assert len(ledger.all_invoices()) == 0  # a preview creates nothing
    preview_clients = {r[0] for r in sheet.tabs["Preview"][1:] if r and r[0]}
    assert {"Acme", "Bluefin"} <= preview_clients

    created = pipeline.create_invoices(services, OCT)
    assert created.created == 2 and [i.number for i in created.invoices] == ["INV-0001", "INV-0002"]
    numbers = {sheet.get("Time", r, "Invoice") for r in rows.values()}
    assert numbers == {"INV-0001", "INV-0002"}
    assert [r[0] for r in sheet.tabs["Invoices"][1:]] == ["INV-0001", "INV-0002"]

    again = pipeline.create_invoices(services, OCT)
    assert again.created == 0 and again.invoices == []  # every row is invoiced: nothing left to bill
    assert len(ledger.all_invoices()) == 2


class FailingWriteSheet(MemorySheet):
    """A sheet whose next write fails, like a network error after the accounting system confirmed."""

    fail_next = False

    def write(self, blocks):
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("the sheet did not answer")
        super().write(blocks)


def test_a_crash_before_the_write_back_heals_on_the_next_run(tmp_path):
    sheet = FailingWriteSheet()
    services, _, ledger = setup(tmp_path, entries(), sheet=sheet)
    pipeline.refresh(services, OCT)
    configure_clients(sheet, {"Acme": "100"})
    approve_all(sheet)
    sheet.fail_next = True
    with pytest.raises(ConnectionError):
        pipeline.create_invoices(services, OCT)
    assert len(ledger.all_invoices()) == 1  # created in the ledger...
    assert {sheet.get("Time", r, "Invoice") for r in time_rows(sheet).values()} == {""}  # ...not marked yet
    healed = pipeline.create_invoices(services, OCT)
    assert healed.existing == 1 and healed.created == 0
    assert {sheet.get("Time", r, "Invoice") for r in time_rows(sheet).values()} == {"INV-0001"}
    assert len(ledger.all_invoices()) == 1


def test_bad_input_names_the_cell_and_changes_nothing(tmp_path):
    services, sheet, ledger = setup(tmp_path, entries())
    pipeline.refresh(services, OCT)
    configure_clients(sheet, {"Acme": "100"})
    approve_all(sheet)
    r = time_rows(sheet)["A2"]
    sheet.set("Time", r, "Rate Override", "12,5O")
    before = {k: [list(x) for x in v] for k, v in sheet.tabs.items()}
    with pytest.raises(InputErrors) as exc:
        pipeline.create_invoices(services, OCT)
    col = chr(ord("A") + sheet.col("Time", "Rate Override"))
    assert f'Time!{col}{r}: "12,5O" is not an amount' in str(exc.value)
    assert sheet.tabs == before and ledger.all_invoices() == []


def test_a_second_create_while_one_runs_is_told_to_wait(tmp_path):
    services, sheet, _ = setup(tmp_path, entries())
    pipeline.refresh(services, OCT)
    with services.lock("create-invoices"):
        with pytest.raises(LockedError, match="wait for it to finish"):
            pipeline.create_invoices(services, OCT)


def test_new_entries_after_invoicing_hold_the_client_not_a_second_invoice(tmp_path):
    first = entries(3)
    services, sheet, ledger = setup(tmp_path, first)
    pipeline.refresh(services, OCT)
    configure_clients(sheet, {"Acme": "100"})
    approve_all(sheet)
    pipeline.create_invoices(services, OCT)
    services.source = ListSource(first + [entries(5)[4]])
    pipeline.refresh(services, OCT)
    approve_all(sheet)
    held = pipeline.create_invoices(services, OCT)
    assert held.created == 0 and "INV-0001" in held.held["Acme"]  # held with the reason, never a 2nd invoice
    assert len(ledger.all_invoices()) == 1


# --- the property, through the real refresh: random edits and source changes lose no edit --------------

EDITS = st.lists(
    st.tuples(
        st.integers(0, 7),
        st.sampled_from(["Category", "Line Item", "Rate Override", "Approved", "Comment"]),
        st.one_of(st.text(max_size=8), st.booleans(), st.decimals(1, 300, places=2)),
    ),
    max_size=10,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    edits=EDITS,
    changed=st.sets(st.integers(0, 7)),
    removed=st.sets(st.integers(0, 7)),
    added=st.integers(0, 3),
    rounds=st.integers(1, 3),
)
def test_property_refresh_never_loses_an_edit(tmp_path, edits, changed, removed, added, rounds):
    base = entries(8)
    services, sheet, _ = setup(tmp_path / f"p{abs(hash((tuple(edits), rounds))) % 10**9}", base)
    pipeline.refresh(services, OCT)
    rows = time_rows(sheet)
    ids = sorted(rows)
    expected: dict[tuple[int, str], object] = {}
    for i, header, value in edits:
        r = rows[ids[i]]
        sheet.set("Time", r, header, value)
        expected[(r, header)] = value
    for k in range(rounds):
        source = [
            e.model_copy(update={"hours": Decimal("3.25") + k}) if i in changed else e
            for i, e in enumerate(base)
            if i not in removed
        ]
        source += entries(added, client="Zed")
        services.source = ListSource(source)
        pipeline.refresh(services, OCT)
    for (r, header), value in expected.items():
        assert sheet.get("Time", r, header) == value  # every edit is still there, in its row
    approved = {r for (r, h), v in expected.items() if h == "Approved" and locks(v)}
    for i in changed - removed:
        r = rows[ids[i]]
        hours = sheet.get("Time", r, "Hours")
        if r in approved:
            assert hours == Decimal("1.5") and "Changed in the source" in sheet.get("Time", r, "Flags")
        else:
            assert hours == Decimal("3.25") + rounds - 1
    for i in removed:
        assert "No longer in the source" in sheet.get("Time", rows[ids[i]], "Flags")
    assert len(time_rows(sheet)) == 8 + added  # nothing deleted, new ones appended once


def locks(value: object) -> bool:
    """What refresh makes of an Approved cell: TRUE locks the row, and so does anything unreadable."""
    try:
        return parse_bool(value)
    except ValueError:
        return True


# --- issue 10, items 8-10 through the service layer ----------------------------------------------------


def add_rule(sheet: MemorySheet, **cells: object) -> int:
    """As a person: a new row in the Rules tab, {header: value}; returns its row number."""
    header = sheet.tabs["Rules"][0]
    sheet.tabs["Rules"].append([cells.get(h, "") for h in header])
    return len(sheet.tabs["Rules"])


def approve(sheet: MemorySheet, client: str) -> None:
    c = sheet.col("Time", "Client")
    for r, row in enumerate(sheet.tabs["Time"][1:], start=2):
        if row[c] == client:
            sheet.set("Time", r, "Approved", True)


def test_a_fee_only_invoice_made_before_approval_never_blocks_the_month(tmp_path):
    # Evergreen's retainer (6,000.00 a month) is invoiced before its time is approved: a fee-only invoice.
    # Its time, approved afterwards, is held for Evergreen alone; Bluefin, approved late too, is invoiced.
    services, sheet, ledger = setup(
        tmp_path, entries(2) + entries(2, client="Evergreen") + entries(2, client="Bluefin")
    )
    pipeline.refresh(services, OCT)
    configure_clients(sheet, {"Acme": "100", "Evergreen": "120", "Bluefin": "150"})
    add_rule(sheet, Rule="retainer", Client="Evergreen", Hours="60", Amount="6000")
    approve(sheet, "Acme")
    first = pipeline.create_invoices(services, OCT)
    assert sorted(i.client for i in first.invoices) == ["Acme", "Evergreen"]
    approve_all(sheet)
    second = pipeline.create_invoices(services, OCT)  # used to fail for every client: "conflict ... differs"
    assert [i.client for i in second.invoices] == ["Bluefin"] and second.created == 1
    assert "already invoiced for 2026-10 (INV-0002)" in second.held["Evergreen"]
    assert "next month" in second.held["Evergreen"]
    assert len(ledger.all_invoices()) == 3


def test_approved_non_billable_rows_never_hold_a_client_already_invoiced(tmp_path):
    # Acme's October invoice is right; one of its rows is not billable. A second run holds nothing.
    services, sheet, ledger = setup(tmp_path, entries(2) + entries(1, billable=False, source_id="nb"))
    pipeline.refresh(services, OCT)
    configure_clients(sheet, {"Acme": "100"})
    approve_all(sheet)
    assert pipeline.create_invoices(services, OCT).created == 1
    again = pipeline.create_invoices(services, OCT)
    assert again.held == {} and again.created == 0  # it used to say: void INV-0001 to bill the non-billable row
    assert len(ledger.all_invoices()) == 1


def test_a_duplicate_entry_is_flagged_by_refresh_and_billed_once(tmp_path):
    # The tracker saved Ana's 1.5 h "Checkout API endpoint" of Oct 1 twice: at 100/h the invoice is 150.00.
    original = entries(1)[0]
    twin = original.model_copy(update={"source_id": "A0#2"})
    services, sheet, ledger = setup(tmp_path, [original, twin])
    pipeline.refresh(services, OCT)
    rows = time_rows(sheet)
    assert "duplicate of csv:A0" in str(sheet.get("Time", rows["A0#2"], "Flags"))
    assert "duplicate" not in str(sheet.get("Time", rows["A0"], "Flags"))
    configure_clients(sheet, {"Acme": "100"})
    approve_all(sheet)
    preview = pipeline.preview(services, OCT)
    assert preview.invoices[0].total == Decimal("150.00")
    dup = [r for r in sheet.tabs["Preview"][1:] if r[sheet.col("Preview", "Line")] == "Duplicate"]
    assert len(dup) == 1 and "csv:A0#2" in dup[0][sheet.col("Preview", "Notes")]
    created = pipeline.create_invoices(services, OCT)
    assert created.invoices[0].total == Decimal("150.00") and created.invoices[0].entries == 1


def test_an_invoice_that_totals_zero_is_not_created_and_preview_says_why(tmp_path):
    # Cedar's October time is all on its fixed-fee project, billed in September: nothing to invoice.
    services, sheet, ledger = setup(tmp_path, entries(2, client="Cedar", project="HIPAA"))
    pipeline.refresh(services, OCT)
    configure_clients(sheet, {"Cedar": "100"})
    add_rule(sheet, Rule="fixed fee", Client="Cedar", Project="HIPAA", Amount="7500", Period="2026-09")
    approve_all(sheet)
    pipeline.preview(services, OCT)
    lines = {r[sheet.col("Preview", "Line")]: r for r in sheet.tabs["Preview"][1:]}
    assert "0.00" in lines["Not billed"][sheet.col("Preview", "Notes")]
    assert pipeline.create_invoices(services, OCT).created == 0
    assert ledger.all_invoices() == []


def test_a_milestone_ticked_late_is_billed_once_and_marked_in_the_rules_tab(tmp_path):
    # "Design sign-off, 2,000.00, planned for September", ticked complete in October: on October's invoice, and
    # create-invoices writes that invoice into the milestone's Invoice cell so no later run bills it again.
    services, sheet, ledger = setup(tmp_path, entries(1, client="Harbor"))
    pipeline.refresh(services, OCT)
    configure_clients(sheet, {"Harbor": "100"})
    at = add_rule(sheet, Rule="milestone", Client="Harbor", Project="Exhibit", Amount="2000", Period="2026-09")
    sheet.set("Rules", at, "Complete", True)
    approve_all(sheet)
    created = pipeline.create_invoices(services, OCT)
    assert created.invoices[0].total == Decimal("2150.00")  # 1.5 h x 100 + the milestone
    assert sheet.get("Rules", at, "Invoice") == created.invoices[0].number
    november = pipeline.preview(services, Period.parse("2026-11"))
    assert november.invoices == []  # never twice


def unbilled_on_dashboard(sheet: MemorySheet) -> dict[str, Decimal]:
    """The Dashboard's "approved hours not invoiced" table, as the tab shows it after the run."""
    client, hours = (
        sheet.col("Dashboard", "Client With Unbilled Time"),
        sheet.col("Dashboard", "Approved Hours Not Invoiced"),
    )
    return {
        str(r[client]): Decimal(str(r[hours]))
        for r in sheet.tabs["Dashboard"][1:]
        if len(r) > hours and r[client] not in (None, "")
    }


def test_the_dashboard_after_create_no_longer_counts_what_the_run_just_invoiced(tmp_path):
    services, sheet, _ = setup(tmp_path, entries() + entries(3, client="Bluefin"))
    pipeline.refresh(services, OCT)
    configure_clients(sheet, {"Acme": "100"})  # Bluefin has no rate: held, its approved time stays unbilled
    approve_all(sheet)
    pipeline.preview(services, OCT)
    assert unbilled_on_dashboard(sheet) == {"Acme": Decimal("9.00"), "Bluefin": Decimal("4.50")}

    created = pipeline.create_invoices(services, OCT)
    assert [i.client for i in created.invoices] == ["Acme"]
    assert unbilled_on_dashboard(sheet) == {"Bluefin": Decimal("4.50")}  # Acme's 9 h are on INV-0001 now
