"""Correcting an invoice in the local ledger: void, the corrected one with the next number, the link, the Time rows
moved; exactly once through a crash at each step (faults injected into the ledger's SQLite file and the sheet)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from decimal import Decimal

import pytest

from functions import pipeline
from functions.errors import InputError
from functions.models import Period
from functions.reissue import reissue
from tests.test_pipeline import OCT, FailingWriteSheet, approve_all, configure_clients, entries, setup, time_rows


def invoiced(tmp_path, sheet=None):
    """Acme (6 rows of 1.5 h at 100) and Bluefin invoiced for October; then the client disputes a line."""
    services, sheet, ledger = setup(tmp_path, entries() + entries(3, client="Bluefin"), sheet=sheet)
    pipeline.refresh(services, OCT)
    configure_clients(sheet, {"Acme": "100", "Bluefin": "150"})
    approve_all(sheet)
    first = pipeline.create_invoices(services, OCT)
    assert [(i.number, i.total) for i in first.invoices] == [
        ("INV-0001", Decimal("900.00")),
        ("INV-0002", Decimal("675.00")),
    ]
    return services, sheet, ledger


def dispute(sheet) -> None:
    """The client disputes one entry: the reviewer unticks it, and bills another at a lower rate."""
    rows = time_rows(sheet)
    sheet.set("Time", rows["A5"], "Approved", False)
    sheet.set("Time", rows["A0"], "Rate Override", "80")


def ledger_rows(ledger) -> dict[str, sqlite3.Row]:
    return {r["number"]: r for r in ledger.all_invoices()}


def live(ledger, client="Acme") -> list[str]:
    return [r["number"] for r in ledger.all_invoices() if r["client"] == client and r["voided_at"] is None]


def invoice_cells(sheet, prefix="A") -> dict[str, object]:
    return {ref: sheet.get("Time", r, "Invoice") for ref, r in time_rows(sheet).items() if ref.startswith(prefix)}


def assert_reissued(sheet, ledger, number="INV-0003"):
    """Exactly one live Acme invoice, the corrected one, linked both ways; the Time rows point at it."""
    assert live(ledger) == [number]
    rows = ledger_rows(ledger)
    assert rows["INV-0001"]["voided_at"] and rows["INV-0001"]["replaced_by"] == number
    assert rows[number]["replaces"] == "INV-0001" and rows[number]["memo"].startswith("Replaces invoice INV-0001.")
    assert rows[number]["total"] == "720.00"  # 4 x 1.5 h x 100 + 1.5 h x 80 (A5 no longer approved)
    cells = invoice_cells(sheet)
    assert cells.pop("A5") in ("", None)  # the disputed entry is no longer billed: it waits, not invoiced
    assert set(cells.values()) == {number}
    assert set(invoice_cells(sheet, "B").values()) == {"INV-0002"}  # another client is untouched
    assert live(ledger, "Bluefin") == ["INV-0002"]


def test_reissue_previews_then_voids_creates_the_next_number_links_and_moves_the_rows(tmp_path):
    services, sheet, ledger = invoiced(tmp_path)
    dispute(sheet)

    plan = reissue(services, "acme", OCT, dry_run=True)  # the client as the Clients tab spells it, any case
    assert plan.outcome == "preview" and plan.client == "Acme" and plan.replaces == "INV-0001"
    assert [(i.number, i.total) for i in plan.invoices] == [(None, Decimal("720.00"))]
    assert "Would void INV-0001 (900.00 USD)" in plan.message
    assert live(ledger) == ["INV-0001"] and len(ledger.all_invoices()) == 2  # a preview changes nothing there
    preview = {r[0]: r for r in sheet.tabs["Preview"][1:] if r and r[0]}
    assert "Acme" in preview  # the corrected invoice is in the Preview tab, line by line

    done = reissue(services, "Acme", OCT)
    assert done.outcome == "reissued" and done.voided == ["INV-0001"] and done.created == 1
    assert [i.number for i in done.invoices] == ["INV-0003"]  # the next number of the ledger's sequence
    assert_reissued(sheet, ledger)
    status = {r[0]: r[sheet.col("Invoices", "Status")] for r in sheet.tabs["Invoices"][1:]}
    assert status == {"INV-0001": "void, replaced by INV-0003", "INV-0002": "created", "INV-0003": "created"}
    old_doc = ledger_rows(ledger)["INV-0001"]["document"]
    assert "VOID: invoice INV-0001 was voided" in open(old_doc, encoding="utf-8").read()
    assert "replaced by invoice INV-0003" in open(old_doc, encoding="utf-8").read()
    new_doc = ledger_rows(ledger)["INV-0003"]["document"]
    assert "Replaces invoice INV-0001." in open(new_doc, encoding="utf-8").read()

    again = reissue(services, "Acme", OCT)  # the same reissue run again: nothing new anywhere
    assert again.outcome == "up to date" and "nothing was voided or created" in again.message
    assert_reissued(sheet, ledger)
    assert len(ledger.all_invoices()) == 3
    after = pipeline.create_invoices(services, OCT)  # and create-invoices sees the month as invoiced
    assert after.created == 0 and len(ledger.all_invoices()) == 3


def test_a_second_correction_replaces_the_correction(tmp_path):
    services, sheet, ledger = invoiced(tmp_path)
    dispute(sheet)
    reissue(services, "Acme", OCT)
    sheet.set("Time", time_rows(sheet)["A5"], "Approved", True)  # the dispute is settled: bill it after all
    second = reissue(services, "Acme", OCT)
    assert second.outcome == "reissued" and second.voided == ["INV-0003"]
    assert live(ledger) == ["INV-0004"] and ledger_rows(ledger)["INV-0004"]["total"] == "870.00"
    assert ledger_rows(ledger)["INV-0003"]["replaced_by"] == "INV-0004"
    assert set(invoice_cells(sheet).values()) == {"INV-0004"}


def test_a_correction_undone_bills_the_first_contents_again_under_a_new_number(tmp_path):
    services, sheet, ledger = invoiced(tmp_path)
    rows = time_rows(sheet)
    sheet.set("Time", rows["A0"], "Rate Override", "80")
    reissue(services, "Acme", OCT)
    sheet.set("Time", rows["A0"], "Rate Override", None)  # back to what INV-0001 said
    back = reissue(services, "Acme", OCT)
    assert back.outcome == "reissued" and live(ledger) == ["INV-0004"]
    assert ledger_rows(ledger)["INV-0004"]["total"] == ledger_rows(ledger)["INV-0001"]["total"] == "900.00"
    listed = [(r[0], r[sheet.col("Invoices", "Status")]) for r in sheet.tabs["Invoices"][1:]]
    assert listed == [
        ("INV-0001", "void, replaced by INV-0003"),
        ("INV-0002", "created"),
        ("INV-0003", "void, replaced by INV-0004"),
        ("INV-0004", "created"),
    ]


def test_nothing_changed_nothing_to_reissue_and_unknown_clients_are_refused(tmp_path):
    services, sheet, ledger = invoiced(tmp_path)
    same = reissue(services, "Acme", OCT)
    assert same.outcome == "up to date" and live(ledger) == ["INV-0001"] and len(ledger.all_invoices()) == 2
    with pytest.raises(InputError, match='"Nobody" is not in the Clients tab'):
        reissue(services, "Nobody", OCT)
    with pytest.raises(InputError, match="Acme has no invoice for 2026-09 in the sheet"):
        reissue(services, "Acme", OCT.previous())


def test_a_correction_that_would_bill_nothing_voids_nothing(tmp_path):
    services, sheet, ledger = invoiced(tmp_path)
    for r in time_rows(sheet).values():
        if sheet.get("Time", r, "Client") == "Acme":
            sheet.set("Time", r, "Approved", False)
    with pytest.raises(InputError, match="nothing left to bill.*Nothing was voided"):
        reissue(services, "Acme", OCT)
    assert live(ledger) == ["INV-0001"]


def fault(ledger, sql: str) -> None:
    """A fault inside the ledger's own database (as a full disk or a killed process would leave it)."""
    with closing(sqlite3.connect(ledger.path)) as db:
        db.execute(sql)
        db.commit()


def test_a_crash_between_the_void_and_the_creation_heals_on_the_next_run(tmp_path):
    services, sheet, ledger = invoiced(tmp_path)
    dispute(sheet)
    fault(ledger, "CREATE TRIGGER crash BEFORE INSERT ON invoices BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
    with pytest.raises(sqlite3.DatabaseError, match="disk I/O error"):
        reissue(services, "Acme", OCT)
    assert live(ledger) == [] and ledger_rows(ledger)["INV-0001"]["voided_at"]  # voided, no replacement yet
    assert set(invoice_cells(sheet).values()) == {"INV-0001"}  # the sheet was not written
    fault(ledger, "DROP TRIGGER crash")

    healed = reissue(services, "Acme", OCT)
    assert healed.outcome == "reissued" and healed.voided == [] and healed.replaces == "INV-0001"
    assert_reissued(sheet, ledger)


def test_a_crash_between_the_creation_and_the_link_heals_on_the_next_run(tmp_path):
    services, sheet, ledger = invoiced(tmp_path)
    dispute(sheet)
    fault(
        ledger,
        "CREATE TRIGGER crash BEFORE UPDATE OF replaced_by ON invoices "
        "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END",
    )
    with pytest.raises(sqlite3.DatabaseError):
        reissue(services, "Acme", OCT)
    assert live(ledger) == ["INV-0003"] and ledger_rows(ledger)["INV-0001"]["replaced_by"] == ""
    fault(ledger, "DROP TRIGGER crash")

    healed = reissue(services, "Acme", OCT)
    assert healed.outcome == "completed" and healed.created == 0 and healed.existing == 1
    assert_reissued(sheet, ledger)


def test_a_crash_before_the_sheet_write_back_heals_on_the_next_run(tmp_path):
    sheet = FailingWriteSheet()
    services, _, ledger = invoiced(tmp_path, sheet=sheet)
    dispute(sheet)
    sheet.fail_next = True
    with pytest.raises(ConnectionError):
        reissue(services, "Acme", OCT)
    assert live(ledger) == ["INV-0003"] and set(invoice_cells(sheet).values()) == {"INV-0001"}

    healed = reissue(services, "Acme", OCT)
    assert healed.outcome == "completed" and healed.replaces == "INV-0001"
    assert_reissued(sheet, ledger)
    assert reissue(services, "Acme", OCT).outcome == "up to date"


def test_a_ledger_made_before_voids_is_upgraded_in_place(tmp_path):
    """An older ledger said UNIQUE (client, period) for every invoice; its invoices survive the upgrade."""
    path = tmp_path / "ledger.sqlite"
    with closing(sqlite3.connect(path)) as db:
        db.executescript(
            """
            CREATE TABLE invoices (key TEXT PRIMARY KEY, client TEXT NOT NULL, period TEXT NOT NULL,
                number TEXT NOT NULL UNIQUE, customer TEXT NOT NULL, currency TEXT NOT NULL, total TEXT NOT NULL,
                content_hash TEXT NOT NULL, issue_date TEXT NOT NULL, due_date TEXT NOT NULL, terms TEXT NOT NULL,
                memo TEXT NOT NULL, document TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (client, period));
            CREATE TABLE lines (invoice_key TEXT NOT NULL REFERENCES invoices(key), line_no INTEGER NOT NULL,
                description TEXT NOT NULL, line_item TEXT NOT NULL, item TEXT NOT NULL, kind TEXT NOT NULL,
                quantity TEXT NOT NULL, unit_price TEXT NOT NULL, amount TEXT NOT NULL, raw_hours TEXT NOT NULL,
                tax_code TEXT NOT NULL, entry_refs TEXT NOT NULL, PRIMARY KEY (invoice_key, line_no));
            CREATE TABLE sequence (name TEXT PRIMARY KEY, next INTEGER NOT NULL);
            INSERT INTO invoices VALUES ('acme/2026-10/x', 'Acme', '2026-10', 'INV-0001', 'Acme', 'USD', '900.00',
                'h', '2026-11-03', '2026-12-03', 'Net 30', '', 'doc.html', '2026-11-03T09:00:00+00:00');
            INSERT INTO lines VALUES ('acme/2026-10/x', 1, 'Dev', 'Dev', 'Dev', 'hours', '9', '100', '900.00', '9',
                '', '["csv:A0"]');
            INSERT INTO sequence VALUES ('invoice', 2);
            """
        )
        db.commit()
    from functions.accounting.ledger import Ledger

    ledger = Ledger(path, tmp_path / "invoices")
    [old] = ledger.all_invoices()
    assert old["number"] == "INV-0001" and old["voided_at"] is None and old["replaced_by"] == ""
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT count(*) FROM lines").fetchone() == (1,)
        with pytest.raises(sqlite3.IntegrityError):  # still one live invoice per client and period
            db.execute(
                "INSERT INTO invoices (key, client, period, number, customer, currency, total, content_hash, "
                "issue_date, due_date, terms, memo, document, created_at) VALUES "
                "('k2', 'Acme', '2026-10', 'INV-0002', 'Acme', 'USD', '1', 'h', 'd', 'd', '', '', 'x', 'now')"
            )


def test_a_milestone_billed_on_the_old_invoice_is_billed_on_the_correction_and_marked_with_it(tmp_path):
    from tests.test_pipeline import add_rule

    services, sheet, ledger = setup(tmp_path, entries(2, client="Harbor"))
    pipeline.refresh(services, OCT)
    configure_clients(sheet, {"Harbor": "100"})
    at = add_rule(sheet, Rule="milestone", Client="Harbor", Project="Exhibit", Amount="2000", Period="2026-10")
    sheet.set("Rules", at, "Complete", True)
    approve_all(sheet)
    first = pipeline.create_invoices(services, OCT)
    assert first.invoices[0].total == Decimal("2300.00") and sheet.get("Rules", at, "Invoice") == "INV-0001"
    sheet.set("Time", time_rows(sheet)["H1"], "Approved", False)  # one hour line disputed
    done = reissue(services, "Harbor", OCT)
    assert done.outcome == "reissued" and done.invoices[0].total == Decimal("2150.00")  # the milestone stays on it
    assert sheet.get("Rules", at, "Invoice") == "INV-0002"
    assert live(ledger, "Harbor") == ["INV-0002"]
    assert pipeline.preview(services, Period.parse("2026-11")).invoices == []  # and it is never billed twice
