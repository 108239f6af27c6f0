"""What people do to a spreadsheet, and what a run does about it (issue 18).

Every test starts from a real month in a real workbook (LocalWorkbook + the SQLite ledger + documents in a
tmp folder), makes one ordinary edit to the .xlsx with openpyxl as Excel would, runs the pipeline, and
compares the workbook, the ledger and the documents before and after: a run that refuses changes nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from functions import pipeline
from functions.config import Settings, bootstrap, csv_source
from functions.errors import InputErrors, LockedError
from functions.models import Period, TimeEntry
from functions.settings import SettingError
from functions.sheet.contract import load_contract
from tests.fakes import ListSource
from tests.seeding import seed_categories, with_categories

OCT = Period.parse("2026-10")
NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]


def entries(n: int = 4, client: str = "Acme") -> list[TimeEntry]:
    return [
        TimeEntry(
            source="csv",
            source_id=f"{client[:1]}{i}",
            date=date(2026, 10, 1) + timedelta(days=i),
            client=client,
            person="Ana Ruiz",
            role="Developer",
            notes=f"checkout API endpoint {i}",
            hours=Decimal("1.5"),
            currency="USD",
        )
        for i in range(n)
    ]


def services_for(workdir: Path, source=None):
    services = bootstrap(Settings(workdir=workdir, ai_enabled=False), source=source, clock=lambda: NOW)
    if not workbook(workdir).exists():  # a new agency's categories, before its first refresh
        seed_categories(services.sheet)
    return services


def workbook(workdir: Path) -> Path:
    return workdir / "invoicing.xlsx"


def edit(path: Path, change) -> None:
    """As a person in Excel: open, change, save."""
    wb = load_workbook(path)
    change(wb)
    wb.save(path)


def col(ws, header: str) -> int:
    return [c.value for c in ws[1]].index(header) + 1


def letter(ws, header: str) -> str:
    return ws.cell(row=1, column=col(ws, header)).column_letter


@pytest.fixture
def month(tmp_path) -> Path:
    """A refreshed October with Acme's rate filled in and every row approved (rows 2-5)."""
    pipeline.refresh(services_for(tmp_path, ListSource(entries())), OCT)

    def review(wb):
        clients = wb["Clients"]
        clients.cell(row=2, column=col(clients, "Default Rate"), value=100)
        clients.cell(row=2, column=col(clients, "Terms"), value="Net 30")
        time = wb["Time"]
        for r in range(2, time.max_row + 1):
            time.cell(row=r, column=col(time, "Category"), value="Development")
            time.cell(row=r, column=col(time, "Approved"), value=True)

    edit(workbook(tmp_path), review)
    assert [i["entries"] for i in pipeline.preview(services_for(tmp_path), OCT).as_json()["invoices"]] == [4]
    return tmp_path


def snapshot(workdir: Path) -> dict[str, bytes]:
    """Every file of the work folder (workbook, ledger, documents) with its bytes."""
    return {
        str(p.relative_to(workdir)): p.read_bytes()
        for p in sorted(workdir.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")  # the run's lock file holds no data
    }


def refuses(run, workdir: Path, *words: str) -> InputErrors:
    before = snapshot(workdir)
    with pytest.raises(InputErrors) as exc:
        run()
    after = snapshot(workdir)
    assert after.keys() == before.keys()
    assert [k for k in before if before[k] != after[k]] == []
    for w in words:
        assert w in str(exc.value), str(exc.value)
    return exc.value


def preview(workdir: Path):
    return lambda: pipeline.preview(services_for(workdir), OCT)


def create(workdir: Path):
    return lambda: pipeline.create_invoices(services_for(workdir), OCT)


def refresh(workdir: Path, source_entries=None):
    return lambda: pipeline.refresh(services_for(workdir, ListSource(source_entries or entries())), OCT)


# ------------------------------------------------------------------ 1. a typed-over cell never drops a row


@pytest.mark.parametrize("header, typed", [("Hours", "abc"), ("Date", "abc"), ("Entry ID", None)])
def test_a_typed_over_cell_holds_billing_and_names_the_cell(month, header, typed):
    ws_letter = {}

    def type_over(wb):
        ws = wb["Time"]
        ws_letter["cell"] = f"Time!{letter(ws, header)}3"
        ws.cell(row=3, column=col(ws, header)).value = typed  # (cell(value=None) would leave it as it is)

    edit(workbook(month), type_over)
    refuses(preview(month), month, ws_letter["cell"])
    refuses(create(month), month, ws_letter["cell"])
    # and the next refresh does not append the entry again as new
    refuses(refresh(month), month, ws_letter["cell"])


@pytest.mark.parametrize("header, renamed", [("Hours", "Hrs"), ("Entry ID", "Entry"), ("Approved", "Approve")])
def test_a_renamed_header_stops_every_run_naming_the_header_and_the_closest(month, header, renamed):
    def rename(wb):
        ws = wb["Time"]
        ws.cell(row=1, column=col(ws, header), value=renamed)

    edit(workbook(month), rename)
    for run in (refresh(month), preview(month), create(month)):
        refuses(run, month, "Time", f'"{header}"', f'"{renamed}"')


# ------------------------------------------------------------------ 2. renamed or moved settings headers


def test_a_renamed_rates_header_is_one_error_not_dozens(month):
    def rates(wb):
        ws = wb["Rates"]
        ws.append(["Acme", "", "", "", 120])
        ws.cell(row=1, column=col(ws, "Rate"), value="Rates")

    edit(workbook(month), rates)
    exc = refuses(preview(month), month, "Rates", '"Rate"', '"Rates"')
    assert len(exc.errors) == 1


def test_after_an_inserted_column_errors_and_warnings_name_the_cell_it_moved_to(month):
    # (already right before issue 18's changes, since the session reads columns by header: kept as a guard)
    def insert(wb):
        ws = wb["Time"]
        ws.insert_cols(1)
        ws.cell(row=1, column=1, value="My notes")
        ws.cell(row=3, column=col(ws, "Hours"), value=13)

    edit(workbook(month), insert)
    load = load_workbook(workbook(month))
    warnings = pipeline.preview(services_for(month), OCT).warnings
    assert any(w.startswith(f"Time!{letter(load['Time'], 'Hours')}3:") and "over 12 h" in w for w in warnings)
    edit(workbook(month), lambda wb: wb["Time"].cell(row=4, column=col(wb["Time"], "Rate Override"), value="12,5O"))
    refuses(preview(month), month, f"Time!{letter(load['Time'], 'Rate Override')}4")


def test_google_sheets_runs_stop_on_a_deleted_tab_or_a_renamed_header_and_write_nothing(gsettings, sheets_emulator):
    from functions.sheet.gsheets import GoogleSheet

    sheet = GoogleSheet.from_settings(gsettings)
    sheet.ensure_layout(setup=True)
    ss = sheets_emulator.spreadsheets[gsettings.spreadsheet_id]
    approved = load_contract().tab("Time").headers.index("Approved")
    ss.sheet("Time").cells[(0, approved)] = "Approve"
    ss.sheets = [s for s in ss.sheets if s.title != "Rules"]
    mark = len(sheets_emulator.calls)
    with pytest.raises(InputErrors) as exc:
        sheet.ensure_layout()
    assert "Rules" in str(exc.value) and '"Approved"' in str(exc.value) and '"Approve"' in str(exc.value)
    assert not [c for c in sheets_emulator.calls[mark:] if c["method"] == "POST"]


# ------------------------------------------------------------------ 3. merged cells


def test_merged_cells_in_a_pipeline_column_stop_before_anything_is_created(month):
    def merge(wb):
        ws = wb["Time"]
        c = letter(ws, "Invoice")
        ws.merge_cells(f"{c}2:{c}3")

    edit(workbook(month), merge)
    exc = refuses(create(month), month, "merged")
    assert "Time!" in str(exc)


# ------------------------------------------------------------------ 4. deleted tabs, and "nothing was changed"


@pytest.mark.parametrize("tab", ["Rules", "Rates", "Clients"])
def test_a_deleted_settings_tab_stops_the_run(month, tab):
    edit(workbook(month), lambda wb: wb.remove(wb[tab]))
    refuses(preview(month), month, tab, "setup-sheet")
    refuses(create(month), month, tab)
    refuses(refresh(month), month, tab)


def test_setup_sheet_recreates_a_deleted_tab_and_says_so(month, capsys):
    from functions.cli import main

    edit(workbook(month), lambda wb: wb.remove(wb["Rules"]))
    assert main(["setup-sheet", "--workdir", str(month)]) == 0
    assert "added the tab Rules" in capsys.readouterr().out
    assert "Rules" in load_workbook(workbook(month)).sheetnames


def test_a_failed_refresh_in_an_empty_folder_leaves_nothing_behind(tmp_path):
    bad = tmp_path / "exports" / "bad.csv"
    bad.parent.mkdir()
    bad.write_text((ROOT / "tests/sources/golden/harvest_detailed.csv").read_text().replace("1.5,1.5", "x,1.5", 1))
    work = tmp_path / "work"
    with pytest.raises(InputErrors, match="nothing was changed"):
        pipeline.refresh(bootstrap(Settings(workdir=work, ai_enabled=False), source=csv_source([bad])), OCT)
    assert not work.exists() or [p.name for p in work.rglob("*")] in ([], [".invoicing.xlsx.lock"])


def test_a_failed_run_does_not_upgrade_the_workbook_behind_its_message(month):
    def drop_a_column(wb):  # an older layout: an output column the contract added later
        ws = wb["Time"]
        ws.delete_cols(col(ws, "Suggested Description"))

    edit(workbook(month), drop_a_column)
    edit(workbook(month), lambda wb: wb["Time"].cell(row=3, column=col(wb["Time"], "Hours"), value="abc"))
    refuses(preview(month), month, "nothing was changed")


# ------------------------------------------------------------------ 5. control characters and long notes


def harvest_csv(path: Path, notes: list[str], dates: list[str] | None = None) -> Path:
    header = (ROOT / "tests/sources/golden/harvest_detailed.csv").read_text().splitlines()[0]
    lines = [header]
    for i, note in enumerate(notes):
        day = (dates or [])[i] if dates else f"2026-10-{i + 1:02d}"
        quoted = '"' + note.replace('"', '""') + '"'
        lines.append(
            f"{day},Acme,Site,AC,Development,{quoted},1.5,1.5,Yes,No,No,1,Ana,Ruiz,Developer,Eng,Yes,100,150,"
            "United States Dollar - USD,"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("skip", [False, True])
def test_control_characters_in_notes_are_cleaned_and_said(tmp_path, skip):
    export = harvest_csv(tmp_path / "h.csv", ["nul\x00 vt\x0b ff\x0c esc\x1b bel\x07 end", "plain"])
    work = tmp_path / "work"
    s = pipeline.refresh(
        with_categories(bootstrap(Settings(workdir=work, ai_enabled=False), source=csv_source([export], skip))), OCT
    )
    assert s.new == 2
    assert "control characters" in " ".join(s.warnings)
    ws = load_workbook(workbook(work))["Time"]
    notes = [ws.cell(row=r, column=col(ws, "Notes")).value for r in (2, 3)]
    assert "nul vt ff esc bel end" in notes[0] or notes[0].startswith("nul")
    assert not any(ord(ch) < 32 and ch not in "\t\n\r" for ch in notes[0])
    assert "control characters" in ws.cell(row=2, column=col(ws, "Flags")).value


def test_notes_longer_than_a_cell_are_cut_with_a_flag(tmp_path):
    export = harvest_csv(tmp_path / "h.csv", ["pasted log line; " * 2_400])  # 40,800 characters
    work = tmp_path / "work"
    s = pipeline.refresh(
        with_categories(bootstrap(Settings(workdir=work, ai_enabled=False), source=csv_source([export]))), OCT
    )
    ws = load_workbook(workbook(work))["Time"]
    note = ws.cell(row=2, column=col(ws, "Notes")).value
    assert len(note) <= 32_767 and "cut" in note
    assert "cut" in " ".join(s.warnings)
    assert "cut" in ws.cell(row=2, column=col(ws, "Flags")).value


# ------------------------------------------------------------------ 6. extreme and negative numbers


@pytest.mark.parametrize(
    "header, value, words",
    [
        ("Hours", 99_999_999, "hours"),
        ("Hours", "1" + "0" * 30, "hours"),
        ("Hours", -2, "negative"),
        ("Rate Override", -50, "negative"),
        ("Rate Override", "9" * 30, "rate"),
        ("Tracker Rate", "9" * 30, "rate"),
    ],
)
def test_extreme_and_negative_numbers_are_located_errors(month, header, value, words):
    where = {}

    def put(wb):
        ws = wb["Time"]
        where["cell"] = f"Time!{letter(ws, header)}3"
        ws.cell(row=3, column=col(ws, header), value=value)

    edit(workbook(month), put)
    refuses(preview(month), month, where["cell"], words)
    refuses(create(month), month, where["cell"])


def test_a_30_digit_rate_in_the_rates_tab_is_a_located_error(month):
    edit(workbook(month), lambda wb: wb["Rates"].append(["Acme", "", "", "", "9" * 30]))
    refuses(preview(month), month, "Rates!", "rate")


# ------------------------------------------------------------------ 7. a copy-pasted row


def test_a_copy_pasted_row_is_an_error_naming_both_rows(month):
    def paste(wb):
        ws = wb["Time"]
        ws.append([c.value for c in ws[3]])

    edit(workbook(month), paste)
    exc = refuses(preview(month), month, "3", "6")
    assert any("Time!" in str(e) and "6" in str(e) and "3" in str(e) for e in exc.errors)
    refuses(create(month), month, "6")
    refuses(refresh(month), month, "6")


# ------------------------------------------------------------------ 8. refresh and create-invoices at once


class GatedSource(ListSource):
    """A tracker that answers only when told to: the refresh is mid-run while something else happens."""

    def __init__(self, entries):
        super().__init__(entries)
        self.started, self.go = threading.Event(), threading.Event()

    def fetch(self, period, progress=None):
        self.started.set()
        self.go.wait(10)
        return super().fetch(period)


def test_refresh_and_create_invoices_at_the_same_time_lose_nothing(month):
    source = GatedSource(entries(6))  # two new entries arrive
    result: dict[str, object] = {}

    def run_refresh():
        try:
            result["refresh"] = pipeline.refresh(services_for(month, source), OCT)
        except Exception as exc:  # reported below
            result["refresh"] = exc

    t = threading.Thread(target=run_refresh)
    t.start()
    assert source.started.wait(10)
    try:
        created = pipeline.create_invoices(services_for(month), OCT)
        result["create"] = created
    except LockedError as exc:
        result["create"] = exc
    finally:
        source.go.set()
        t.join(20)
    if isinstance(result["create"], LockedError):
        pipeline.create_invoices(services_for(month), OCT)
    assert not isinstance(result["refresh"], Exception), result["refresh"]
    ws = load_workbook(workbook(month))["Time"]
    ids = [ws.cell(row=r, column=col(ws, "Entry ID")).value for r in range(2, ws.max_row + 1)]
    invoiced = [ws.cell(row=r, column=col(ws, "Invoice")).value for r in range(2, ws.max_row + 1)]
    assert sorted(ids) == [f"A{i}" for i in range(6)]  # the refresh's new rows are there
    assert invoiced[:4] == ["INV-0001"] * 4  # and the invoiced rows are marked
    runs = [r[1] for r in load_workbook(workbook(month))["Runs"].iter_rows(min_row=2, values_only=True)]
    assert runs.count("refresh") == 2 and "create-invoices" in runs  # neither run's record overwrote the other's


def test_the_cli_and_the_cloud_functions_share_one_lock_on_one_store(tmp_path, monkeypatch):
    from functions import cloud

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKDIR", str(tmp_path))
    monkeypatch.setenv("AI_ENABLED", "false")
    cli_services = bootstrap(Settings(workdir=tmp_path))
    fn_services = cloud._services(cloud.CloudSettings(), "preview", "ops@agency.example")
    with cli_services.lock("refresh"), pytest.raises(LockedError):
        with fn_services.lock("create-invoices"):
            pass
    with fn_services.lock("create-invoices"):  # released: free again
        pass


# Two runs on one Google Sheet: tests/sheet/test_gsheets_concurrency.py (every write is a compare-and-set).


# ------------------------------------------------------------------ 9. security and hygiene


def test_a_malformed_token_payload_is_never_echoed(identity, caplog):
    import base64

    from functions.auth import CallerVerifier, Unauthenticated

    payload = base64.urlsafe_b64encode(b"secret-payload-0123456789").decode().rstrip("=")
    v = CallerVerifier(audiences=("a",), allowed=("ops@agency.example",), certs_url=identity.certs_url)
    for token in (f"eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln", f"{payload}.{payload}.{payload}", f"x.{payload}!.y"):
        with pytest.raises(Unauthenticated) as exc:
            v.verify(f"Bearer {token}")
        assert "secret-payload" not in str(exc.value) and payload not in str(exc.value)
        assert "c2VjcmV0" not in str(exc.value)
        assert "refused" in str(exc.value)
    assert "secret-payload" not in caplog.text


KILL_MID_SAVE = """
import os, sys
from pathlib import Path
from openpyxl import Workbook
from functions.sheet.workbook import LocalWorkbook
from functions.ports import CellBlock
def dying_save(self, filename):
    Path(filename).write_bytes(b"PK half a workbook")
    os._exit(9)
Workbook.save = dying_save
from functions.sheet import xlsx_patch  # the splice of changed cells dies the same way
xlsx_patch.patch_file = lambda source, target, *rest: dying_save(None, target)
LocalWorkbook(Path(sys.argv[1])).write([CellBlock("Runs", 5, 1, [["x"]])])
"""


def test_a_kill_mid_save_leaves_no_stray_copy_after_the_next_save(month):
    before = set(os.listdir(month))
    done = subprocess.run([sys.executable, "-c", KILL_MID_SAVE, str(workbook(month))], cwd=ROOT, timeout=60)
    assert done.returncode == 9
    assert set(os.listdir(month)) != before  # the kill left its temporary copy
    pipeline.preview(services_for(month), OCT)
    assert set(os.listdir(month)) - before <= {"invoices"}


def test_a_save_keeps_the_workbooks_mode(month):
    os.chmod(workbook(month), 0o664)
    pipeline.preview(services_for(month), OCT)
    assert workbook(month).stat().st_mode & 0o777 == 0o664


@pytest.mark.parametrize("prefix", ["../../x-", "a/b", "..", "x\\y", "IN V"])
def test_an_invoice_prefix_that_is_a_path_is_refused(tmp_path, prefix, monkeypatch):
    from functions.accounting.ledger import Ledger
    from functions.errors import ConfigError

    monkeypatch.setenv("INVOICE_PREFIX", prefix)
    with pytest.raises(SettingError, match="INVOICE_PREFIX"):
        Settings(workdir=tmp_path)
    if any(p in prefix for p in ("/", "\\", "..")):  # the ledger refuses a path however it is built
        with pytest.raises(ConfigError, match="prefix"):
            Ledger(tmp_path / "l.sqlite", tmp_path / "invoices", prefix=prefix)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ 10. day-first dates


def test_a_day_first_export_is_read_day_first_for_every_row(tmp_path):
    export = harvest_csv(tmp_path / "eu.csv", ["a", "b", "c"], dates=["05/10/2026", "13/10/2026", "01/10/2026"])
    work = tmp_path / "work"
    s = pipeline.refresh(
        with_categories(bootstrap(Settings(workdir=work, ai_enabled=False), source=csv_source([export]))), OCT
    )
    assert s.new == 3
    ws = load_workbook(workbook(work))["Time"]
    days = sorted(ws.cell(row=r, column=col(ws, "Date")).value.date() for r in range(2, 5))
    assert days == [date(2026, 10, 1), date(2026, 10, 5), date(2026, 10, 13)]
    assert "day-first" in " ".join(s.sources)


def test_a_file_mixing_day_first_and_month_first_is_refused(tmp_path):
    from functions.sources.csv_exports import parse_export

    export = harvest_csv(tmp_path / "mixed.csv", ["a", "b"], dates=["13/10/2026", "10/13/2026"])
    with pytest.raises(InputErrors, match="day-first"):
        parse_export(export)
