"""The Google Sheets adapter: the `SheetStore` port over gspread's HTTP client, built from the tab contract.

A refresh costs a constant number of Sheets API calls whatever the row count: `read()` is one
`values:batchGet` for every tab asked for, `write()` is one `values:batchUpdate` for every block (up to
Google's 10 MiB request limit, about 30,000 new rows at once; above it, one call per 9 MB), and
`ensure_layout()` is one `spreadsheets.get` + one `values:batchGet` of the header rows (the whole tab for a
tab with a percent column, which `read()` then uses to tell percent-formatted cells; a `read()` not just
after it asks those tabs formatted in one more batchGet), plus, only when something must change, one
`batchUpdate` (tabs, formats, checkboxes, dropdowns, protections) and one `values:batchUpdate` (new headers).

Values, both ways:
  - read with UNFORMATTED_VALUE + dateTimeRenderOption=FORMATTED_STRING: numbers come back as numbers
    (parsed from the JSON as Decimal, never through a float), booleans as booleans, dates as the text of
    their `yyyy-mm-dd` format, blank cells as None.
  - written with RAW input, so text from a time tracker that starts with = + - @ stays text. Decimal is
    sent as a JSON number (Sheets keeps IEEE doubles: exact for every amount below 15 significant digits),
    a date as its serial number (the column's `yyyy-mm-dd` format displays it, people's date filters and
    sorting work, and it reads back as the same ISO text a person's typed date does), a datetime as ISO
    text, a bool as a checkbox TRUE/FALSE, None as "" (clears the cell).

Reaching the API goes through `SheetsHTTPClient` (gsheets_http.py) and the shared transport. What `ensure_layout`
sends is planned in gsheets_layout.py.

    >>> sheet = GoogleSheet.from_settings(GoogleSheetsSettings(spreadsheet_id="1AbC..."))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from google.auth.credentials import AnonymousCredentials, Credentials
from google.auth.transport.requests import AuthorizedSession, Request
from gspread.urls import (
    SPREADSHEET_BATCH_UPDATE_URL,
    SPREADSHEET_URL,
    SPREADSHEET_VALUES_BATCH_UPDATE_URL,
    SPREADSHEET_VALUES_BATCH_URL,
)

from ..auth import account_email, google_credentials
from ..errors import ConfigError, InputErrors, LockedError
from ..ports import Cell, CellBlock
from ..settings import GoogleSheetsSettings
from ..values import EXCEL_EPOCH
from .contract import Contract, column_letter, layout_problems, load_contract
from .gsheets_http import EmulatorSession, SheetsApiError, SheetsHTTPClient
from .gsheets_layout import plan_layout
from .percent_cells import percent_columns, with_percent_text

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)


# Google refuses request bodies above 10,485,760 bytes ("Request payload size exceeds the limit");
# the rest of the 10 MiB is room for the JSON envelope and the estimate's slack.
MAX_REQUEST_BYTES = 9_000_000


# ---------------------------------------------------------------- values


def quote_tab(name: str) -> str:
    """`Time` -> `'Time'`; a quote inside a name is doubled, as A1 notation wants."""
    return "'" + name.replace("'", "''") + "'"


def a1_block(tab: str, row: int, col: int, height: int, width: int) -> str:
    return (
        f"{quote_tab(tab)}!{column_letter(col)}{row}:{column_letter(col + max(width, 1) - 1)}{row + max(height, 1) - 1}"
    )


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
        return (value - EXCEL_EPOCH).days
    return value if isinstance(value, str) else str(value)


def from_api(value: Any) -> Cell:
    """One cell from UNFORMATTED_VALUE: "" -> None; numbers already Decimal or int; text and bools as they are."""
    if value == "" or value is None:
        return None
    return value


def _shows_percent(formatted: list[list[Any]]) -> Callable[[int, int], bool]:
    """Whether a cell's FORMATTED_VALUE shows a percent ("100.0%"; "100,0 %" or "%100" in other locales)."""
    return lambda i, c: i < len(formatted) and c < len(formatted[i]) and "%" in str(formatted[i][c])


# ---------------------------------------------------------------- the adapter


class GoogleSheet:
    """The `SheetStore` port on a Google Sheet (see the module docstring for calls and value types)."""

    def __init__(
        self, spreadsheet_id: str, http: SheetsHTTPClient, contract: Contract | None = None, account: str = ""
    ):
        if not spreadsheet_id:
            raise ConfigError(
                "No spreadsheet is configured; set GOOGLE_SHEET_ID to the id in the "
                "sheet's URL (https://docs.google.com/spreadsheets/d/<id>/edit)."
            )
        self.spreadsheet_id = spreadsheet_id
        self.http = http
        self.contract = contract or load_contract()
        self.account = account
        self.max_request_bytes = MAX_REQUEST_BYTES
        self._shown: tuple[float, dict[str, list[list[Any]]]] = (0.0, {})  # see _percents_as_shown

    @classmethod
    def from_settings(
        cls, s: GoogleSheetsSettings, contract: Contract | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> GoogleSheet:
        creds: Credentials
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
        http = SheetsHTTPClient(
            creds,
            session,
            base_url=s.api_base_url,
            max_attempts=s.max_attempts,
            backoff_seconds=s.backoff_seconds,
            max_backoff_seconds=s.max_backoff_seconds,
            timeout=s.timeout_seconds,
            sleep=sleep,
        )
        return cls(s.spreadsheet_id, http, contract, account=account_email(creds))

    def describe(self) -> str:
        return f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit"

    # -- layout

    def ensure_layout(self, setup: bool = False) -> list[str]:
        changes: list[str] = []
        for attempt in (1, 2):
            meta = self.http.fetch_sheet_metadata(
                self.spreadsheet_id,
                params={"includeGridData": "false", "fields": "sheets(properties,protectedRanges,conditionalFormats)"},
            )
            titles = {s["properties"]["title"] for s in meta.get("sheets", [])}
            present = [t.name for t in self.contract.tabs if t.name in titles]
            headers: dict[str, list[Any]] = {}
            shown: dict[str, list[list[Any]]] = {}
            if present:
                # a tab with a percent column is read whole (the Rules tab: a few dozen rows) for read()
                ranges = [quote_tab(t) if self._percent_tab(t) else f"{quote_tab(t)}!1:1" for t in present]
                got = self._batch_get(ranges, "FORMATTED_VALUE")
                headers = {t: (rows[0] if rows else []) for t, rows in zip(present, got, strict=True)}
                shown = {t: rows for t, rows in zip(present, got, strict=True) if self._percent_tab(t)}
            problems = layout_problems(self.contract, {t: headers.get(t, []) for t in present}, setup=setup)
            if problems:
                raise InputErrors(problems, what="spreadsheet's layout")
            plan = plan_layout(self.contract, meta, headers)
            # a tab added now holds its header row only
            shown |= {t.name: [t.headers] for t in self.contract.tabs if t.name not in titles}
            self._shown = (time.monotonic(), {t: rows for t, rows in shown.items() if self._percent_tab(t)})
            changes = changes or plan.changes
            if plan.requests:
                try:
                    self.http.request(
                        "post", SPREADSHEET_BATCH_UPDATE_URL % self.spreadsheet_id, json={"requests": plan.requests}
                    )
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
        response = self.http.request(
            "get",
            SPREADSHEET_VALUES_BATCH_URL % self.spreadsheet_id,
            params={
                "ranges": ranges,
                "majorDimension": "ROWS",
                "valueRenderOption": render,
                "dateTimeRenderOption": "FORMATTED_STRING",
            },
        )
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
            found = dict(zip(tabs, got, strict=True))
        except SheetsApiError as exc:
            if not (exc.code == 400 and "Unable to parse range" in str(exc)):
                raise
            # only before setup-sheet ran: learn which tabs exist and read those (two more calls, once)
            meta = self.http.fetch_sheet_metadata(self.spreadsheet_id, params={"fields": "sheets(properties(title))"})
            titles = {s["properties"]["title"] for s in meta.get("sheets", [])}
            present = [t for t in tabs if t in titles]
            found = (
                dict(zip(present, self._batch_get([quote_tab(t) for t in present], "UNFORMATTED_VALUE"), strict=True))
                if present
                else {}
            )
        out = {t: [[from_api(v) for v in row] for row in found.get(t, [])] for t in tabs}
        self._percents_as_shown(out)
        return out

    def _percent_tab(self, name: str) -> bool:
        return name in self.contract.names and any(c.type == "percent" for c in self.contract.tab(name).columns)

    def _percents_as_shown(self, tables: dict[str, list[list[Cell]]]) -> None:
        """A typed 100% is stored as 1 in a percent-formatted cell: hand it as "100%" (see percent_cells.py).

        Which cells show a percent is read in FORMATTED_VALUE (values:batchGet has one render option per
        call). ensure_layout(), which every run calls first, already reads those tabs that way (whole, instead
        of their header row), so a run's read costs no extra call. A read without it (or more than a minute
        later, or after the tab changed shape) asks those tabs formatted in one more batchGet."""
        taken, shown = self._shown
        self._shown = (0.0, {})
        columns = {
            t: cols for t, rows in tables.items() if rows and (cols := percent_columns(self.contract, t, rows[0]))
        }
        fresh = time.monotonic() - taken < 60
        stale = [
            t
            for t in columns
            if not (fresh and t in shown and len(shown[t]) == len(tables[t]) and shown[t][0] == tables[t][0])
        ]
        if stale:
            shown = shown | dict(
                zip(stale, self._batch_get([quote_tab(t) for t in stale], "FORMATTED_VALUE"), strict=True)
            )
        for t, cols in columns.items():
            with_percent_text(tables[t], cols, _shows_percent(shown[t]))

    def write(self, blocks: Sequence[CellBlock]) -> None:
        """One values:batchUpdate (RAW) for every block, which Google applies all or nothing.

        Only a payload above Google's request size limit (10 MiB; about 30,000 new Time rows at once) is
        sent as several calls, each under the limit and in order. Every call writes absolute ranges, so if
        one fails, running the command again completes the write: the rows that landed are recognised.
        """
        for data in self._payloads(blocks):
            self.http.request(
                "post",
                SPREADSHEET_VALUES_BATCH_UPDATE_URL % self.spreadsheet_id,
                json={"valueInputOption": "RAW", "data": data, "includeValuesInResponse": False},
            )

    def _payloads(self, blocks: Sequence[CellBlock]) -> list[list[dict[str, Any]]]:
        budget = self.max_request_bytes
        ranges: list[tuple[dict[str, Any], int]] = []
        for b in blocks:
            values = [[to_api(v) for v in row] for row in b.values]
            if not any(values):
                continue
            start, size = 0, 0
            for i, row in enumerate(values + [None]):
                row_size = len(json.dumps(row)) + 2 if row is not None else 0
                if row is None or (size + row_size > budget and i > start):
                    part = values[start:i]
                    width = max(len(r) for r in part)
                    ranges.append(
                        (
                            {
                                "range": a1_block(b.tab, b.row + start, b.col, len(part), width),
                                "majorDimension": "ROWS",
                                "values": part,
                            },
                            size + 100,
                        )
                    )
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

    # -- the lease: one writer at a time, whichever process runs it

    LEASE_CELL = (1, 26)  # Runs!Z1, right of the Runs columns: every process that can reach the sheet sees it
    LEASE_SECONDS = 15 * 60  # longer than a Cloud Function may run; a crashed holder's lease expires after it
    LEASE_SETTLE_SECONDS = 0.5  # between writing the lease and reading it back: a concurrent writer shows

    def _lease_range(self) -> str:
        row, col = self.LEASE_CELL
        return f"{quote_tab('Runs')}!{column_letter(col)}{row}"

    def _read_lease(self) -> dict[str, Any]:
        try:
            got = self._batch_get([self._lease_range()], "UNFORMATTED_VALUE")
        except SheetsApiError as exc:
            if not (exc.code == 400 and "Unable to parse range" in str(exc)):
                raise
            self.ensure_layout()  # a new spreadsheet without its tabs yet
            got = self._batch_get([self._lease_range()], "UNFORMATTED_VALUE")
        raw = got[0][0][0] if got and got[0] and got[0][0] else ""
        try:
            lease = json.loads(raw) if isinstance(raw, str) and raw.startswith("{") else {}
        except ValueError:
            lease = {}
        return lease if isinstance(lease, dict) else {}

    def _write_lease(self, value: str) -> None:
        row, col = self.LEASE_CELL
        self.write([CellBlock("Runs", row, col, [[value]])])

    @contextmanager
    def lease(self, job: str, holder: str, seconds: float | None = None, settle: float | None = None) -> Iterator[None]:
        """Hold the sheet for `job`: a lease (holder, expiry, token) written into Runs!Z1 and read back.

        The Sheets API has no compare-and-set, so the lease is written, then read back after a short pause:
        of two runs that wrote at once, only the one whose lease is still there goes on. LockedError when a
        live lease of another run is there."""
        seconds = self.LEASE_SECONDS if seconds is None else seconds
        settle = self.LEASE_SETTLE_SECONDS if settle is None else settle
        token = uuid.uuid4().hex
        held = self._read_lease()
        if held and float(held.get("expires", 0)) > time.time():
            raise LockedError(_lease_message(held))
        mine = {"lease": "invoicing", "job": job, "holder": holder, "expires": time.time() + seconds, "token": token}
        self._write_lease(json.dumps(mine))
        if settle:
            time.sleep(settle)
        back = self._read_lease()
        if back.get("token") != token:
            raise LockedError(_lease_message(back))
        try:
            yield
        finally:
            if self._read_lease().get("token") == token:
                self._write_lease("")

    def metadata(self) -> dict[str, Any]:
        """The spreadsheet's properties and tabs (for `doctor`-style checks)."""
        return self.http.request("get", SPREADSHEET_URL % self.spreadsheet_id).json()


def _lease_message(held: Mapping[str, Any]) -> str:
    until = datetime.fromtimestamp(float(held.get("expires", 0)), UTC).strftime("%H:%M:%S UTC")
    return (
        f"Another run ({held.get('job', 'a run')} for {held.get('holder', 'someone')}) is writing to this sheet "
        f"(its lease ends at {until} at the latest); wait for it to finish, then run it again."
    )
