"""Formula-, markup- and path-looking text from a tracker, in notes, client and project names, all the way to
invoices: the workbook never holds it as a formula (openpyxl data_type 'f'), the HTML document escapes it,
the PDF shows it as text, the ledger stores it as given, and no document's file name is a path out of the
documents folder."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from functions import pipeline
from functions.models import TimeEntry
from tests.accounting.pdf_checks import flat, html_text, pdf_text
from tests.bad_input.cells import cells, formulas
from tests.bad_input.snapshot import ledger_rows
from tests.fakes import ListSource
from tests.test_spreadsheet_edits import OCT, col, edit, services_for, workbook

TEXTS = [
    '=IMPORTXML("http://x.example/?q="&A1,"//a")',
    "+cmd|' /C calc'!A0",
    "@SUM(1)",
    "-2+3",
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "../../x",
    "..\\..\\x",
]


def month_with(tmp_path: Path, text: str) -> Path:
    fields = {"client": text, "project": text, "notes": text}
    entries = [
        TimeEntry(
            source="csv",
            source_id=f"e{i}",
            date=date(2026, 10, 1) + timedelta(days=i),
            person="Ana Ruiz",
            role="Developer",
            hours=Decimal("1.5"),
            currency="USD",
            **fields,
        )
        for i in range(2)
    ]
    work = tmp_path / "work"
    pipeline.refresh(services_for(work, ListSource(entries)), OCT)

    def review(wb):
        clients = wb["Clients"]
        clients.cell(row=2, column=col(clients, "Default Rate"), value=100)
        time = wb["Time"]
        for r in range(2, time.max_row + 1):
            time.cell(row=r, column=col(time, "Category"), value="Development")
            time.cell(row=r, column=col(time, "Approved"), value=True)

    edit(workbook(work), review)
    return work


@pytest.mark.parametrize("text", TEXTS, ids=lambda t: re.sub(r"\W+", "_", t)[:16])
def test_outside_text_stays_inert_in_workbook_documents_and_ledger(tmp_path, text):
    """The text is the client, the project and the notes of every entry at once (one create-invoices each)."""
    work = month_with(tmp_path, text)
    summary = pipeline.create_invoices(services_for(work), OCT)
    assert summary.created == 1

    state = cells(workbook(work))
    assert formulas(state) == []
    time = load_workbook(workbook(work))["Time"]
    for header in ("Notes", "Client", "Project"):
        assert [time.cell(row=r, column=col(time, header)).value for r in (2, 3)] == [text, text]

    docs = work / "invoices"
    names = sorted(p.name for p in docs.rglob("*") if p.is_file())
    assert names and all(re.fullmatch(r"[A-Za-z0-9._-]+", n) and ".." not in n for n in names), names
    assert sorted(p.name for p in work.iterdir()) == sorted(
        [".invoicing.xlsx.lock", "invoices", "invoicing.xlsx", "ledger.sqlite"]
    )
    page = next(docs.glob("*.html")).read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page and 'onerror="' not in page
    # The client's name heads the invoice, in both documents, as the text it is; the ledger keeps it as given.
    assert flat(text) in html_text(page)
    assert flat(text) in pdf_text(next(docs.glob("*.pdf")).read_bytes())
    assert [r[1] for r in ledger_rows(work / "ledger.sqlite")["invoices"]] == [text]
