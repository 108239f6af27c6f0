"""Invoice documents: time to render N PDFs (and their HTML), PDF size, and what ReportLab costs a deployment
(installed size of reportlab + pillow, import time in a fresh interpreter).

    .venv/bin/python -m benchmarks.pdf_render                 # 25 and 250 invoices
    .venv/bin/python -m benchmarks.pdf_render --counts 25 --lines 12 --entries 80

Each invoice is demo-like: the sample agency's letterhead and logo, `--lines` lines and `--entries` time
entries in its time detail (German and Spanish names, € amounts). Deterministic, so runs compare.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from functions.accounting.documents import render_invoice_html
from functions.accounting.pdf import render_pdf
from functions.models import CreatedInvoice, InvoiceDraft, InvoiceLine, Letterhead, Party, TimeEntry
from functions.money import line_amount

CONFIG = Path(__file__).resolve().parents[1] / "functions" / "sample" / "config"
PEOPLE = ["Jürgen Weiß", "María José Peña", "Ana Ruiz", "Søren Kjær", "Chloé Martin"]


def invoice(n: int, lines: int, entries: int) -> tuple[CreatedInvoice, InvoiceDraft, dict[str, TimeEntry]]:
    es = {
        f"h:{n}-{i}": TimeEntry(
            source="h",
            source_id=f"{n}-{i}",
            date=date(2026, 10, 1) + timedelta(days=i % 28),
            client=f"Client {n}",
            project="Smart Meter App",
            task=["Development", "Design", "Meetings", "QA"][i % 4],
            person=PEOPLE[i % len(PEOPLE)],
            hours=Decimal(f"{1 + i % 5}.{(i * 7) % 100:02d}"),
        )
        for i in range(entries)
    }
    refs = list(es)
    per = max(1, len(refs) // lines)
    ls = []
    for j in range(lines):
        chunk = tuple(refs[j * per : (j + 1) * per])
        raw = sum((es[r].hours for r in chunk), Decimal(0))
        q, p = raw.quantize(Decimal("0.25")), Decimal(120 + 5 * j)
        ls.append(
            InvoiceLine(
                description=f"Line item {j}: tariff screens, code review and fixes — {len(chunk)} tasks",
                line_item=f"Item {j}",
                quantity=q,
                unit_price=p,
                amount=line_amount(q, p),
                raw_hours=raw,
                entry_refs=chunk,
                tax_code="VAT",
            )
        )
    head = Letterhead(
        agency=Party(name="Northwind Digital LLC", address="120 Hudson Street\nNew York NY 10013", email="b@n.example"),
        logo=(CONFIG / "northwind-logo.png").read_bytes(),
        payment="IBAN GB33 BUKB 2020 1555 5555 55",
        footer="Thank you for your business",
        tax_rates=(("VAT", Decimal("0.2")),),
        bill_to=Party(name=f"Client {n} GmbH", address="Lindwurmstraße 88\n80337 München", contact="Jürgen Weiß"),
        rounding="each entry rounded up to 15 min",
    )
    d = InvoiceDraft(
        client=f"Client {n}",
        customer=f"Client {n} GmbH",
        period="2026-10",
        currency="EUR",
        issue_date=date(2026, 11, 2),
        due_date=date(2026, 12, 2),
        terms="Net 30",
        lines=tuple(ls),
        letterhead=head,
    )
    inv = CreatedInvoice(
        key=d.key,
        client=d.client,
        period=d.period,
        number=f"INV-{n:04d}",
        currency="EUR",
        total=d.total,
        line_count=lines,
    )
    return inv, d, es


def installed_mb(*dists: str) -> float:
    total = 0
    for name in dists:
        for f in metadata.distribution(name).files or []:
            p = Path(str(f.locate()))
            if p.is_file():
                total += p.stat().st_size
    return round(total / 1e6, 1)


def import_ms(repeat: int = 5) -> float:
    code = "import time;t=time.perf_counter();import functions.accounting.pdf as p;p._setup();"
    code += "from reportlab.platypus import SimpleDocTemplate;print(time.perf_counter()-t)"
    root = str(Path(__file__).resolve().parents[1])
    runs = [float(subprocess.check_output([sys.executable, "-c", code], cwd=root, text=True)) for _ in range(repeat)]
    return round(statistics.median(runs) * 1000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--counts", type=int, nargs="+", default=[25, 250])
    ap.add_argument("--lines", type=int, default=8)
    ap.add_argument("--entries", type=int, default=60)
    a = ap.parse_args()
    out: dict[str, object] = {
        "installed_mb": {"reportlab": installed_mb("reportlab"), "pillow": installed_mb("pillow")},
        "import_and_font_setup_ms": import_ms(),
    }
    for n in a.counts:
        docs = [invoice(i, a.lines, a.entries) for i in range(1, n + 1)]
        t = time.perf_counter()
        sizes = [len(render_pdf(*doc)) for doc in docs]
        pdf_s = time.perf_counter() - t
        t = time.perf_counter()
        for doc in docs:
            render_invoice_html(*doc)
        html_s = time.perf_counter() - t
        out[f"{n}_invoices"] = {
            "pdf_seconds": round(pdf_s, 2),
            "ms_per_pdf": round(pdf_s / n * 1000, 1),
            "html_seconds": round(html_s, 2),
            "pdf_kb_median": round(statistics.median(sizes) / 1024, 1),
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
