"""Voids in the local ledger: an invoice is never deleted; a voided one keeps its number, its lines and what it
billed, is marked void with the time, and points at the invoice that replaced it (`replaced_by`; the new one
says `replaces`). Only live invoices count for "one invoice per client and period": a partial unique index
(`live_invoice`) holds that in the database itself, so two live invoices for one client and month cannot be
written even by two runs at once.

Ledgers made before voids existed are upgraded in place on first use (`upgrade`): their table said
UNIQUE (client, period) for voided and live invoices alike, which SQLite can only lift by copying the table.

    >>> VOID_BANNER.format(number="INV-0001", replacement=" — replaced by invoice INV-0003")[:34]
    '<p class="void" data-void="1">VOID'
"""

from __future__ import annotations

import html
import re
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from ..errors import ConflictError, InvariantError
from ..ports import InvoiceRecord

VOID_COLUMNS = (
    ("voided_at", "TEXT"),
    ("replaced_by", "TEXT NOT NULL DEFAULT ''"),
    ("replaces", "TEXT NOT NULL DEFAULT ''"),
)
LIVE_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS live_invoice ON invoices(client, period) WHERE voided_at IS NULL"
VOID_BANNER = '<p class="void" data-void="1">VOID: invoice {number} was voided and is not to be paid{replacement}.</p>'


def upgrade(db: sqlite3.Connection) -> None:
    """Give an older ledger the void columns and the live-only uniqueness; a no-op on a current one."""
    if _has_void_columns(db):
        db.execute(LIVE_INDEX)
        return
    db.execute("PRAGMA foreign_keys=OFF")  # the copy below drops and renames the table the lines point at
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            if not _has_void_columns(db):  # another process may have upgraded it meanwhile
                (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE type='table' AND name='invoices'").fetchone()
                new_sql, n = re.subn(r",\s*UNIQUE\s*\(\s*client\s*,\s*period\s*\)", "", sql)
                if n != 1:
                    raise InvariantError(
                        "the ledger's invoices table has a shape this version does not know; nothing was changed"
                    )
                columns = [r[1] for r in db.execute("PRAGMA table_info(invoices)")]
                db.execute(new_sql.replace("CREATE TABLE invoices", "CREATE TABLE invoices_new", 1))
                names = ", ".join(columns)
                db.execute(f"INSERT INTO invoices_new ({names}) SELECT {names} FROM invoices")
                db.execute("DROP TABLE invoices")
                db.execute("ALTER TABLE invoices_new RENAME TO invoices")
                for name, kind in VOID_COLUMNS:
                    db.execute(f"ALTER TABLE invoices ADD COLUMN {name} {kind}")
            db.execute(LIVE_INDEX)
            if db.execute("PRAGMA foreign_key_check").fetchall():
                raise InvariantError("the ledger's lines no longer match its invoices; nothing was changed")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
    finally:
        db.execute("PRAGMA foreign_keys=ON")


def _has_void_columns(db: sqlite3.Connection) -> bool:
    return "voided_at" in {r[1] for r in db.execute("PRAGMA table_info(invoices)")}


def record(row: sqlite3.Row) -> InvoiceRecord:
    return InvoiceRecord(
        number=row["number"],
        external_id=row["number"],
        client=row["client"],
        period=row["period"],
        key=row["key"],
        total=Decimal(row["total"]),
        status="void" if row["voided_at"] else "live",
        replaced_by=row["replaced_by"],
        replaces=row["replaces"],
        memo=row["memo"],
    )


def invoices_for(db: sqlite3.Connection, client: str, period: str) -> list[InvoiceRecord]:
    rows = db.execute(
        "SELECT * FROM invoices WHERE client=? AND period=? ORDER BY created_at, number", (client, period)
    ).fetchall()
    return [record(r) for r in rows]


def void(db: sqlite3.Connection, number: str, replaced_by: str = "") -> InvoiceRecord:
    """Void `number` (once) and link it to its replacement (once), in one transaction."""
    db.execute("BEGIN IMMEDIATE")
    try:
        row = db.execute("SELECT * FROM invoices WHERE number=?", (number,)).fetchone()
        if row is None:
            raise ConflictError(
                f"The local ledger has no invoice {number}; nothing was voided "
                "(docs/RUNBOOK.md#conflict-with-an-existing-invoice)."
            )
        if row["voided_at"] is None:
            # The invoice key is what makes creation exactly once; a voided invoice gives it up, so that the
            # same contents can be invoiced again later (a correction undone). Lines follow at commit.
            now = datetime.now(UTC).replace(microsecond=0).isoformat()
            freed = f"{row['key']}~void-{number}"
            db.execute("PRAGMA defer_foreign_keys=ON")
            db.execute("UPDATE invoices SET voided_at=?, key=? WHERE number=?", (now, freed, number))
            db.execute("UPDATE lines SET invoice_key=? WHERE invoice_key=?", (freed, row["key"]))
        if replaced_by and row["replaced_by"] != replaced_by:
            if row["replaced_by"]:
                raise ConflictError(
                    f"Invoice {number} was already replaced by {row['replaced_by']}; it cannot be replaced "
                    f"by {replaced_by} too (docs/RUNBOOK.md#conflict-with-an-existing-invoice)."
                )
            new = db.execute("SELECT client, period FROM invoices WHERE number=?", (replaced_by,)).fetchone()
            if new is None or (new["client"], new["period"]) != (row["client"], row["period"]):
                raise InvariantError(f"{replaced_by} is not an invoice of {row['client']} for {row['period']}")
            db.execute("UPDATE invoices SET replaced_by=? WHERE number=?", (replaced_by, number))
            db.execute("UPDATE invoices SET replaces=? WHERE number=?", (number, replaced_by))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return record(db.execute("SELECT * FROM invoices WHERE number=?", (number,)).fetchone())


def stamp_document(path: Path, voided: InvoiceRecord) -> None:
    """Mark a voided invoice's HTML document VOID at the top (once), naming its replacement when known."""
    if path.suffix != ".html" or not path.exists():
        return
    text = path.read_text(encoding="utf-8")
    replacement = f" — replaced by invoice {html.escape(voided.replaced_by)}" if voided.replaced_by else ""
    banner = VOID_BANNER.format(number=html.escape(voided.number), replacement=replacement)
    if banner in text:
        return
    text = re.sub(r'<p class="void" data-void="1">.*?</p>', "", text, count=1)
    stamped, n = re.subn(r"(<body[^>]*>)", lambda m: m.group(1) + banner, text, count=1)
    if n:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(stamped, encoding="utf-8")
        tmp.replace(path)
