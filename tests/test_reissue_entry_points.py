"""Reissue from the two entry points: `create-invoices --reissue CLIENT` on the command line (a workbook and the
local ledger), and the create_invoices Cloud Function's `reissue` parameter (the Sheets emulator, real ID tokens)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import gspread
import pytest
from openpyxl import load_workbook

from functions.cli import main
from tests.emulators.google_certs import GoogleIdentity
from tests.emulators.google_fixtures import PersonSession
from tests.test_cli import run, with_categories
from tests.test_cloud import bearer, client, person_edits
from tests.test_cloud import env as env  # the cloud tests' fixture, used by name

EXPORT_HEADER = (
    "\ufeffUser,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,"
    "Duration,Tags,Amount (USD)\r\n"
)


def entry(day: int, notes: str) -> str:
    return (
        f"Jonas Weber,jonas@x.example,Umbra Games,Site,,{notes},Yes,2026-10-{day:02d},09:00:00,2026-10-{day:02d},"
        "11:00:00,02:00:00,,240.00\r\n"
    )


def as_person(book: Path, edit) -> None:
    """Open the workbook as a person would in Excel, change cells, save."""
    wb = load_workbook(book)
    edit(wb)
    wb.save(book)


def cells(ws, header: str) -> list:
    col = [c.value for c in ws[1]].index(header)
    return [row[col] for row in ws.iter_rows(min_row=2, values_only=True)]


class Terminal(io.StringIO):
    """What a person types at a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.slow
def test_create_invoices_reissue_on_the_command_line(tmp_path, capsys, monkeypatch):
    work = tmp_path / "w"
    export = tmp_path / "toggl.csv"
    export.write_text(EXPORT_HEADER + entry(5, "hero banner") + entry(6, "level editor") + entry(7, "wpi"), "utf-8")
    with_categories(capsys, work)
    assert run(capsys, "refresh", "--csv", str(export), "--period", "2026-10", "--workdir", str(work))[0] == 0
    book = work / "invoicing.xlsx"

    def review(wb):
        clients = wb["Clients"]
        col = {c.value: i + 1 for i, c in enumerate(clients[1])}
        clients.cell(2, col["Default Rate"], 100)
        clients.cell(2, col["Terms"], "Net 30")
        time_ws = wb["Time"]
        approved = [c.value for c in time_ws[1]].index("Approved") + 1
        for r in range(2, time_ws.max_row + 1):
            time_ws.cell(r, approved, True)

    as_person(book, review)
    code, out, _ = run(capsys, "create-invoices", "--period", "2026-10", "--workdir", str(work), "--json")
    assert code == 0 and [i["number"] for i in json.loads(out)["invoices"]] == ["INV-0001"]

    def dispute(wb):
        time_ws = wb["Time"]
        col = [c.value for c in time_ws[1]].index("Approved") + 1
        time_ws.cell(4, col, False)  # the client disputes the third entry

    as_person(book, dispute)
    code, out, _ = run(
        capsys,
        "create-invoices",
        "--reissue",
        "umbra games",
        "--period",
        "2026-10",
        "--workdir",
        str(work),
        "--json",
        "--dry-run",
    )
    plan = json.loads(out)
    assert code == 0 and plan["ok"] and plan["outcome"] == "preview" and plan["replaces"] == "INV-0001"
    assert plan["replaces_total"] == "600.00" and plan["invoices"][0]["total"] == "400.00"
    assert cells(load_workbook(book)["Time"], "Invoice") == ["INV-0001"] * 3  # a dry run moves nothing

    # on a terminal the preview comes first, then a question; "n" voids nothing
    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    code, out, _ = run(
        capsys, "create-invoices", "--reissue", "Umbra Games", "--period", "2026-10", "--workdir", str(work)
    )
    assert code == 0 and "Would void INV-0001 (600.00 USD)" in out and "Nothing was voided or created." in out
    assert cells(load_workbook(book)["Time"], "Invoice") == ["INV-0001"] * 3
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))

    # not a terminal (a script, CI): no question is asked
    code, out, _ = run(
        capsys, "create-invoices", "--reissue", "Umbra Games", "--period", "2026-10", "--workdir", str(work)
    )
    assert code == 0 and "INV-0001 is void; INV-0002 replaces it (400.00 USD)" in out
    wb = load_workbook(book)
    assert cells(wb["Time"], "Invoice") == ["INV-0002", "INV-0002", None]
    assert cells(wb["Invoices"], "Status") == ["void, replaced by INV-0002", "created"]
    documents = sorted(p.name for p in (work / "invoices").glob("*.html"))
    assert documents == ["INV-0001-umbra-games.html", "INV-0002-umbra-games.html"]
    assert "VOID" in (work / "invoices" / documents[0]).read_text("utf-8")

    code, out, _ = run(
        capsys, "create-invoices", "--reissue", "Umbra Games", "--period", "2026-10", "--workdir", str(work), "--json"
    )
    assert code == 0 and json.loads(out)["outcome"] == "up to date"


def test_the_help_explains_reissue(capsys):
    with pytest.raises(SystemExit):
        main(["create-invoices", "--help"])
    out = capsys.readouterr().out
    assert "--reissue CLIENT" in out and "void it, create" in out


@pytest.mark.slow
def test_the_create_invoices_function_reissues_with_the_reissue_parameter(
    env,
    identity: GoogleIdentity,
    sheets_emulator,
):
    sid = env.spreadsheet_id
    auth = bearer(identity)
    assert client("refresh").post("/", json={"period": "2026-10"}, headers=auth).status_code == 200
    person_edits(env.api_base_url, env)
    created = client("create_invoices").post("/", json={"period": "2026-10"}, headers=auth).get_json()
    numbers = {i["client"]: i["number"] for i in created["invoices"]}
    old = numbers["Vertex Robotics"]

    rows = sheets_emulator.values(sid, "Time")
    ci, ii, ai = rows[0].index("Client"), rows[0].index("Invoice"), rows[0].index("Approved")
    disputed = next(n for n, r in enumerate(rows[1:], start=2) if r[ci] == "Vertex Robotics" and r[ii] == old)
    gc = gspread.Client(auth=None, session=PersonSession(env.api_base_url, env.credentials_file))
    cell = gspread.utils.rowcol_to_a1(disputed, ai + 1)
    gc.open_by_key(sid).worksheet("Time").update([["FALSE"]], cell, value_input_option="USER_ENTERED")  # disputed
    r = client("create_invoices").post("/", json={"period": "2026-10", "reissue": 7}, headers=auth)
    assert r.status_code == 400 and "reissue must name a client" in r.get_json()["error"]["message"]

    r = client("create_invoices").post(
        "/", json={"period": "2026-10", "reissue": "Vertex Robotics", "dry_run": True}, headers=auth
    )
    plan = r.get_json()
    assert r.status_code == 200 and plan["ok"] and plan["outcome"] == "preview" and plan["replaces"] == old
    r = client("create_invoices").post("/", json={"period": "2026-10", "reissue": "Vertex Robotics"}, headers=auth)
    done = r.get_json()
    assert r.status_code == 200 and done["outcome"] == "reissued" and done["voided"] == [old]
    new = done["invoices"][0]["number"]
    rows = sheets_emulator.values(sid, "Time")
    assert rows[disputed - 1][ii] == ""  # the disputed entry is no longer on an invoice
    vertex = {r[ii] for r in rows[1:] if len(r) > ii and r[ci] == "Vertex Robotics" and r[ii]}
    assert vertex == {new} and new != old
    xenon = {r[ii] for r in rows[1:] if len(r) > ii and r[ci] == "Xenon Labs" and r[ii]}
    assert xenon == {numbers["Xenon Labs"]}  # the other client's invoice is untouched
    status = {r[0]: r[7] for r in sheets_emulator.values(sid, "Invoices")[1:]}
    assert status[old] == f"void, replaced by {new}"
