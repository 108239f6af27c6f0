"""The time-detail appendix of a long invoice (pdf_detail.py): it runs over pages, every continuation
page repeats the column header, every entry is printed once and in order with its hours, a note too long
for one line wraps in its cell, and the line's total closes the table."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

from pypdf import PdfReader

from functions.accounting.pdf import render_pdf
from functions.models import CreatedInvoice, InvoiceDraft, InvoiceLine, TimeEntry
from functions.money import line_amount

LONG = "Tariff screens, the code review and the fixes that followed them, in a task name that wraps"


def month(n: int) -> dict[str, TimeEntry]:
    return {
        e.ref: e
        for e in (
            TimeEntry(
                source="harvest",
                source_id=str(i),
                date=date(2026, 10, 1) + timedelta(days=i % 31),
                client="Lumen Energy",
                project="Smart Meter App",
                task=LONG if i % 10 == 3 else "Development",
                person=f"Person {i:03d}",
                hours=Decimal("1.25"),
            )
            for i in range(n)
        )
    }


def test_a_long_time_detail_runs_over_pages_with_its_header_and_every_entry_once():
    entries = month(150)
    hours = Decimal("1.25") * len(entries)
    d = InvoiceDraft(
        client="Lumen Energy",
        customer="Lumen Energía S.L.",
        period="2026-10",
        currency="EUR",
        issue_date=date(2026, 11, 2),
        due_date=date(2026, 12, 2),
        terms="Net 30",
        lines=(
            InvoiceLine(
                description="Smart meter app",
                line_item="Development",
                quantity=hours,
                unit_price=Decimal("100"),
                amount=line_amount(hours, Decimal("100")),
                raw_hours=hours,
                entry_refs=tuple(entries),
            ),
        ),
    )
    inv = CreatedInvoice(
        key=d.key, client=d.client, period=d.period, number="INV-0042", currency="EUR", total=d.total, line_count=1
    )
    pages = [p.extract_text() or "" for p in PdfReader(io.BytesIO(render_pdf(inv, d, entries))).pages]
    detail = [t for t in pages if "Person 0" in t or "Person 1" in t]
    assert len(detail) >= 3  # 150 rows, 15 of them two lines high: more than two pages
    for text in detail:
        assert "Date Person Work Hours" in " ".join(text.split()), "every detail page repeats the column header"
    printed = " ".join(" ".join(t.split()) for t in detail)
    assert all(printed.count(f"Person {i:03d}") == 1 for i in range(150)), "every entry once"
    by_date = sorted(range(150), key=lambda i: (i % 31, i))  # the detail lists the entries by date
    positions = [printed.find(f"Person {i:03d}") for i in by_date]
    assert positions == sorted(positions)
    assert printed.count("fixes that followed them") == 15  # the long task names, wrapped, every one printed
    assert "150 entries" in printed and "187.50" in printed  # the total row closes the last page
    assert "150 entries" in " ".join(detail[-1].split()) and f"page {len(pages)}" in pages[-1]
    heading = next(t for t in pages if "Time detail" in t)
    assert "Person 000" in heading, "a detail longer than a page starts on the page of its heading"
    assert all(t in detail for t in pages[1:]), "no page after the first holds only headings"


# more than 256 distinct glyphs: the embedded font is split into several subsets, and the detail's text
# switches between them mid-page (Latin-1, Latin Extended-A, Greek, Cyrillic)
LETTERS = [
    chr(c) for r in ((0xC0, 0x100), (0x100, 0x180), (0x391, 0x3A2), (0x3A3, 0x3CA), (0x410, 0x450)) for c in range(*r)
]


def test_names_in_many_scripts_read_back_across_font_subsets():
    assert len(LETTERS) > 300
    names = [
        f"{LETTERS[(3 * i) % len(LETTERS)]}{LETTERS[(3 * i + 1) % len(LETTERS)]}{LETTERS[(3 * i + 2) % len(LETTERS)]}"
        for i in range(120)
    ]
    entries = {
        e.ref: e
        for e in (
            TimeEntry(
                source="harvest",
                source_id=str(i),
                date=date(2026, 10, 1) + timedelta(days=i % 28),
                client="Lumen Energy",
                project="Smart Meter App",
                person=f"{names[i % 120]} {names[(i * 7) % 120]}",
                hours=Decimal("0.5"),
            )
            for i in range(240)  # each name printed several times, after other subsets were used in between
        )
    }
    hours = Decimal("0.5") * len(entries)
    d = InvoiceDraft(
        client="Lumen Energy",
        customer="Lumen",
        period="2026-10",
        currency="EUR",
        issue_date=date(2026, 11, 2),
        due_date=date(2026, 12, 2),
        terms="Net 30",
        lines=(
            InvoiceLine(
                description="Support",
                line_item="Support",
                quantity=hours,
                unit_price=Decimal("90"),
                amount=line_amount(hours, Decimal("90")),
                raw_hours=hours,
                entry_refs=tuple(entries),
            ),
        ),
    )
    inv = CreatedInvoice(
        key=d.key, client=d.client, period=d.period, number="INV-0043", currency="EUR", total=d.total, line_count=1
    )
    printed = " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(render_pdf(inv, d, entries))).pages)
    for e in entries.values():
        assert e.person in printed
    assert printed.count("Smart Meter App") == 240
