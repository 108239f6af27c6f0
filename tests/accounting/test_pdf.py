"""Invoice documents as a client receives them: the PDF (read back with pypdf) and the HTML say the same
things: sender and bill-to, number and dates, lines, subtotal / tax / total, how to pay, the footer, and a
time detail that reconciles each line; never the internal key or a raw note. The demo's own invoices are
checked field by field in tests/test_cli.py (pdf_checks.check_demo_documents)."""

from __future__ import annotations

import base64
import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from functions.accounting.documents import render_invoice_html
from functions.accounting.ledger import Ledger
from functions.accounting.pdf import render_pdf
from functions.models import CreatedInvoice, InvoiceDraft, InvoiceLine, Letterhead, Party, TimeEntry
from functions.money import line_amount
from tests.accounting.pdf_checks import SAMPLE_CONFIG, html_text, pdf_text

LOGO = (SAMPLE_CONFIG / "northwind-logo.png").read_bytes()


def entry(n: int, hours: str, notes: str, person: str = "Jürgen Weiß") -> TimeEntry:
    return TimeEntry(
        source="harvest",
        source_id=str(n),
        date=date(2026, 10, n),
        client="Lumen Energy",
        project="Smart Meter App",
        task="Development",
        person=person,
        notes=notes,
        hours=Decimal(hours),
    )


ENTRIES = {
    e.ref: e
    for e in (
        entry(1, "2.52", "numbers for ben"),
        entry(2, "4", "PR review + mereg", "María José Peña"),
        entry(3, "1.5", '=HYPERLINK("http://evil")'),
    )
}


def line(desc: str, hours: str, rate: str, refs: tuple[str, ...], raw: str, tax: str = "") -> InvoiceLine:
    q, p = Decimal(hours), Decimal(rate)
    return InvoiceLine(
        description=desc,
        line_item="Development",
        quantity=q,
        unit_price=p,
        amount=line_amount(q, p),
        raw_hours=Decimal(raw),
        entry_refs=refs,
        tax_code=tax,
        detail=("rate 150 from Rates!E20",),
    )


HEAD = Letterhead(
    agency=Party(
        name="Nordlicht Studio GmbH",
        address="Lindwurmstraße 88\n80337 München",
        contact="Grete Müller",
        email="rechnung@nordlicht.example",
        phone="+49 89 5550 1234",
        tax_id="USt-IdNr. DE123456789",
    ),
    logo=LOGO,
    payment="IBAN DE89 3704 0044 0532 0130 00\nBIC COBADEFFXXX",
    pay_link="https://pay.nordlicht.example/i",
    footer="Nordlicht Studio GmbH · Geschäftsführerin Grete Müller · Danke!",
    tax_rates=(("VAT", Decimal("0.19")),),
    bill_to=Party(address="Calle de Alcalá 42\n28014 Madrid", contact="Begoña Núñez", email="ap@cliente.example"),
    rounding="each entry rounded up to 15 min",
)


def draft(head: Letterhead | None = HEAD, tax: str = "VAT", currency: str = "EUR") -> InvoiceDraft:
    refs = tuple(ENTRIES)
    return InvoiceDraft(
        client="Lumen Energy",
        customer="Lumen Energía S.L.",
        period="2026-10",
        currency=currency,
        issue_date=date(2026, 11, 2),
        due_date=date(2026, 12, 2),
        terms="Net 30",
        memo="Smart Meter App — Oct 2026",
        lines=(
            line("Smart meter app: tariff screens and code review — 2 tasks", "6.75", "120", refs[:2], "6.52", tax),
            line("Support — 1 task", "1.5", "95.5", refs[2:], "1.5", tax),
        ),
        letterhead=head,
    )


def created(d: InvoiceDraft) -> CreatedInvoice:
    return CreatedInvoice(
        key=d.key, client=d.client, period=d.period, number="INV-0042", currency=d.currency, total=d.total, line_count=2
    )


def both(d: InvoiceDraft, **kw: str) -> dict[str, str]:
    inv = created(d)
    return {
        "pdf": pdf_text(render_pdf(inv, d, ENTRIES, **kw)),
        "html": html_text(render_invoice_html(inv, d, ENTRIES, **kw)),
    }


@pytest.mark.parametrize("kind", ["pdf", "html"])
def test_a_document_carries_every_field_a_client_needs(kind):
    text = both(draft())[kind]
    # the sender, with German letters, and the bill-to, with Spanish ones
    for part in ("Nordlicht Studio GmbH", "Lindwurmstraße 88", "80337 München", "Grete Müller", "+49 89 5550 1234"):
        assert part in text
    assert "rechnung@nordlicht.example" in text and "Tax ID USt-IdNr. DE123456789" in text
    for part in (
        "Lumen Energía S.L.",
        "Attn: Begoña Núñez",
        "Calle de Alcalá 42",
        "28014 Madrid",
        "ap@cliente.example",
    ):
        assert part in text
    for part in ("Invoice number INV-0042", "Issue date 2 Nov 2026", "Due date 2 Dec 2026", "Terms Net 30"):
        assert part in text
    # lines: description, quantity with its unit, rate and amount, formatted by the currency
    assert "Smart meter app: tariff screens and code review — 2 tasks" in text
    assert "6.75 h €120.00 €810.00" in text and "1.50 h €95.50 €143.25" in text
    # 810.00 + 143.25 = 953.25; VAT 19 % = 181.1175 -> 181.12 (half up, once); total 1,134.37
    assert "Subtotal €953.25" in text and "Tax VAT 19% on €953.25 €181.12" in text
    assert "Total due €1,134.37" in text
    assert "Please pay €1,134.37 by 2 Dec 2026, quoting invoice INV-0042" in text
    assert "IBAN DE89 3704 0044 0532 0130 00" in text and "https://pay.nordlicht.example/i" in text
    assert "Geschäftsführerin Grete Müller" in text  # the footer
    # the time detail reconciles each line, in words a client reads
    assert "6.52 h logged, billed 6.75 h: each entry rounded up to 15 min" in text
    assert "1.50 h logged and billed" in text and "1 entry" in text and "2 entries" in text
    assert "María José Peña" in text and "Smart Meter App — Development" in text
    # never on the client's copy: the internal key, raw notes, rate-card references
    assert draft().key not in text and "numbers for ben" not in text and "mereg" not in text
    assert "HYPERLINK" not in text and "Rates!E20" not in text


def test_the_pdf_embeds_its_font_and_logo_and_is_the_same_for_the_same_invoice():
    d = draft()
    pdf = render_pdf(created(d), d, ENTRIES)
    reader = PdfReader(io.BytesIO(pdf))
    assert pdf.startswith(b"%PDF") and len(reader.pages) == 2  # the invoice, then the time detail
    fonts = {str(f["/BaseFont"]) for p in reader.pages for f in p["/Resources"]["/Font"].get_object().values()}
    # subsets of the bundled TrueType font, embedded: €, ß, ñ print anywhere (ReportLab names Helvetica as each
    # page's starting font, and draws nothing with it)
    assert {f for f in fonts if "+" not in f} <= {"/Helvetica"} and {
        "/AAAAAA+DejaVuSans",
        "/AAAAAA+DejaVuSans-Bold",
    } <= fonts
    assert len(reader.pages[0].images) == 1  # the logo
    assert reader.metadata is not None and reader.metadata.title == "Invoice INV-0042"
    assert render_pdf(created(d), d, ENTRIES) == pdf  # no clock or random id in the file


def test_a_code_without_a_known_rate_says_who_computes_the_tax():
    text = both(draft(tax="TAX"), tax_by="QuickBooks")
    for t in text.values():
        assert "Tax (TAX): calculated by QuickBooks" in t and "Total before tax €953.25" in t
        assert "Total due" not in t


def test_a_tax_exempt_client_says_so():
    for t in both(draft(tax="NON")).values():
        assert "Tax: exempt $0.00" not in t and "Tax: exempt €0.00" in t and "Total due €953.25" in t


def test_without_an_agency_name_the_sender_line_says_what_to_set():
    for t in both(draft(head=None)).values():
        assert "Set AGENCY_NAME or the Agency tab's Name" in t
        assert "Bill to Lumen Energía S.L." in t.replace("BILL TO", "Bill to")  # the customer still
        assert "6.52 h logged, billed 6.75 h" in t  # no rounding rule known: no reason made up


def test_outside_text_never_becomes_markup():
    evil = HEAD.model_copy(
        update={"agency": Party(name="<b>Evil</b> & Co <script>x</script>"), "footer": "<a href='x'>f</a>"}
    )
    d = draft(head=evil)
    pdf = pdf_text(render_pdf(created(d), d, ENTRIES))
    assert "<b>Evil</b> & Co <script>x</script>" in pdf  # printed as typed, not interpreted
    page = render_invoice_html(created(d), d, ENTRIES)
    assert "<script>" not in page and "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in page


@pytest.mark.parametrize(
    ("currency", "total"), [("USD", "$1,134.37"), ("GBP", "£1,134.37"), ("JPY", "¥"), ("NOK", "1,134.37 NOK")]
)
def test_amounts_are_formatted_by_the_currency(currency, total):
    text = both(draft(currency=currency))["pdf"]
    assert total in text
    if currency == "JPY":  # no minor unit: whole yen
        assert "¥810 " in text and "¥120 " in text


def test_the_ledger_writes_the_pdf_beside_the_html_and_heals_a_missing_one(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite", tmp_path / "invoices", agency="Fallback Agency")
    [inv] = ledger.create_invoices([draft()], ENTRIES)
    pdf = tmp_path / "invoices" / f"{inv.number}-lumen-energy.pdf"
    assert pdf.exists() and "Nordlicht Studio GmbH" in pdf_text(pdf.read_bytes())
    pdf.unlink()  # a crash between the commit and the rendering
    [again] = ledger.create_invoices([draft()], ENTRIES)
    assert again.status == "existing" and pdf.exists()
    [plain] = ledger.create_invoices([draft(head=None).model_copy(update={"client": "Other"})], ENTRIES)
    assert "Fallback Agency" in pdf_text((tmp_path / "invoices" / f"{plain.number}-other.pdf").read_bytes())


def test_a_logo_can_be_embedded_in_the_html_as_it_is_in_the_pdf():
    page = render_invoice_html(created(draft()), draft(), ENTRIES)
    assert f"data:image/png;base64,{base64.b64encode(LOGO).decode()}" in page
