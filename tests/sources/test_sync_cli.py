"""The command line with several API sources: repeated --source, --full, --skip-bad-rows, the Sync tab."""

from __future__ import annotations

import json

from functions.ports import CellBlock
from functions.sheet.workbook import LocalWorkbook
from tests.emulators.asana import AsanaEmulator
from tests.emulators.jira import JiraEmulator
from tests.test_cli import run, with_categories


def test_refresh_with_two_sources_then_again_then_in_full(tmp_path, capsys, monkeypatch):
    jira, asana = JiraEmulator(), AsanaEmulator()
    jira.start()
    asana.start()
    try:
        for key, value in {**jira.env(), **asana.env()}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("TIME_SOURCE")  # the flags choose here
        with_categories(capsys, tmp_path)
        args = ["refresh", "--source", "jira", "--source", "asana", "--period", "2026-10", "--workdir", str(tmp_path)]

        code, out, err = run(capsys, *args, "--json")
        assert code == 1 and "which no client maps" in out + err and "Tracker Keys" in out + err

        code, out, _ = run(capsys, *args, "--json", "--skip-bad-rows")  # no client maps them yet: listed, skipped
        s = json.loads(out)
        assert code == 0 and s["ok"] and len(s["skipped_rows"]) == 70 and s["new"] == 0
        book = LocalWorkbook(tmp_path / "invoicing.xlsx")
        assert [r for r in book.read(["Sync"])["Sync"][1:] if r and r[0]] == []  # no watermark past skipped ones

        header = book.read(["Clients"])["Clients"][0]
        rows = [
            [{"Client": name, "Currency": "USD", "Tracker Keys": keys}.get(h) for h in header]
            for name, keys in (("Acme Web", ""), ("Globex", "GLOBEX, Globex Platform"))
        ]
        book.write([CellBlock("Clients", 2, 1, rows)])
        code, out, _ = run(capsys, *args, "--json")  # the skipped records are read again, and land
        s = json.loads(out)
        assert code == 0 and s["new"] == 70 and not s["skipped_rows"], out
        assert set(s["clients"]) == {"Globex", "Acme Web"}

        code, out, _ = run(capsys, *args, "--json")  # incremental: nothing changed
        s = json.loads(out)
        assert code == 0 and s["imported"] == 0 and "changed" in s["sources"][0]

        code, out, _ = run(capsys, *args, "--json", "--full")  # the whole month again: all unchanged
        s = json.loads(out)
        assert code == 0 and s["imported"] == 70 and s["new"] == 0
        sync = book.read(["Sync"])["Sync"]
        assert sorted(r[0] for r in sync[1:] if r and r[0]) == ["asana", "jira"]

        code, out, _ = run(capsys, "refresh", "--help")
        assert "--full" in out and "repeat for several sources" in out
    except SystemExit as exc:  # --help exits
        assert exc.code == 0
    finally:
        jira.stop()
        asana.stop()
