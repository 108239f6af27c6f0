"""Write only what changed into an .xlsx file: the cells a run changed are spliced into the XML of the tabs
that changed; every other byte of those tabs (a person's formats, formulas, notes, validations, widths,
protection) and every other part of the file is kept as it was.

An .xlsx file is a zip of XML parts: one `xl/worksheets/sheetN.xml` per tab, whose `<sheetData>` holds
`<row r="7">` elements of `<c r="K7" s="3" t="..."><v>..</v></c>` cells in order. A changed cell is written
anew (xlsx_cells.py: text as an inline string, so it is never a formula; a number or date with the column's
number format, found or added in `xl/styles.xml`); a row the tab does not have yet is inserted in order.

A tab is streamed through, a few MB of its XML at a time, straight into the new zip: a Time tab of 100,000
rows is 90 MB of XML, and holding it (and its patched copy) whole cost more memory than the rows themselves.
Its `<dimension>` (the used range, in the tab's head) grows to cover the rows and columns written.

Files this cannot splice safely (namespace prefixes, cells without references, the 1904 date system, a
changed cell holding a shared formula) raise `Unsupported`; the caller then rewrites the file the slow way.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .contract import column_letter
from .xlsx_cells import Styles, Unsupported, _unescape, cell_xml, col_number

__all__ = ["Styles", "Unsupported", "cell_styles", "patch_file", "patch_sheet", "sheet_members"]

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CHUNK = 1 << 22  # 4 MB of a tab's XML at a time

_ROW_NUM = re.compile(rb'\sr="(\d+)"')
_PREFIXED = re.compile(rb"<\w+:sheetData\b")
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)
_CELL_REF = re.compile(rb'<c\b[^>]*?\sr="([A-Z]+)\d+"')
_NO_REF = re.compile(rb"<c\b(?![^>]*\sr=)")
_ATTR_R = re.compile(rb'\sr="([A-Z]+)(\d+)"')
_ATTR_S = re.compile(rb'\ss="(\d+)"')
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"\s*/>')
_SPANS = re.compile(rb'\sspans="[^"]*"')


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


# --- a tab -----------------------------------------------------------------------------------------------------


def patch_sheet(
    xml: bytes,
    changes: Mapping[int, Mapping[int, Any]],
    col_formats: Mapping[int, str | None],
    styles: Styles,
    chunk_size: int = CHUNK,
) -> bytes:
    """The sheet XML with `changes` ({row: {col: value}}, 1-based) spliced in."""
    out: list[bytes] = []
    at = [0]

    def read(n: int) -> bytes:
        chunk = xml[at[0] : at[0] + n]
        at[0] += len(chunk)
        return chunk

    splice_sheet(read, out.append, changes, col_formats, styles, chunk_size)
    return b"".join(out)


def splice_sheet(
    read: Callable[[int], bytes],
    write: Callable[[bytes], Any],
    changes: Mapping[int, Mapping[int, Any]],
    col_formats: Mapping[int, str | None],
    styles: Styles,
    chunk_size: int = CHUNK,
) -> None:
    """Stream a tab's XML from `read(n)` to `write(data)` with `changes` ({row: {col: value}}, 1-based)
    spliced in, holding about `chunk_size` bytes of it at a time."""
    buf = read(chunk_size)
    if b"<x:" in buf[:2000]:
        raise Unsupported("the sheet uses namespace prefixes")
    while True:  # the head: everything before <sheetData>, and its open tag
        start = buf.find(b"<sheetData")
        open_end = buf.find(b">", start) + 1 if start >= 0 else 0
        if open_end > 0:
            break
        if _PREFIXED.search(buf):
            raise Unsupported("the sheet uses namespace prefixes")
        chunk = read(chunk_size)
        if not chunk:
            raise Unsupported("the sheet has no sheetData")
        buf += chunk
    pending = sorted(changes)
    max_col = max((max(row) for row in changes.values() if row), default=0)
    write(_with_dimension(buf[:start], pending[-1] if pending else 0, max_col))
    if buf[open_end - 2 : open_end] == b"/>":  # <sheetData/>: an empty tab
        write(b"<sheetData>")
        write(b"".join(_new_row(r, changes[r], col_formats, styles) for r in pending))
        write(b"</sheetData>")
        _copy_rest(buf[open_end:], read, write, chunk_size)
        return
    write(buf[start:open_end])
    body, state = buf[open_end:], [0]  # state: how many of `pending` are written
    while True:
        close = body.find(b"</sheetData>")
        if close >= 0:
            write(_splice_rows(body[:close], pending, state, changes, col_formats, styles))
            write(b"".join(_new_row(r, changes[r], col_formats, styles) for r in pending[state[0] :]))
            _copy_rest(body[close:], read, write, chunk_size)
            return
        cut = body.rfind(b"<row")  # the rows before the last one that starts here are complete
        if cut > 0:
            write(_splice_rows(body[:cut], pending, state, changes, col_formats, styles))
            body = body[cut:]
        chunk = read(chunk_size)
        if not chunk:
            raise Unsupported("the sheet's sheetData is not closed")
        body += chunk


def _copy_rest(data: bytes, read: Callable[[int], bytes], write: Callable[[bytes], Any], size: int) -> None:
    write(data)
    while chunk := read(size):
        write(chunk)


def _splice_rows(
    block: bytes,
    pending: list[int],
    state: list[int],
    changes: Mapping[int, Mapping[int, Any]],
    col_formats: Mapping[int, str | None],
    styles: Styles,
) -> bytes:
    """Complete rows of a tab's sheetData with the changed ones patched and the new ones inserted in order."""
    out: list[bytes] = []
    i, n = state[0], len(pending)
    at = pos = 0
    while i < n:
        s = block.find(b"<row", pos)
        if s < 0:
            break
        gt = block.index(b">", s)
        e = gt + 1 if block[gt - 1] == 47 else block.index(b"</row>", gt) + 6  # 47: "/", a row with no cells
        m = _ROW_NUM.search(block, s, gt)
        if m is None:
            raise Unsupported("a row without its number")
        r = int(m.group(1))
        while i < n and pending[i] < r:  # a new row before this one
            out.append(block[at:s])
            at = s
            out.append(_new_row(pending[i], changes[pending[i]], col_formats, styles))
            i += 1
        if i < n and pending[i] == r:
            out.append(block[at:s])
            out.append(_patch_row(block[s:e], r, changes[r], col_formats, styles))
            at = e
            i += 1
        pos = e
    state[0] = i
    out.append(block[at:])
    return b"".join(out)


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
    if b"spans=" in open_tag:
        open_tag = _SPANS.sub(b"", open_tag)
    row = str(r)
    # every cell written `<c r="..."` first (openpyxl, Excel, LibreOffice): a cell is found by its reference
    plain = inner.count(b"<c") == inner.count(b'<c r="')
    for c in sorted(cells):
        ref = _letter(c) + row
        at = inner.find(b'<c r="%s"' % ref.encode())
        insert_at = -1
        if at < 0 and plain:  # not there: it goes before the first cell to its right, if any
            insert_at = len(inner)
            last = inner.rfind(b'<c r="')
            if last >= 0 and col_number(inner[last + 6 : last + 9].rstrip(b'0123456789"')) > c:
                for right in range(c + 1, c + 16384):
                    found = inner.find(b'<c r="%s%s"' % (_letter(right).encode(), row.encode()))
                    if found >= 0:
                        insert_at = found
                        break
        elif at < 0:  # another program's order of attributes: look at every cell's reference
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
        new = cell_xml(ref, cells[c], None, col_formats.get(c), styles)
        if new:
            inner = inner[:insert_at] + new + inner[insert_at:]
    return open_tag + inner + b"</row>"


def _with_dimension(head: bytes, max_row: int, max_col: int) -> bytes:
    """The tab's head with its used range grown to cover the rows and columns written."""
    m = _DIMENSION.search(head)
    if m is None:
        return head
    old = re.search(rb'ref="(?:[A-Z]+\d+:)?([A-Z]+)(\d+)"', m.group(0))
    old_col, old_row = (col_number(old.group(1)), int(old.group(2))) if old else (1, 1)
    ref = f'<dimension ref="A1:{column_letter(max(old_col, max_col, 1))}{max(old_row, max_row, 1)}"/>'.encode()
    return head[: m.start()] + ref + head[m.end() :]


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
        tabs = {members[tab]: tab for tab in changes}
        infos = zin.infolist()
        # styles.xml is written after the tabs whose new cells may add a format to it (it usually is last)
        later = [i for i in infos if i.filename == "xl/styles.xml"]
        names = [i.filename for i in infos]
        if later and any(names.index(m) > names.index("xl/styles.xml") for m in tabs if m in names):
            infos = [i for i in infos if i.filename != "xl/styles.xml"] + later
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
            for info in infos:
                tab = tabs.get(info.filename)
                if tab is not None:
                    big = info.file_size > 1 << 30  # a part over 2 GB needs the zip64 sizes
                    with zin.open(info) as src, zout.open(_fresh_info(info), "w", force_zip64=big) as dst:
                        splice_sheet(src.read, dst.write, changes[tab], col_formats.get(tab, {}), styles)
                elif info.filename == "xl/styles.xml" and styles.changed():
                    zout.writestr(_fresh_info(info), styles.render())
                else:
                    zout.writestr(_fresh_info(info), zin.read(info.filename))


def _fresh_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    out.compress_type = zipfile.ZIP_DEFLATED
    out._compresslevel = 1  # type: ignore[attr-defined]  # a streamed part is deflated fast, as writestr's are
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
