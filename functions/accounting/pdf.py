"""The invoice as a PDF a client receives, from the same content as the HTML document (invoice_view.py).

ReportLab (BSD, a pure-Python wheel: no system package, so it runs in a Cloud Function) lays it out: the
logo and the agency's details, bill-to and the invoice's facts, the lines, subtotal / tax / total, how to
pay, the footer on every page, then the time detail as an appendix. DejaVu Sans (bundled in fonts/, subset
into each file) prints German, Spanish, Nordic names and €, £. Text from outside is escaped before
ReportLab's paragraph markup sees it.

    pdf = render_pdf(created_invoice, draft, entries)   # bytes, starting b"%PDF"
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from ..models import CreatedInvoice, InvoiceDraft, Party, TimeEntry
from .invoice_view import InvoiceView, invoice_view, party_lines

FONTS = Path(__file__).resolve().parent / "fonts"
FONT, BOLD = "InvoiceSans", "InvoiceSans-Bold"
# QuickBooks attaches from a thread pool; rendering is CPU-bound (no gain in parallel), and ReportLab keeps
# per-process state (fonts, config), so one document is laid out at a time
_RENDER = threading.Lock()
_MM = 72 / 25.4  # points (reportlab is imported when a document is drawn, not with this module)
# A page's frame (A4 less the 16 and 18 mm margins and the frame's padding) less a detail's two headings: a time
# detail table up to this tall is kept on one page; a longer one starts where it is, with at least
# DETAIL_HEAD_ROOM left for its headings and first rows (no page holding only a heading).
DETAIL_PAGE_HEIGHT = 841.89 - (16 + 18) * _MM - 12 - 20 * _MM
DETAIL_HEAD_ROOM = 40 * _MM
INK, MUTED, ACCENT, RULE, TINT = "#222222", "#6b6b6b", "#1f3a5f", "#dddddd", "#f4f6f9"


@lru_cache(maxsize=1)
def _setup() -> dict[str, Any]:
    """Fonts registered and styles made once per process (a Cloud Function instance renders many)."""
    from reportlab import rl_config
    from reportlab.lib.colors import toColor
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    rl_config.useA85 = 0  # binary streams, not ASCII85 text: 6 % smaller files, 15 % less time (no 7-bit mail here)
    pdfmetrics.registerFont(TTFont(FONT, str(FONTS / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
    regular, bold = pdfmetrics.getFont(FONT).face.charToGlyph, pdfmetrics.getFont(BOLD).face.charToGlyph
    # colours as ReportLab's own objects, converted once: a style's "#222222" is parsed again at every draw
    ink, muted, accent, white, red = (toColor(c) for c in (INK, MUTED, ACCENT, "#ffffff", "#a33333"))
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=12.5, textColor=ink)
    return {
        "glyphs": frozenset(regular) & frozenset(bold),
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10.5, textColor=muted),
        "right": ParagraphStyle("right", parent=base, alignment=2),
        "sender": ParagraphStyle("sender", parent=base, fontSize=8.5, leading=11.5, alignment=2, textColor=muted),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=22, leading=26, textColor=accent),
        "label": ParagraphStyle("label", parent=base, fontSize=7, leading=10, textColor=muted),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=13, leading=17, textColor=accent),
        "h3": ParagraphStyle("h3", parent=base, fontName=BOLD, fontSize=9.5, leading=13, spaceBefore=10),
        "th": ParagraphStyle("th", parent=base, fontName=BOLD, textColor=white),
        "thr": ParagraphStyle("thr", parent=base, fontName=BOLD, textColor=white, alignment=2),
        "note": ParagraphStyle("note", parent=base, textColor=red),
        "reconcile": ParagraphStyle("reconcile", parent=base, fontSize=8, leading=10.5, textColor=muted, spaceAfter=3),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10.8),
    }


def printable(text: str) -> str:
    """`text` without the characters the bundled font has no glyph for (an emoji in a note would print as a
    box): dropped, never guessed at."""
    return _printable_short(text) if len(text) <= 200 else _printable(text)


@lru_cache(maxsize=16384)  # a month's detail repeats the same people and work thousands of times
def _printable_short(text: str) -> str:
    return _printable(text)


def _printable(text: str) -> str:
    glyphs = _setup()["glyphs"]
    return text if all(ord(c) in glyphs or c in "\n\t" for c in text) else "".join(c for c in text if ord(c) in glyphs)


def _fits(text: str, width: float, size: float) -> bool:
    return _fits_short(text, width, size) if len(text) <= 200 else _width_fits(text, width, size)


@lru_cache(maxsize=16384)  # only short strings are kept: a long one seldom repeats, and would hold memory
def _fits_short(text: str, width: float, size: float) -> bool:
    return _width_fits(text, width, size)


def _width_fits(text: str, width: float, size: float) -> bool:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return "\n" not in text and stringWidth(text, FONT, size) <= width


def escape(text: str, entities: dict[str, str] | None = None) -> str:
    return xml_escape(printable(text), entities or {})


def _t(text: str) -> str:
    """Outside text as paragraph text: escaped, its lines kept."""
    return "<br/>".join(escape(line) for line in text.splitlines())


def _party(p: Party, contact_prefix: str = "", compact: bool = False) -> str:
    """A party's block (invoice_view.party_lines), the name in bold."""
    parts = party_lines(p, escape, _t, contact_prefix, compact)
    if p.name:
        parts[0] = f"<b>{parts[0]}</b>"
    return "<br/>".join(parts)


def _cell(text: str, width: float, st: dict[str, Any], size: float = 8) -> Any:
    """A plain string when it fits one line (ten times faster to lay out), else a wrapping paragraph."""
    from reportlab.platypus import Paragraph

    text = printable(text)
    return text if _fits(text, width, size) else Paragraph(_t(text), st["cell"])


def _grid(st: dict[str, Any], colors: Any, header: bool, size: float = 9) -> list[tuple[Any, ...]]:
    """The look of a table of plain-text cells: the font, a coloured header row, thin rules between rows."""
    rules: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), size),
        ("LEADING", (0, 0), (-1, -1), size * 1.35),
        ("TEXTCOLOR", (0, 0), (-1, -1), colors.HexColor(INK)),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 1), (-1, -2 if size < 9 else -1), 0.5, colors.HexColor(RULE)),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        rules += [
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(ACCENT)),
            ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
            ("FONTNAME", (0, 0), (-1, 0), BOLD),
        ]
    return rules


def render_pdf(
    inv: CreatedInvoice,
    draft: InvoiceDraft,
    entries: Mapping[str, TimeEntry],
    agency: str = "",
    tax_by: str = "the accounting system",
) -> bytes:
    """The invoice's PDF: what the HTML document says, laid out for print (A4)."""
    return pdf_of(invoice_view(inv, draft, entries, agency=agency, tax_by=tax_by))


def pdf_of(view: InvoiceView) -> bytes:
    """The PDF of an invoice's view (one view serves the HTML document and the PDF)."""
    with _RENDER:
        return view_pdf(view)


def view_pdf(v: InvoiceView) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        CondPageBreak,
        Image,
        KeepTogether,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
    )
    from reportlab.platypus import TableStyle as TS

    from .pdf_detail import DetailTable

    st = _setup()
    p = Paragraph
    width = A4[0] - 36 * mm - 12  # the frame pads 6 pt on each side
    story: list[Any] = []

    logo: Any = ""
    if v.logo:
        from reportlab.lib.utils import ImageReader

        w, h = ImageReader(io.BytesIO(v.logo)).getSize()
        scale = min(60 * mm / w, 18 * mm / h)
        logo = Image(io.BytesIO(v.logo), width=w * scale, height=h * scale, hAlign="LEFT")
    sender = p(_party(v.sender, compact=True), st["sender"]) if v.sender.name else p(_t(v.sender_note), st["note"])
    top = Table([[logo, sender]], colWidths=[width * 0.5, width * 0.5])
    top.setStyle(TS([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, 0), 0)]))
    story += [top, Spacer(1, 3 * mm), p("INVOICE", st["title"]), Spacer(1, 2 * mm)]

    facts = Table(
        [[p(escape(k), st["small"]), p(escape(val), st["right"])] for k, val in v.facts],
        colWidths=[28 * mm, 45 * mm],
    )
    facts.setStyle(TS([("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    bill = [p("BILL TO", st["label"]), p(_party(v.bill_to, "Attn: "), st["base"])]
    parties = Table([[bill, facts]], colWidths=[width - 75 * mm, 75 * mm])
    parties.setStyle(TS([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, 0), 0)]))
    story += [parties, Spacer(1, 5 * mm)]
    if v.memo:
        story += [p(_t(v.memo), st["base"]), Spacer(1, 3 * mm)]

    # Plain strings where the text fits one line: a Paragraph per cell costs ten times the time
    body = [
        [
            str(ln.no),
            p(_t(ln.description), st["base"]),
            f"{ln.quantity} {ln.unit}".strip(),
            printable(ln.rate),
            printable(ln.amount),
        ]
        for ln in v.lines
    ]
    lines = Table(
        [["#", "Description", "Qty", "Rate", "Amount"], *body],
        colWidths=[7 * mm, width - 80 * mm, 20 * mm, 26 * mm, 27 * mm],
        repeatRows=1,
    )
    lines.setStyle(TS([*_grid(st, colors, header=True), ("ALIGN", (2, 0), (-1, -1), "RIGHT")]))
    story += [lines, Spacer(1, 3 * mm)]

    rows = [["Subtotal", v.subtotal], *v.taxes, [v.total_label, v.total]]
    totals = Table(
        [[p(_t(a), st["right"]), p(escape(b), st["right"])] for a, b in rows[:-1]]
        + [[p(f"<b>{escape(rows[-1][0])}</b>", st["right"]), p(f"<b>{escape(rows[-1][1])}</b>", st["right"])]],
        colWidths=[70 * mm, 34 * mm],
        hAlign="RIGHT",
    )
    totals.setStyle(
        TS(
            [
                ("LINEABOVE", (0, -1), (-1, -1), 1.2, colors.HexColor(ACCENT)),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    story += [totals, Spacer(1, 5 * mm)]

    pay = [p("HOW TO PAY", st["label"])]
    pay.append(
        p(
            f"Please pay <b>{escape(v.total)}</b> by <b>{escape(v.due_date)}</b>, quoting invoice "
            f"<b>{escape(v.number)}</b>.",
            st["base"],
        )
    )
    if v.payment:
        pay.append(p(_t(v.payment), st["base"]))
    if v.pay_link:
        link = escape(v.pay_link, {'"': "&quot;"})
        pay.append(p(f'Pay online: <a href="{link}" color="{ACCENT}">{link}</a>', st["base"]))
    box = Table([[pay]], colWidths=[width])
    box.setStyle(
        TS(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(TINT)),
                ("LINEBEFORE", (0, 0), (0, -1), 3, colors.HexColor(ACCENT)),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    story.append(KeepTogether([box]))

    if v.details:
        story += [PageBreak(), p("Time detail", st["h2"])]
        story.append(p(f"The time behind each line of invoice {escape(v.number)}.", st["small"]))
        for d in v.details:
            work_width = width - 82 * mm - 12
            table = DetailTable(
                [[r.date, printable(r.person), _cell(r.work, work_width, st), r.hours] for r in d.rows],
                widths=[24 * mm, 36 * mm, width - 82 * mm, 22 * mm],
                fonts=(FONT, BOLD),
                ink=INK,
                accent=ACCENT,
                rule=RULE,
                total=[d.count, "", "", d.hours],
            )
            head = [p(f"Line {d.no}: {_t(d.description)}", st["h3"]), p(escape(d.reconcile), st["reconcile"])]
            if table.height <= DETAIL_PAGE_HEIGHT:
                story.append(KeepTogether([*head, table]))  # a table that fits a page is not split
            else:  # longer than a page: it starts where it is, with room for its heading and first rows
                story += [CondPageBreak(DETAIL_HEAD_ROOM), *head, table]

    footer = v.footer
    sender = v.sender.name

    def page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(colors.HexColor(MUTED))
        canvas.drawCentredString(A4[0] / 2, 12 * mm, printable(footer)[:150])
        canvas.drawCentredString(A4[0] / 2, 8 * mm, f"Invoice {v.number} · page {doc.page}")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"Invoice {v.number}",
        author=sender,
        subject=f"Invoice {v.number} for {v.bill_to.name}",
        creator="invoicing pipeline",
        invariant=1,  # the same invoice renders to the same bytes: no creation time or random id in the file
    )
    doc.build(story, onFirstPage=page, onLaterPages=page)
    return buf.getvalue()
