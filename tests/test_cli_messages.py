"""First contact with the command line: every message true and helpful (issue 16), run through main() as
`python main.py ...` runs it, or in a process where the point is the process (exit codes, piping)."""

from __future__ import annotations

import json
from pathlib import Path

from functions.cli import main

HARVEST = "Date,Client,Project,Task,Notes,Hours,First Name,Last Name\n"


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def with_categories(capsys, workdir: Path) -> Path:
    """As a new agency starts: its categories first (here the demo's), then the first refresh."""
    csv = Path(__file__).resolve().parents[1] / "functions" / "sample" / "config" / "Categories.csv"
    assert run(capsys, "setup-sheet", "--categories", str(csv), "--workdir", str(workdir))[0] == 0
    return workdir


def harvest(path: Path, *days: str) -> Path:
    path.write_text(
        HARVEST + "".join(f"{d},Acme,Web,Dev,work {i},1.5,Ana,Ruiz\n" for i, d in enumerate(days)), encoding="utf-8"
    )
    return path


# --- 1. a file with no entries in the period ------------------------------------------------------------


def test_a_file_of_another_month_imports_nothing_and_names_its_month_and_the_command(tmp_path, capsys):
    export = harvest(tmp_path / "my_october.csv", "2026-10-01", "2026-10-02", "2026-10-20")
    work = tmp_path / "w"
    code, out, err = run(capsys, "refresh", "--csv", str(export), "--period", "2026-11", "--workdir", str(work))
    assert code == 1 and out == ""
    assert err.strip().replace("\n", " ") == (
        "Error: Nothing to import for 2026-11: my_october.csv holds 3 entries, all in 2026-10. Nothing was "
        f"changed. To import them, run `python main.py refresh --csv {export} --period 2026-10 --workdir {work}`."
    )
    assert not work.exists()  # nothing created
    code, out, _ = run(capsys, "refresh", "--csv", str(export), "--period", "2026-11", "--workdir", str(work), "--json")
    assert code == 1 and json.loads(out)["ok"] is False and "--period 2026-10" in json.loads(out)["error"]


def test_a_file_of_several_months_names_each_with_its_command(tmp_path, capsys):
    export = harvest(tmp_path / "summer.csv", "2026-08-03", "2026-09-01", "2026-09-02")
    code, _, err = run(capsys, "refresh", "--csv", str(export), "--workdir", str(tmp_path / "w"))
    err = err.replace("\n", " ")
    assert code == 1 and "summer.csv holds 3 entries, in 2026-08 (1), 2026-09 (2)" in err
    assert "--period 2026-08" in err and "--period 2026-09" in err


def test_the_period_defaults_to_the_one_month_the_files_hold(tmp_path, capsys):
    export = harvest(tmp_path / "my_october.csv", "2026-10-01", "2026-10-02")
    with_categories(capsys, tmp_path / "w")
    code, out, err = run(capsys, "refresh", "--csv", str(export), "--workdir", str(tmp_path / "w"))
    assert code == 0 and "the files hold only 2026-10" in err
    assert "2 rows, 2 in 2026-10" in out and "preview --period 2026-10" in out
    code, out, _ = run(capsys, "refresh", "--csv", str(export), "--workdir", str(tmp_path / "w"), "--json")
    assert json.loads(out)["period"] == "2026-10" and json.loads(out)["unchanged"] == 2


def test_one_file_of_another_month_beside_the_right_one_is_a_warning_with_its_command(tmp_path, capsys):
    october = harvest(tmp_path / "october.csv", "2026-10-01")
    september = harvest(tmp_path / "september.csv", "2026-09-30")
    with_categories(capsys, tmp_path / "w")
    code, out, _ = run(
        capsys,
        "refresh",
        "--csv",
        str(october),
        "--csv",
        str(september),
        "--period",
        "2026-10",
        "--workdir",
        str(tmp_path / "w"),
        "--json",
    )
    s = json.loads(out)
    assert code == 0 and s["new"] == 1
    assert any(
        w.startswith("september.csv has no entries in 2026-10 (1 entry, all in 2026-09); to import them, run `")
        and "--period 2026-09" in w
        for w in s["warnings"]
    )


def test_refresh_help_says_how_the_period_defaults(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["refresh", "--help"])
    assert "month the --csv files hold when they hold exactly one" in " ".join(capsys.readouterr().out.split())


# --- 3. an empty or mistyped work folder ------------------------------------------------------------------


def test_preview_in_an_empty_folder_says_run_refresh_first_and_creates_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WORKDIR", raising=False)
    code, out, err = run(capsys, "preview", "--period", "2026-10")
    assert code == 1 and out == ""
    assert err.strip() == (
        "Error: Nothing to preview: there is no work folder invoicing-work here. Run refresh first: "
        "`python main.py refresh --csv FILE --period 2026-10` (a new agency starts with its categories: "
        "`python main.py setup-sheet --categories my_categories.csv`, docs/categories.md). Nothing was created."
    )
    code, out, _ = run(capsys, "create-invoices", "--period", "2026-10", "--json")
    assert code == 1 and json.loads(out)["ok"] is False and "Run refresh first" in json.loads(out)["error"]
    assert list(tmp_path.iterdir()) == []  # no workbook, no ledger, no lock file


def test_a_mistyped_workdir_is_named_and_not_created(tmp_path, capsys):
    typo = tmp_path / "invoicng-work"
    code, _, err = run(capsys, "preview", "--period", "2026-10", "--workdir", str(typo))
    assert code == 1 and f"the work folder {typo} does not exist (is --workdir mistyped?)" in err
    assert not typo.exists()


def test_setup_sheet_and_refresh_say_when_they_create_the_work_folder(tmp_path, capsys):
    csv = Path(__file__).resolve().parents[1] / "functions" / "sample" / "config" / "Categories.csv"
    work = tmp_path / "new-work"
    code, _, err = run(capsys, "setup-sheet", "--categories", str(csv), "--workdir", str(work))
    assert code == 0 and f"Created the work folder {work} (it did not exist)." in err
    export = harvest(tmp_path / "october.csv", "2026-10-01")
    code, _, err = run(capsys, "refresh", "--csv", str(export), "--workdir", str(work))
    assert code == 0 and "Created the work folder" not in err
    code, _, err = run(capsys, "refresh", "--csv", str(export), "--workdir", str(tmp_path / "other"))
    assert code == 1 and not (tmp_path / "other").exists()  # no categories yet: stopped, and no folder left


def test_a_failed_refresh_leaves_no_folder_or_file_behind(tmp_path, capsys):
    export = tmp_path / "harvest.csv"
    export.write_text(HARVEST + "2026-10-02,Acme,Web,Dev,bad,1,5h,Ana,Ruiz\n", encoding="utf-8")
    code, _, err = run(
        capsys, "refresh", "--csv", str(export), "--period", "2026-10", "--workdir", str(tmp_path / "a" / "b")
    )
    assert code == 1 and "nothing was changed" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["harvest.csv"]


def test_preview_of_a_month_the_sheet_does_not_hold_names_the_months_it_holds(tmp_path, capsys):
    export = harvest(tmp_path / "october.csv", "2026-10-01")
    with_categories(capsys, tmp_path / "w")
    assert run(capsys, "refresh", "--csv", str(export), "--workdir", str(tmp_path / "w"))[0] == 0
    code, out, _ = run(capsys, "preview", "--period", "2026-11", "--workdir", str(tmp_path / "w"))
    assert code == 0
    assert "The Time tab has no rows in 2026-11; it holds 2026-10: run this again with `--period 2026-10`" in out


# --- 5. --json everywhere ---------------------------------------------------------------------------------


def test_every_command_answers_json_with_ok_and_rounded_seconds(tmp_path, capsys):
    export = harvest(tmp_path / "october.csv", "2026-10-01")
    with_categories(capsys, tmp_path / "w")
    work = ["--workdir", str(tmp_path / "w"), "--json"]
    answers = {
        "refresh": run(capsys, "refresh", "--csv", str(export), *work),
        "preview": run(capsys, "preview", "--period", "2026-10", *work),
        "create-invoices": run(capsys, "create-invoices", "--period", "2026-10", "--dry-run", *work),
        "setup-sheet": run(capsys, "setup-sheet", *work),
    }
    for command, (code, out, _) in answers.items():
        s = json.loads(out)
        assert code == 0 and s["ok"] is True, command
        if "seconds" in s:
            assert s["seconds"] == round(s["seconds"], 2), command


def test_argument_errors_come_back_as_json_under_json(capsys):
    import pytest

    for argv, said in (
        (["preview", "--period", "October", "--json"], '"October" is not a period; write it as YYYY-MM'),
        (["refresh", "--json", "--bogus"], "unrecognized arguments: --bogus"),
        (["--json", "create-invoices", "--period", "2026-13"], "--period"),
    ):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        captured = capsys.readouterr()
        answer = json.loads(captured.out)
        assert exc.value.code == 2 and answer["ok"] is False and said in answer["error"], argv
        assert captured.err == ""
    with pytest.raises(SystemExit):  # without --json, argparse's usage and sentence as before
        main(["preview", "--period", "October"])
    assert "YYYY-MM" in capsys.readouterr().err


def test_a_bad_period_under_json_in_a_process_is_json_and_exit_status_2(tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, str(root / "main.py"), "preview", "--period", "October", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and json.loads(done.stdout)["ok"] is False and done.stderr == ""


# --- 8. small things --------------------------------------------------------------------------------------


def test_demo_help_names_the_demo_folder(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    assert "(default: ./invoicing-demo, or $WORKDIR)" in " ".join(capsys.readouterr().out.split())
    with pytest.raises(SystemExit):
        main(["preview", "--help"])
    assert "(default: ./invoicing-work, or $WORKDIR)" in " ".join(capsys.readouterr().out.split())


def test_the_demo_folder_is_ignored_by_git():
    ignored = (Path(__file__).resolve().parents[1] / ".gitignore").read_text(encoding="utf-8").split()
    assert "/invoicing-demo/" in ignored and "/invoicing-work/" in ignored


def test_a_semicolon_separated_export_gets_a_hint(tmp_path, capsys):
    export = tmp_path / "export.csv"
    export.write_text(HARVEST.replace(",", ";") + "2026-10-01;Acme;Web;Dev;ok;1,5;Ana;Ruiz\n", encoding="utf-8")
    with_categories(capsys, tmp_path / "w")
    code, _, err = run(capsys, "refresh", "--csv", str(export), "--workdir", str(tmp_path / "w"))
    assert code == 1 and "export.csv:1:" in err
    assert "This file is separated by semicolons (;), as Excel saves CSV in many European locales" in err
    assert 'save it with commas (Excel: "CSV UTF-8 (Comma delimited)"' in err


def test_client_names_do_not_wrap_in_a_piped_table(tmp_path, capsys):
    import subprocess
    import sys

    name = "Bluefin Logistics International Holdings of the North Atlantic"
    export = tmp_path / "october.csv"
    export.write_text(HARVEST + f'2026-10-01,"{name}",Web,Dev,ok,1.5,Ana,Ruiz\n', encoding="utf-8")
    root = Path(__file__).resolve().parents[1]
    with_categories(capsys, tmp_path / "w")
    done = subprocess.run(
        [sys.executable, str(root / "main.py"), "refresh", "--csv", str(export), "--workdir", str(tmp_path / "w")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "COLUMNS": "60"},
    )
    assert done.returncode == 0
    assert any(name in line and "1.50" in line for line in done.stdout.splitlines()), done.stdout
    assert "1/5" not in done.stderr and "━" not in done.stderr  # no progress bars when piped


# --- 4. progress ------------------------------------------------------------------------------------------


def test_a_terminal_shows_progress_bars_with_counts_and_elapsed_time_and_json_none(tmp_path, capsys, monkeypatch):
    import io

    from rich.console import Console

    from functions import cli

    october = harvest(tmp_path / "october.csv", "2026-10-01")
    september = harvest(tmp_path / "september.csv", "2026-10-02")
    with_categories(capsys, tmp_path / "w")
    screen = io.StringIO()
    monkeypatch.setattr(cli, "err", Console(file=screen, force_terminal=True, width=100))
    argv = ["refresh", "--csv", str(october), "--csv", str(september), "--workdir", str(tmp_path / "w")]
    code, out, _ = run(capsys, *argv)
    shown = screen.getvalue()
    assert code == 0 and "writing the sheet" in shown and "5/5" in shown and "0:00:0" in shown
    assert "reading october.csv" in shown and "2/2" in shown  # the files read, under the step
    assert "5/5" not in out and "0:00:0" not in out  # the bars are on stderr, the summary on stdout

    screen.truncate(0)
    code, out, _ = run(capsys, *argv, "--json")
    assert code == 0 and json.loads(out)["ok"] and screen.getvalue() == ""


def test_claudes_requests_show_live_as_a_count_under_the_suggesting_step(tmp_path, capsys, monkeypatch):
    import io

    from rich.console import Console

    from functions import cli
    from tests.emulators.anthropic import AnthropicEmulator

    october = harvest(tmp_path / "october.csv", *[f"2026-10-{d:02d}" for d in range(1, 8)])
    with_categories(capsys, tmp_path / "w")
    with AnthropicEmulator(api_key="local-test-key") as claude:
        for name, value in {**claude.env(), "AI_BATCH_SIZE": "2", "AI_ASK_BELOW": "2", "AI_CONCURRENCY": "1"}.items():
            monkeypatch.setenv(name, value)
        screen = io.StringIO()
        monkeypatch.setattr(cli, "err", Console(file=screen, force_terminal=True, width=120))
        code, out, _ = run(capsys, "refresh", "--csv", str(october), "--workdir", str(tmp_path / "w"))
    shown = screen.getvalue()
    assert code == 0 and "in 4 requests" in out  # 7 distinct notes, 2 a request
    assert "Claude: 4 of 4 request(s) answered" in shown and "4/4" in shown  # a bar of its own, counted
    assert "suggesting categories" in shown and "5/5" in shown  # the job's steps went on after it


def test_piping_json_into_a_reader_that_stops_early_prints_no_traceback(tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(
        [sys.executable, str(root / "main.py"), "preview", "--json", "--workdir", str(tmp_path / "none")],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # as `| head -c 100` does once it has its bytes: every write now fails with EPIPE
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 1


def test_the_old_sheet_id_name_works_with_a_deprecation_warning(monkeypatch, caplog):
    from functions import settings

    monkeypatch.setattr(settings, "_old_sheet_name_said", False)
    monkeypatch.delenv("GOOGLE_SHEET_ID", raising=False)
    monkeypatch.setenv("GOOGLE_SHEETS_SPREADSHEET_ID", "old-name-id")
    assert settings.GoogleSheetsSettings().spreadsheet_id == "old-name-id"
    assert "GOOGLE_SHEETS_SPREADSHEET_ID is the old name of GOOGLE_SHEET_ID; rename it" in caplog.text
    caplog.clear()
    settings.GoogleSheetsSettings()
    assert caplog.text == ""  # said once a process


def test_review_lists_corrects_and_approves_in_the_workbook_and_says_what_it_did(tmp_path, capsys):
    workdir = with_categories(capsys, tmp_path / "w")
    export = harvest(tmp_path / "october.csv", "2026-10-01", "2026-10-02", "2026-10-03")
    assert run(capsys, "refresh", "--csv", str(export), "--workdir", str(workdir))[0] == 0
    code, out, _ = run(capsys, "review", "--period", "2026-10", "--list", "--json", "--workdir", str(workdir))
    rows = json.loads(out)["rows"]
    assert code == 0 and len(rows) == 3 and not any(r["approved"] for r in rows)

    code, _, err = run(
        capsys, "review", "--period", "2026-10", "--category", f"{rows[0]['entry']}=Nonsense", "--workdir", str(workdir)
    )
    assert code == 1 and '"Nonsense" (not on the Categories tab)' in err and "Nothing was changed" in err
    code, _, err = run(
        capsys, "review", "--period", "2026-10", "--client", "Nobody", "--approve-all", "--workdir", str(workdir)
    )
    assert code == 1 and "No Time row of 2026-10 is for Nobody" in err

    # the other two are the team's internal time (whatever the suggestion was): not approved by --approve-all
    internal = [a for r in rows[1:] for a in ("--category", f"{r['entry']}=Internal")]
    assert run(capsys, "review", "--period", "2026-10", *internal, "--workdir", str(workdir))[0] == 0
    code, out, _ = run(
        capsys,
        "review",
        "--period",
        "2026-10",
        "--category",
        f"{rows[0]['entry']}=Design",
        "--approve-all",
        "--workdir",
        str(workdir),
    )
    assert code == 0 and "1 category corrected, 1 row approved, 2 rows of 2026-10 not approved" in out
    code, out, _ = run(capsys, "review", "--period", "2026-10", "--list", "--json", "--workdir", str(workdir))
    after = {r["entry"]: r for r in json.loads(out)["rows"]}
    # the corrected row is approved; the others stay Internal, not a billable category
    assert after[rows[0]["entry"]]["category"] == "Design" and after[rows[0]["entry"]]["approved"]
    assert [r["approved"] for r in after.values() if r["category"] == "Internal"] == [False, False]
    code, out, _ = run(capsys, "preview", "--period", "2026-10", "--json", "--workdir", str(workdir))
    assert code == 0 and json.loads(out)["ok"]


def test_review_without_an_action_says_which_to_give(tmp_path, capsys):
    workdir = with_categories(capsys, tmp_path / "w")
    code, _, err = run(capsys, "review", "--period", "2026-10", "--workdir", str(workdir))
    assert code == 1 and "--list, --category ENTRY_ID=CATEGORY or --approve-all" in err
