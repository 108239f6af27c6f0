"""Review from the command line: list the period's Time rows, fix categories, tick Approved.

What a person does in the sheet, for a sheet nobody can click in (the local emulators, a headless server) or
for a quick approval of a whole client:

    python main.py review --period 2026-10 --list
    python main.py review --period 2026-10 --category harvest:1042=Design
    python main.py review --period 2026-10 --approve-all --client "Acme Corp"

It writes review cells only (Category, Approved), as the person would, under the store's lock, in one write;
rows already invoiced or approved are left alone, and only billable rows of a billable category are approved.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from .config import Services
from .errors import InputError
from .models import Period, TimeRow
from .sheet.config_tabs import parse_book
from .sheet.session import CONFIG_TABS, SheetSession


@dataclass
class ReviewSummary:
    period: str
    sheet: str
    rows: list[dict[str, Any]] = field(default_factory=list)  # the period's rows (with --list)
    categories_fixed: int = 0
    approved: int = 0
    left: int = 0  # rows of the period still not approved (non-billable, invoiced, or not asked)

    def as_json(self) -> dict[str, Any]:
        return {"ok": True, "command": "review", **self.__dict__}


def parse_category_edits(pairs: Sequence[str]) -> dict[str, str]:
    """`ENTRY_ID=CATEGORY` pairs (`harvest:1042=Design`) as {entry id: category}."""
    edits: dict[str, str] = {}
    for pair in pairs:
        ref, sep, category = pair.partition("=")
        if not sep or not ref.strip() or not category.strip():
            raise InputError(f'--category takes ENTRY_ID=CATEGORY (e.g. "harvest:1042=Design"), not "{pair}".')
        edits[ref.strip()] = category.strip()
    return edits


def review(
    services: Services,
    period: Period,
    clients: Sequence[str] = (),
    categories: dict[str, str] | None = None,
    approve_all: bool = False,
    listing: bool = False,
) -> ReviewSummary:
    """Apply the category fixes, then (with `approve_all`) tick Approved on the period's billable rows."""
    lock = services.lock("review") if services.lock else nullcontext()
    with lock:
        sheet = SheetSession(services.sheet, ["Time", *CONFIG_TABS])
        book, _ = parse_book({name: sheet.tables.get(name) or [] for name in CONFIG_TABS})
        billable = {c.name.casefold(): c.billable for c in book.categories}
        known = {c.name.casefold(): c.name for c in book.categories}
        wanted = {c.casefold() for c in clients}
        rows = [
            r
            for r in sheet.time().rows
            if period.contains(r.entry.date) and (not wanted or r.entry.client.casefold() in wanted)
        ]
        if wanted and not rows:
            raise InputError(
                f"No Time row of {period} is for {', '.join(clients)}: check the client's name as the Time tab "
                f"spells it (`python main.py review --period {period} --list`)."
            )
        edits = dict(categories or {})
        unknown = [f"{ref} (not a Time row of {period})" for ref in edits if ref not in {r.entry.ref for r in rows}]
        unknown += [f'"{c}" (not on the Categories tab)' for c in edits.values() if c.casefold() not in known]
        if unknown:
            raise InputError("Nothing was changed: --category names " + "; ".join(unknown) + ".")
        summary = ReviewSummary(period=str(period), sheet=services.sheet.describe())
        changes: dict[int, dict[str, object]] = {}
        for row in rows:
            if row.invoiced:
                continue
            category = row.category or row.suggested_category
            fix = edits.get(row.entry.ref)
            if fix is not None and known[fix.casefold()] != row.category:
                category = known[fix.casefold()]
                changes.setdefault(row.row, {})["category"] = category
                summary.categories_fixed += 1
            elif not row.category and category and approve_all:
                changes.setdefault(row.row, {})["category"] = category  # the suggestion, accepted
            if approve_all and not row.approved and row.entry.billable and billable.get(category.casefold(), False):
                changes.setdefault(row.row, {})["approved"] = True
                summary.approved += 1
        summary.left = sum(1 for r in rows if not r.approved and not changes.get(r.row, {}).get("approved"))
        if listing:
            summary.rows = [_listed(r, changes.get(r.row, {})) for r in rows]
        if changes:
            sheet.set_review(changes)
            sheet.commit()
        return summary


def _listed(row: TimeRow, change: dict[str, object]) -> dict[str, Any]:
    notes = row.entry.notes.replace("\n", " ")
    return {
        "entry": row.entry.ref,
        "date": str(row.entry.date),
        "client": row.entry.client,
        "person": row.entry.person,
        "hours": str(row.entry.hours),
        "billable": row.entry.billable,
        "notes": notes[:60] + ("…" if len(notes) > 60 else ""),
        "category": str(change.get("category", row.category)),
        "suggested": row.suggested_category,
        "approved": bool(change.get("approved", row.approved)),
        "invoice": row.invoice,
    }
