"""A small, stateful emulator of the Google Sheets API v4 (and the OAuth token endpoint), for tests.

It speaks the wire format of the public reference closely enough for gspread, unmodified, to drive it:

    GET  /v4/spreadsheets/{id}                       spreadsheets.get (sheets with their charts)
    POST /v4/spreadsheets                            spreadsheets.create
    POST /v4/spreadsheets/{id}:batchUpdate           addSheet, updateSheetProperties, setDataValidation,
                                                     addProtectedRange, repeatCell, addConditionalFormatRule,
                                                     updateDimensionProperties, appendDimension,
                                                     updateCells (notes, values), deleteSheet, addChart
                                                     (the reply carries its chartId), updateChartSpec -- all
                                                     atomic: one failing request applies none
    GET  /v4/spreadsheets/{id}/values/{range}        values.get
    GET  /v4/spreadsheets/{id}/values:batchGet       values.batchGet
    PUT  /v4/spreadsheets/{id}/values/{range}        values.update
    POST /v4/spreadsheets/{id}/values:batchUpdate    values.batchUpdate (atomic)
    POST /v4/spreadsheets/{id}/values/{range}:append values.append
    POST /v4/spreadsheets/{id}/values/{range}:clear  values.clear
    POST /token                                      OAuth 2 JWT-bearer grant (service accounts)
    GET  /v1/projects/-/serviceAccounts/{email}/allowedLocations   what google-auth asks IAM after a token

Errors have Google's shape, `{"error": {"code", "message", "status"}}`, with `details` (a BadRequest's
fieldViolations) when the payload itself is invalid. A spreadsheet is shared with a list of editors: a caller
whose service account is not on it gets 403 PERMISSION_DENIED (`emu.share(id, email)`, `emu.unshare(...)`;
`create()` shares with the tests' service account). `spreadsheets.get` honours `fields` (`a.b`, `a/b`,
`a(b,c)`), `includeGridData` and `ranges`; ranges in answers are quoted only where A1 notation needs it
(`Sheet1!A1`, `'My tab'!A1`). docs/emulators.md lists what is modelled and from where. Faults are switched on from tests
(`fail_next(429, times=2, retry_after=1)`, `fail_after_commit=True`, `delay=0.3`; at one call only:
`fail_at("500", "values:batchGet")`, `fail_at("drop", ":batchUpdate")` commits then answers 500,
`fail_at("expire", ":batchUpdate")` expires every access token as the call arrives), and every request is
logged in `calls` so tests and the benchmark can count API calls and bytes.

Run it on its own (state lives in memory until you stop it):

    python -m tests.emulators.sheets --port 8089 --spreadsheet demo-sheet --no-auth
    python -m tests.emulators.sheets --port 8089 --key-dir /tmp/emu   # with a service-account key for it

In tests, `with SheetsEmulator() as emu:` (or `emu.start()` ... `emu.stop()`) serves it on a free port at
`emu.base_url`; `SheetsEmulator(key_dir=d)` also writes a key file for its /token (`emu.key_file`) when it starts.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.emulators._server import LocalServer, serve
from tests.emulators.google_certs import SERVICE_ACCOUNT, service_account_file

CELL_LIMIT = 10_000_000  # Google's per-spreadsheet cell limit
REQUEST_LIMIT = 10_485_760  # Google's request body limit ("Request payload size exceeds the limit")
_EPOCH = date(1899, 12, 30)
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    def __init__(self, code: int, message: str, field: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field  # the payload field a BadRequest names in its details


def a1_title(title: str) -> str:
    """A tab name as Google writes it in the ranges it answers: bare when A1 notation allows, else quoted
    (a name with a space or punctuation, or one that reads as a cell, like `D3`)."""
    bare = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) and not re.fullmatch(
        r"[A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*", title
    )
    return title if bare else "'" + title.replace("'", "''") + "'"


def parse_mask(text: str) -> dict[str, Any]:
    """A `fields` mask as a tree: `sheets(properties(title),data/rowData)` -> {sheets: {properties: {title:
    None}, data: {rowData: None}}}; None means the whole value. Paths use `.` or `/`, groups `(a,b)`."""
    pos = 0

    def name() -> str:
        nonlocal pos
        m = re.compile(r"[A-Za-z0-9_@]+").match(text, pos)
        if not m:
            raise ApiError(400, f"Invalid field selection {text}", "fields")
        pos = m.end()
        return m.group(0)

    def group(tree: dict[str, Any]) -> dict[str, Any]:
        nonlocal pos
        while True:
            path(tree)
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            return tree

    def path(tree: dict[str, Any]) -> None:
        nonlocal pos
        key = name()
        if pos < len(text) and text[pos] in "./":
            pos += 1
            sub = tree.get(key, {})
            if sub is not None:
                tree[key] = sub
                path(sub)
        elif pos < len(text) and text[pos] == "(":
            pos += 1
            sub = tree.get(key, {})
            if sub is not None:
                tree[key] = group(sub)
            else:
                group({})
            if pos >= len(text) or text[pos] != ")":
                raise ApiError(400, f"Invalid field selection {text}", "fields")
            pos += 1
        else:
            tree[key] = None

    tree = group({})
    if pos != len(text):
        raise ApiError(400, f"Invalid field selection {text}", "fields")
    return tree


def apply_mask(value: Any, tree: dict[str, Any] | None) -> Any:
    """Only what the mask names; grid rows and cells left empty by it are trimmed as Google trims them."""
    if tree is None:
        return value
    if isinstance(value, list):
        return [apply_mask(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, sub in tree.items():
        if key in value:
            kept = apply_mask(value[key], sub)
            if key in ("rowData", "values") and isinstance(kept, list):
                while kept and kept[-1] in ({}, None):
                    kept.pop()
                if not kept:
                    continue
            out[key] = kept
    return out


# ---------------------------------------------------------------- A1 notation

_A1 = re.compile(r"^(?P<col1>[A-Z]*)(?P<row1>\d*)(?::(?P<col2>[A-Z]*)(?P<row2>\d*))?$")


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def col_letters(index: int) -> str:
    index += 1
    out = ""
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def split_range(a1: str) -> tuple[str, str]:
    """`'It''s'!A1:B2` -> (`It's`, `A1:B2`); a bare sheet name -> (name, "")."""
    a1 = a1.strip()
    if a1.startswith("'"):
        i, title = 1, ""
        while i < len(a1):
            if a1[i] == "'":
                if i + 1 < len(a1) and a1[i + 1] == "'":
                    title, i = title + "'", i + 2
                    continue
                break
            title, i = title + a1[i], i + 1
        rest = a1[i + 1 :]
        return title, rest[1:] if rest.startswith("!") else rest
    if "!" in a1:
        title, _, cells = a1.rpartition("!")
        return title, cells
    return a1, ""


@dataclass
class Box:
    """0-based, end-exclusive; None means open (to the edge of the data or grid)."""

    r1: int
    c1: int
    r2: int | None
    c2: int | None
    anchor: bool = False  # a single cell: for writes, where the values start (they may run past it)


def parse_cells(cells: str) -> Box:
    if not cells:
        return Box(0, 0, None, None)
    m = _A1.match(cells.upper())
    if not m:
        raise ApiError(400, f"Unable to parse range: {cells}")
    c1, r1, c2, r2 = m.group("col1"), m.group("row1"), m.group("col2"), m.group("row2")
    single = m.group(0).find(":") < 0
    if single:
        c2, r2 = c1, r1
    return Box(
        r1=int(r1) - 1 if r1 else 0,
        c1=col_index(c1) if c1 else 0,
        r2=int(r2) if r2 else None,
        c2=col_index(c2) + 1 if c2 else None,
        anchor=single,
    )


# ---------------------------------------------------------------- the model


@dataclass
class Sheet:
    props: dict[str, Any]
    cells: dict[tuple[int, int], Any] = field(default_factory=dict)
    formats: list[tuple[dict, dict]] = field(default_factory=list)  # (gridRange, userEnteredFormat), in order
    validations: list[tuple[dict, dict | None]] = field(default_factory=list)
    protected: list[dict] = field(default_factory=list)
    conditional: list[dict] = field(default_factory=list)
    dimensions: list[dict] = field(default_factory=list)
    notes: dict[tuple[int, int], str] = field(default_factory=dict)
    charts: list[dict] = field(default_factory=list)  # EmbeddedChart objects anchored on this sheet

    @property
    def title(self) -> str:
        return self.props["title"]

    @property
    def grid(self) -> dict[str, Any]:
        return self.props["gridProperties"]

    def extent(self) -> tuple[int, int]:
        rows = max((r for r, _ in self.cells), default=-1) + 1
        cols = max((c for _, c in self.cells), default=-1) + 1
        return rows, cols

    def number_format(self, r: int, c: int) -> dict | None:
        found = None
        for rng, fmt in self.formats:
            if _inside(rng, r, c) and "numberFormat" in fmt:
                found = fmt["numberFormat"]
        return found

    def validation(self, r: int, c: int) -> dict | None:
        found = None
        for rng, rule in self.validations:
            if _inside(rng, r, c):
                found = rule
        return found


def _inside(rng: dict, r: int, c: int) -> bool:
    return rng.get("startRowIndex", 0) <= r < rng.get("endRowIndex", 10**9) and rng.get(
        "startColumnIndex", 0
    ) <= c < rng.get("endColumnIndex", 10**9)


@dataclass
class Spreadsheet:
    id: str
    title: str
    sheets: list[Sheet] = field(default_factory=list)
    next_id: int = 1
    next_protected: int = 1
    editors: set[str] = field(default_factory=lambda: {SERVICE_ACCOUNT})  # who it is shared with

    def clone(self) -> Spreadsheet:
        """A copy to apply a batch on; stored cell values and format entries are never mutated in place."""
        sheets = [
            Sheet(
                props=copy.deepcopy(s.props),
                cells=dict(s.cells),
                formats=list(s.formats),
                validations=list(s.validations),
                protected=list(s.protected),
                conditional=list(s.conditional),
                dimensions=list(s.dimensions),
                notes=dict(s.notes),
                charts=copy.deepcopy(s.charts),
            )
            for s in self.sheets
        ]
        return Spreadsheet(
            id=self.id,
            title=self.title,
            sheets=sheets,
            next_id=self.next_id,
            next_protected=self.next_protected,
            editors=set(self.editors),
        )

    def sheet(self, title: str) -> Sheet:
        for s in self.sheets:
            if s.title == title:
                return s
        raise ApiError(400, f"Unable to parse range: {title}")

    def by_id(self, sheet_id: int) -> Sheet:
        for s in self.sheets:
            if s.props["sheetId"] == sheet_id:
                return s
        raise ApiError(400, f"No grid with id: {sheet_id}")

    def cell_count(self) -> int:
        return sum(s.grid["rowCount"] * s.grid["columnCount"] for s in self.sheets)

    def check_limit(self) -> None:
        if self.cell_count() > CELL_LIMIT:
            raise ApiError(
                400,
                f"This action would increase the number of cells in the workbook above the limit "
                f"of {CELL_LIMIT} cells.",
            )

    def add_sheet(self, props: dict) -> Sheet:
        title = props.get("title") or f"Sheet{len(self.sheets) + 1}"
        if any(s.title == title for s in self.sheets):
            raise ApiError(
                400,
                f'A sheet with the name "{title}" already exists. Please enter another name.',
            )
        sheet_id = props.get("sheetId", self.next_id)
        self.next_id = max(self.next_id, sheet_id) + 1
        if any(s.props["sheetId"] == sheet_id for s in self.sheets):
            raise ApiError(400, f"Sheet with id {sheet_id} already exists.")
        grid = {"rowCount": 1000, "columnCount": 26, **props.get("gridProperties", {})}
        s = Sheet(
            props={
                "sheetId": sheet_id,
                "title": title,
                "index": len(self.sheets),
                "sheetType": "GRID",
                "gridProperties": grid,
                **({"hidden": True} if props.get("hidden") else {}),
            }
        )
        self.sheets.append(s)
        self.check_limit()
        return s


# ---------------------------------------------------------------- values in and out


def _serial_to_date(serial: float) -> date:
    return _EPOCH + timedelta(days=int(serial))


def _format_date(serial: float, pattern: str) -> str:
    d = _serial_to_date(serial)
    out = pattern.replace("yyyy", f"{d.year:04d}").replace("mm", f"{d.month:02d}").replace("dd", f"{d.day:02d}")
    if "hh" in out:
        seconds = round((serial - int(serial)) * 86400)
        out = (
            out.replace("hh", f"{seconds // 3600:02d}")
            .replace("mm", f"{seconds // 60 % 60:02d}")
            .replace("ss", f"{seconds % 60:02d}")
        )
    return out


def _number_text(v: float | int) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return repr(v) if isinstance(v, float) else str(v)


def _percent_text(value: float | int, pattern: str) -> str:
    """What Google shows for a number in a percent format: 1 in "0.0%" is "100.0%", 0.125 in "0%" is "13%"."""
    places = len(pattern.split(".", 1)[1].rstrip("%")) if "." in pattern else 0
    scaled = (Decimal(str(value)) * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    shown = f"{scaled:,f}" if "#,##" in pattern else f"{scaled:f}"
    return shown + "%"


def render(sheet: Sheet, r: int, c: int, value: Any, value_render: str, date_render: str) -> Any:
    """A stored value as values.get returns it for the render options."""
    if isinstance(value, dict):  # a formula: {"formula": "=...", "value": ...}
        if value_render == "FORMULA":
            return value["formula"]
        value = value.get("value", "")
    fmt = sheet.number_format(r, c) or {}
    is_date = (
        fmt.get("type") in ("DATE", "DATE_TIME") and isinstance(value, (int, float)) and not isinstance(value, bool)
    )
    if value_render == "FORMATTED_VALUE":
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if is_date:
            return _format_date(value, fmt.get("pattern") or "yyyy-mm-dd")
        if isinstance(value, (int, float)):
            pattern = fmt.get("pattern", "")
            if fmt.get("type") == "PERCENT" or "%" in pattern:
                return _percent_text(value, pattern)
            if "0.00" in pattern:
                return f"{value:,.2f}" if "#,##" in pattern else f"{value:.2f}"
            return _number_text(value)
        return value
    if is_date and date_render == "FORMATTED_STRING":
        return _format_date(value, fmt.get("pattern") or "yyyy-mm-dd")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def accept(value: Any, input_option: str) -> tuple[Any, dict | None]:
    """A value as sent in a ValueRange, stored the way the input option says; may imply a date format."""
    if value is None:
        return None, None
    if isinstance(value, (bool, int, float)):
        return value, None
    if not isinstance(value, str):
        raise ApiError(400, f"Invalid value at 'data[0].values' ({type(value).__name__})")
    if input_option == "RAW" or value == "":
        return value, None
    # USER_ENTERED: parse as if typed into the UI
    if value.startswith("="):
        return {"formula": value, "value": "#NAME?"}, None
    if value.upper() in ("TRUE", "FALSE"):
        return value.upper() == "TRUE", None
    if _NUMBER.match(value.replace(",", "")):
        n = float(value.replace(",", ""))
        return (int(n) if n.is_integer() and "." not in value else n), None
    if _NUMBER.match(value[:-1].replace(",", "")) and value.endswith("%"):
        # typed 100% is stored as 1 and the cell takes a percent format (decimals as typed)
        n = Decimal(value[:-1].replace(",", "")) / 100
        pattern = "0.00%" if "." in value else "0%"
        return (int(n) if n == n.to_integral_value() else float(n)), {"type": "PERCENT", "pattern": pattern}
    m = _ISO_DATE.match(value)
    if m:
        serial = (date(int(m[1]), int(m[2]), int(m[3])) - _EPOCH).days
        return serial, {"type": "DATE", "pattern": "yyyy-mm-dd"}
    return value, None


# ---------------------------------------------------------------- the API


class SheetsEmulator(LocalServer):
    """The state and the operations; `start()` puts an HTTP server in front of it."""

    title, default_port = "Google Sheets API v4", 8089

    def __init__(self, require_auth: bool = True, key_dir: Path | str | None = None):
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.tokens: set[str] = set()
        self.token_emails: dict[str, str] = {}  # access token -> the service account it was issued to
        self.require_auth = require_auth
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.RLock()
        self._faults: list[tuple[int, int | None]] = []
        self.fail_after_commit = False
        self.at_call: list[list[Any]] = []  # [kind, "METHOD path" substring, times left]: see fail_at
        self.delay = 0.0
        self.key_dir = Path(key_dir) if key_dir else None
        self.key_file: Path | None = None

    # -- lifecycle (start/stop: LocalServer); run by hand: python -m tests.emulators.sheets ------------

    def start(self, port: int = 0) -> str:
        url = super().start(port)
        if self.key_dir:
            self.key_dir.mkdir(parents=True, exist_ok=True)
            self.key_file = service_account_file(self.key_dir, url + "/token")
        return url

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--spreadsheet", default="demo-sheet", help="id of an empty spreadsheet to create (default: %(default)s)"
        )
        parser.add_argument("--no-auth", action="store_true", help="accept requests without an access token")
        parser.add_argument(
            "--key-dir",
            help="write a service-account key for this emulator's /token into this "
            "folder (the adapter then signs in as the service account)",
        )

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> SheetsEmulator:
        emu = cls(require_auth=not args.no_auth, key_dir=args.key_dir)
        emu.create(args.spreadsheet)
        return emu

    def summary(self) -> str:
        ids = ", ".join(repr(sid) for sid in self.spreadsheets)
        return f"spreadsheet {ids}" + ("" if self.require_auth else ", no sign-in needed")

    def env(self) -> dict[str, str]:
        """The environment that points the Google Sheets adapter at this emulator (and its first spreadsheet)."""
        env = {"SHEET": "google", "GOOGLE_SHEETS_API_BASE_URL": self.base_url}
        if self.spreadsheets:
            env["GOOGLE_SHEET_ID"] = next(iter(self.spreadsheets))
        if self.key_file:
            env["GOOGLE_SHEETS_CREDENTIALS_FILE"] = str(self.key_file)
        return env

    def instructions(self, args: argparse.Namespace) -> list[str]:
        lines = []
        if self.require_auth and not self.key_file:
            lines.append("(requests need an access token from /token: pass --key-dir DIR for a key file, or --no-auth)")
        return [*lines, "then run `python main.py setup-sheet` (docs/google.md walks through the rest)."]

    # -- test switches

    def share(self, spreadsheet_id: str, *emails: str) -> None:
        """Share the spreadsheet with these emails as editors (the Share dialog)."""
        self.spreadsheets[spreadsheet_id].editors.update(emails)

    def unshare(self, spreadsheet_id: str, *emails: str) -> None:
        self.spreadsheets[spreadsheet_id].editors.difference_update(emails)

    def fail_next(self, code: int, times: int = 1, retry_after: int | None = None) -> None:
        self._faults.extend([(code, retry_after)] * times)

    def fail_at(self, kind: str, match: str, times: int = 1) -> None:
        """A fault at the calls whose "METHOD path" contains `match`: 429, 500, drop (committed, then 500)
        or expire (the access tokens' hour runs out as the call arrives: 401, the client must refresh)."""
        with self.lock:
            self.at_call.append([kind, match, times])

    def _fault_at(self, method: str, path: str) -> str:
        with self.lock:
            for fault in self.at_call:
                if fault[2] > 0 and fault[1] in f"{method} {path}":
                    fault[2] -= 1
                    return str(fault[0])
        return ""

    def sheets_calls(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["path"].startswith("/v4/")]

    def reset_calls(self) -> None:
        self.calls.clear()

    def create(self, spreadsheet_id: str, title: str = "Invoicing", tabs: tuple[str, ...] = ("Sheet1",)) -> Spreadsheet:
        ss = Spreadsheet(id=spreadsheet_id, title=title)
        for t in tabs:
            ss.add_sheet({"title": t})
        self.spreadsheets[spreadsheet_id] = ss
        return ss

    def values(self, spreadsheet_id: str, tab: str) -> list[list[Any]]:
        """A tab's stored values (formatted like UNFORMATTED_VALUE + FORMATTED_STRING), trailing blanks trimmed."""
        s = self.spreadsheets[spreadsheet_id].sheet(tab)
        return self._read(s, Box(0, 0, None, None), "UNFORMATTED_VALUE", "FORMATTED_STRING")

    # -- HTTP dispatch

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, dict]:
        url = urlsplit(raw_path)
        path = unquote(url.path)
        query = parse_qs(url.query, keep_blank_values=True)
        with self.lock:
            self.calls.append({"method": method, "path": path, "query": query, "bytes": len(body)})
        if self.delay:
            time.sleep(self.delay)
        try:
            if len(body) > REQUEST_LIMIT:
                raise ApiError(400, f"Request payload size exceeds the limit: {REQUEST_LIMIT} bytes.")
            if path == "/token":
                return 200, self._token(body), {}
            if path.startswith("/v1/projects/-/serviceAccounts/") and path.endswith("/allowedLocations"):
                # google-auth's regional access boundary lookup (IAM credentials API): "no restriction"
                return 200, {"locations": [], "encodedLocations": "0x0"}, {}
            at_call = self._fault_at(method, path) if path.startswith("/v4/") else ""
            if at_call == "expire":
                with self.lock:
                    self.tokens.clear()
            elif at_call in ("429", "500"):
                self._faults.insert(0, (int(at_call), 0 if at_call == "429" else None))
            caller = None  # anonymous (the emulator runs --no-auth): sharing is not checked
            if self.require_auth:
                auth = headers.get("authorization", "")
                if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
                    raise ApiError(
                        401,
                        "Request had invalid authentication credentials. Expected OAuth 2 access "
                        "token, login cookie or other valid authentication credential.",
                    )
                caller = self.token_emails.get(auth[7:], "")
            with self.lock:
                if self._faults:
                    code, retry_after = self._faults.pop(0)
                    extra = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                    message = (
                        "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute "
                        "per user'."
                        if code == 429
                        else "Internal error encountered."
                    )
                    return code, _error_body(code, message), extra
                payload = json.loads(body or b"{}") if body else {}
                self._check_shared(path, caller)
                result = self._route(method, path, query, payload)
                if caller is not None and method == "POST" and path == "/v4/spreadsheets":
                    self.spreadsheets[result["spreadsheetId"]].editors = {caller}  # the creator owns it
                if (self.fail_after_commit and method != "GET") or at_call == "drop":
                    self.fail_after_commit = False
                    return 500, _error_body(500, "Internal error encountered."), {}
                return 200, result, {}
        except ApiError as exc:
            return exc.code, _error_body(exc.code, exc.message, exc.field), {}
        except (ValueError, KeyError, TypeError) as exc:
            return 400, _error_body(400, f"Invalid JSON payload received. {exc}", "*"), {}

    def _check_shared(self, path: str, caller: str | None) -> None:
        m = re.match(r"^/v4/spreadsheets/([^/:]+)", path)
        ss = self.spreadsheets.get(m.group(1)) if m else None
        if ss is not None and caller is not None and caller not in ss.editors:
            raise ApiError(403, "The caller does not have permission")

    def _token(self, body: bytes) -> dict:
        form = parse_qs(body.decode())
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"] or not form.get("assertion"):
            raise ApiError(400, "invalid_grant")
        token = "ya29.emulator-" + secrets.token_hex(8)
        self.tokens.add(token)
        self.token_emails[token] = _assertion_issuer(form["assertion"][0])
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def _route(self, method: str, path: str, query: dict, payload: dict) -> dict:
        if method == "POST" and path == "/v4/spreadsheets":
            sid = "emu-" + secrets.token_hex(6)
            title = payload.get("properties", {}).get("title", "Untitled spreadsheet")
            self.create(sid, title, tuple(s["properties"]["title"] for s in payload.get("sheets", [])) or ("Sheet1",))
            return self._metadata(self.spreadsheets[sid])
        m = re.match(r"^/v4/spreadsheets/([^/:]+)(.*)$", path)
        if not m:
            raise ApiError(404, "Requested entity was not found.")
        ss = self.spreadsheets.get(m.group(1))
        if ss is None:
            raise ApiError(404, "Requested entity was not found.")
        rest = m.group(2)

        def q(k: str, d: str = "") -> str:
            return query.get(k, [d])[0]

        if method == "GET" and rest == "":
            grid = q("includeGridData", "false").lower() == "true"
            mask = parse_mask(q("fields")) if q("fields") else None
            if mask is not None and "data" in (mask.get("sheets") or {}):
                grid = True  # naming the grid data in the mask asks for it
            meta = self._metadata(ss, grid, query.get("ranges", []))
            return apply_mask(meta, mask)
        if method == "POST" and rest == ":batchUpdate":
            return self._batch_update(ss, payload)
        if method == "GET" and rest == "/values:batchGet":
            vr, dr = q("valueRenderOption", "FORMATTED_VALUE"), q("dateTimeRenderOption", "SERIAL_NUMBER")
            return {
                "spreadsheetId": ss.id,
                "valueRanges": [self._get(ss, r, vr, dr, q("majorDimension", "ROWS")) for r in query.get("ranges", [])],
            }
        if method == "POST" and rest == "/values:batchUpdate":
            return self._values_batch_update(ss, payload)
        if method == "POST" and rest == "/values:batchClear":
            return self._atomic(
                ss,
                lambda work: {
                    "spreadsheetId": ss.id,
                    "clearedRanges": [self._clear(work, r) for r in payload.get("ranges", [])],
                },
            )
        vm = re.match(r"^/values/(.+?)(:append|:clear)?$", rest)
        if vm:
            rng, action = vm.group(1), vm.group(2)
            if method == "GET" and not action:
                return self._get(
                    ss,
                    rng,
                    q("valueRenderOption", "FORMATTED_VALUE"),
                    q("dateTimeRenderOption", "SERIAL_NUMBER"),
                    q("majorDimension", "ROWS"),
                )
            option = q("valueInputOption")
            if method == "PUT" and not action:
                self._need_input_option(option)
                return self._atomic(ss, lambda work: self._update(work, {**payload, "range": rng}, option))
            if method == "POST" and action == ":append":
                self._need_input_option(option)
                return self._atomic(ss, lambda work: self._append(work, rng, payload, option))
            if method == "POST" and action == ":clear":
                return self._atomic(ss, lambda work: {"spreadsheetId": ss.id, "clearedRange": self._clear(work, rng)})
        raise ApiError(404, f"Method not found: {method} {path}")

    @staticmethod
    def _need_input_option(option: str) -> None:
        if option not in ("RAW", "USER_ENTERED"):
            raise ApiError(400, "Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")

    def _atomic(self, ss: Spreadsheet, fn: Any) -> dict:
        """Apply on a copy and swap it in only if everything succeeded: Google's all-or-nothing batches."""
        work = ss.clone()
        result = fn(work)
        work.check_limit()
        self.spreadsheets[ss.id] = work
        return result

    def _metadata(self, ss: Spreadsheet, grid: bool = False, ranges: list[str] | None = None) -> dict:
        wanted: dict[str, list[Box]] = {}
        for a1 in ranges or []:
            title, cells = split_range(a1)
            ss.sheet(title)
            wanted.setdefault(title, []).append(parse_cells(cells))
        sheets = []
        for s in ss.sheets:
            if wanted and s.title not in wanted:
                continue  # with ranges, only the sheets they name
            entry: dict[str, Any] = {"properties": copy.deepcopy(s.props)}
            if grid:
                entry["data"] = [self._grid_data(s, box) for box in wanted.get(s.title, [Box(0, 0, None, None)])]
            if s.protected:
                entry["protectedRanges"] = copy.deepcopy(s.protected)
            if s.conditional:
                entry["conditionalFormats"] = copy.deepcopy(s.conditional)
            if s.charts:
                entry["charts"] = copy.deepcopy(s.charts)
            sheets.append(entry)
        return {
            "spreadsheetId": ss.id,
            "properties": {"title": ss.title, "locale": "en_US", "timeZone": "Etc/GMT"},
            "sheets": sheets,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{ss.id}/edit",
        }

    def _grid_data(self, s: Sheet, box: Box) -> dict:
        """GridData for one range: rowData of CellData (userEnteredValue, formattedValue, note)."""
        rows, cols = s.extent()
        notes_r = max((r for r, _ in s.notes), default=-1) + 1
        notes_c = max((c for _, c in s.notes), default=-1) + 1
        r2 = box.r2 if box.r2 is not None else max(rows, notes_r)
        c2 = box.c2 if box.c2 is not None else max(cols, notes_c)
        row_data = []
        for r in range(box.r1, r2):
            values = []
            for c in range(box.c1, c2):
                cell: dict[str, Any] = {}
                v = s.cells.get((r, c))
                if v is not None:
                    kind = (
                        "boolValue"
                        if isinstance(v, bool)
                        else "numberValue"
                        if isinstance(v, (int, float))
                        else "stringValue"
                    )
                    if isinstance(v, str) and v.startswith("="):
                        kind = "formulaValue"
                    cell["userEnteredValue"] = {kind: v}
                    cell["formattedValue"] = render(s, r, c, v, "FORMATTED_VALUE", "FORMATTED_STRING")
                if (r, c) in s.notes:
                    cell["note"] = s.notes[(r, c)]
                values.append(cell)
            row_data.append({"values": values} if any(values) else {})
        out: dict[str, Any] = {}
        if box.r1:
            out["startRow"] = box.r1
        if box.c1:
            out["startColumn"] = box.c1
        if any(row_data):
            out["rowData"] = row_data
        return out

    # -- values

    def _read(self, s: Sheet, box: Box, value_render: str, date_render: str) -> list[list[Any]]:
        rows, cols = s.extent()
        r2 = min(box.r2 if box.r2 is not None else rows, rows)
        c2 = min(box.c2 if box.c2 is not None else cols, cols)
        out: list[list[Any]] = []
        for r in range(box.r1, r2):
            row = []
            for c in range(box.c1, c2):
                v = s.cells.get((r, c))
                row.append("" if v is None else render(s, r, c, v, value_render, date_render))
            while row and row[-1] == "":
                row.pop()
            out.append(row)
        while out and not out[-1]:
            out.pop()
        return out

    def _get(self, ss: Spreadsheet, a1: str, value_render: str, date_render: str, major: str) -> dict:
        title, cells = split_range(a1)
        s = ss.sheet(title)
        box = parse_cells(cells)
        g = s.grid
        if (box.r2 or 0) > g["rowCount"] or (box.c2 or 0) > g["columnCount"] or box.r1 >= g["rowCount"]:
            raise ApiError(
                400,
                f"Range ('{title}'!{cells}) exceeds grid limits. Max rows: {g['rowCount']}, "
                f"max columns: {g['columnCount']}",
            )
        values = self._read(s, box, value_render, date_render)
        if major == "COLUMNS":
            width = max((len(r) for r in values), default=0)
            values = [[r[i] if i < len(r) else "" for r in values] for i in range(width)]
        r2 = box.r2 if box.r2 is not None else g["rowCount"]
        c2 = box.c2 if box.c2 is not None else g["columnCount"]
        out = {
            "range": f"{a1_title(title)}!{col_letters(box.c1)}{box.r1 + 1}:{col_letters(c2 - 1)}{r2}",
            "majorDimension": major,
        }
        if values:
            out["values"] = values
        return out

    def _update(self, ss: Spreadsheet, vr: dict, option: str) -> dict:
        title, cells = split_range(vr["range"])
        s = ss.sheet(title)
        box = parse_cells(cells)
        values = vr.get("values", [])
        for row in values if isinstance(values, list) else [values]:
            if not isinstance(row, list):  # each row must itself be a list
                raise ApiError(
                    400,
                    "Invalid value at 'data.values' (type.googleapis.com/google.protobuf.ListValue), "
                    + json.dumps(row),
                    "data.values",
                )
        if vr.get("majorDimension") == "COLUMNS":
            width = max((len(c) for c in values), default=0)
            values = [[col[i] if i < len(col) else None for col in values] for i in range(width)]
        height = len(values)
        width = max((len(r) for r in values), default=0)
        if (
            not box.anchor
            and box.r2 is not None
            and box.c2 is not None
            and (box.r1 + height > box.r2 or box.c1 + width > box.c2)
        ):
            raise ApiError(
                400,
                f"Requested writing within range [{vr['range']}], but tried writing to row "
                f"[{box.r1 + height}] or column [{col_letters(box.c1 + width - 1)}]",
            )
        for i, row in enumerate(values):
            for j, v in enumerate(row):
                stored, implied = accept(v, option)
                key = (box.r1 + i, box.c1 + j)
                if stored is None:
                    continue  # null in a ValueRange leaves the cell as it is
                if stored == "":
                    s.cells.pop(key, None)
                else:
                    s.cells[key] = stored
                if implied and not s.number_format(*key):
                    s.formats.append(
                        (
                            {
                                "startRowIndex": key[0],
                                "endRowIndex": key[0] + 1,
                                "startColumnIndex": key[1],
                                "endColumnIndex": key[1] + 1,
                            },
                            {"numberFormat": implied},
                        )
                    )
        # writing past the grid grows it, as the real API does for values.update
        g = s.grid
        g["rowCount"] = max(g["rowCount"], box.r1 + height)
        g["columnCount"] = max(g["columnCount"], box.c1 + width)
        end = f"{col_letters(box.c1 + max(width, 1) - 1)}{box.r1 + max(height, 1)}"
        return {
            "spreadsheetId": ss.id,
            "updatedRange": f"{a1_title(title)}!{col_letters(box.c1)}{box.r1 + 1}:{end}",
            "updatedRows": height,
            "updatedColumns": width,
            "updatedCells": sum(len(r) for r in values),
        }

    def _values_batch_update(self, ss: Spreadsheet, payload: dict) -> dict:
        option = payload.get("valueInputOption", "")
        self._need_input_option(option)

        def apply(work: Spreadsheet) -> dict:
            responses = [self._update(work, vr, option) for vr in payload.get("data", [])]
            return {
                "spreadsheetId": ss.id,
                "totalUpdatedRows": sum(r["updatedRows"] for r in responses),
                "totalUpdatedColumns": sum(r["updatedColumns"] for r in responses),
                "totalUpdatedCells": sum(r["updatedCells"] for r in responses),
                "totalUpdatedSheets": len({r["updatedRange"].rsplit("!", 1)[0] for r in responses}),
                "responses": responses,
            }

        return self._atomic(ss, apply)

    def _append(self, ss: Spreadsheet, a1: str, payload: dict, option: str) -> dict:
        title, _ = split_range(a1)
        rows, _ = ss.sheet(title).extent()
        upd = self._update(ss, {"range": f"'{title}'!A{rows + 1}", "values": payload.get("values", [])}, option)
        return {"spreadsheetId": ss.id, "tableRange": f"{a1_title(title)}!A1", "updates": upd}

    def _clear(self, ss: Spreadsheet, a1: str) -> str:
        title, cells = split_range(a1)
        s = ss.sheet(title)
        box = parse_cells(cells)
        for key in [k for k in s.cells if box.r1 <= k[0] < (box.r2 or 10**9) and box.c1 <= k[1] < (box.c2 or 10**9)]:
            del s.cells[key]
        return f"{a1_title(title)}!{cells}" if cells else a1_title(title)

    # -- spreadsheets.batchUpdate

    def _batch_update(self, ss: Spreadsheet, payload: dict) -> dict:
        def apply(work: Spreadsheet) -> dict:
            replies = []
            for i, req in enumerate(payload.get("requests", [])):
                if len(req) != 1:
                    raise ApiError(400, f"Invalid requests[{i}]: exactly one kind of request is allowed")
                kind, body = next(iter(req.items()))
                handler = getattr(self, f"_req_{kind}", None)
                if handler is None:
                    raise ApiError(400, f"Invalid JSON payload received. Unknown name \"{kind}\" at 'requests[{i}]'")
                try:
                    replies.append(handler(work, body) or {})
                except ApiError as exc:
                    # Google names the failing request: the whole batch is refused, nothing applied
                    if not exc.message.startswith("Invalid "):
                        exc.message = f"Invalid requests[{i}].{kind}: {exc.message}"
                    raise
            return {"spreadsheetId": ss.id, "replies": replies}

        return self._atomic(ss, apply)

    def _req_addSheet(self, ss: Spreadsheet, body: dict) -> dict:
        s = ss.add_sheet(body.get("properties", {}))
        return {"addSheet": {"properties": copy.deepcopy(s.props)}}

    def _req_updateSheetProperties(self, ss: Spreadsheet, body: dict) -> None:
        props, fields = body["properties"], body.get("fields", "")
        if not fields:
            raise ApiError(400, "Invalid requests[0].updateSheetProperties: You must specify which fields to update.")
        s = ss.by_id(props["sheetId"])
        for path in fields.split(","):
            src, dst = props, s.props
            parts = path.strip().split(".")
            for p in parts[:-1]:
                src, dst = src.get(p, {}), dst.setdefault(p, {})
            if parts[-1] in src:
                dst[parts[-1]] = src[parts[-1]]
        # a smaller grid drops what lay outside it, as deleting those rows or columns in the UI does
        g = s.grid
        for key in [k for k in s.cells if k[0] >= g["rowCount"] or k[1] >= g["columnCount"]]:
            del s.cells[key]
        ss.check_limit()

    def _req_appendDimension(self, ss: Spreadsheet, body: dict) -> None:
        s = ss.by_id(body["sheetId"])
        key = "rowCount" if body["dimension"] == "ROWS" else "columnCount"
        s.grid[key] += int(body["length"])

    def _req_setDataValidation(self, ss: Spreadsheet, body: dict) -> None:
        rng = body["range"]
        ss.by_id(rng["sheetId"]).validations.append((rng, body.get("rule")))

    def _req_addProtectedRange(self, ss: Spreadsheet, body: dict) -> dict:
        pr = copy.deepcopy(body["protectedRange"])
        s = ss.by_id(pr["range"]["sheetId"])
        pr["protectedRangeId"] = ss.next_protected
        ss.next_protected += 1
        s.protected.append(pr)
        return {"addProtectedRange": {"protectedRange": pr}}

    def _req_repeatCell(self, ss: Spreadsheet, body: dict) -> None:
        rng = body["range"]
        s = ss.by_id(rng["sheetId"])
        fmt = body.get("cell", {}).get("userEnteredFormat", {})
        fields = body.get("fields", "")
        if not fields:
            raise ApiError(400, "Invalid requests[0].repeatCell: fields is required")
        s.formats.append((rng, copy.deepcopy(fmt)))

    def _req_addConditionalFormatRule(self, ss: Spreadsheet, body: dict) -> None:
        rule = copy.deepcopy(body["rule"])
        s = ss.by_id(rule["ranges"][0]["sheetId"])
        s.conditional.insert(int(body.get("index", 0)), rule)

    def _chart_sources(self, ss: Spreadsheet, spec: dict) -> None:
        """Every GridRange a chart's spec reads must name a sheet that exists (Google refuses the request)."""

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for src in node.get("sourceRange", {}).get("sources", []):
                    ss.by_id(int(src.get("sheetId", 0)))
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(spec)

    def _req_addChart(self, ss: Spreadsheet, body: dict) -> dict:
        """An EmbeddedChart: the spec's source ranges checked, a chartId given (or the caller's, if free), kept on
        the sheet its overlay position is anchored to; the reply carries the chart with its id."""
        chart = copy.deepcopy(body.get("chart") or {})
        spec = chart.get("spec")
        if not spec:
            raise ApiError(400, "Invalid requests[0].addChart: chart.spec is required")
        self._chart_sources(ss, spec)
        position = chart.get("position") or {}
        if "overlayPosition" in position:
            host = ss.by_id(int(position["overlayPosition"]["anchorCell"].get("sheetId", 0)))
        elif "sheetId" in position:
            host = ss.by_id(int(position["sheetId"]))
        else:
            raise ApiError(400, "Invalid requests[0].addChart: chart.position is required")
        used = {c["chartId"] for x in ss.sheets for c in x.charts}
        if "chartId" in chart:
            if chart["chartId"] in used:
                raise ApiError(
                    400, f"Invalid requests[0].addChart: An object with ID {chart['chartId']} already exists."
                )
        else:
            chart["chartId"] = max(used, default=ss.next_id * 1000) + 1
        host.charts.append(chart)
        return {"addChart": {"chart": copy.deepcopy(chart)}}

    def _req_updateChartSpec(self, ss: Spreadsheet, body: dict) -> None:
        spec = body.get("spec")
        if not spec:
            raise ApiError(400, "Invalid requests[0].updateChartSpec: spec is required")
        self._chart_sources(ss, spec)
        for s in ss.sheets:
            for chart in s.charts:
                if chart["chartId"] == body.get("chartId"):
                    chart["spec"] = copy.deepcopy(spec)
                    return
        raise ApiError(400, f"Invalid requests[0].updateChartSpec: No chart with id: {body.get('chartId')}")

    def _req_deleteSheet(self, ss: Spreadsheet, body: dict) -> None:
        s = ss.by_id(body["sheetId"])
        if sum(1 for x in ss.sheets if not x.props.get("hidden")) == 1 and not s.props.get("hidden"):
            raise ApiError(400, "You can't remove all the visible sheets in a document.")
        ss.sheets.remove(s)

    def _req_updateCells(self, ss: Spreadsheet, body: dict) -> None:
        """Notes and values (userEnteredValue); `start` writes exactly the cells given, `range` clears the
        rest of the range; a cell past the grid is refused (unlike values.update, which grows the grid)."""
        fields = {f.strip() for f in body.get("fields", "").split(",") if f.strip()}
        if not fields:
            raise ApiError(400, "At least one field must be specified.")
        if fields - {"note", "userEnteredValue"}:
            raise ApiError(400, f"this emulator updates notes and values only, not {sorted(fields)}")
        if ("start" in body) == ("range" in body):
            raise ApiError(400, "Exactly one of start or range must be set.")
        where = body.get("start") or body["range"]
        s = ss.by_id(where.get("sheetId", 0))
        r0 = where.get("rowIndex", where.get("startRowIndex", 0))
        c0 = where.get("columnIndex", where.get("startColumnIndex", 0))
        written: set[tuple[int, int]] = set()
        for i, row in enumerate(body.get("rows", [])):
            for j, cell in enumerate(row.get("values", [])):
                key = (r0 + i, c0 + j)
                if key[0] >= s.grid["rowCount"]:
                    raise ApiError(
                        400, f"GridCoordinate.rowIndex[{key[0]}] is after last row in grid[{s.grid['rowCount'] - 1}]"
                    )
                if key[1] >= s.grid["columnCount"]:
                    raise ApiError(
                        400,
                        f"GridCoordinate.columnIndex[{key[1]}] is after last column in grid"
                        f"[{s.grid['columnCount'] - 1}]",
                    )
                written.add(key)
                if "note" in fields:
                    if cell.get("note"):
                        s.notes[key] = cell["note"]
                    else:
                        s.notes.pop(key, None)
                if "userEnteredValue" in fields:
                    self._set_entered(s, key, cell.get("userEnteredValue"))
        if "range" in body:  # what the rows do not cover is cleared, for the fields named
            rng = body["range"]
            for key in [k for k in set(s.cells) | set(s.notes) if _inside(rng, *k) and k not in written]:
                if "userEnteredValue" in fields:
                    s.cells.pop(key, None)
                if "note" in fields:
                    s.notes.pop(key, None)

    @staticmethod
    def _set_entered(s: Sheet, key: tuple[int, int], entered: dict | None) -> None:
        """An ExtendedValue as stored: a stringValue is literal text even when it starts with =."""
        if not entered:
            s.cells.pop(key, None)
            return
        if len(entered) != 1:
            raise ApiError(400, "Invalid value: an ExtendedValue holds exactly one of its kinds")
        kind, value = next(iter(entered.items()))
        if kind == "stringValue" and isinstance(value, str):
            if value:
                s.cells[key] = value
            else:
                s.cells.pop(key, None)
        elif kind == "numberValue" and isinstance(value, (int, float)) and not isinstance(value, bool):
            s.cells[key] = value
        elif kind == "boolValue" and isinstance(value, bool):
            s.cells[key] = value
        elif kind == "formulaValue" and isinstance(value, str):
            s.cells[key] = {"formula": value, "value": "#NAME?"}
        else:
            raise ApiError(400, f"Invalid value at 'userEnteredValue.{kind}' ({json.dumps(value)})")

    def _req_updateDimensionProperties(self, ss: Spreadsheet, body: dict) -> None:
        rng = body["range"]
        ss.by_id(rng["sheetId"]).dimensions.append(
            {"range": rng, "properties": body["properties"], "fields": body.get("fields", "")}
        )


def _error_body(code: int, message: str, field: str = "") -> dict:
    body: dict[str, Any] = {"code": code, "message": message, "status": _STATUS.get(code, "UNKNOWN")}
    if code == 400 and field:  # an invalid payload names the field, as Google's BadRequest details do
        body["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": field, "description": message}],
            }
        ]
    return {"error": body}


def _assertion_issuer(assertion: str) -> str:
    """The service account a JWT-bearer assertion was signed by (its `iss`); the signature is not checked."""
    try:
        part = assertion.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        return str(claims.get("iss", ""))
    except (IndexError, ValueError):
        return ""


def _json_default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return float(o)
    if isinstance(o, (date, datetime)):
        return o.isoformat()
    raise TypeError(type(o).__name__)


class _Handler(BaseHTTPRequestHandler):
    emu: SheetsEmulator
    protocol_version = "HTTP/1.1"

    def _do(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        code, payload, extra = self.emu.handle(self.command, self.path, headers, body)
        data = json.dumps(payload, default=_json_default).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _do

    def log_message(self, *args: Any) -> None:
        return None


SheetsEmulator.handler = _Handler


if __name__ == "__main__":
    serve(SheetsEmulator)
