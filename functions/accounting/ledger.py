"""The embedded accounting system: a SQLite ledger of invoices and lines, plus a readable HTML document and
a PDF per invoice (invoices/INV-0001-acme.html and .pdf).

Exactly once: a live invoice is unique by (client, period); a voided one stays, marked void, beside its
replacement (ledger_void.py). Creating a draft whose (client, period) already
exists returns the existing invoice when the contents are the same (a retry after a crash), and raises a
ConflictError when they differ, before anything is created. Invoice numbers come from a sequence that
is advanced in the same transaction as the insert, so numbers have no gaps and are never reused.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import closing
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from ..errors import ConfigError, ConflictError
from ..models import CreatedInvoice, InvoiceDraft, TimeEntry, slug
from ..ports import InvoiceRecord, Progress, no_progress
from . import ledger_void
from .documents import view_html
from .invoice_view import InvoiceView, invoice_view
from .pdf import pdf_of

SCHEMA = """
CREATE TABLE IF NOT EXISTS invoices (
    key TEXT PRIMARY KEY,
    client TEXT NOT NULL,
    period TEXT NOT NULL,
    number TEXT NOT NULL UNIQUE,
    customer TEXT NOT NULL,
    currency TEXT NOT NULL,
    total TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    issue_date TEXT NOT NULL,
    due_date TEXT NOT NULL,
    terms TEXT NOT NULL,
    memo TEXT NOT NULL,
    document TEXT NOT NULL,
    created_at TEXT NOT NULL,
    voided_at TEXT,
    replaced_by TEXT NOT NULL DEFAULT '',
    replaces TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS lines (
    invoice_key TEXT NOT NULL REFERENCES invoices(key),
    line_no INTEGER NOT NULL,
    description TEXT NOT NULL,
    line_item TEXT NOT NULL,
    item TEXT NOT NULL,
    kind TEXT NOT NULL,
    quantity TEXT NOT NULL,
    unit_price TEXT NOT NULL,
    amount TEXT NOT NULL,
    raw_hours TEXT NOT NULL,
    tax_code TEXT NOT NULL,
    entry_refs TEXT NOT NULL,
    PRIMARY KEY (invoice_key, line_no)
);
CREATE TABLE IF NOT EXISTS sequence (name TEXT PRIMARY KEY, next INTEGER NOT NULL);
"""


class Ledger:
    """Accounting port over SQLite. `prefix` makes numbers like INV-0001."""

    def __init__(self, path: Path, documents_dir: Path, prefix: str = "INV-", agency: str = ""):
        self.path = Path(path)
        self.documents_dir = Path(documents_dir)
        if any(part in prefix for part in ("/", "\\", "..", "\x00")):
            # numbers name the documents (invoices/INV-0001-acme.html): a path in the prefix would escape
            raise ConfigError(f"The invoice prefix {prefix!r} is a path; use a short name such as INV-.")
        self.prefix = prefix
        self.agency = agency
        self._ready = False  # the file is made on first use: a run that never bills leaves no ledger behind

    def describe(self) -> str:
        return f"local ledger {self.path}"

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        if not self._ready:
            db.executescript(SCHEMA)
            ledger_void.upgrade(db)
            self._ready = True
        return db

    def check(self, drafts: Sequence[InvoiceDraft], create_missing: bool = False) -> list[str]:
        return []  # the ledger needs no customer or item set-up

    def find(self, client: str, period: str) -> sqlite3.Row | None:
        with closing(self._connect()) as db:
            return db.execute(
                "SELECT * FROM invoices WHERE client=? AND period=? AND voided_at IS NULL", (client, period)
            ).fetchone()

    def conflicts(self, drafts: Sequence[InvoiceDraft]) -> list[str]:
        problems = []
        with closing(self._connect()) as db:
            for d in drafts:
                row = db.execute(
                    "SELECT number, content_hash, total FROM invoices "
                    "WHERE client=? AND period=? AND voided_at IS NULL",
                    (d.client, d.period),
                ).fetchone()
                if row and row["content_hash"] != d.content_hash():
                    problems.append(
                        f"{d.client} already has invoice {row['number']} for {d.period} (total {row['total']}), "
                        f"and what would be invoiced now differs (total {d.total}). Nothing was created for it; "
                        f'reissue it (`python main.py create-invoices --reissue "{d.client}" --period {d.period}`), '
                        "or move the new entries to the next period."
                    )
        return problems

    def create_invoices(
        self, drafts: Sequence[InvoiceDraft], entries: Mapping[str, TimeEntry], progress: Progress = no_progress
    ) -> list[CreatedInvoice]:
        problems = self.conflicts(drafts)
        if problems:
            raise ConflictError(
                "Some invoices conflict with ones already created "
                "(docs/RUNBOOK.md#conflict-with-an-existing-invoice):\n  - " + "\n  - ".join(problems)
            )
        self.documents_dir.mkdir(parents=True, exist_ok=True)
        # One transaction for the whole run: every new invoice is recorded, or (a failure, a kill) none is.
        rows: list[tuple[sqlite3.Row, str, InvoiceDraft]] = []
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                for draft in drafts:
                    row, status = self._record(db, draft)
                    rows.append((row, status, draft))
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            recorded = [(self._created(row, status, db), draft) for row, status, draft in rows]
        # documents after the commit: one missing (a crash in between) is rendered by the retry
        created: list[CreatedInvoice] = []
        for i, (inv, draft) in enumerate(recorded, start=1):
            created.append(self._ensure_document(inv, draft, entries))
            progress(i, len(drafts), draft.client)
        return created

    def _record(self, db: sqlite3.Connection, draft: InvoiceDraft) -> tuple[sqlite3.Row, str]:
        """The draft's invoice row inside the run's transaction: the one already there, or a new one."""
        row = db.execute(
            "SELECT * FROM invoices WHERE client=? AND period=? AND voided_at IS NULL", (draft.client, draft.period)
        ).fetchone()
        if row is not None:
            if row["content_hash"] != draft.content_hash():  # raced with another run
                raise ConflictError(
                    f"{draft.client} already has invoice {row['number']} for {draft.period} "
                    "(docs/RUNBOOK.md#conflict-with-an-existing-invoice)."
                )
            return row, "existing"
        seq = db.execute("SELECT next FROM sequence WHERE name='invoice'").fetchone()
        n = seq["next"] if seq else 1
        number = f"{self.prefix}{n:04d}"
        document = self.documents_dir / f"{number}-{slug(draft.client)}.html"
        now = datetime.now(UTC).replace(microsecond=0).isoformat()
        db.execute(
            "INSERT INTO invoices (key, client, period, number, customer, currency, total, content_hash, "
            "issue_date, due_date, terms, memo, document, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                draft.key,
                draft.client,
                draft.period,
                number,
                draft.customer,
                draft.currency,
                str(draft.total),
                draft.content_hash(),
                draft.issue_date.isoformat(),
                draft.due_date.isoformat(),
                draft.terms,
                draft.memo,
                str(document),
                now,
            ),
        )
        db.executemany(
            "INSERT INTO lines VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    draft.key,
                    no,
                    line.shown_description,
                    line.line_item,
                    line.accounting_item,
                    line.kind,
                    str(line.quantity),
                    str(line.unit_price),
                    str(line.amount),
                    str(line.raw_hours),
                    line.tax_code,
                    json.dumps(list(line.entry_refs)),
                )
                for no, line in enumerate(draft.lines, start=1)
            ],
        )
        db.execute(
            "INSERT INTO sequence(name, next) VALUES('invoice', ?) ON CONFLICT(name) DO UPDATE SET next=excluded.next",
            (n + 1,),
        )
        return db.execute("SELECT * FROM invoices WHERE key=?", (draft.key,)).fetchone(), "created"

    def _link(self, document: Path) -> str:
        """The document relative to the work folder (`invoices/INV-0001.html`): it opens from the workbook
        beside it on any machine the folder is copied to, and names no one's home directory."""
        try:
            return document.resolve().relative_to(self.path.parent.resolve()).as_posix()
        except ValueError:
            return Path(os.path.relpath(document.resolve(), self.path.parent.resolve())).as_posix()

    def _created(self, row: sqlite3.Row, status: str, db: sqlite3.Connection) -> CreatedInvoice:
        query = "SELECT entry_refs FROM lines WHERE invoice_key=? ORDER BY line_no"
        lines = db.execute(query, (row["key"],)).fetchall()
        refs = tuple(ref for line in lines for ref in json.loads(line["entry_refs"]))
        document = Path(row["document"])
        return CreatedInvoice(
            key=row["key"],
            client=row["client"],
            period=row["period"],
            number=row["number"],
            external_id=row["number"],
            url=self._link(document),
            currency=row["currency"],
            total=Decimal(row["total"]),
            line_count=len(lines),
            entry_refs=refs,
            document=str(document),
            status=status,
            created_at=datetime.fromisoformat(row["created_at"]),
        )

    def _ensure_document(
        self, inv: CreatedInvoice, draft: InvoiceDraft, entries: Mapping[str, TimeEntry]
    ) -> CreatedInvoice:
        """Render the HTML and PDF documents if missing (a crash between commit and rendering heals on the retry)."""
        path = Path(inv.document)
        views: list[InvoiceView] = []  # made once, for whichever of the two documents is missing

        def view() -> InvoiceView:
            if not views:
                views.append(invoice_view(inv, draft, entries, agency=self.agency))
            return views[0]

        for target, render in (
            (path, lambda: view_html(view()).encode("utf-8")),
            (path.with_suffix(".pdf"), lambda: pdf_of(view())),
        ):
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_suffix(target.suffix + ".tmp")
                tmp.write_bytes(render())
                tmp.replace(target)
        return inv

    def invoices_for(self, draft: InvoiceDraft) -> list[InvoiceRecord]:
        """Live and voided invoices of the draft's client and period (the ledger records no payments)."""
        with closing(self._connect()) as db:
            return ledger_void.invoices_for(db, draft.client, draft.period)

    def void_invoice(self, record: InvoiceRecord, replaced_by: str = "") -> InvoiceRecord:
        """Void in the ledger (the row stays, marked void) and stamp its document VOID."""
        with closing(self._connect()) as db:
            voided = ledger_void.void(db, record.number, replaced_by)
            (document,) = db.execute("SELECT document FROM invoices WHERE number=?", (record.number,)).fetchone()
        ledger_void.stamp_document(Path(document), voided)
        return voided

    def all_invoices(self) -> list[sqlite3.Row]:
        with closing(self._connect()) as db:
            return db.execute("SELECT * FROM invoices ORDER BY number").fetchall()
