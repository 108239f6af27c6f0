"""A new agency's own categories: setup-sheet --categories fills an empty Categories tab from a CSV, and a
refresh into an empty Categories tab stops with a sentence saying how, before writing anything."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from functions import pipeline
from functions.cli import main
from functions.config import Settings, bootstrap
from functions.errors import InputErrors
from functions.models import Period, TimeEntry
from functions.sheet.config_tabs import parse_book
from tests.fakes import ListSource, MemorySheet

OWN = (
    "Category,Meaning,Billable,Line Item,Keywords\n"
    'Brand Identity,"Logos, guidelines, packaging",TRUE,Brand & Design,"logo, marke, marca"\n'
    'Web Build,Websites and shops,TRUE,Development,"shopify, frontend"\n'
    "Internal Admin,Agency time,FALSE,,\n"
)


def test_a_refresh_into_an_empty_categories_tab_stops_and_says_how(tmp_path):
    sheet = MemorySheet()
    entry = TimeEntry(
        source="csv", source_id="1", date=date(2026, 10, 1), client="Acme", person="Ana", notes="x", hours=Decimal(1)
    )
    services = bootstrap(Settings(workdir=tmp_path, ai_enabled=False), sheet=sheet, source=ListSource([entry]))
    with pytest.raises(InputErrors) as exc:
        pipeline.refresh(services, Period.parse("2026-10"))
    assert "Categories!A2" in str(exc.value) and "setup-sheet --categories" in str(exc.value)
    assert len(sheet.tabs.get("Time", [])) <= 1 and len(sheet.tabs.get("Categories", [])) <= 1  # nothing seeded


def test_setup_sheet_loads_the_agencys_own_categories_once(tmp_path, capsys):
    csv = tmp_path / "my_categories.csv"
    csv.write_text(OWN, encoding="utf-8")
    work = tmp_path / "w"
    assert main(["setup-sheet", "--categories", str(csv), "--workdir", str(work)]) == 0
    assert "3 categories" in capsys.readouterr().out
    rows = list(load_workbook(work / "invoicing.xlsx", read_only=True)["Categories"].iter_rows(values_only=True))
    book, errors = parse_book({"Categories": [list(r) for r in rows], "Clients": [], "Rates": [], "Rules": []})
    assert not errors
    assert [(c.name, c.billable, c.keywords) for c in book.categories] == [
        ("Brand Identity", True, "logo, marke, marca"),
        ("Web Build", True, "shopify, frontend"),
        ("Internal Admin", False, ""),
    ]
    # a second load never overwrites what is there
    assert main(["setup-sheet", "--categories", str(csv), "--workdir", str(work)]) == 1
    assert "already lists 3 categories" in capsys.readouterr().err


def test_a_bad_categories_csv_names_the_cell_and_loads_nothing(tmp_path, capsys):
    csv = tmp_path / "cats.csv"
    csv.write_text("Category,Meaning,Billable\nDesign,Screens,perhaps\n", encoding="utf-8")
    assert main(["setup-sheet", "--categories", str(csv), "--workdir", str(tmp_path / "w")]) == 1
    err = capsys.readouterr().err
    assert "Categories!C2" in err and "perhaps" in err
    missing = Path(tmp_path / "nope.csv")
    assert main(["setup-sheet", "--categories", str(missing), "--workdir", str(tmp_path / "w")]) == 1
