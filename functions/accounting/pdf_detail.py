"""The time-detail appendix of an invoice PDF: one table per invoice line, drawn straight on the canvas.

A month of 2,000 entries per client is 40 pages of detail. ReportLab's general `Table` lays such a table
out again at every page break (each split copies and re-applies its styles) and opens a text object per
cell; this flowable measures every row once, splits by slicing, and writes a page's text in one text
object. It draws what the `Table` of pdf.py drew before (the same geometry: 2 pt top and bottom padding,
6 pt at the sides, a coloured header row repeated on every page, a thin rule under each row, the total
row in bold under a dark rule), so the documents look as they did. Text is encoded through ReportLab's
text object internals (`_formatText`, its font-subset state), which is why reportlab is pinned; the tests
read every string back, across font subsets.

    DetailTable(rows, widths=[...], fonts=(FONT, BOLD), ink=INK, accent=ACCENT, rule=RULE, total=[...])
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable

FONT_SIZE, LEADING, PAD_Y, PAD_X = 8, 8 * 1.35, 2, 6
HEADER = ("Date", "Person", "Work", "Hours")
# per document (its canvas): (font, text, subset) -> the text's PDF operators and the subset after them
_ENCODED: weakref.WeakKeyDictionary[Any, dict[tuple[str, str, int], tuple[str, int]]] = weakref.WeakKeyDictionary()


@lru_cache(maxsize=4096)  # the hours column: a few dozen distinct short strings
def _width(text: str, font: str) -> float:
    return stringWidth(text, font, FONT_SIZE)


class _Row:
    """One row's cells (text, or a wrapped paragraph in the Work column) and its height."""

    __slots__ = ("cells", "height", "bold")

    def __init__(self, cells: Sequence[Any], width_of_work: float, bold: bool = False):
        self.cells = cells
        self.bold = bold
        tallest = 0.0
        for cell in cells:
            if isinstance(cell, str):
                h = LEADING * (cell.count("\n") + 1)
            else:
                h = cell.wrap(width_of_work, 72000)[1]
            tallest = max(tallest, h)
        self.height = tallest + 2 * PAD_Y


class DetailTable(Flowable):
    """Rows of (date, person, work, hours) under the header, the total row last; splits across pages."""

    def __init__(
        self,
        rows: Sequence[Sequence[Any]] | Sequence[_Row],
        widths: Sequence[float],
        fonts: tuple[str, str],
        ink: str,
        accent: str,
        rule: str,
        total: Sequence[str] | None = None,
        continued: bool = False,
    ):
        super().__init__()
        self.continued = continued  # a part after a page break: its repeated header has a rule under it too
        self.widths = list(widths)
        self.fonts = fonts
        self.ink, self.accent, self.rule = ink, accent, rule
        work = self.widths[2] - 2 * PAD_X
        made = [r if isinstance(r, _Row) else _Row(r, work) for r in rows]
        if total is not None:
            made.append(_Row(list(total), work, bold=True))
        self.rows: list[_Row] = made
        self.header_height = LEADING + 2 * PAD_Y
        self.width = sum(self.widths)
        self.height = self.header_height + sum(r.height for r in made)
        self.hAlign = "CENTER"

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        h = self.header_height
        if h > availHeight:
            return []
        n = 0
        for row in self.rows:
            if h + row.height > availHeight:
                break
            h += row.height
            n += 1
        if n == 0:  # only the header would fit: it never stands alone at the foot of a page
            return []
        if n == len(self.rows):
            return [self]
        return [self._part(self.rows[:n], self.continued), self._part(self.rows[n:], True)]

    def _part(self, rows: list[_Row], continued: bool) -> DetailTable:
        return DetailTable(rows, self.widths, self.fonts, self.ink, self.accent, self.rule, continued=continued)

    def draw(self) -> None:
        c = self.canv
        regular, bold = self.fonts
        x = [0.0]
        for w in self.widths:
            x.append(x[-1] + w)
        c.saveState()
        top = self.height
        c.setFillColor(colors.HexColor(self.accent))
        c.rect(0, top, self.width, -self.header_height, stroke=0, fill=1)
        ink = colors.HexColor(self.ink)
        self._text = c.beginText()
        self._look: tuple[str, Any] | None = None
        self._encoded = _ENCODED.setdefault(c, {})
        self._text_row(HEADER, x, top, bold, colors.white)
        y = top - self.header_height
        bottoms = []
        for row in self.rows:
            self._text_row(row.cells, x, y, bold if row.bold else regular, ink)
            y -= row.height
            bottoms.append(y)
        c.drawText(self._text)
        c.setLineCap(1)
        c.setLineJoin(1)
        c.setStrokeColor(colors.HexColor(self.rule))
        c.setLineWidth(0.5)
        last_is_total = self.rows[-1].bold
        if self.continued:
            c.line(0, top - self.header_height, self.width, top - self.header_height)
        for i, bottom in enumerate(bottoms):
            if not (last_is_total and i == len(bottoms) - 1):
                c.line(0, bottom, self.width, bottom)
        if last_is_total:
            c.setStrokeColor(ink)
            c.setLineWidth(0.8)
            y_total = bottoms[-2] if len(bottoms) > 1 else top - self.header_height
            c.line(0, y_total, self.width, y_total)
        c.restoreState()

    def _text_row(self, cells: Sequence[Any], x: list[float], row_top: float, font: str, color: Any) -> None:
        """A row's text into the page's text object, cell by cell (the order a reader copies it in)."""
        for col, cell in enumerate(cells):
            if not isinstance(cell, str):  # a wrapped paragraph draws itself: close the text so far around it
                self.canv.drawText(self._text)
                cell.drawOn(self.canv, x[col] + PAD_X, row_top - PAD_Y - cell.height)
                self._text, self._look = self.canv.beginText(), None
                continue
            if not cell:
                continue
            if self._look != (font, color):  # set only when it changes: the header, the body, the total
                self._text.setFont(font, FONT_SIZE, LEADING)
                self._text.setFillColor(color)
                self._look = (font, color)
            y = row_top - PAD_Y - FONT_SIZE
            for line in cell.split("\n"):
                if col == 3:  # hours, right-aligned
                    self._text.setTextOrigin(x[col + 1] - PAD_X - _width(line, font), y)
                else:
                    self._text.setTextOrigin(x[col] + PAD_X, y)
                self._show(line, font)
                y -= LEADING

    def _show(self, line: str, font: str) -> None:
        """`textOut(line)`, its PDF operators made once per document: a month's detail repeats the same dates,
        people, work and hours thousands of times, and encoding each for the embedded font is most of the cost.
        The operators depend on the font subset the text object is in (kept in the key), and a string keeps the
        glyph codes a document first gave it, so a repeated string is written exactly as textOut writes it."""
        t = self._text
        cache = self._encoded
        key = (font, line, t._curSubset)
        hit = cache.get(key)
        if hit is None:
            hit = cache[key] = (t._formatText(line), t._curSubset)
        t._code.append(hit[0])
        t._curSubset = hit[1]
