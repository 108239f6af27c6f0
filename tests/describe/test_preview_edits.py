"""A person edits a line's description in Preview: the edit survives later previews of the same line and is
what create-invoices puts on the document, in the ledger and in QuickBooks' line Description — through the
local workbook (openpyxl, as Excel would save it) and the Google Sheet (gspread, as the browser would)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import gspread
import openpyxl

from functions import pipeline
from functions.accounting.ledger import Ledger
from functions.config import Settings, bootstrap
from functions.demo import SAMPLE
from functions.models import Period
from functions.sheet.gsheets import GoogleSheet
from functions.sheet.workbook import LocalWorkbook
from tests.accounting.test_qbo_adapter import make_adapter
from tests.emulators.google_fixtures import PersonSession
from tests.emulators.quickbooks import QuickBooksEmulator
from tests.fakes import ListSource, MemorySheet
from tests.test_pipeline import approve_all, entries

OCT = Period.parse("2026-10")
NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
EDIT = "Checkout: new order API and login fix, as agreed on 12 Oct"


def month(n: int = 6) -> list:
    """Acme Retail's month: two roles at two rates on one line item, so two lines need telling apart."""
    dev = entries(n, client="Acme Retail", role="Senior Developer", person="Ana Ruiz", project="Checkout Revamp")
    qa = entries(2, client="Acme Retail", role="QA Engineer", person="Ben Ortiz", project="Checkout Revamp")
    return [*dev, *(e.model_copy(update={"source_id": "qa" + e.source_id}) for e in qa)]


def preview_lines(rows: list[list]) -> list[dict]:
    header = [str(h) for h in rows[0]]
    out = []
    for r in rows[1:]:
        rec = dict(zip(header, [*r, *[""] * (len(header) - len(r))], strict=True))
        if str(rec["Line"]).isdigit():
            out.append(rec)
    return out


def run(services, edit) -> dict:
    """refresh, approve, preview; `edit(lines)` changes the Preview as a person; then preview again."""
    pipeline.refresh(services, OCT, config_dir=SAMPLE / "config")
    approve_all_rows(services)
    pipeline.preview(services, OCT)
    edit()
    return pipeline.preview(services, OCT)


def approve_all_rows(services) -> None:
    if isinstance(services.sheet, MemorySheet):
        approve_all(services.sheet)


def test_an_edit_in_preview_is_kept_and_invoiced_locally(tmp_path: Path):
    sheet = MemorySheet()
    ledger = Ledger(tmp_path / "ledger.sqlite", tmp_path / "invoices")
    services = bootstrap(
        Settings(workdir=tmp_path, ai_enabled=False), sheet=sheet, accounting=ledger, source=ListSource(month())
    )
    services.clock = lambda: NOW
    pipeline.refresh(services, OCT, config_dir=SAMPLE / "config")
    approve_all(sheet)
    pipeline.preview(services, OCT)
    lines = [ln for ln in preview_lines(sheet.tabs["Preview"]) if ln["Client"] == "Acme Retail"]
    assert {ln["Description By"].split()[0] for ln in lines if ln["Kind"] == "hours"} == {"offline"}
    assert {ln["Description By"].split()[0] for ln in lines if ln["Kind"] != "hours"} <= {"rules"}
    dev, qa = (ln for ln in lines if ln["Line Item"] == "Maintenance")
    assert "(Senior Developer)" in dev["Invoice Description"] and "(QA Engineer)" in qa["Invoice Description"]
    assert "ben" not in qa["Invoice Description"].casefold().split()

    row = 2 + next(i for i, r in enumerate(sheet.tabs["Preview"][1:]) if r[1] == dev["Line"] and r[0] == "Acme Retail")
    sheet.set("Preview", row, "Invoice Description", EDIT)  # the person's words
    pipeline.preview(services, OCT)
    again = [ln for ln in preview_lines(sheet.tabs["Preview"]) if ln["Client"] == "Acme Retail"]
    kept = next(ln for ln in again if ln["Line"] == dev["Line"])
    assert (kept["Invoice Description"], kept["Description By"]) == (EDIT, "edited 2026-10")
    others = [ln for ln in again if ln["Line"] != dev["Line"]]
    assert [ln["Invoice Description"] for ln in others] == [
        ln["Invoice Description"] for ln in lines if ln["Line"] != dev["Line"]
    ]

    # more time on the same line later in the month: still the same line, still the person's text
    services.source = ListSource([*month(8)])
    pipeline.refresh(services, OCT)
    approve_all(sheet)
    pipeline.preview(services, OCT)
    kept = next(
        ln for ln in preview_lines(sheet.tabs["Preview"]) if ln["Line"] == dev["Line"] and ln["Client"] == "Acme Retail"
    )
    # which of the new entries join the line is the categorizer's call; that some did is what matters here
    assert kept["Invoice Description"] == EDIT and kept["Entries"] > dev["Entries"]

    created = pipeline.create_invoices(services, OCT)
    inv = next(i for i in created.invoices if i.client == "Acme Retail")
    with sqlite3.connect(tmp_path / "ledger.sqlite") as db:
        stored = [
            r[0]
            for r in db.execute(
                "SELECT l.description FROM lines l JOIN invoices i ON i.key = l.invoice_key WHERE i.client = ? "
                "ORDER BY l.line_no",
                ("Acme Retail",),
            )
        ]
    shown = [ln["Invoice Description"] for ln in preview_lines(sheet.tabs["Preview"]) if ln["Client"] == "Acme Retail"]
    assert stored == shown and EDIT in stored
    html = Path(inv.document).read_text(encoding="utf-8")
    assert all(s.replace("&", "&amp;") in html for s in shown)


def test_an_edit_in_the_local_workbook_is_kept(tmp_path: Path):
    book = LocalWorkbook(tmp_path / "invoicing.xlsx")
    services = bootstrap(
        Settings(workdir=tmp_path, ai_enabled=False),
        sheet=book,
        accounting=Ledger(tmp_path / "ledger.sqlite", tmp_path / "invoices"),
        source=ListSource(month()),
    )
    pipeline.refresh(services, OCT, config_dir=SAMPLE / "config")
    wb = openpyxl.load_workbook(tmp_path / "invoicing.xlsx")
    ws = wb["Time"]
    col = [c.value for c in ws[1]].index("Approved") + 1
    for r in range(2, ws.max_row + 1):
        ws.cell(r, col).value = True
    wb.save(tmp_path / "invoicing.xlsx")
    pipeline.preview(services, OCT)

    wb = openpyxl.load_workbook(tmp_path / "invoicing.xlsx")
    ws = wb["Preview"]
    header = [c.value for c in ws[1]]
    ws.cell(2, header.index("Invoice Description") + 1).value = EDIT  # as a person saves it in Excel
    wb.save(tmp_path / "invoicing.xlsx")
    pipeline.preview(services, OCT)
    ws = openpyxl.load_workbook(tmp_path / "invoicing.xlsx")["Preview"]
    assert ws.cell(2, header.index("Invoice Description") + 1).value == EDIT
    assert ws.cell(2, header.index("Description By") + 1).value == "edited 2026-10"


def test_google_sheet_edit_reaches_the_quickbooks_line_description(gsettings, tmp_path: Path):
    emu = QuickBooksEmulator()
    emu.start()
    try:
        sheet = GoogleSheet.from_settings(gsettings)
        services = bootstrap(
            Settings(workdir=tmp_path, ai_enabled=False),
            sheet=sheet,
            accounting=make_adapter(emu, tmp_path),
            source=ListSource(month()),
        )
        services.clock = lambda: NOW
        sheet.ensure_layout(setup=True)
        pipeline.refresh(services, OCT, config_dir=SAMPLE / "config")
        gc = gspread.Client(auth=None, session=PersonSession(gsettings.api_base_url, gsettings.credentials_file))
        ss = gc.open_by_key(gsettings.spreadsheet_id)
        time_ws = ss.worksheet("Time")
        header = time_ws.row_values(1)
        n = len(time_ws.get_all_values())
        approved = gspread.utils.rowcol_to_a1(2, header.index("Approved") + 1)[:-1]
        time_ws.update(
            [["TRUE"]] * (n - 1),
            f"{approved}2:{approved}{n}",
            value_input_option=gspread.utils.ValueInputOption.user_entered,
        )
        pipeline.preview(services, OCT)

        prev = ss.worksheet("Preview")
        rows = prev.get_all_values()
        col = rows[0].index("Invoice Description") + 1
        prev.update([[EDIT]], gspread.utils.rowcol_to_a1(2, col), value_input_option="USER_ENTERED")
        pipeline.preview(services, OCT)
        shown = [
            ln["Invoice Description"] for ln in preview_lines(prev.get_all_values()) if ln["Client"] == "Acme Retail"
        ]
        assert shown[0] == EDIT

        pipeline.create_invoices(services, OCT, create_missing=True)
        (invoice,) = [i for i in emu.all("Invoice") if i["CustomerRef"]["name"] == "Acme Retail Inc."]
        described = [ln["Description"] for ln in invoice["Line"] if ln.get("DetailType") != "SubTotalLineDetail"]
        assert described == shown
        assert any(
            EDIT in data.decode() for data in emu.files.values()
        )  # the time-detail attachment names the line the same way
    finally:
        emu.stop()


def test_claude_in_the_pipeline_writes_once_then_a_rerun_and_create_cost_no_call(tmp_path: Path, monkeypatch):
    from tests.emulators.anthropic import AnthropicEmulator

    key = "sk-ant-test-0123456789abcdefSECRET"
    with AnthropicEmulator(api_key=key) as emu:
        monkeypatch.setenv("ANTHROPIC_API_KEY", key)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", emu.base_url)
        sheet = MemorySheet()
        services = bootstrap(
            Settings(workdir=tmp_path),
            sheet=sheet,
            accounting=Ledger(tmp_path / "ledger.sqlite", tmp_path / "invoices"),
            source=ListSource(month()),
        )
        services.clock = lambda: NOW
        pipeline.refresh(services, OCT, config_dir=SAMPLE / "config")
        approve_all(sheet)
        calls = len(emu.message_requests)  # the categorizer's
        first = pipeline.preview(services, OCT)
        assert first.api_calls.get("Claude") == len(emu.message_requests) - calls == 1
        assert first.ai_cost > 0 and "ai" in first.ai_notes[0]
        acme = [ln for ln in preview_lines(sheet.tabs["Preview"]) if ln["Client"] == "Acme Retail"]
        assert {ln["Description By"].split()[0] for ln in acme if ln["Kind"] == "hours"} == {"ai"}

        again = pipeline.preview(services, OCT)
        created = pipeline.create_invoices(services, OCT)
        assert len(emu.message_requests) - calls == 1  # nothing asked twice
        assert "Claude" not in again.api_calls and "Claude" not in created.api_calls
        with sqlite3.connect(tmp_path / "ledger.sqlite") as db:
            stored = {r[0] for r in db.execute("SELECT description FROM lines")}
        assert {ln["Invoice Description"] for ln in acme} <= stored
