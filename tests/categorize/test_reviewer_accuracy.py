"""The Runs tab keeps, per month of work, how many suggestions of each source reviewers kept: written by a
real refresh into the local workbook, read back from its Runs tab."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from functions.categorize.chain import accuracy_by_month, accuracy_text
from functions.config import Services, Settings, bootstrap
from functions.models import Period, TimeEntry, TimeRow
from functions.pipeline import refresh
from functions.ports import CellBlock
from tests.fakes import ListSource
from tests.seeding import seed_categories

NOTES = [("wireframes checkout", "Design"), ("sprint planning", "Project Management"), ("misc", "Internal")]


def entries(month: int) -> list[TimeEntry]:
    return [
        TimeEntry(
            source="csv",
            source_id=f"{month}-{i}",
            date=date(2026, month, 1 + i),
            client="Acme",
            project="Shop",
            person="Ana Ruiz",
            role="Designer",
            notes=notes,
            hours=Decimal(1),
        )
        for i, (notes, _) in enumerate(NOTES)
    ]


def services(tmp_path: Path, month: int) -> Services:
    return bootstrap(Settings(workdir=tmp_path), source=ListSource(entries(month)))


def approve_all(svc: Services) -> None:
    """A reviewer sets each row of the Time tab to its true category and ticks Approved."""
    values = svc.sheet.read(["Time"])["Time"]
    col = {str(h): i + 1 for i, h in enumerate(values[0])}
    truth = dict(NOTES)
    blocks = []
    for r, row in enumerate(values[1:], start=2):
        notes = row[col["Notes"] - 1]
        if notes in truth:
            blocks += [CellBlock("Time", r, col["Category"], [[truth[str(notes)]]])]
            blocks += [CellBlock("Time", r, col["Approved"], [[True]])]
    svc.sheet.write(blocks)


def runs(svc: Services) -> list[dict[str, object]]:
    values = svc.sheet.read(["Runs"])["Runs"]
    return [dict(zip([str(h) for h in values[0]], r, strict=False)) for r in values[1:]]


def test_the_runs_tab_shows_each_months_kept_suggestions_rising_with_history(tmp_path):
    sep = services(tmp_path, 9)
    seed_categories(sep.sheet)
    refresh(sep, Period.parse("2026-09"))
    approve_all(sep)
    octo = services(tmp_path, 10)
    refresh(octo, Period.parse("2026-10"))  # October's suggestions come from September's decisions
    approve_all(octo)
    summary = refresh(octo, Period.parse("2026-10"))

    last = runs(octo)[-1]["Suggestions Kept"]
    assert summary.accuracy_by_month["2026-10"] == "memory 100% (3/3)"
    assert str(last).startswith("2026-10: memory 100% (3/3); 2026-09: model ")  # newest month first
    sep_kept, sep_made = accuracy_by_month(_rows(octo))["2026-09"]["model"]
    assert sep_made == 3 and sep_kept < 3  # no history: the model missed at least the vague "misc"
    assert runs(octo)[0]["Suggestions Kept"] in (None, "")  # the first run had nothing reviewed yet


def _rows(svc: Services) -> list[TimeRow]:
    from functions.sheet.session import SheetSession

    return list(SheetSession(svc.sheet, ["Time"]).time().rows)


def test_months_without_reviewed_suggestions_are_left_out_and_text_reads_per_source():
    assert accuracy_by_month([]) == {}
    assert accuracy_text({"memory": (9, 10), "model": (1, 2)}) == "memory 90% (9/10), model 50% (1/2)"
