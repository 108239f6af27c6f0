"""Wrong cells typed into every editable column of every tab, derived from the tab contract.

Every column people may edit (owner review or config in sheet_templates/tabs/*.json) gets a wrong value of
its kind: text in an amount, `12,5`, `31/02/2026`, `yes please` in a tick box or a choice, a category or a
client nobody defined. Typed columns must stop the run with an error naming the cell (`Rates!E2: ...`) and
change nothing; free-text columns get formula- and markup-looking text, which is either refused the same way
or kept as inert text: no cell the run writes is a formula. A column added to the contract is covered here
without a new line of test code (a tab without rows needs a base row in BASE, and the test says so).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from functions import pipeline
from functions.errors import InputErrors
from functions.sheet.contract import Column, load_contract
from tests.bad_input.cells import cells, formulas, written
from tests.bad_input.snapshot import assert_unchanged, snapshot
from tests.fakes import ListSource
from tests.test_spreadsheet_edits import OCT, edit, entries, services_for, workbook

CONTRACT = load_contract()

# Valid rows for the tabs the reviewed month leaves empty; a column's case types into the first base row that
# fills that column (so a retainer's Hours, a discount's Percent), else the first. Each is checked valid below.
BASE: dict[str, list[dict[str, object]]] = {
    "Rates": [{"Client": "Acme", "Rate": 120}],
    "Rules": [
        {"Rule": "categorize", "Client": "Acme", "Field": "notes", "Pattern": "checkout", "Category": "Development"},
        {"Rule": "retainer", "Client": "Acme", "Amount": 1000, "Hours": 10, "Rate": 150, "Rollover Cap": 5},
        {"Rule": "discount", "Client": "Acme", "Percent": 10, "Line Item": "Development"},
        {
            "Rule": "milestone",
            "Client": "Acme",
            "Project": "Site",
            "Amount": 500,
            "Period": "2026-10",
            "Complete": False,
            "Description": "Launch",
            "Asana Milestone": "",
        },
        {"Rule": "rollup", "Client": "Acme", "Category": "Development", "Line Item": "Build", "Tax Code": ""},
    ],
    "Agency": [{"Setting": "Email", "Value": "billing@agency.example"}],
    "People": [{"Source": "harvest-api", "Account": "ana", "Person": "Ana Ruiz", "Role": "Developer"}],
}

FORMULA = '=IMPORTXML("http://x.example","//a")'
TYPED = {  # column type -> wrong values a person types
    "money": ["12,5O", "12,5"],
    "hours": ["12,5", "lots"],
    "number": ["yes please"],
    "percent": ["lots"],
    "bool": ["yes please"],
    "date": ["31/02/2026"],
    "category": ["Astrology"],
}
# Text columns that hold a name, a code or a choice, with the wrong value for each (tab, header).
NAMED = {
    ("Clients", "Currency"): ["dollars"],
    ("Clients", "Terms"): ["yes please"],
    ("Clients", "Email"): ["yes please"],
    ("Clients", "Rounding"): ["yes please"],
    ("Clients", "Language"): ["yes please"],
    ("Rates", "Client"): ["Unknown Client Ltd"],
    ("Rates", "Category"): ["Astrology"],
    ("Rules", "Client"): ["Unknown Client Ltd"],
    ("Rules", "Rule"): ["yes please"],
    ("Rules", "Period"): ["31/02"],
    ("Rules", "Pattern"): ["/[unclosed/"],
    ("Agency", "Setting"): ["yes please"],
    ("Agency", "Value"): ["yes please"],  # the base row's setting is Email
}


def target(tab: str, col: Column) -> tuple[int, dict[str, object] | None]:
    """The row the case types into, and the base row to append first (None: the month has that row)."""
    rows = BASE.get(tab)
    if rows is None:
        return (3 if tab == "Time" else 2), None
    base = next((r for r in rows if col.header in r), rows[0])
    return 2, base


def wrong_values(tab: str, col: Column) -> list[tuple[str, bool]]:
    """(value, must be refused) for one column."""
    if (tab, col.header) in NAMED:
        return [(v, True) for v in NAMED[tab, col.header]]
    if col.type in TYPED:
        return [(v, True) for v in TYPED[col.type]]
    if col.choices:
        return [("yes please", True)]
    # Free text: formula-looking text in one column, markup in the next (one run each keeps the suite fast).
    return [(FORMULA if len(col.header) % 2 else "<script>alert(1)</script>", False)]


CASES = [
    pytest.param(tab.name, col, value, strict, id=f"{tab.name}-{col.header}-{value[:14]}")
    for tab in CONTRACT.tabs
    for col in tab.columns
    if col.editable_by_people
    for value, strict in wrong_values(tab.name, col)
]


def run_reading(tab: str, work: Path):
    """The run that reads `tab`: refresh for People (it maps the tracker's accounts), preview for the rest."""
    if tab == "People":
        return pipeline.refresh(services_for(work, ListSource(entries())), OCT)
    return pipeline.preview(services_for(work), OCT)


def type_in(work: Path, tab: str, header: str, row: int, base: dict[str, object] | None, value: object) -> str:
    """Types `value` into `tab`'s `header` column at `row` (after appending `base`); returns the cell's name."""
    where: dict[str, str] = {}

    def change(wb):
        ws = wb[tab]
        headers = [c.value for c in ws[1]]
        if base is not None:
            assert ws.max_row == 1, f"{tab} is not empty in the month: update BASE"
            for h, v in base.items():
                ws.cell(row=2, column=headers.index(h) + 1, value=v)
        assert ws.max_row >= row, f"{tab} has no row {row}: give it a base row in BASE"
        c = ws.cell(row=row, column=headers.index(header) + 1)
        c.value = value
        where["cell"] = f"{tab}!{c.coordinate}"

    edit(workbook(work), change)
    return where["cell"]


@pytest.mark.parametrize("tab, base", [(t, b) for t in sorted(BASE) for b in BASE[t]], ids=str)
def test_each_base_row_is_valid_so_each_case_fails_only_for_its_cell(month, tab, base):
    first = next(iter(base))
    type_in(month, tab, first, 2, base, base[first])
    pipeline.preview(services_for(month), OCT)


def test_every_editable_column_of_every_tab_has_a_case():
    covered = {(p.values[0], p.values[1].header) for p in CASES}
    editable = {(t.name, c.header) for t in CONTRACT.tabs for c in t.columns if c.editable_by_people}
    assert covered == editable and len(CASES) >= 60


@pytest.mark.parametrize("tab, col, value, strict", CASES)
def test_a_wrong_cell_is_refused_at_its_cell_or_kept_inert(month, tab, col, value, strict):
    row, base = target(tab, col)
    cell = type_in(month, tab, col.header, row, base, value)
    before = snapshot(month)
    kept = None if strict else cells(workbook(month))
    try:
        summary = run_reading(tab, month)
    except InputErrors as exc:
        assert_unchanged(before, month)
        assert f"{cell}:" in str(exc), str(exc)
        return
    # A wrong value a run can bill around is a warning naming its cell (an unknown category: its own line).
    if kept is None:
        assert any(w.startswith(f"{cell}:") for w in summary.warnings), f"{cell} = {value!r} was accepted"
        return
    # Kept as text: the run went through, and nothing it wrote is a formula.
    assert formulas(written(kept, cells(workbook(month)))) == []
