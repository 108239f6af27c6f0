"""Reading invoice documents back as text (pypdf for the PDF, tags stripped for the HTML), and the check that a
demo run's documents carry every field a client's invoice must (the demo test in tests/test_cli.py calls it,
so the demo is run once for both)."""

from __future__ import annotations

import csv
import html
import io
import re
import sqlite3
from contextlib import closing
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader

from functions.accounting.invoice_view import fmt_amount, fmt_hours
from functions.accounting.pdf import printable
from functions.sheet.agency_tab import lines_of

SAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "functions" / "sample" / "config"


def flat(text: str) -> str:
    return " ".join(text.split())


def pdf_text(data: bytes) -> str:
    return flat(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages))


def html_text(doc: str) -> str:
    body = re.sub(r"<style>.*?</style>", " ", doc, flags=re.S)
    body = re.sub(r"</?(?:strong|b|a|span)\b[^>]*>", "", body)  # inline: no break in the text
    return flat(html.unescape(re.sub(r"<[^>]+>", " ", body)))


def sample_rows(name: str) -> list[dict[str, str]]:
    with (SAMPLE_CONFIG / f"{name}.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def check_demo_documents(workdir: Path, period: str) -> int:
    """Every invoice of `period` in the demo's ledger has a PDF (and HTML) showing each required field;
    returns how many were checked."""
    agency = {r["Setting"]: r["Value"] for r in sample_rows("Agency")}
    clients = {r["Client"]: r for r in sample_rows("Clients")}
    with closing(sqlite3.connect(workdir / "ledger.sqlite")) as db:
        db.row_factory = sqlite3.Row
        invoices = db.execute("SELECT * FROM invoices WHERE period=? ORDER BY number", (period,)).fetchall()
        checked = 0
        for inv in invoices:
            lines = db.execute("SELECT * FROM lines WHERE invoice_key=? ORDER BY line_no", (inv["key"],)).fetchall()
            document = Path(inv["document"])
            texts = {
                "pdf": pdf_text(document.with_suffix(".pdf").read_bytes()),
                "html": html_text(document.read_text(encoding="utf-8")),
            }
            client = clients[inv["client"]]
            cur = inv["currency"]
            subtotal = sum((Decimal(line["amount"]) for line in lines), Decimal(0))
            must = [
                agency["Name"],
                *lines_of(agency["Address"]).splitlines(),
                agency["Email"],
                agency["Phone"],
                agency["Tax ID"],
                agency["Pay Link"],
                *lines_of(agency["Payment Instructions"]).splitlines(),
                agency["Footer"],
                inv["customer"],
                *lines_of(client["Billing Address"]).splitlines(),
                f"Attn: {client['Contact']}",
                client["Email"],
                "Invoice number",
                inv["number"],
                "Issue date",
                "Due date",
                "Subtotal",
                fmt_amount(subtotal, cur),
                "Please pay",
                "Time detail",
            ]
            for line in lines:
                must += [flat(line["description"]), fmt_amount(Decimal(line["amount"]), cur)]
                must.append(fmt_amount(Decimal(line["unit_price"]), cur))
                if line["kind"] == "hours":
                    must.append(f"{fmt_hours(Decimal(line['quantity']))} h")
                    if line["entry_refs"] != "[]":  # the time detail reconciles it
                        must.append(f"{fmt_hours(Decimal(line['raw_hours']))} h logged")
            tax = client["Tax Code"] if client["Tax Exempt"] != "TRUE" else "NON"
            for kind, text in texts.items():
                # the PDF drops what its font cannot print (an emoji in a note)
                missing = [m for m in must if flat(printable(m) if kind == "pdf" else m) not in text]
                assert not missing, f"{document.name} ({kind}) lacks {missing}"
                assert inv["key"] not in text, f"{document.name} ({kind}) shows the internal invoice key"
                assert " 1 entries" not in text
                if tax == "TAX":
                    assert "Tax 8.875% on" in text and "Total due" in text, document.name
                elif tax == "NON":
                    assert "Tax: exempt" in text, document.name
                assert re.search(r"\d+\.\d{2,4} h logged", text) or "Time detail" not in text, document.name
            checked += 1
    return checked
