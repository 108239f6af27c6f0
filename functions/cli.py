"""The command line: the same pipeline the Cloud Functions run, on this machine.

    python main.py demo                                  # the whole month on the bundled sample agency
    python main.py refresh --csv october.csv --period 2026-10
    python main.py preview --period 2026-10
    python main.py create-invoices --period 2026-10

Every command takes --workdir (where the workbook, ledger and documents live) and --json (print the
summary as JSON for scripts). Errors are printed as sentences, with where they are; the exit code is 1,
or 2 when a setting has a value it cannot have (`ACCOUNTING=quickbook`), as for a mistyped option.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table

from . import logs, pipeline
from .capacity import precheck
from .cli_progress import Bars
from .config import bootstrap, build_source, csv_source
from .demo import demo_payload, run_demo
from .errors import AuthError, ConfigError, InputError, InputErrors, InvoicingError
from .models import Period
from .money import fmt_money
from .ports import CellBlock, Progress, SheetStore
from .settings import SettingError, Settings
from .values import is_blank

DEMO_WORKDIR = Path("invoicing-demo")
log = logging.getLogger("invoicing.cli")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def default_period(today: date | None = None) -> str:
    """Last month: invoices for October are made in November."""
    today = today or date.today()
    return str(Period.of(today).previous())


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class _Parser(argparse.ArgumentParser):
    """argparse, whose usage errors (a bad --period, an unknown option) come back as JSON under --json."""

    json_errors = False  # set by main() for the run's argv

    def error(self, message: str) -> NoReturn:
        if _Parser.json_errors:
            print(json.dumps({"ok": False, "error": f"{self.prog}: {message}"}, indent=2))
            self.exit(2)
        super().error(message)


def _period_option(help_text: str) -> _Parser:
    parent = _Parser(add_help=False)
    parent.add_argument("--period", type=_period, default=None, metavar="YYYY-MM", help=help_text)
    return parent


def _common_options(default_folder: str) -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--workdir",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"where the workbook, ledger and invoice documents live (default: {default_folder}, or $WORKDIR)",
    )
    common.add_argument("--json", action="store_true", help="print the summary as JSON (for scripts)")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options("./invoicing-work")
    period = _period_option("the month to bill (default: last month)")

    parser = _Parser(
        prog="python main.py",
        description="Turn tracked time into reviewed, correct invoices: refresh time entries into a sheet, "
        "review them there, preview the invoices, then create them exactly once.",
        epilog="Offline by default: a local workbook (invoicing.xlsx) and a local ledger with HTML invoices. "
        "Set TIME_SOURCE=harvest|toggl, SHEET=google, ACCOUNTING=quickbooks and ANTHROPIC_API_KEY to use "
        "the production services (see README.md and .env.example).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "demo",
        parents=[_common_options(f"./{DEMO_WORKDIR}")],
        help="run a whole month on the bundled sample agency",
        description="Refresh the sample agency's October 2026 exports (Harvest, Toggl, Clockify) "
        "into a workbook, categorize, review and approve as a person would, preview, "
        "and create the invoices in the local ledger.",
    )
    p.add_argument("--fresh", action="store_true", help="start from an empty work directory")

    p = sub.add_parser(
        "refresh",
        parents=[
            common,
            _period_option(
                "the month to import (default: the month the --csv files hold when they hold exactly one, "
                "else last month)"
            ),
        ],
        help="import time entries into the Time tab",
        description="Import time entries, suggest a category for each, and merge them into the "
        "Time tab without overwriting anything people edited.",
    )
    p.add_argument(
        "--csv",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a Harvest, Toggl or Clockify detailed time export (repeat for several files)",
    )
    p.add_argument(
        "--skip-bad-rows",
        action="store_true",
        help="import the good rows of a file (or the good records of an API source) with errors, and list "
        "every one skipped",
    )
    p.add_argument(
        "--source",
        choices=["harvest", "toggl", "jira", "asana"],
        action="append",
        default=None,
        help="pull from the tracker's API instead of files; repeat for several sources in one refresh "
        "(default: $TIME_SOURCE, e.g. harvest,jira)",
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="pull the whole month again from the API sources, not only what changed since their last sync "
        "(also refreshes their cached names and people)",
    )

    sub.add_parser(
        "preview",
        parents=[common, period],
        help="compute the invoices into the Preview tab",
        description="Compute every invoice of the period with each client's billing rules into the "
        "Preview tab, with warnings. Creates nothing.",
    )

    p = sub.add_parser(
        "review",
        parents=[common, period],
        help="list the period's rows, fix categories, tick Approved (as in the sheet)",
        description="What a person does in the Time tab, from the command line: list the period's rows, "
        "correct categories and tick Approved on billable rows. For a sheet nobody can click in (the local "
        "emulators: docs/emulators.md) or approving a whole client at once. Writes review cells only.",
    )
    p.add_argument("--list", action="store_true", help="print the period's rows (entry id, category, approved)")
    p.add_argument(
        "--category",
        action="append",
        default=[],
        metavar="ENTRY_ID=CATEGORY",
        help='set a row\'s category, e.g. "harvest:1042=Design" (repeat for several)',
    )
    p.add_argument(
        "--approve-all",
        action="store_true",
        help="tick Approved on every billable row of a billable category (empty categories take the suggestion)",
    )
    p.add_argument("--client", action="append", default=[], metavar="NAME", help="only this client's rows (repeat)")

    p = sub.add_parser(
        "create-invoices",
        parents=[common, period],
        help="create the approved invoices",
        description="Create one invoice per client for the approved rows of the period, exactly "
        "once, and write the invoice numbers back into the sheet.",
    )
    p.add_argument("--dry-run", action="store_true", help="compute and check everything, create nothing")
    p.add_argument(
        "--create-missing",
        action="store_true",
        help="create customers and items missing in the accounting system (QuickBooks)",
    )
    p.add_argument(
        "--reissue",
        metavar="CLIENT",
        help="correct CLIENT's invoice for the period: void it, create the corrected one from the sheet as it is "
        "now (with the next number, saying which invoice it replaces) and move its Time rows to it; with "
        "--dry-run, show what would change (README: Correcting an invoice)",
    )
    p.add_argument("--yes", action="store_true", help="with --reissue on a terminal: do not ask before voiding")

    p = sub.add_parser(
        "setup-sheet",
        parents=[common],
        help="create or upgrade the sheet's tabs and layout",
        description="Create the tabs of the contract, or upgrade an older layout, without touching people's data. "
        "With --categories, fill an empty Categories tab with your agency's own categories (docs/categories.md).",
    )
    p.add_argument(
        "--categories",
        type=Path,
        metavar="CSV",
        help="a CSV with the columns Category, Meaning, Billable, Line Item, Keywords",
    )

    p = sub.add_parser(
        "connect",
        parents=[common],
        help="connect an account (quickbooks, xero)",
        description="Run the OAuth sign-in for QuickBooks Online or Xero and store the tokens (Xero: and the "
        "organisation to invoice from). Stripe needs no sign-in: set STRIPE_API_KEY (docs/stripe.md).",
    )
    p.add_argument("service", choices=["quickbooks", "xero"])

    p = sub.add_parser(
        "cost",
        parents=[common],
        help="estimate the monthly cloud cost from the Runs tab",
        description="Estimate what running the pipeline on Google Cloud costs a month, per service (Cloud "
        "Functions, Cloud Scheduler, Secret Manager, Cloud Logging, Claude), from the Runs tab's per-run "
        "figures and the list prices in functions/prices.json; says which settings drive it (docs/cost.md).",
    )
    p.add_argument("--months", type=int, default=3, metavar="N", help="read the runs of the last N months (default: 3)")
    p.add_argument(
        "--clients",
        type=int,
        default=None,
        metavar="N",
        help="price a month for N clients, scaling the work per run from the Clients tab's count",
    )
    p = sub.add_parser(
        "archive",
        parents=[common],
        help="move closed, invoiced months of a Google Sheet to a second spreadsheet",
        description="Move every Time row dated before --before that has an invoice number to the Time tab of "
        "the spreadsheet --to (set up there if new; share it with the service account first), close the gap "
        "and shrink the grid, so the sheet stays under Google's 10,000,000-cell limit. What moved is written "
        "to the Runs tab. Safe to run again (rows already archived are not added twice). See docs/google.md.",
    )
    p.add_argument("--before", type=_period, required=True, metavar="YYYY-MM", help="archive months before this")
    p.add_argument("--to", required=True, metavar="SPREADSHEET_ID", help="the archive spreadsheet's id (its URL)")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    if args.workdir is not None:
        settings = settings.model_copy(update={"workdir": args.workdir})
    return settings


def _progress(args: argparse.Namespace) -> Progress:
    """Live progress bars (step, count, elapsed time) on a terminal; nothing under --json or when piped."""
    if args.json or not err.is_terminal:
        return pipeline.no_progress
    bars = Bars(err)
    _BARS.append(bars)
    return bars


_BARS: list[Bars] = []


def _stop_bars() -> None:
    """Stop the live bars before anything else is printed (the summary, an error)."""
    while _BARS:
        _BARS.pop().stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit code. Output cut short by its reader (`| head`) ends quietly, as Python's
    docs on SIGPIPE advise: stdout is pointed at devnull so the interpreter's last flush cannot fail again."""
    try:
        code = _main(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _log_line(line: str) -> None:
    err.print(line, markup=False, highlight=False)


def _main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logs.configure_cli(write=_log_line)  # readable lines on stderr (LOG_LEVEL), above any progress bars
    _Parser.json_errors = "--json" in argv
    try:
        args = build_parser().parse_args(argv)
    finally:
        _Parser.json_errors = False
    new_folder: Path | None = None
    try:
        new_folder = _new_folder(_workdir(args))
        started = time.perf_counter()
        try:
            code = COMMANDS[args.command](args)
        finally:
            _stop_bars()
        seconds = round(time.perf_counter() - started, 2)
        log.info("%s done in %.2f s", args.command, seconds, extra=logs.fields(job=args.command, seconds=seconds))
        if (
            new_folder is not None
            and new_folder.exists()
            and args.command in ("refresh", "setup-sheet")
            and not args.json
        ):
            err.print(f"Created the work folder {_workdir(args)} (it did not exist).", markup=False)
        return code
    except InvoicingError as exc:
        _remove_left_behind(new_folder, args)
        if getattr(args, "json", False):
            print(json.dumps({"ok": False, "error": str(exc)}, indent=2))
        else:
            err.print(f"[bold red]Error:[/bold red] {exc}", markup=True, highlight=False)
        return 2 if isinstance(exc, SettingError) else 1
    except KeyboardInterrupt:
        _remove_left_behind(new_folder, args)
        if args.json:
            print(json.dumps({"ok": False, "error": "Interrupted; nothing further was written."}, indent=2))
        else:
            err.print("Interrupted; nothing further was written.")
        return 130


def _workdir(args: argparse.Namespace) -> Path:
    settings = _settings(args)
    if args.command == "demo" and args.workdir is None and "workdir" not in settings.model_fields_set:
        return DEMO_WORKDIR
    return settings.workdir


def _new_folder(workdir: Path) -> Path | None:
    """The outermost folder of `workdir` that does not exist yet (what a run would create), or None."""
    if workdir.exists():
        return None
    top = workdir.absolute()
    while not top.parent.exists():
        top = top.parent
    return top


def _remove_left_behind(new_folder: Path | None, args: argparse.Namespace) -> None:
    """A failed run leaves no folder behind that it created: its lock file, then the empty folders, go."""
    if new_folder is None or not new_folder.exists():
        return
    try:
        workdir = _workdir(args).absolute()
    except InvoicingError:
        return
    for lock in workdir.glob(".*.lock") if workdir.is_dir() else ():
        lock.unlink(missing_ok=True)
    folder = workdir
    while folder.is_relative_to(new_folder):
        try:
            folder.rmdir()  # only when empty
        except OSError:
            return
        folder = folder.parent


def _require_workbook(args: argparse.Namespace, settings: Settings, period: Period, command: str) -> None:
    """Preview and create-invoices read a workbook that refresh made: without one, say so and create nothing."""
    if settings.sheet == "google" or settings.workbook_path.exists():
        return
    workdir = settings.workdir
    missing = (
        f"{workdir} has no workbook yet ({settings.workbook_path.name})"
        if workdir.exists()
        else f"the work folder {workdir} does not exist (is --workdir mistyped?)"
        if args.workdir is not None
        else f"there is no work folder {workdir} here"
    )
    folder = f" --workdir {shlex.quote(str(workdir))}" if workdir != Path("invoicing-work") else ""
    raise InputError(
        f"Nothing to {command}: {missing}. Run refresh first: "
        f"`python main.py refresh --csv FILE --period {period}{folder}` (a new agency starts with its categories: "
        f"`python main.py setup-sheet --categories my_categories.csv{folder}`, docs/categories.md). "
        "Nothing was created."
    )


# --- commands ------------------------------------------------------------------------------------------


def cmd_refresh(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.csv and args.source:
        raise ConfigError("Give either --csv files or --source, not both.")
    months = _months_held(args.csv)
    held = sorted(set().union(*months.values())) if months else []
    if args.period is None and len(held) == 1:
        period = Period.parse(held[0])
        if not args.json:
            err.print(f"--period not given: the files hold only {period}, so that is the month imported.")
    else:
        period = args.period or Period.parse(default_period())
    elsewhere = _outside_period(args, months, period)
    source = (
        csv_source(args.csv, skip_bad_rows=args.skip_bad_rows)
        if args.csv
        else build_source(settings, args.source, args.skip_bad_rows)
    )
    services = bootstrap(settings, job="refresh", source=source)
    precheck(services.sheet, "refresh")  # FUNCTION_MEMORY set: a month too big for the function stops here
    if source is None and not args.json:
        err.print(
            "No time source: pass --csv FILE (Harvest, Toggl or Clockify export), or --source "
            "harvest|toggl|jira|asana. "
            "Refreshing suggestions and flags of the rows already in the sheet."
        )
    summary = pipeline.refresh(
        services, period, progress=_progress(args), full=args.full, skip_bad_rows=args.skip_bad_rows
    )
    summary.warnings += elsewhere
    _emit(args, summary.as_json(), lambda: _print_refresh(summary))
    return 0


def _months_held(paths: Sequence[Path]) -> dict[Path, Counter[str]]:
    """The months (YYYY-MM -> entries) each readable export holds. A file that cannot be read is left out
    here: the refresh itself reports its problems, with file, line and column."""
    from .sources.csv_exports import parse_export

    held: dict[Path, Counter[str]] = {}
    for path in paths:
        try:
            parsed = parse_export(path, skip_bad_rows=True)
        except InvoicingError:
            continue
        held[path] = Counter(str(Period.of(e.date)) for e in parsed.entries)
    return held


def _outside_period(args: argparse.Namespace, months: dict[Path, Counter[str]], period: Period) -> list[str]:
    """Refuse a refresh whose files hold entries but none in the period (it would import nothing), naming the
    months they hold and the command for each; warn about single files with nothing in the period."""

    def command(paths: Sequence[Path], month: str) -> str:
        parts = ["python main.py refresh", *(f"--csv {shlex.quote(str(p))}" for p in paths), f"--period {month}"]
        if args.workdir is not None:
            parts.append(f"--workdir {shlex.quote(str(args.workdir))}")
        if args.skip_bad_rows:
            parts.append("--skip-bad-rows")
        return "`" + " ".join(parts) + "`"

    def holds(counts: Counter[str]) -> str:
        n = sum(counts.values())
        what = f"{n} entr{'y' if n == 1 else 'ies'}"
        if len(counts) == 1:
            return f"{what}, all in {next(iter(counts))}"
        return f"{what}, in " + ", ".join(f"{m} ({c})" for m, c in sorted(counts.items()))

    empty = {p: c for p, c in months.items() if c and str(period) not in c}
    if not empty:
        return []
    names = ", ".join(p.name for p in empty)
    if len(empty) == len([c for c in months.values() if c]):
        held = sorted(set().union(*empty.values()))
        runs = "; ".join(command([p for p, c in empty.items() if m in c], m) for m in held)
        raise InputError(
            f"Nothing to import for {period}: {names} "
            + ("holds " + holds(next(iter(empty.values()))) if len(empty) == 1 else "hold no entries in it")
            + f". Nothing was changed. To import {'them' if len(held) == 1 else 'a month'}, run {runs}."
        )
    return [
        f"{p.name} has no entries in {period} ({holds(c)}); to import them, run "
        + "; ".join(command([p], m) for m in sorted(c))
        for p, c in empty.items()
    ]


def cmd_preview(args: argparse.Namespace) -> int:
    settings = _settings(args)
    services = bootstrap(settings, job="preview")
    period = args.period or Period.parse(default_period())
    _require_workbook(args, settings, period, "preview")
    precheck(services.sheet, "preview")
    summary = pipeline.preview(services, period, progress=_progress(args))
    _emit(args, summary.as_json(), lambda: _print_invoices(summary, "Preview"))
    return 0


def cmd_create(args: argparse.Namespace) -> int:
    settings = _settings(args)
    services = bootstrap(settings, job="create-invoices")
    period = args.period or Period.parse(default_period())
    _require_workbook(args, settings, period, "create invoices for")
    precheck(services.sheet, "create_invoices")
    if args.reissue:
        return _reissue(args, services, period)
    summary = pipeline.create_invoices(
        services,
        period,
        dry_run=args.dry_run,
        create_missing=args.create_missing,
        progress=_progress(args),
    )
    _emit(args, summary.as_json(), lambda: _print_invoices(summary, "Dry run" if args.dry_run else "Invoices"))
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from .review import parse_category_edits, review

    settings = _settings(args)
    period = args.period or Period.parse(default_period())
    _require_workbook(args, settings, period, "review")
    if not (args.list or args.category or args.approve_all):
        raise InputError("Say what to do: --list, --category ENTRY_ID=CATEGORY or --approve-all (see --help).")
    services = bootstrap(settings, job="review")
    summary = review(
        services,
        period,
        clients=args.client,
        categories=parse_category_edits(args.category),
        approve_all=args.approve_all,
        listing=args.list,
    )

    def show() -> None:
        if summary.rows:
            table = Table(title=f"Time rows, {period}")
            for col in ("Entry", "Date", "Client", "Hours", "Notes", "Category", "Suggested", "Approved"):
                table.add_column(col, justify="right" if col == "Hours" else "left")
            for r in summary.rows:
                table.add_row(
                    r["entry"],
                    r["date"],
                    r["client"],
                    r["hours"],
                    r["notes"],
                    r["category"],
                    r["suggested"],
                    "yes" if r["approved"] else ("invoiced" if r["invoice"] else ""),
                )
            _print_table(table)
        fixed, approved, left = summary.categories_fixed, summary.approved, summary.left
        out.print(
            f"{fixed} {'category' if fixed == 1 else 'categories'} corrected, {approved} "
            f"row{'' if approved == 1 else 's'} approved, {left} row{'' if left == 1 else 's'} of {period} "
            f"not approved. Sheet: {summary.sheet}",
            markup=False,
        )
        out.print(f"Next: `python main.py preview --period {period}`.", markup=False)

    _emit(args, summary.as_json(), show)
    return 0


def _reissue(args: argparse.Namespace, services: Any, period: Period) -> int:
    """create-invoices --reissue: on a terminal, show the preview and ask before voiding (functions/reissue.py)."""
    from . import reissue

    if not (args.dry_run or args.yes or args.json) and sys.stdin.isatty():
        plan = reissue.reissue(services, args.reissue, period, dry_run=True)
        for line in reissue.describe(plan):
            out.print(line, markup=False)
        if plan.outcome != "preview":
            return 0
        if input("Void and reissue now? [y/N] ").strip().casefold() not in ("y", "yes"):
            out.print("Nothing was voided or created.")
            return 0
    summary = reissue.reissue(services, args.reissue, period, dry_run=args.dry_run, progress=_progress(args))

    def show() -> None:
        for line in reissue.describe(summary):
            out.print(line, markup=False)

    _emit(args, summary.as_json(), show)
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    services = bootstrap(_settings(args))
    changes = services.sheet.ensure_layout(setup=True)
    if args.categories is not None:
        changes.append(_seed_categories(services.sheet, args.categories))
    payload = {"ok": True, "sheet": services.sheet.describe(), "changes": changes}
    _emit(
        args,
        payload,
        lambda: out.print(
            f"{services.sheet.describe()}: " + ("; ".join(changes) if changes else "the layout is up to date")
        ),
    )
    return 0


def _seed_categories(store: SheetStore, path: Path) -> str:
    """Fill the empty Categories tab from `path`, checked as the tab itself would be; never overwrites."""
    from .sheet.config_tabs import parse_book
    from .sheet.contract import load_contract
    from .sheet.seed import seed_rows
    from .sheet.session import SheetSession

    if not path.is_file():
        raise ConfigError(f"{path} does not exist: give --categories a CSV file (see docs/categories.md).")
    sheet = SheetSession(store, ["Categories"])
    rows = sheet.tables.get("Categories") or []
    listed = [r for r in rows[1:] if any(not is_blank(v) for v in r)]
    if listed:
        raise ConfigError(
            f"The Categories tab already lists {len(listed)} categories, so {path} was not loaded. Change them in "
            "the sheet (rename, merge or retire: docs/categories.md), or clear the tab and run this again."
        )
    header = rows[0] if rows else load_contract().tab("Categories").headers
    values = seed_rows("Categories", header, path)
    book, errors = parse_book({"Categories": [header, *values], "Clients": [], "Rates": [], "Rules": []})
    errors = [e for e in errors if e.location is None or e.location.tab == "Categories"]
    if errors:
        raise InputErrors(errors, what=f"categories of {path} (row numbers as in the CSV)")
    if not book.categories:
        raise ConfigError(
            f"{path} lists no categories: it needs a header row and a Category column (docs/categories.md)."
        )
    sheet.blocks.append(CellBlock("Categories", 2, 1, values))
    sheet.commit()
    return f"Categories: {len(book.categories)} categories from {path}"


def cmd_connect(args: argparse.Namespace) -> int:
    from .accounting.qbo_connect import connect

    try:
        if args.service == "xero":
            from .accounting.xero_connect import connect as connect_xero

            connect_xero(_settings(args).xero)
        else:
            connect(_settings(args).quickbooks)
        if args.json:
            print(json.dumps({"ok": True, "service": args.service, "connected": True}, indent=2))
    except EOFError:
        raise AuthError(
            f"No address was pasted, so {'Xero' if args.service == 'xero' else 'QuickBooks'} is not connected. "
            f"Run `python main.py connect {args.service}` in a terminal and paste the address you land on "
            f"({'docs/xero.md' if args.service == 'xero' else 'docs/RUNBOOK.md#connect-quickbooks'})."
        ) from None
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.workdir is None and "workdir" not in settings.model_fields_set:
        settings = settings.model_copy(update={"workdir": DEMO_WORKDIR})
    if args.fresh and settings.workdir.exists():
        for name in ("invoicing.xlsx", "ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm"):
            (settings.workdir / name).unlink(missing_ok=True)
        shutil.rmtree(settings.workdir / "invoices", ignore_errors=True)
    settings = settings.model_copy(update={"agency_name": settings.agency_name or "Northwind Digital"})
    result = run_demo(settings, _progress(args))
    period, previous, services = result.period, result.period.previous(), result.services
    refreshed, created, history, review = result.refreshed, result.created, result.history, result.review
    payload = demo_payload(result, settings)

    def show() -> None:
        out.print(f"[bold]Demo: {settings.agency_name}, {period.label()}[/bold]")
        made = [f"{history.created} created now"] if history.created else []
        made += [f"{history.existing} by an earlier run"] if history.existing else []
        out.print(
            f"{previous.label()} (last month, for history): {len(history.invoices)} invoices in the ledger"
            + (f" ({', '.join(made)})" if made else "")
        )
        out.print(
            f"Refresh: {refreshed.imported} entries imported ({refreshed.new} new); "
            + (
                "suggestions by " + ", ".join(f"{k} {v}" for k, v in sorted(refreshed.suggestions.items()))
                if refreshed.suggestions
                else "every entry already had its suggestion, so none was needed"
            )
        )
        out.print(
            f"Review: {review['categories_fixed']} categories corrected, {review['approved']} billable rows approved"
            if review["categories_fixed"] or review["approved"]
            else "Review: nothing left to correct or approve"
        )
        _print_invoices(created, "Invoices", documents=settings.accounting != "ledger")
        if settings.accounting == "ledger":
            out.print(
                f"\nWorkbook:  {services.sheet.describe()}\nLedger:    {settings.ledger_path}\n"
                f"Documents: {settings.documents_dir}"
            )
        else:
            out.print(f"\nSheet:      {services.sheet.describe()}\nAccounting: {services.accounting.describe()}")
        out.print("Run it again: nothing is created twice.")

    _emit(args, payload, show)
    return 0


def cmd_cost(args: argparse.Namespace) -> int:
    from . import cost
    from .config import build_sheet

    if args.months < 1:
        raise InputError("--months must be 1 or more.")
    settings = _settings(args)
    if settings.sheet != "google" and not settings.workbook_path.exists():
        raise InputError(
            f"Nothing to price: {settings.workdir} has no workbook yet. Run refresh first, or the demo: "
            "`python main.py demo`, then `python main.py cost --workdir invoicing-demo`."
        )
    tables = build_sheet(settings).read(["Runs", "Clients"])
    figures = cost.figures_from_runs(tables.get("Runs") or [], args.months)
    clients = sum(1 for row in (tables.get("Clients") or [])[1:] if row and not is_blank(row[0]))
    scale = 1.0
    if args.clients is not None:
        if args.clients < 1 or not clients:
            raise InputError("--clients needs a positive number and a Clients tab with clients to scale from.")
        scale = args.clients / clients
    deploy, source = cost.deploy_settings()
    est = cost.estimate(
        figures,
        deploy,
        source,
        ai_model=settings.claude.ai_model,
        ai_on=deploy.get("AI_ENABLED", "true").lower() == "true",
        accounting=deploy.get("ACCOUNTING", "quickbooks"),
        scale=scale,
    )
    payload = {**est.to_json(), "clients_in_sheet": clients, "clients_priced": args.clients or clients}

    def show() -> None:
        who = f"{args.clients} clients (the sheet has {clients})" if args.clients else f"{clients} clients"
        out.print(
            f"[bold]Estimated monthly cost, {who}[/bold]: from {figures.runs_read} runs in the Runs tab "
            f"({figures.first[:10]} to {figures.last[:10]}, priced as {figures.months:g} month(s)), "
            f"list prices of {est.prices_as_of} (functions/prices.json)."
        )
        table = Table()
        for col in ("Service", "Usage a month", "List USD", "After free tier"):
            table.add_column(col, justify="right" if "USD" in col or "free" in col else "left")
        for line in est.lines:
            table.add_row(line.service, line.usage, f"{line.list_usd:.2f}", f"{line.billed_usd:.2f}")
        table.add_row("Total", "", f"{est.list_total:.2f}", f"{est.billed_total:.2f}")
        _print_table(table)
        out.print(
            "Free tiers are per billing account, shared with its other projects. Not included: QuickBooks, "
            "Xero, Stripe and the time tracker's own fees.",
            markup=False,
        )
        out.print("\nSettings that drive it:")
        for name, value in est.settings.items():
            out.print(f"  {name}: {value}", markup=False)
        out.print("Assumed (the Runs tab has no such figure):")
        for assumed in est.assumptions:
            out.print(f"  - {assumed}", markup=False)

    _emit(args, payload, show)
    return 0


def cmd_archive(args: argparse.Namespace) -> int:
    from .sheet.archive import archive
    from .sheet.gsheets import GoogleSheet

    services = bootstrap(_settings(args))
    if not isinstance(services.sheet, GoogleSheet):
        raise ConfigError("archive moves rows between Google Sheets; set SHEET=google (the workbook has no limit).")
    target = GoogleSheet(args.to, services.sheet.http, services.sheet.contract, services.sheet.account)
    with services.lock("archive") if services.lock else nullcontext():
        result = archive(services.sheet, target, args.before)
    payload = {"ok": True, "moved": result.moved, "appended": result.appended, "months": result.months}
    payload |= {"invoices": result.invoices, "cells_before": result.cells_before, "cells_after": result.cells_after}
    _emit(args, payload, lambda: out.print(f"{result.detail}; the sheet now holds {result.cells_after:,} cells."))
    return 0


COMMANDS = {
    "archive": cmd_archive,
    "cost": cmd_cost,
    "demo": cmd_demo,
    "refresh": cmd_refresh,
    "preview": cmd_preview,
    "create-invoices": cmd_create,
    "review": cmd_review,
    "setup-sheet": cmd_setup,
    "connect": cmd_connect,
}


# --- printing ------------------------------------------------------------------------------------------


def _emit(args: argparse.Namespace, payload: dict[str, Any], show: Callable[[], None]) -> None:
    _stop_bars()
    if args.json:
        print(json.dumps(payload, indent=2, default=str))
    else:
        show()


def _print_table(table: Table) -> None:
    """A table at its natural width when piped or redirected (no client name wrapped over two lines in a
    file or a pager); wrapped to fit on a terminal."""
    if out.is_terminal:
        out.print(table)
        return
    natural = out.measure(table, options=out.options.update_width(10_000)).maximum
    wide = Console(file=out.file, highlight=False, soft_wrap=True, width=max(natural, 80), color_system=None)
    wide.print(table)


def _print_warnings(warnings: list[str], where: str) -> None:
    if not warnings:
        return
    out.print(f"\n[yellow]{len(warnings)} warning(s)[/yellow] (all of them are in the {where}):")
    for w in warnings[:12]:
        out.print(f"  - {w}", markup=False)
    if len(warnings) > 12:
        out.print(f"  ... and {len(warnings) - 12} more")


def _print_refresh(s: pipeline.RefreshSummary) -> None:
    for d in s.sources:
        out.print(d, markup=False)
    table = Table(title=f"Time entries, {s.period}")
    for col in ("Client", "Entries", "Billable h", "Non-billable h"):
        table.add_column(col, justify="left" if col == "Client" else "right")
    for client, c in s.clients.items():
        table.add_row(client, str(c.entries), f"{c.billable_hours:.2f}", f"{c.non_billable_hours:.2f}")
    _print_table(table)
    out.print(
        f"{s.imported} imported: {s.new} new, {s.updated} updated, {s.unchanged} unchanged, "
        f"{s.held_changes} source changes held for review (approved rows), {s.gone} gone from the source."
    )
    for m in s.milestones:
        out.print(f"Milestone {m}", markup=False)
    if s.suggestions:
        out.print("Suggestions: " + ", ".join(f"{k} {v}" for k, v in sorted(s.suggestions.items())))
    if s.accuracy:
        out.print("Suggestions kept by reviewers: " + ", ".join(f"{k} {v}" for k, v in s.accuracy.items()))
    for month, kept in list(s.accuracy_by_month.items())[:3]:  # the Runs tab keeps the last 12 months
        out.print(f"  in {month}: {kept}", markup=False)
    for note in s.ai_notes:  # what Claude did, said once (not a warning)
        out.print(note, markup=False)
    if s.new_clients:
        out.print(f"New clients added to the Clients tab (fill in their terms): {', '.join(s.new_clients)}")
    for row in s.skipped_rows:
        out.print(f"[yellow]Skipped[/yellow] {row}", markup=True)
    _print_warnings(s.warnings, "sheet")
    out.print(f"Sheet: {s.sheet}")
    out.print(
        f"Next: review the Time tab (flagged rows first), fill in Clients and Rates, tick Approved (or from here: "
        f"`python main.py review --period {s.period} --list`); then `python main.py preview --period {s.period}`.",
        markup=False,
    )


def _print_invoices(s: pipeline.InvoicesSummary, title: str, documents: bool = True) -> None:
    """The invoices table, totals, held clients and warnings; `documents` False when the caller names the
    documents folder itself (the demo's closing lines)."""
    if not s.invoices:
        out.print(
            f"No invoice is ready to create for {s.period}: only approved, billable rows that are not "
            "invoiced yet are billed.",
            markup=False,
        )
        for client, why in s.held.items():
            out.print(f"[yellow]Held[/yellow] {client}: {why}", markup=True)
        _print_warnings(s.warnings, "Preview tab" if s.command == "preview" else "sheet")
        return
    table = Table(title=f"{title}, {s.period}")
    for col in ("Invoice", "Client", "Currency", "Total", "Lines", "Entries", "Status"):
        table.add_column(col, justify="right" if col in ("Total", "Lines", "Entries") else "left")
    for inv in s.invoices:
        table.add_row(
            inv.number or "(draft)",
            inv.client,
            inv.currency,
            fmt_money(inv.total),
            str(inv.lines),
            str(inv.entries),
            inv.status,
        )
    _print_table(table)
    if s.totals:
        out.print("Totals: " + ", ".join(fmt_money(v, k) for k, v in s.totals.items()))
    if s.invoices and s.command == "create-invoices" and not s.dry_run:
        out.print(f"{s.created} created, {s.existing} already existed (nothing is created twice).")
    for note in s.ai_notes:  # how the line descriptions were written, said once (not a warning)
        out.print(note, markup=False)
    for client, why in s.held.items():
        out.print(f"[yellow]Held[/yellow] {client}: {why}", markup=True)
    _print_warnings(s.warnings, "Preview tab")
    if s.documents and documents:
        out.print(f"Invoice documents: {s.documents}")
    if s.command == "preview" or s.dry_run:
        out.print(
            f"Next: `python main.py create-invoices --period {s.period}` creates these, exactly once.", markup=False
        )
