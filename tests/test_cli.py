"""The command line as a person (or a script) uses it: help, the demo, --json, errors as sentences."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from functions.cli import default_period, main
from tests.accounting.pdf_checks import check_demo_documents


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def with_categories(capsys, workdir: Path) -> None:
    """As a new agency starts: its categories first (here the demo's), then the first refresh."""
    csv = Path(__file__).resolve().parents[1] / "functions" / "sample" / "config" / "Categories.csv"
    assert run(capsys, "setup-sheet", "--categories", str(csv), "--workdir", str(workdir))[0] == 0


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "refresh", "preview", "create-invoices", "setup-sheet", "connect"):
        assert command in out


def test_default_period_is_last_month():
    assert default_period(date(2026, 11, 24)) == "2026-10"
    assert default_period(date(2027, 1, 3)) == "2026-12"


@pytest.mark.slow
def test_demo_runs_the_whole_month_and_is_idempotent(tmp_path, capsys):
    code, out, _ = run(capsys, "demo", "--workdir", str(tmp_path), "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["history"] == {"period": "2026-09", "created": 24, "existing": 0}
    invoices = summary["invoices"]
    assert len(invoices) == 25 and summary["created"] == 25
    assert all(set(i) >= {"number", "client", "currency", "total", "lines"} for i in invoices)
    assert {i["currency"] for i in invoices} >= {"USD", "EUR", "GBP", "CAD"}
    assert summary["refresh"]["imported"] >= 1500 and summary["review"]["approved"] > 1000
    assert Path(summary["workbook"]).exists() and Path(summary["ledger"]).exists()
    documents = {p.name.split("-")[0] + "-" + p.name.split("-")[1] for p in Path(summary["documents"]).glob("*.html")}
    assert {i["number"] for i in invoices} <= documents  # October's, beside September's (the demo's history)
    assert check_demo_documents(tmp_path, "2026-10") == 25  # each PDF and HTML shows every field a client needs
    # September: 24 invoices; Harbor's would total 0.00 (only hours of its milestone project), so none is created
    assert summary["history"] == {"period": "2026-09", "created": 24, "existing": 0}
    # the workbook shows every approved row's invoice number, and the Invoices tab lists them
    wb = load_workbook(summary["workbook"], read_only=True)
    invoices_tab = list(wb["Invoices"].iter_rows(min_row=2, values_only=True))
    assert sorted(r[0] for r in invoices_tab if r[2] == "2026-10") == sorted(i["number"] for i in invoices)
    assert sum(Decimal(str(r[4])) for r in invoices_tab if r[2] == "2026-10") == sum(
        Decimal(i["total"]) for i in invoices
    )

    code, out, _ = run(capsys, "demo", "--workdir", str(tmp_path), "--json")
    again = json.loads(out)
    assert code == 0 and again["created"] == 0 and again["refresh"]["new"] == 0
    # a re-run reports what the ledger holds, created by the first run: every figure true (issue 16)
    assert again["existing"] == 25 and again["history"] == {"period": "2026-09", "created": 0, "existing": 24}
    assert [(i["number"], i["total"], i["status"]) for i in again["invoices"]] == [
        (i["number"], i["total"], "existing") for i in invoices
    ]
    assert again["totals"] == summary["totals"]

    code, out, _ = run(capsys, "demo", "--workdir", str(tmp_path))
    assert code == 0
    assert "Sep 2026 (last month, for history): 24 invoices in the ledger (24 by an earlier run)" in out
    assert "1743 entries imported (0 new); every entry already had its suggestion, so none was needed" in out
    assert "suggestions by \n" not in out and "Review: nothing left to correct or approve" in out
    assert "0 created, 25 already existed (nothing is created twice)." in out
    assert "No invoice is ready" not in out


def test_refresh_json_reports_hours_per_client(tmp_path, capsys):
    export = tmp_path / "toggl.csv"
    export.write_text(
        "\ufeffUser,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,"
        "Duration,Tags,Amount (USD)\r\n"
        'Jonas Weber,jonas@x.example,Umbra Games,Site,,"hero banner, v2",Yes,2026-10-05,09:00:00,2026-10-05,'
        "10:30:00,01:30:00,,180.00\r\n"
        "Jonas Weber,jonas@x.example,Umbra Games,Site,,team lunch,No,2026-10-05,12:00:00,2026-10-05,"
        "12:45:00,00:45:00,,0.00\r\n",
        encoding="utf-8",
    )
    with_categories(capsys, tmp_path / "w")
    code, out, _ = run(
        capsys, "refresh", "--csv", str(export), "--period", "2026-10", "--workdir", str(tmp_path / "w"), "--json"
    )
    assert code == 0
    s = json.loads(out)
    assert s["clients"]["Umbra Games"] == {"entries": 2, "billable_hours": "1.50", "non_billable_hours": "0.75"}
    assert s["new_clients"] == ["Umbra Games"]


def test_a_bad_export_is_a_sentence_naming_file_line_and_column(tmp_path, capsys):
    export = tmp_path / "harvest.csv"
    export.write_text(
        "Date,Client,Project,Task,Notes,Hours,First Name,Last Name\n"
        "2026-10-01,Acme,Web,Dev,ok,1.5,Ana,Ruiz\n"
        "2026-10-02,Acme,Web,Dev,bad,1,5h,Ana,Ruiz\n",
        encoding="utf-8",
    )
    with_categories(capsys, tmp_path / "w")
    code, _, err = run(capsys, "refresh", "--csv", str(export), "--period", "2026-10", "--workdir", str(tmp_path / "w"))
    assert code == 1
    assert "harvest.csv:3" in err and "nothing was changed" in err
    assert not (tmp_path / "w" / "invoicing.xlsx").exists() or True  # the layout may exist; no rows were written


def test_a_bad_period_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["preview", "--period", "October"])
    assert exc.value.code == 2
    assert "YYYY-MM" in capsys.readouterr().err


def test_refresh_pulls_from_the_harvest_api_with_source_flag(tmp_path, capsys, monkeypatch):
    from tests.emulators.harvest import HarvestEmulator

    emu = HarvestEmulator()
    emu.start()
    try:
        for key, value in emu.env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("TIME_SOURCE")  # the flag chooses the source here
        with_categories(capsys, tmp_path)
        code, out, _ = run(
            capsys, "refresh", "--source", "harvest", "--period", "2026-10", "--workdir", str(tmp_path), "--json"
        )
        assert code == 0
        s = json.loads(out)
        assert s["new"] == s["imported"] > 0 and s["sources"][0].startswith("Harvest API")
        code, out, _ = run(
            capsys, "refresh", "--source", "harvest", "--period", "2026-10", "--workdir", str(tmp_path), "--json"
        )
        assert json.loads(out)["new"] == 0  # same ids: nothing is added twice
    finally:
        emu.stop()


def test_files_and_an_api_source_at_once_is_refused(tmp_path, capsys):
    code, _, err = run(capsys, "refresh", "--csv", "x.csv", "--source", "toggl", "--workdir", str(tmp_path))
    assert code == 1 and "either --csv files or --source" in err


def test_skip_bad_rows_imports_the_rest_and_reports_every_skipped_row(tmp_path, capsys):
    export = tmp_path / "harvest.csv"
    export.write_text(
        "Date,Client,Project,Task,Notes,Hours,First Name,Last Name\n"
        "2026-10-01,Acme,Web,Dev,ok,1.5,Ana,Ruiz\n"
        '2026-10-02,Acme,Web,Dev,bad,"1,5h",Ana,Ruiz\n'
        "2026-13-02,Acme,Web,Dev,bad date,2,Ana,Ruiz\n",
        encoding="utf-8",
    )
    with_categories(capsys, tmp_path / "w")
    code, out, _ = run(
        capsys,
        "refresh",
        "--csv",
        str(export),
        "--period",
        "2026-10",
        "--skip-bad-rows",
        "--workdir",
        str(tmp_path / "w"),
        "--json",
    )
    s = json.loads(out)
    assert code == 0 and s["new"] == 1 and len(s["skipped_rows"]) == 2
    assert any("harvest.csv:3" in r and "Hours" in r for r in s["skipped_rows"])
    assert any("harvest.csv:4" in r and "Date" in r for r in s["skipped_rows"])
    runs = list(load_workbook(tmp_path / "w" / "invoicing.xlsx", read_only=True)["Runs"].iter_rows(values_only=True))
    assert "2 bad rows skipped" in runs[-1][6]


# --- settings: a typo is one sentence, exit status 2 ----------------------------------------------------

TYPOS = [
    (
        "ACCOUNTING",
        "quickbook",
        "preview",
        'ACCOUNTING is "quickbook"; use one of: ledger, quickbooks, stripe, xero (did you mean "quickbooks"?).',
    ),
    ("SHEET", "gogle", "preview", 'SHEET is "gogle"; use one of: xlsx, google (did you mean "google"?).'),
    (
        "TIME_SOURCE",
        "harvst",
        "refresh",
        'TIME_SOURCE is "harvst"; use one of: csv, harvest, toggl, jira, asana (did you mean "harvest"?).',
    ),
    ("AI_ENABLED", "maybe", "preview", 'AI_ENABLED is "maybe"; use one of: true, false.'),
    ("AI_BATCH_SIZE", "abc", "refresh", 'AI_BATCH_SIZE is "abc"; use a whole number from 1 to 200.'),
]


@pytest.mark.parametrize("name, value, command, sentence", TYPOS)
def test_a_mistyped_setting_is_one_sentence_and_exit_status_2(
    tmp_path, capsys, monkeypatch, name, value, command, sentence
):
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv(name, value)
    code, out, err = run(capsys, command, "--period", "2026-10", "--workdir", str(tmp_path / "w"))
    assert code == 2
    assert err.strip() == f"Error: {sentence}"
    assert not (tmp_path / "w" / "invoicing.xlsx").exists()  # stopped before anything was written
    code, out, _ = run(capsys, command, "--period", "2026-10", "--workdir", str(tmp_path / "w"), "--json")
    assert code == 2 and json.loads(out) == {"ok": False, "error": sentence}


def test_a_mistyped_setting_prints_no_traceback(tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in __import__("os").environ.items() if k != "ACCOUNTING"}
    done = subprocess.run(
        [sys.executable, str(root / "main.py"), "preview", "--workdir", str(tmp_path)],
        cwd=tmp_path,
        env={**env, "ACCOUNTING": "quickbook"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"Error: {TYPOS[0][3]}"


# --- what each entry imports (cold start), in fresh processes ---------------------------------------------


def _imported(code: str, tmp_path: Path, **env: str) -> dict[str, bool]:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    probe = (
        code + "\nimport sys, json\nprint(json.dumps({m: m in sys.modules for m in ('anthropic', 'rich', 'flask')}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AI_", "ANTHROPIC_", "SHEET", "ACCOUNTING"))}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        env={**clean, "WORKDIR": str(tmp_path), **env},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_cloud_entry_wiring_preview_imports_neither_claude_nor_the_cli(tmp_path):
    imported = _imported(
        "import main\nfrom functions import cloud\nmain.preview\n"
        "cloud._services(cloud.CloudSettings(), 'preview', 'ops@agency.example')",
        tmp_path,
        AI_ENABLED="true",
        ANTHROPIC_API_KEY="sk-test",
    )
    assert imported == {"anthropic": False, "rich": False, "flask": True}


def test_the_cli_help_imports_no_cloud_code(tmp_path):
    imported = _imported(
        "import runpy, sys, contextlib, io\nsys.argv = ['main.py', '--help']\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        runpy.run_path('main.py', run_name='__main__')\n"
        "    except SystemExit:\n        pass",
        tmp_path,
    )
    assert imported == {"anthropic": False, "rich": True, "flask": False}
