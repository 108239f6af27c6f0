"""The Google Sheets adapter: the `SheetStore` port over gspread's HTTP client, built from the tab contract.

A refresh costs a constant number of Sheets API calls whatever the row count: `read()` is one
`values:batchGet` for every tab asked for, `write()` is one `values:batchUpdate` for every block (up to
Google's 10 MiB request limit, about 30,000 new rows at once; above it, one call per 9 MB), and
`ensure_layout()` is one `spreadsheets.get` + one `values:batchGet` of the header rows, plus, only when
something must change, one `batchUpdate` (tabs, formats, checkboxes, dropdowns, protections) and one
`values:batchUpdate` (new headers).

Values, both ways:
  - read with UNFORMATTED_VALUE + dateTimeRenderOption=FORMATTED_STRING: numbers come back as numbers
    (parsed from the JSON as Decimal, never through a float), booleans as booleans, dates as the text of
    their `yyyy-mm-dd` format, blank cells as None.
  - written with RAW input, so text from a time tracker that starts with = + - @ stays text. Decimal is
    sent as a JSON number (Sheets keeps IEEE doubles: exact for every amount below 15 significant digits),
    a date as its serial number (the column's `yyyy-mm-dd` format displays it, people's date filters and
    sorting work, and it reads back as the same ISO text a person's typed date does), a datetime as ISO
    text, a bool as a checkbox TRUE/FALSE, None as "" (clears the cell).

Reaching the API: gspread's `HTTPClient` is the documented extension point (`Client(http_client=...)`);
`SheetsHTTPClient` subclasses it to (1) send every request to `api_base_url` instead of
https://sheets.googleapis.com when one is configured (the local emulator), keeping gspread's own URL
builders and request shapes untouched, and (2) retry 429 and 5xx with capped exponential backoff that
honours Retry-After, mapping every other failure to a Terminal error. Every call is idempotent (absolute
ranges, whole values), so a retried write completes it; a failed batch leaves the sheet as it was.

    >>> sheet = GoogleSheet.from_settings(GoogleSheetsSettings(spreadsheet_id="1AbC..."))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import requests
from google.auth.credentials import AnonymousCredentials
from google.auth.transport.requests import AuthorizedSession, Request
from gspread.http_client import HTTPClient
from gspread.urls import (
    SPREADSHEET_BATCH_UPDATE_URL,
    SPREADSHEET_URL,
    SPREADSHEET_VALUES_BATCH_UPDATE_URL,
    SPREADSHEET_VALUES_BATCH_URL,
    SPREADSHEETS_API_V4_BASE_URL,
)

from ..auth import account_email, google_credentials
from ..errors import AuthError, ConfigError, Terminal, Transient
from ..ports import Cell, CellBlock
from ..settings import GoogleSheetsSettings
from .contract import Column, Contract, HeaderMap, Tab, column_letter, load_contract

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
GOOGLE_API_ROOT = SPREADSHEETS_API_V4_BASE_URL.split("/v4/")[0]  # https://sheets.googleapis.com
_EPOCH = date(1899, 12, 30)
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

# Colours people see: pipeline-owned columns are tinted so nobody mistakes them for their own.
PIPELINE_TINT = {"red": 0.91, "green": 0.94, "blue": 0.98}
HEADER_TINT = {"red": 0.85, "green": 0.87, "blue": 0.9}
FLAG_TINT = {"red": 1.0, "green": 0.95, "blue": 0.8}
NUMBER_FORMATS: dict[str, dict[str, str]] = {
    "date": {"type": "DATE", "pattern": "yyyy-mm-dd"},
    "hours": {"type": "NUMBER", "pattern": "0.00"},
    "money": {"type": "NUMBER", "pattern": "#,##0.00"},
    "number": {"type": "NUMBER", "pattern": "0.##"},
    "percent": {"type": "PERCENT", "pattern": "0.0%"},
}
# Google refuses request bodies above 10,485,760 bytes ("Request payload size exceeds the limit");
# the rest of the 10 MiB is room for the JSON envelope and the estimate's slack.
MAX_REQUEST_BYTES = 9_000_000
PROTECTION_TAG = "invoicing:"  # prefix of the description of every protected range this adapter adds
FLAG_RULE_TAG = "LEN("


class SheetsApiError(Terminal):
    """Google Sheets refused a request in a way a retry cannot fix (400, 404, ...)."""

    def __init__(self, message: str, code: int = 0, status: str = ""):
        super().__init__(message)
        self.code = code
        self.status = status


class SheetsUnavailable(Transient):
    """Google Sheets kept answering 429/5xx (or did not answer) after every retry."""


def _google_error(response: requests.Response) -> tuple[int, str, str]:
    try:
        err = response.json().get("error", {})
        return int(err.get("code", response.status_code)), str(err.get("status", "")), str(err.get("message", ""))
    except (ValueError, AttributeError):
        return response.status_code, "", response.reason or ""


def _what(method: str, url: str) -> str:
    """`values:batchUpdate`, `spreadsheets:batchUpdate`, `values.get`... for messages (no query, no token)."""
    path = urlsplit(url).path
    tail = path.rsplit("/", 1)[-1]
    if tail.startswith("values:"):
        return tail
    kind = "values" if "/values/" in path else "spreadsheets"
    if ":" in tail:
        return f"{kind}:{tail.split(':', 1)[1]}"
    return f"{kind}.{'update' if method.upper() == 'PUT' else 'get'}"


class EmulatorSession(requests.Session):
    """A requests session that sends what was meant for *.googleapis.com to `base_url` (a local emulator)."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        parts = urlsplit(str(url))
        if (parts.hostname or "").endswith("googleapis.com"):
            url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)


class SheetsHTTPClient(HTTPClient):
    """gspread's HTTP client, pointed at `base_url` and retrying what Google says to retry."""

    def __init__(self, auth: Any, session: requests.Session | None = None, *, base_url: str = "",
                 max_attempts: int = 5, backoff_seconds: float = 1.0, max_backoff_seconds: float = 32.0,
                 timeout: float | None = 60.0, sleep: Callable[[float], None] = time.sleep):
        super().__init__(auth, session)
        self.auth = auth
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max(1, max_attempts)
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.sleep = sleep
        self.set_timeout(timeout)
        self.calls = 0  # HTTP requests sent, retries included (the benchmark reads these)
        self.bytes_sent = 0
        self.bytes_received = 0

    def url(self, endpoint: str) -> str:
        if self.base_url and endpoint.startswith(GOOGLE_API_ROOT):
            return self.base_url + endpoint[len(GOOGLE_API_ROOT):]
        return endpoint

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        if retry_after and retry_after.strip().isdigit():
            delay = float(retry_after.strip())
        else:
            # full jitter: many sheets hitting the per-minute quota together should not retry together
            delay = random.uniform(0, self.backoff_seconds * 2 ** (attempt - 1))
        self.sleep(min(delay, self.max_backoff_seconds))

    def request(self, method: str, endpoint: str, params: Any = None, data: Any = None, json: Any = None,
                files: Any = None, headers: Any = None) -> requests.Response:
        url = self.url(endpoint)
        what = _what(method, endpoint)
        last = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self.session.request(method=method, url=url, json=json, params=params, data=data,
                                                files=files, headers=headers, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = f"no answer ({type(exc).__name__})"
                if attempt < self.max_attempts:
                    self._wait(attempt, None)
                    continue
                break
            self.calls += 1
            body = response.request.body if response.request is not None else None
            self.bytes_sent += len(body or b"")
            self.bytes_received += len(response.content or b"")
            if response.ok:
                return response
            code, status, message = _google_error(response)
            if code in _RETRY_STATUSES:
                last = f"{code} {status}: {message}".strip()
                if attempt < self.max_attempts:
                    self._wait(attempt, response.headers.get("Retry-After"))
                    continue
                break
            raise _terminal(code, status, message, what)
        raise SheetsUnavailable(f"Google Sheets did not complete {what} after {self.max_attempts} attempts "
                                f"(last: {last}); nothing was left half-written, so run it again in a minute.")


def _terminal(code: int, status: str, message: str, what: str) -> Terminal:
    if code == 401:
        return AuthError(f"Google Sheets refused the credentials for {what} ({status}: {message}); check the "
                         f"service-account key or application-default credentials.")
    if code == 403:
        return AuthError(f"Google Sheets denied {what} ({status}: {message}); share the spreadsheet with the "
                         f"service account as an Editor (see docs/google.md).")
    if code == 404:
        return ConfigError(f"Google Sheets found no such spreadsheet for {what} ({message}); check "
                           f"GOOGLE_SHEET_ID.")
    return SheetsApiError(f"Google Sheets refused {what} with {code} {status}: {message}", code, status)


# ---------------------------------------------------------------- values


def quote_tab(name: str) -> str:
    """`Time` -> `'Time'`; a quote inside a name is doubled, as A1 notation wants."""
    return "'" + name.replace("'", "''") + "'"


def a1_block(tab: str, row: int, col: int, height: int, width: int) -> str:
    return f"{quote_tab(tab)}!{column_letter(col)}{row}:{column_letter(col + max(width, 1) - 1)}{row + max(height, 1) - 1}"


def to_api(value: Cell) -> Any:
    """One cell as JSON for RAW input (see the module docstring for why each type is sent as it is)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be written to a sheet")
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} cannot be written to a sheet")
        return value
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return (value - _EPOCH).days
    return value if isinstance(value, str) else str(value)


def from_api(value: Any) -> Cell:
    """One cell from UNFORMATTED_VALUE: "" -> None; numbers already Decimal or int; text and bools as they are."""
    if value == "" or value is None:
        return None
    return value


# ---------------------------------------------------------------- layout


def _column_requests(sheet_id: int, index: int, col: Column, owned: bool) -> list[dict]:
    """The formatting of one contract column at 0-based `index`: all idempotent, safe to send again."""
    body_rows = {"sheetId": sheet_id, "startRowIndex": 1, "startColumnIndex": index, "endColumnIndex": index + 1}
    reqs: list[dict] = []
    fmt: dict[str, Any] = {}
    if col.type in NUMBER_FORMATS:
        fmt["numberFormat"] = NUMBER_FORMATS[col.type]
    if owned:
        fmt["backgroundColor"] = PIPELINE_TINT
    if fmt:
        reqs.append({"repeatCell": {"range": body_rows, "cell": {"userEnteredFormat": fmt},
                                    "fields": "userEnteredFormat(" + ",".join(sorted(fmt)) + ")"}})
    if col.type == "bool":
        reqs.append({"setDataValidation": {"range": body_rows, "rule": {"condition": {"type": "BOOLEAN"}}}})
    elif col.type == "category":
        reqs.append({"setDataValidation": {"range": body_rows, "rule": {
            "condition": {"type": "ONE_OF_RANGE", "values": [{"userEnteredValue": "=Categories!$A$2:$A"}]},
            "inputMessage": "Choose a category from the Categories tab.",
            "strict": False, "showCustomUi": True}}})
    elif col.choices:
        reqs.append({"setDataValidation": {"range": body_rows, "rule": {
            "condition": {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": c} for c in col.choices]},
            "strict": False, "showCustomUi": True}}})
    reqs.append({"updateDimensionProperties": {
        "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": index, "endIndex": index + 1},
        "properties": {"pixelSize": col.width * 7 + 5, "hiddenByUser": col.hidden},
        "fields": "pixelSize,hiddenByUser"}})
    return reqs


def _runs(indexes: Sequence[int]) -> list[tuple[int, int]]:
    """[0,1,2,5,6] -> [(0,3),(5,7)]: contiguous column runs, end-exclusive."""
    out: list[tuple[int, int]] = []
    for i in sorted(indexes):
        if out and out[-1][1] == i:
            out[-1] = (out[-1][0], i + 1)
        else:
            out.append((i, i + 1))
    return out


class LayoutPlan:
    """What `ensure_layout` must send: structure/format requests, header cells, and sentences for people."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.headers: list[CellBlock] = []
        self.changes: list[str] = []


def plan_layout(contract: Contract, metadata: Mapping[str, Any], header_rows: Mapping[str, list[Any]]) -> LayoutPlan:
    """Pure: from the spreadsheet as it is (metadata + header rows), the requests that bring it to the contract.

    Values are never moved: a missing column is added after the last header; people's extra columns stay.
    """
    plan = LayoutPlan()
    sheets = {s["properties"]["title"]: s for s in metadata.get("sheets", [])}
    used_ids = {s["properties"]["sheetId"] for s in metadata.get("sheets", [])}
    next_index = len(sheets)
    for tab in contract.tabs:
        existing = sheets.get(tab.name)
        if existing is None:
            sheet_id = _free_id(used_ids, tab.name)
            used_ids.add(sheet_id)
            plan.requests.append({"addSheet": {"properties": {
                "sheetId": sheet_id, "title": tab.name, "index": next_index,
                "gridProperties": {"rowCount": 1000, "columnCount": max(26, len(tab.columns)),
                                   "frozenRowCount": tab.freeze_rows, "frozenColumnCount": tab.freeze_cols}}}})
            next_index += 1
            plan.headers.append(CellBlock(tab.name, 1, 1, [tab.headers]))
            plan.changes.append(f"added the {tab.name} tab with {len(tab.columns)} columns")
            _format_tab(plan, tab, sheet_id, {c.key: i for i, c in enumerate(tab.columns)}, len(tab.columns),
                        protected=[], conditional=[])
            continue
        props = existing["properties"]
        sheet_id = props["sheetId"]
        header = list(header_rows.get(tab.name, []))
        hm = HeaderMap(tab, header)
        changed = False
        if hm.missing:
            width = len(header)
            new = [c.header for c in hm.missing]
            need = width + len(new)
            if props.get("gridProperties", {}).get("columnCount", 26) < need:
                plan.requests.append({"updateSheetProperties": {
                    "properties": {"sheetId": sheet_id, "gridProperties": {"columnCount": need}},
                    "fields": "gridProperties.columnCount"}})
            plan.headers.append(CellBlock(tab.name, 1, width + 1, [new]))
            plan.changes.append(f"added {len(new)} column(s) to {tab.name}: {', '.join(new)}")
            for offset, col in enumerate(hm.missing):
                hm.index[col.key] = width + offset
            header = header + new
            changed = True
        grid = props.get("gridProperties", {})
        if grid.get("frozenRowCount", 0) != tab.freeze_rows or grid.get("frozenColumnCount", 0) != tab.freeze_cols:
            plan.requests.append({"updateSheetProperties": {
                "properties": {"sheetId": sheet_id, "gridProperties": {"frozenRowCount": tab.freeze_rows,
                                                                       "frozenColumnCount": tab.freeze_cols}},
                "fields": "gridProperties.frozenRowCount,gridProperties.frozenColumnCount"}})
            plan.changes.append(f"froze the header row of {tab.name}")
        protected = [p for p in existing.get("protectedRanges", []) if str(p.get("description", "")).startswith(PROTECTION_TAG)]
        conditional = existing.get("conditionalFormats", [])
        before = len(plan.requests)
        _format_tab(plan, tab, sheet_id, dict(hm.index), len(header), protected, conditional, formats=changed)
        if len(plan.requests) > before and not changed:
            plan.changes.append(f"restored the protections and highlighting of {tab.name}")
    return plan


def _free_id(used: set[int], name: str) -> int:
    # a stable id per tab name makes a half-applied layout recognisable; fall forward on a clash
    candidate = 1000 + sum(ord(c) for c in name) * 7 % 100000
    while candidate in used:
        candidate += 1
    return candidate


def _format_tab(plan: LayoutPlan, tab: Tab, sheet_id: int, index: dict[str, int], width: int,
                protected: list[dict], conditional: list[dict], formats: bool = True) -> None:
    owned_idx = [index[c.key] for c in tab.columns if c.key in index and not c.editable_by_people]
    if formats:
        plan.requests.append({"repeatCell": {
            "range": {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1, "startColumnIndex": 0,
                      "endColumnIndex": width},
            "cell": {"userEnteredFormat": {"textFormat": {"bold": True}, "backgroundColor": HEADER_TINT}},
            "fields": "userEnteredFormat(textFormat,backgroundColor)"}})
        for col in tab.columns:
            if col.key in index:
                plan.requests.extend(_column_requests(sheet_id, index[col.key], col, not col.editable_by_people))
                if col.note:
                    # the header's note is how people learn what a column is for, right where they type
                    i = index[col.key]
                    plan.requests.append({"updateCells": {
                        "range": {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1,
                                  "startColumnIndex": i, "endColumnIndex": i + 1},
                        "rows": [{"values": [{"note": col.note}]}], "fields": "note"}})
    covered = set()
    header_protected = False
    for p in protected:
        rng = p.get("range", {})
        if rng.get("endRowIndex") == 1 and "startColumnIndex" not in rng:
            header_protected = True
            continue
        covered.update(range(rng.get("startColumnIndex", 0), rng.get("endColumnIndex", width)))
    if not header_protected:
        plan.requests.append({"addProtectedRange": {"protectedRange": {
            "range": {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1},
            "description": f"{PROTECTION_TAG} {tab.name} headers: the pipeline finds columns by these names",
            "warningOnly": True}}})
    for start, end in _runs([i for i in owned_idx if i not in covered]):
        names = ", ".join(c.header for c in tab.columns if c.key in index and start <= index[c.key] < end)
        plan.requests.append({"addProtectedRange": {"protectedRange": {
            "range": {"sheetId": sheet_id, "startColumnIndex": start, "endColumnIndex": end},
            "description": f"{PROTECTION_TAG} {tab.name}: filled by the pipeline ({names}); edits are replaced",
            "warningOnly": True}}})
    if "flags" in index:
        letter = column_letter(index["flags"] + 1)
        formula = f"=LEN(${letter}2)>0"
        if not any(formula in json.dumps(rule) for rule in conditional):
            plan.requests.append({"addConditionalFormatRule": {"index": 0, "rule": {
                "ranges": [{"sheetId": sheet_id, "startRowIndex": 1}],
                "booleanRule": {"condition": {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": formula}]},
                                "format": {"backgroundColor": FLAG_TINT}}}}})


# ---------------------------------------------------------------- the adapter


class GoogleSheet:
    """The `SheetStore` port on a Google Sheet (see the module docstring for calls and value types)."""

    def __init__(self, spreadsheet_id: str, http: SheetsHTTPClient, contract: Contract | None = None,
                 account: str = ""):
        if not spreadsheet_id:
            raise ConfigError("No spreadsheet is configured; set GOOGLE_SHEET_ID to the id in the "
                              "sheet's URL (https://docs.google.com/spreadsheets/d/<id>/edit).")
        self.spreadsheet_id = spreadsheet_id
        self.http = http
        self.contract = contract or load_contract()
        self.account = account
        self.max_request_bytes = MAX_REQUEST_BYTES

    @classmethod
    def from_settings(cls, s: GoogleSheetsSettings, contract: Contract | None = None,
                      sleep: Callable[[float], None] = time.sleep) -> "GoogleSheet":
        if s.api_base_url and not s.credentials_file:
            # an emulator started with --no-auth: nothing to sign in to, and no Google account to look for
            creds = AnonymousCredentials()
        else:
            creds = google_credentials(s.credentials_file, SCOPES)
        session = None
        if s.api_base_url:
            # google-auth also calls Google itself (the token's regional access boundary lookup at
            # iamcredentials.googleapis.com); against an emulator those calls go to the emulator too
            session = AuthorizedSession(creds, auth_request=Request(EmulatorSession(s.api_base_url)))
        http = SheetsHTTPClient(creds, session, base_url=s.api_base_url, max_attempts=s.max_attempts,
                                backoff_seconds=s.backoff_seconds, max_backoff_seconds=s.max_backoff_seconds,
                                timeout=s.timeout_seconds, sleep=sleep)
        return cls(s.spreadsheet_id, http, contract, account=account_email(creds))

    def describe(self) -> str:
        return f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit"

    # -- layout

    def ensure_layout(self) -> list[str]:
        changes: list[str] = []
        for attempt in (1, 2):
            meta = self.http.fetch_sheet_metadata(self.spreadsheet_id, params={
                "includeGridData": "false",
                "fields": "sheets(properties,protectedRanges,conditionalFormats)"})
            titles = {s["properties"]["title"] for s in meta.get("sheets", [])}
            present = [t.name for t in self.contract.tabs if t.name in titles]
            headers: dict[str, list[Any]] = {}
            if present:
                got = self._batch_get([f"{quote_tab(t)}!1:1" for t in present], "FORMATTED_VALUE")
                headers = {t: (rows[0] if rows else []) for t, rows in zip(present, got)}
            plan = plan_layout(self.contract, meta, headers)
            changes = changes or plan.changes
            if plan.requests:
                try:
                    self.http.request("post", SPREADSHEET_BATCH_UPDATE_URL % self.spreadsheet_id,
                                      json={"requests": plan.requests})
                except SheetsApiError as exc:
                    # addSheet is the one request that cannot be sent twice: if a retry after a lost answer
                    # (or a concurrent setup) finds the tab made, look again and finish from there
                    if attempt == 1 and exc.code == 400 and "already exists" in str(exc):
                        continue
                    raise
            if plan.headers:
                self.write(plan.headers)
            break
        return changes

    # -- values

    def _batch_get(self, ranges: list[str], render: str) -> list[list[list[Any]]]:
        response = self.http.request("get", SPREADSHEET_VALUES_BATCH_URL % self.spreadsheet_id, params={
            "ranges": ranges, "majorDimension": "ROWS", "valueRenderOption": render,
            "dateTimeRenderOption": "FORMATTED_STRING"})
        # Decimal straight from the JSON text: an amount never passes through a binary float
        body = json.loads(response.content, parse_float=Decimal)
        return [vr.get("values", []) for vr in body.get("valueRanges", [])]

    def read(self, tabs: Sequence[str]) -> dict[str, list[list[Cell]]]:
        """One values:batchGet for all `tabs`; a tab the spreadsheet lacks reads as [] (like the workbook)."""
        tabs = list(dict.fromkeys(tabs))
        if not tabs:
            return {}
        try:
            got = self._batch_get([quote_tab(t) for t in tabs], "UNFORMATTED_VALUE")
            found = dict(zip(tabs, got))
        except SheetsApiError as exc:
            if not (exc.code == 400 and "Unable to parse range" in str(exc)):
                raise
            # only before setup-sheet ran: learn which tabs exist and read those (two more calls, once)
            meta = self.http.fetch_sheet_metadata(self.spreadsheet_id, params={"fields": "sheets(properties(title))"})
            titles = {s["properties"]["title"] for s in meta.get("sheets", [])}
            present = [t for t in tabs if t in titles]
            found = dict(zip(present, self._batch_get([quote_tab(t) for t in present], "UNFORMATTED_VALUE"))) \
                if present else {}
        return {t: [[from_api(v) for v in row] for row in found.get(t, [])] for t in tabs}

    def write(self, blocks: Sequence[CellBlock]) -> None:
        """One values:batchUpdate (RAW) for every block, which Google applies all or nothing.

        Only a payload above Google's request size limit (10 MiB; about 30,000 new Time rows at once) is
        sent as several calls, each under the limit and in order. Every call writes absolute ranges, so if
        one fails, running the command again completes the write: the rows that landed are recognised.
        """
        for data in self._payloads(blocks):
            self.http.request("post", SPREADSHEET_VALUES_BATCH_UPDATE_URL % self.spreadsheet_id, json={
                "valueInputOption": "RAW", "data": data, "includeValuesInResponse": False})

    def _payloads(self, blocks: Sequence[CellBlock]) -> list[list[dict[str, Any]]]:
        budget = self.max_request_bytes
        ranges: list[tuple[dict[str, Any], int]] = []
        for b in blocks:
            values = [[to_api(v) for v in row] for row in b.values]
            if not any(values):
                continue
            start, size = 0, 0
            for i, row in enumerate(values + [None]):  # type: ignore[list-item]
                row_size = len(json.dumps(row)) + 2 if row is not None else 0
                if row is None or (size + row_size > budget and i > start):
                    part = values[start:i]
                    width = max(len(r) for r in part)
                    ranges.append(({"range": a1_block(b.tab, b.row + start, b.col, len(part), width),
                                    "majorDimension": "ROWS", "values": part}, size + 100))
                    start, size = i, 0
                size += row_size
        payloads: list[list[dict[str, Any]]] = []
        used = budget + 1
        for vr, size in ranges:
            if used + size > budget:
                payloads.append([])
                used = 0
            payloads[-1].append(vr)
            used += size
        return payloads

    def metadata(self) -> dict[str, Any]:
        """The spreadsheet's properties and tabs (for `doctor`-style checks)."""
        return self.http.request("get", SPREADSHEET_URL % self.spreadsheet_id).json()
