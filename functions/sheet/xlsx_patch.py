"""Write only what changed into an .xlsx file: the cells a run changed are spliced into the XML of the tabs
that changed; every other byte of those tabs (a person's formats, formulas, notes, validations, widths,
protection) and every other part of the file is kept as it was.

An .xlsx file is a zip of XML parts: one `xl/worksheets/sheetN.xml` per tab, whose `<sheetData>` holds
`<row r="7">` elements of `<c r="K7" s="3" t="..."><v>..</v></c>` cells in order. A changed cell is written
anew (text as an inline string, so it is never a formula; a number or date with the column's number
format, found or added in `xl/styles.xml`); a row the tab does not have yet is inserted in order.

Files this cannot splice safely (namespace prefixes, cells without references, the 1904 date system, a
changed cell holding a shared formula) raise `Unsupported`; the caller then rewrites the file the slow way.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from ..values import CELL_TEXT_LIMIT, clean_text
from .contract import column_letter

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10}
EPOCH = datetime(1899, 12, 30)
EPOCH_DAY = EPOCH.date()

_ROW = re.compile(rb"<row\b[^>]*?(?:/>|>.*?</row>)", re.DOTALL)
_ROW_NUM = re.compile(rb'^<row\b[^>]*?\sr="(\d+)"')
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)
_CELL_REF = re.compile(rb'<c\b[^>]*?\sr="([A-Z]+)\d+"')
_NO_REF = re.compile(rb"<c\b(?![^>]*\sr=)")
_ATTR_R = re.compile(rb'\sr="([A-Z]+)(\d+)"')
_ATTR_S = re.compile(rb'\ss="(\d+)"')
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"\s*/>')
_SPANS = re.compile(rb'\sspans="[^"]*"')


class Unsupported(Exception):
    """The file has a shape this module does not splice; rewrite it whole instead."""


def col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


# --- the parts -------------------------------------------------------------------------------------------------


def sheet_members(z: zipfile.ZipFile) -> dict[str, str]:
    """tab name -> the zip member holding its XML."""
    book = z.read("xl/workbook.xml").decode("utf-8")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    if re.search(r'date1904="(1|true)"', book):
        raise Unsupported("the workbook uses the 1904 date system")
    targets = {}
    for m in re.finditer(r"<(?:\w+:)?Relationship\b([^>]*)>", rels):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        targets[attrs.get("Id", "")] = attrs.get("Target", "")
    out = {}
    for m in re.finditer(r"<(?:\w+:)?sheet\b([^>]*?)/?>", book):
        attrs = dict(re.findall(r'([\w:]+)="([^"]*)"', m.group(1)))
        rid = next((v for k, v in attrs.items() if k.endswith(":id")), "")
        target = targets.get(rid, "")
        member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        out[_unescape(attrs.get("name", ""))] = member
    return out


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


# --- a tab -----------------------------------------------------------------------------------------------------


def patch_sheet(
    xml: bytes,
    changes: Mapping[int, Mapping[int, Any]],
    col_formats: Mapping[int, str | None],
    styles: Styles,
) -> bytes:
    """The sheet XML with `changes` ({row: {col: value}}, 1-based) spliced in."""
    if b"<x:" in xml[:2000] or re.search(rb"<\w+:sheetData\b", xml):
        raise Unsupported("the sheet uses namespace prefixes")
    start = xml.find(b"<sheetData")
    if start < 0:
        raise Unsupported("the sheet has no sheetData")
    open_end = xml.index(b">", start) + 1
    if xml[open_end - 2 : open_end] == b"/>":  # <sheetData/>: an empty tab
        head, body, tail = xml[:start] + b"<sheetData>", b"", b"</sheetData>" + xml[open_end:]
    else:
        close = xml.index(b"</sheetData>", open_end)
        head, body, tail = xml[:open_end], xml[open_end:close], xml[close:]
    pending = sorted(changes)
    out: list[bytes] = []
    last_row = 0
    max_col = 0
    at = 0
    i = 0
    for m in _ROW.finditer(body):
        row_xml = m.group(0)
        n = _ROW_NUM.match(row_xml)
        r = int(n.group(1)) if n else last_row + 1
        if not n:
            raise Unsupported("a row without its number")
        while i < len(pending) and pending[i] < r:  # a new row before this one
            out.append(body[at : m.start()])
            at = m.start()
            out.append(_new_row(pending[i], changes[pending[i]], col_formats, styles))
            i += 1
        if i < len(pending) and pending[i] == r:
            out.append(body[at : m.start()])
            out.append(_patch_row(row_xml, r, changes[r], col_formats, styles))
            at = m.end()
            i += 1
        last_row = r
    out.append(body[at:])
    while i < len(pending):
        out.append(_new_row(pending[i], changes[pending[i]], col_formats, styles))
        i += 1
    for row in changes.values():
        if row:
            max_col = max(max_col, max(row))
    new_xml = head + b"".join(out) + tail
    return _with_dimension(new_xml, max(last_row, pending[-1] if pending else 0), max_col)


def _new_row(r: int, cells: Mapping[int, Any], col_formats: Mapping[int, str | None], styles: Styles) -> bytes:
    row = str(r)
    body = b"".join(
        cell_xml(_letter(c) + row, v, None, col_formats.get(c), styles)
        for c, v in sorted(cells.items())
        if v is not None and v != ""
    )
    return b'<row r="%d">%s</row>' % (r, body) if body else b""


_LETTERS: dict[int, str] = {}


def _letter(c: int) -> str:
    letter = _LETTERS.get(c)
    if letter is None:
        letter = _LETTERS[c] = column_letter(c)
    return letter


def _patch_row(
    row_xml: bytes, r: int, cells: Mapping[int, Any], col_formats: Mapping[int, str | None], styles: Styles
) -> bytes:
    tag_end = row_xml.index(b">") + 1
    if row_xml[tag_end - 2 : tag_end] == b"/>":
        open_tag, inner = row_xml[: tag_end - 2] + b">", b""
    else:
        open_tag, inner = row_xml[:tag_end], row_xml[tag_end : -len(b"</row>")]
    open_tag = _SPANS.sub(b"", open_tag)
    row = str(r)
    for c in sorted(cells):
        ref = _letter(c) + row
        at = inner.find(b'<c r="%s"' % ref.encode())
        insert_at = -1
        if at < 0:  # not where openpyxl, Excel and LibreOffice put it: look at every cell's reference
            if _NO_REF.search(inner):
                raise Unsupported("a cell without its reference")
            insert_at = len(inner)
            for m in _CELL_REF.finditer(inner):
                col = col_number(m.group(1))
                if col == c:  # written by a program that puts another attribute first
                    at = m.start()
                    break
                if col > c:
                    insert_at = m.start()
                    break
        if at >= 0:  # the cell is there: replace it, keeping its format
            head_end = inner.index(b">", at) + 1
            end = head_end if inner[head_end - 2 : head_end] == b"/>" else inner.index(b"</c>", head_end) + 4
            old = inner[at:end]
            if b"<f" in old and b'"shared"' in old and b"ref=" in old:
                raise Unsupported("a changed cell holds a shared formula")
            s = _ATTR_S.search(old[: head_end - at])
            new = cell_xml(ref, cells[c], int(s.group(1)) if s else None, col_formats.get(c), styles)
            inner = inner[:at] + new + inner[end:]
            continue
        # not there: insert it before the first cell to its right
        new = cell_xml(ref, cells[c], None, col_formats.get(c), styles)
        if not new:
            continue
        at = insert_at
        inner = inner[:at] + new + inner[at:]
    return open_tag + inner + b"</row>"


def _with_dimension(xml: bytes, max_row: int, max_col: int) -> bytes:
    m = _DIMENSION.search(xml[:4000])
    if m is None:
        return xml
    old = re.search(rb'ref="(?:[A-Z]+\d+:)?([A-Z]+)(\d+)"', m.group(0))
    old_col, old_row = (col_number(old.group(1)), int(old.group(2))) if old else (1, 1)
    ref = f'<dimension ref="A1:{column_letter(max(old_col, max_col, 1))}{max(old_row, max_row, 1)}"/>'.encode()
    return xml[: m.start()] + ref + xml[m.end() :]


# --- the file --------------------------------------------------------------------------------------------------


def patch_file(
    source: Path,
    target: str,
    changes: Mapping[str, Mapping[int, Mapping[int, Any]]],
    col_formats: Mapping[str, Mapping[int, str | None]],
) -> None:
    """Copy `source` to `target` with `changes` ({tab: {row: {col: value}}}) spliced into their tabs."""
    with zipfile.ZipFile(source) as zin:
        members = sheet_members(zin)
        missing = [t for t in changes if t not in members]
        if missing:
            raise Unsupported(f"no part for the tabs {missing}")
        styles = Styles(zin.read("xl/styles.xml"))
        patched = {
            members[tab]: patch_sheet(zin.read(members[tab]), rows, col_formats.get(tab, {}), styles)
            for tab, rows in changes.items()
        }
        if styles.changed():
            patched["xl/styles.xml"] = styles.render()
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
            for info in zin.infolist():
                data = patched.get(info.filename)
                if data is None:
                    data = zin.read(info.filename)
                zout.writestr(_fresh_info(info), data)


def _fresh_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    out.compress_type = zipfile.ZIP_DEFLATED
    out.external_attr = info.external_attr
    return out


def cell_styles(z: zipfile.ZipFile, member: str, styles: Styles, cols: set[int]) -> dict[tuple[int, int], str]:
    """{(row, col): number format} of the cells of `cols` (1-based) in one tab (for the small settings tabs)."""
    out = {}
    for m in _CELL.finditer(z.read(member)):
        ref = _ATTR_R.search(m.group(1))
        if ref is None:
            continue
        c = col_number(ref.group(1))
        if c in cols:
            s = _ATTR_S.search(m.group(1))
            out[(int(ref.group(2)), c)] = styles.format_of(int(s.group(1))) if s else "General"
    return out


_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+\d+(?::[A-Z]+\d+)?)"')


def merged_ranges(path: Path) -> list[tuple[str, str]]:
    """(tab, "T2:T3") for every merged range, read from the file's XML (no full load of the workbook)."""
    try:
        with zipfile.ZipFile(path) as z:
            book = ElementTree.fromstring(z.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
            targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("rel:Relationship", _NS)}
            out = []
            for sheet in book.findall("m:sheets/m:sheet", _NS):
                target = targets.get(sheet.get(f"{{{_NS['r']}}}id"), "")
                member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                if member not in z.namelist():
                    continue
                data = z.read(member)
                out += [(sheet.get("name", ""), m.decode()) for m in _MERGE_CELL.findall(data)]
            return out
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError):
        return []  # not a workbook this can read: loading it says why
