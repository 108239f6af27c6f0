"""Google's 10 M-cell limit: reported before a write fails, and closed months archived to a second spreadsheet."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.errors import ConfigError
from functions.models import Period
from functions.ports import CellBlock
from functions.sheet.archive import archive
from functions.sheet.contract import load_contract
from functions.sheet.gsheets import GoogleSheet

HEADERS = load_contract().tab("Time").headers


def time_row(entry_id: str, day: str, invoice: str = "") -> list[object]:
    values = {
        "Date": day,
        "Client": "Acme",
        "Person": "Ana Ruiz",
        "Notes": f"work {entry_id}",
        "Hours": 2,
        "Billable": True,
        "Category": "Development",
        "Approved": bool(invoice),
        "Invoice": invoice,
        "Source": "csv",
        "Entry ID": entry_id,
    }
    return [values.get(h) for h in HEADERS]


@pytest.fixture
def target_id(sheets_emulator, new_sheet_id):
    sid = new_sheet_id + "-archive"
    sheets_emulator.create(sid)
    return sid


def test_closed_invoiced_months_move_to_the_archive_and_the_sheet_shrinks(gsettings, sheets_emulator, target_id):
    main = GoogleSheet.from_settings(gsettings)
    main.ensure_layout()
    rows = [
        time_row("a1", "2026-04-30", "INV-1"),
        time_row("a2", "2026-05-02", "INV-2"),
        time_row("a3", "2026-05-03"),  # not invoiced: stays
        time_row("a4", "2026-06-01", "INV-3"),  # the month archived from: stays
    ]
    main.write([CellBlock("Time", 2, 1, rows)])
    target = GoogleSheet(target_id, main.http, main.contract, main.account)
    clock = lambda: datetime(2026, 7, 2, tzinfo=UTC)  # noqa: E731

    result = archive(main, target, Period.parse("2026-06"), clock)

    assert (result.moved, result.appended, result.months) == (2, 2, ["2026-04", "2026-05"])
    assert result.invoices == ["INV-1", "INV-2"]
    kept = sheets_emulator.values(gsettings.spreadsheet_id, "Time")
    ids = HEADERS.index("Entry ID")
    assert [r[ids] for r in kept[1:]] == ["a3", "a4"]  # the gap closed, nothing else moved
    archived = sheets_emulator.values(target_id, "Time")
    assert [r[ids] for r in archived[1:]] == ["a1", "a2"]
    assert archived[1][HEADERS.index("Invoice")] == "INV-1"
    grid = sheets_emulator.spreadsheets[gsettings.spreadsheet_id].sheet("Time").grid
    assert grid["rowCount"] == 3 and result.cells_after < result.cells_before
    runs = sheets_emulator.values(gsettings.spreadsheet_id, "Runs")
    assert runs[-1][1] == "archive" and "moved 2 invoiced Time rows dated before 2026-06" in runs[-1][6]
    assert target_id in runs[-1][6]

    again = archive(main, target, Period.parse("2026-06"), clock)
    assert again.moved == 0 and "nothing to move" in again.detail
    assert len(sheets_emulator.values(target_id, "Time")) == 3


def test_an_archive_interrupted_after_its_first_write_duplicates_nothing(gsettings, sheets_emulator, target_id):
    main = GoogleSheet.from_settings(gsettings)
    main.ensure_layout()
    main.write([CellBlock("Time", 2, 1, [time_row("a1", "2026-04-30", "INV-1")])])
    target = GoogleSheet(target_id, main.http, main.contract, main.account)
    target.ensure_layout()
    target.write([CellBlock("Time", 2, 1, [time_row("a1", "2026-04-30", "INV-1")])])  # it got there before
    result = archive(main, target, Period.parse("2026-05"))
    assert (result.moved, result.appended) == (1, 0)
    assert len(sheets_emulator.values(target_id, "Time")) == 2
    assert len(sheets_emulator.values(gsettings.spreadsheet_id, "Time")) == 1


def test_a_sheet_near_the_cell_limit_says_so_and_a_write_past_it_is_refused_before_sending(gsettings, sheets_emulator):
    sheet = GoogleSheet.from_settings(gsettings)
    sheet.ensure_layout()
    ss = sheets_emulator.spreadsheets[gsettings.spreadsheet_id]
    time_tab = ss.sheet("Time")
    time_tab.grid["rowCount"] = 8_500_000 // time_tab.grid["columnCount"]  # a person kept adding rows
    sheet.ensure_layout(setup=True)  # a look at the spreadsheet learns the grids
    cells, note = sheet.capacity()
    assert cells == ss.cell_count() - 1  # every grid but the 1-cell version marker
    assert "of Google's limit of 10,000,000" in note and "python main.py archive --before" in note
    sheets_emulator.reset_calls()
    more = 2_000_000 // time_tab.grid["columnCount"]
    with pytest.raises(ConfigError, match="over Google's limit") as exc:
        sheet.write([CellBlock("Time", time_tab.grid["rowCount"] + more, 1, [["x"]])])
    assert "archive" in str(exc.value) and sheets_emulator.sheets_calls() == []  # refused here, nothing sent


def test_the_archive_command_explains_itself_and_needs_a_google_sheet(tmp_path, capsys, monkeypatch):
    import json

    from functions import cli

    with pytest.raises(SystemExit):
        cli.main(["archive", "--help"])
    assert "10,000,000" in capsys.readouterr().out
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHEET", "xlsx")
    code = cli.main(["archive", "--before", "2026-06", "--to", "1AbC", "--json", "--workdir", str(tmp_path)])
    answer = json.loads(capsys.readouterr().out)
    assert code != 0 and answer["ok"] is False and "SHEET=google" in answer["error"]
