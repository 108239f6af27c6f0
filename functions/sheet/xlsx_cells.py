"""The cells of an .xlsx tab as XML: a value as the `<c>` element a spreadsheet program reads back as the same
value (text as an inline string, never a formula; a number or date with its column's number format), and the
cell formats of `xl/styles.xml` (found, or added). xlsx_patch.py splices them into a tab.

    cell_xml("T7", "INV-0001", None, None, styles)   # b'<c r="T7" t="inlineStr"><is><t>INV-0001</t></is></c>'
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from ..values import CELL_TEXT_LIMIT, clean_text

BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10}
EPOCH = datetime(1899, 12, 30)
EPOCH_DAY = EPOCH.date()


class Unsupported(Exception):
    """The file has a shape this module does not splice; rewrite it whole instead."""


def col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _unescape(s: str) -> str:
    return (
        s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")
    )


class Styles:
    """The cell formats of xl/styles.xml: find the one a cell needs, or add it."""

    def __init__(self, xml: bytes):
        self.xml = xml.decode("utf-8")
        if re.search(r"<\w+:cellXfs\b", self.xml):
            raise Unsupported("styles.xml uses namespace prefixes")
        self.formats = {code: i for code, i in BUILTIN_FORMATS.items()}
        self.codes: dict[int, str] = {i: code for code, i in BUILTIN_FORMATS.items()}
        for m in re.finditer(r'<numFmt\b[^>]*numFmtId="(\d+)"[^>]*formatCode="([^"]*)"', self.xml):
            code = _unescape(m.group(2))
            self.formats.setdefault(code, int(m.group(1)))
            self.codes[int(m.group(1))] = code
        cell_xfs = re.search(r"<cellXfs\b[^>]*>(.*?)</cellXfs>", self.xml, re.DOTALL)
        if cell_xfs is None:
            raise Unsupported("styles.xml has no cellXfs")
        self.xfs = re.findall(r"<xf\b[^>]*?(?:/>|>.*?</xf>)", cell_xfs.group(1), re.DOTALL)
        self.added_xfs: list[str] = []
        self.added_formats: list[tuple[int, str]] = []
        self._memo: dict[tuple[int, str], int] = {}

    def format_of(self, s: int) -> str:
        if s >= len(self.xfs):
            return "General"
        m = re.search(r'numFmtId="(\d+)"', self.xfs[s])
        return self.codes.get(int(m.group(1)), "General") if m else "General"

    def with_format(self, s: int, code: str) -> int:
        """The index of the cell format that is format `s` with number format `code`."""
        key = (s, code)
        if key in self._memo:
            return self._memo[key]
        fmt_id = self.formats.get(code)
        if fmt_id is None:
            fmt_id = max([163, *self.codes]) + 1
            self.formats[code], self.codes[fmt_id] = fmt_id, code
            self.added_formats.append((fmt_id, code))
        base = self.xfs[s] if s < len(self.xfs) else self.xfs[0]
        if re.search(rf'numFmtId="{fmt_id}"', base):
            self._memo[key] = s
            return s
        xf = re.sub(r'\snumFmtId="\d+"', "", base, count=1)
        xf = re.sub(r'\sapplyNumberFormat="\w+"', "", xf, count=1)
        xf = xf.replace("<xf", f'<xf numFmtId="{fmt_id}" applyNumberFormat="1"', 1)
        for i, existing in enumerate(self.xfs):
            if existing == xf:
                self._memo[key] = i
                return i
        self.xfs.append(xf)
        self.added_xfs.append(xf)
        self._memo[key] = len(self.xfs) - 1
        return len(self.xfs) - 1

    def changed(self) -> bool:
        return bool(self.added_xfs or self.added_formats)

    def render(self) -> bytes:
        xml = self.xml
        if self.added_formats:
            new = "".join(
                f'<numFmt numFmtId="{i}" formatCode="{escape(c, {chr(34): "&quot;"})}"/>' for i, c in self.added_formats
            )
            xml = re.sub(r"<numFmts\b[^>]*/>", "", xml, count=1)  # an empty list, written as one tag
            m = re.search(r"<numFmts\b[^>]*>(.*?)</numFmts>", xml, re.DOTALL)
            if m:
                count = len(re.findall(r"<numFmt\b", m.group(1))) + len(self.added_formats)
                xml = xml[: m.start()] + f'<numFmts count="{count}">{m.group(1)}{new}</numFmts>' + xml[m.end() :]
            else:
                at = re.search(r"<styleSheet\b[^>]*>", xml)
                assert at is not None
                xml = xml[: at.end()] + f'<numFmts count="{len(self.added_formats)}">{new}</numFmts>' + xml[at.end() :]
        if self.added_xfs:
            m = re.search(r"<cellXfs\b[^>]*>(.*?)</cellXfs>", xml, re.DOTALL)
            assert m is not None
            body = m.group(1) + "".join(self.added_xfs)
            xml = xml[: m.start()] + f'<cellXfs count="{len(self.xfs)}">{body}</cellXfs>' + xml[m.end() :]
        self.added_formats, self.added_xfs = [], []
        return xml.encode("utf-8")


# --- cells -----------------------------------------------------------------------------------------------------


def serial(value: date | datetime) -> str:
    """A date as the spreadsheet's day number (1900 system)."""
    if not isinstance(value, datetime):
        return str((value - EPOCH_DAY).days)
        value = datetime(value.year, value.month, value.day)
    delta = value.replace(tzinfo=None) - EPOCH
    days = delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000
    return str(int(days)) if days == int(days) else repr(days)


def _number_text(value: Any) -> str | None:
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else None
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else None
    return str(int(value))


def cell_xml(ref: str, value: Any, s: int | None, fmt: str | None, styles: Styles) -> bytes:
    """One cell as XML; `s` is the cell's present format, `fmt` the column's number format (or None)."""
    kind = type(value)
    if kind is str:
        if not value:
            return f'<c r="{ref}" s="{s}"/>'.encode() if s else b""
        if not value.isprintable() or len(value) > CELL_TEXT_LIMIT:
            value = clean_text(value)[0]  # a control character would make the file unreadable
        space = ' xml:space="preserve"' if value[0].isspace() or value[-1].isspace() or "\n" in value else ""
        style = f' s="{s}"' if s else ""
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>'.encode()
    if value is None:
        return f'<c r="{ref}" s="{s}"/>'.encode() if s else b""
    if kind is bool:
        if fmt:
            s = styles.with_format(s or 0, fmt)
        style = f' s="{s}"' if s else ""
        return f'<c r="{ref}"{style} t="b"><v>{1 if value else 0}</v></c>'.encode()
    if isinstance(value, (date, datetime)):
        code = fmt or ("yyyy-mm-dd h:mm:ss" if isinstance(value, datetime) else "yyyy-mm-dd")
        return f'<c r="{ref}" s="{styles.with_format(s or 0, code)}"><v>{serial(value)}</v></c>'.encode()
    if isinstance(value, (int, float, Decimal)):
        number = _number_text(value)
        if number is not None:
            if fmt:
                s = styles.with_format(s or 0, fmt)
            style = f' s="{s}"' if s else ""
            return f'<c r="{ref}"{style}><v>{number}</v></c>'.encode()
    return cell_xml(ref, str(value), s, fmt, styles)
