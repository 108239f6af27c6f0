"""The Google Sheets adapter: the `SheetStore` port over gspread's HTTP client, built from the tab contract.

A run costs two Sheets API calls whatever the row count (and one OAuth token per process, see auth.py):
`ensure_layout()` reads every tab of the contract and the state cell (Runs!Z1) in one `values:batchGet`,
which `read()` then hands out, and `write()` sends every block in one `spreadsheets:batchUpdate` that is
also the run's compare-and-set against a concurrent run (gsheets_write.py). `spreadsheets.get` happens only
when the layout must change (a new spreadsheet, a missing tab or column, a new contract, setup-sheet) or a
person re-made a tab; one more batchGet only when a percent column holds a number (its format decides what
the number means, and a batchGet has one render option). A write above Google's 10 MiB request limit
(about 9,000 new Time rows at once) is split, one call per 9 MB.

Values, both ways:
  - read with UNFORMATTED_VALUE + dateTimeRenderOption=FORMATTED_STRING: numbers come back as numbers
    (parsed from the JSON as Decimal, never through a float), booleans as booleans, dates as the text of
    their `yyyy-mm-dd` format, blank cells as None.
  - written as userEnteredValue stringValue / numberValue / boolValue, so text from a time tracker that
    starts with = + - @ stays text (as RAW input). Decimal is
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
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from google.auth.credentials import AnonymousCredentials, Credentials
from google.auth.transport.requests import AuthorizedSession, Request
from gspread.urls import (
    SPREADSHEET_BATCH_UPDATE_URL,
    SPREADSHEET_URL,
    SPREADSHEET_VALUES_BATCH_URL,
)

from ..auth import account_email, google_credentials
from ..errors import ConfigError, InputErrors, LockedError
from ..ports import Cell, CellBlock
from ..settings import GoogleSheetsSettings
from .contract import Contract, HeaderMap, layout_problems, load_contract
from .gsheets_http import EmulatorSession, SheetsApiError, SheetsHTTPClient
from .gsheets_layout import plan_layout
from .gsheets_values import a1_block, from_api, quote_tab, shows_percent, to_api
from .gsheets_write import (
    CELL_LIMIT,
    STATE_TAB,
    SheetState,
    StaleLayout,
    capacity_note,
    conflict,
    layout_key,
    over_limit,
    plan_write,
    planned_state,
    split_payloads,
    state_range,
)
from .percent_cells import percent_columns, with_percent_text

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)


# Google refuses request bodies above 10,485,760 bytes ("Request payload size exceeds the limit");
# the rest of the 10 MiB is room for the JSON envelope and the estimate's slack.
MAX_REQUEST_BYTES = 9_000_000


# ---------------------------------------------------------------- the adapter


class GoogleSheet:
    """The `SheetStore` port on a Google Sheet (see the module docstring for calls and value types)."""

    def __init__(
        self, spreadsheet_id: str, http: SheetsHTTPClient, contract: Contract | None = None, account: str = ""
    ):
        if not spreadsheet_id:
            raise ConfigError(
                "No spreadsheet is configured; set GOOGLE_SHEET_ID to the id in the "
                "sheet's URL (https://docs.google.com/spreadsheets/d/<id>/edit; "
                "docs/RUNBOOK.md#share-and-set-up-the-sheet)."
            )
        self.spreadsheet_id = spreadsheet_id
        self.http = http
        self.contract = contract or load_contract()
        self.account = account
        self.max_request_bytes = MAX_REQUEST_BYTES
        self._state: SheetState | None = None  # the state cell as last read or written: the next write's base
        self._cache: tuple[float, dict[str, list[list[Cell]]] | None] | None = None  # ensure_layout's read
        self._job: tuple[str, str] | None = None
        self._meta: Mapping[str, Any] | None = None  # a spreadsheets.get made by this ensure_layout's read

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
        """Check the layout inside the run's one read; `spreadsheets.get` only when it must change.

        Every contract tab is read whole (with the state cell) in one values:batchGet, which `read()` then
        hands out. When the state cell says the sheet was laid out under this contract and every header is
        there, that is all. Otherwise (a new or older spreadsheet, a tab or column missing, a person's edit
        of the state cell, `setup`) the spreadsheet is looked at and brought to the contract."""
        names = [t.name for t in self.contract.tabs]
        tables: dict[str, list[list[Cell]]] | None = None
        if not setup:
            tables = self._read_tables(names)
            state = self._state
            if (
                state is not None
                and state.layout == layout_key(self.contract)
                and all(t in state.tabs for t in names)
                and not layout_problems(self.contract, {t: (tables[t] or [[]])[0] for t in names})
                and all(not HeaderMap(self.contract.tab(t), (tables[t] or [[]])[0]).missing for t in names)
            ):
                self._cache = (time.monotonic(), tables)
                return []
        return self._lay_out(setup, tables)

    LAYOUT_FIELDS = "sheets(properties,protectedRanges,conditionalFormats,charts)"

    def _lay_out(self, setup: bool, tables: dict[str, list[list[Cell]]] | None) -> list[str]:
        """Look at the spreadsheet and send what brings it to the contract: the layout's requests and the new
        header cells in the one compare-and-set batchUpdate a write is (gsheets_write.py)."""
        changes: list[str] = []
        for attempt in (1, 2):
            meta, self._meta = self._meta, None
            if meta is None or attempt == 2:
                meta = self.http.fetch_sheet_metadata(
                    self.spreadsheet_id, params={"includeGridData": "false", "fields": self.LAYOUT_FIELDS}
                )
            self._adopt(meta)
            titles = {s["properties"]["title"] for s in meta.get("sheets", [])}
            present = [t.name for t in self.contract.tabs if t.name in titles]
            if tables is not None and attempt == 1:
                headers = {t: list((tables.get(t) or [[]])[0]) for t in present}
            elif present:
                got = self._batch_get([f"{quote_tab(t)}!1:1" for t in present], "UNFORMATTED_VALUE")
                headers = {t: (rows[0] if rows else []) for t, rows in zip(present, got, strict=True)}
            else:
                headers = {}
            problems = layout_problems(self.contract, {t: headers.get(t, []) for t in present}, setup=setup)
            if problems:
                raise InputErrors(problems, what="spreadsheet's layout")
            plan = plan_layout(self.contract, meta, headers)
            changes = changes or plan.changes
            assert self._state is not None
            self._state.layout = layout_key(self.contract)
            if not (plan.requests or plan.headers):
                break
            base = self._state
            planned = planned_state(base, plan.requests)
            blocks = [(b, [[to_api(v) for v in row] for row in b.values]) for b in plan.headers]
            writes, after = plan_write(blocks, planned)
            try:
                self.http.request(
                    "post",
                    SPREADSHEET_BATCH_UPDATE_URL % self.spreadsheet_id,
                    json={"requests": [*plan.requests, *writes]},
                )
            except SheetsApiError as exc:
                if (conflict(str(exc), base) or "already exists" in str(exc)) and self._landed(after):
                    self._state, tables = after, None  # a retry after a lost answer: the first one applied
                    break
                if conflict(str(exc), base):
                    raise ConcurrentChange(self._conflict_message()) from None
                # addSheet is the one request that cannot be sent twice: if a retry after a lost answer
                # (or a concurrent setup) finds the tab made, look again and finish from there
                if attempt == 1 and exc.code == 400 and "already exists" in str(exc):
                    continue
                raise
            self._state = after
            tables = None  # what was read is not the sheet any more; read() reads it again
            break
        self._cache = (time.monotonic(), tables) if tables is not None else None
        return changes

    def _look(self) -> None:
        self._adopt(self.http.fetch_sheet_metadata(self.spreadsheet_id, params={"fields": "sheets(properties)"}))

    def _adopt(self, meta: Mapping[str, Any]) -> None:
        """The state as the spreadsheet's metadata shows it (the version marker found by its title)."""
        layout = self._state.layout if self._state is not None else ""
        self._state = SheetState.from_metadata(meta, layout)

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

    def _read_tables(self, tabs: Sequence[str]) -> dict[str, list[list[Cell]]]:
        """`tabs` and the state cell in one values:batchGet; a tab the spreadsheet lacks reads as []."""
        with_state = [state_range(), *(quote_tab(t) for t in tabs)]
        try:
            got = self._batch_get(with_state, "UNFORMATTED_VALUE")
            raw_state, found = got[0], dict(zip(tabs, got[1:], strict=True))
        except SheetsApiError as exc:
            if not (exc.code == 400 and "Unable to parse range" in str(exc)):
                raise
            # only before setup-sheet ran: learn which tabs exist and read those (two more calls, once)
            meta = self.http.fetch_sheet_metadata(self.spreadsheet_id, params={"fields": self.LAYOUT_FIELDS})
            self._adopt(meta)
            self._meta = meta  # ensure_layout, which called this, uses it
            titles = {s["properties"]["title"] for s in meta.get("sheets", [])}
            present = [t for t in tabs if t in titles]
            ranges = ([state_range()] if STATE_TAB in titles else []) + [quote_tab(t) for t in present]
            got = self._batch_get(ranges, "UNFORMATTED_VALUE") if ranges else []
            raw_state = got.pop(0) if STATE_TAB in titles and got else []
            found = dict(zip(present, got, strict=True))
        state = SheetState.parse(raw_state[0][0] if raw_state and raw_state[0] else None)
        if state is not None:
            self._state = state
        return {t: [[from_api(v) for v in row] for row in found.get(t, [])] for t in tabs}

    def read(self, tabs: Sequence[str]) -> dict[str, list[list[Cell]]]:
        """The tabs, from the read `ensure_layout()` just made when it holds them, else one values:batchGet."""
        tabs = list(dict.fromkeys(tabs))
        if not tabs:
            return {}
        taken, cached = self._cache or (0.0, None)
        self._cache = None
        if cached is not None and time.monotonic() - taken < 60 and all(t in cached for t in tabs):
            out = {t: cached[t] for t in tabs}
        else:
            out = self._read_tables(tabs)
        self._percents_as_shown(out)
        return out

    def _percent_tab(self, name: str) -> bool:
        return name in self.contract.names and any(c.type == "percent" for c in self.contract.tab(name).columns)

    def _percents_as_shown(self, tables: dict[str, list[list[Cell]]]) -> None:
        """A typed 100% is stored as 1 in a percent-formatted cell: hand it as "100%" (see percent_cells.py).

        Which cells show a percent is read in FORMATTED_VALUE (values:batchGet has one render option per
        call), so only a tab whose percent column holds a number costs one more batchGet: text ("10%") and
        blanks need no format to be read right."""
        columns = {
            t: cols for t, rows in tables.items() if rows and (cols := percent_columns(self.contract, t, rows[0]))
        }
        ask = [
            t
            for t, cols in columns.items()
            if any(
                c < len(r) and isinstance(r[c], (int, float, Decimal)) and not isinstance(r[c], bool)
                for r in tables[t][1:]
                for c in cols
            )
        ]
        if not ask:
            return
        shown = dict(zip(ask, self._batch_get([quote_tab(t) for t in ask], "FORMATTED_VALUE"), strict=True))
        moved = [t for t in ask if len(shown[t]) != len(tables[t]) or shown[t][:1] != tables[t][:1]]
        if moved:  # the tab changed shape between the two reads: read both of it again, once
            tables.update(self._read_tables(moved))
            shown.update(zip(moved, self._batch_get([quote_tab(t) for t in moved], "FORMATTED_VALUE"), strict=True))
        for t in ask:
            with_percent_text(tables[t], columns[t], shows_percent(shown[t]))

    def write(self, blocks: Sequence[CellBlock], trims: Mapping[str, int] | None = None) -> None:
        """One spreadsheets:batchUpdate for every block, applied all or nothing, and only if no other run
        wrote since this one read (see gsheets_write.py: the compare-and-set and what it guarantees).

        Only a payload above Google's request size limit (10 MiB; about 9,000 new Time rows at once) is
        sent as several calls, each under the limit, in order, each its own compare-and-set. Every call
        writes absolute positions, so if one fails, running the command again completes the write. `trims`
        (tab -> rows) shrinks those tabs' grids in the last call, after its values (archive uses it)."""
        payloads = self._payloads(blocks)
        if trims and not payloads:
            payloads = [[]]
        if not payloads:
            return
        self._cache = None  # what ensure_layout read is not the sheet any more
        if self._state is None:
            self._read_tables([])  # a write without a read first (setup, tests): the state cell alone
        for n, data in enumerate(payloads, start=1):
            self._write_one(data, trims if n == len(payloads) else None)

    def _write_one(self, data: list[tuple[CellBlock, list[list[Any]]]], trims: Mapping[str, int] | None = None) -> None:
        for attempt in (1, 2):
            state = self._state
            try:
                if state is None or STATE_TAB not in state.tabs:
                    raise StaleLayout(STATE_TAB)
                requests, after = plan_write(data, state, trims=trims)
            except StaleLayout:
                if attempt == 2:
                    raise ConfigError(
                        "The spreadsheet lacks a tab this run writes to; run `python main.py setup-sheet` "
                        "(docs/RUNBOOK.md#share-and-set-up-the-sheet)."
                    ) from None
                self._look()
                continue
            if after.cells() > CELL_LIMIT:
                raise ConfigError(over_limit(after.cells()))
            try:
                self.http.request(
                    "post", SPREADSHEET_BATCH_UPDATE_URL % self.spreadsheet_id, json={"requests": requests}
                )
            except SheetsApiError as exc:
                if conflict(str(exc), state):
                    if self._landed(after):  # a retry after a lost answer: the first one applied
                        self._state = after
                        return
                    raise ConcurrentChange(self._conflict_message()) from None
                if attempt == 1 and exc.code == 400 and ("No grid with id" in str(exc) or "grid" in str(exc)):
                    # a person deleted, re-made or shrank a tab since the state cell was written: look once
                    version, marker = state.version, state.marker
                    self._look()
                    assert self._state is not None
                    if (self._state.version, self._state.marker) != (version, marker):
                        raise ConcurrentChange(self._conflict_message()) from None
                    continue
                raise
            self._state = after
            return

    def _landed(self, after: SheetState) -> bool:
        """Whether the state cell holds `after`: our own write applied, and only its answer was lost (the
        transport retried it, and the retry found its own marker gone). One batchGet, only then."""
        got = self._batch_get([state_range()], "UNFORMATTED_VALUE")
        now = SheetState.parse(got[0][0][0] if got and got[0] and got[0][0] else None)
        return now is not None and (now.version, now.marker) == (after.version, after.marker)

    def _conflict_message(self) -> str:
        job = self._job[0] if self._job else "run"
        return (
            f"Another run wrote to this sheet while this {job} was working, so nothing of this one was written "
            "(the sheet is as the other run left it). Run it again: it starts from the sheet as it is now, and "
            "invoices already in the accounting system are found there, never created twice "
            "(docs/RUNBOOK.md#another-run-changed-the-sheet-meanwhile)."
        )

    def known_rows(self, tab: str) -> int | None:
        """The rows of `tab`'s grid (header included) as this run last read them (the state cell comes with every
        read): costs no call; None before the first read."""
        if self._state is None or tab not in self._state.tabs:
            return None
        return self._state.tabs[tab][1]

    def capacity(self) -> tuple[int, str]:
        """Cells the spreadsheet holds (from the grids the state cell records) and a sentence when near the limit."""
        cells = self._state.cells() if self._state is not None else 0
        return cells, capacity_note(cells)

    def _payloads(self, blocks: Sequence[CellBlock]) -> list[list[tuple[CellBlock, list[list[Any]]]]]:
        values = [(b, [[to_api(v) for v in row] for row in b.values]) for b in blocks]
        return split_payloads(values, self.max_request_bytes, self._state)

    # -- the guard against two runs at once

    @contextmanager
    def lease(self, job: str, holder: str, seconds: float | None = None, settle: float | None = None) -> Iterator[None]:
        """Name the run for messages; the guard itself costs no call: every write is a compare-and-set on
        the version the run read (gsheets_write.py), so of two runs at once only one's writes land and the
        other is told to run again, and a crashed run holds nothing. (`seconds`, `settle`: unused, kept
        for callers of the former lease.)"""
        self._job = (job, holder)
        try:
            yield
        finally:
            self._job = None

    def metadata(self) -> dict[str, Any]:
        """The spreadsheet's properties and tabs (for `doctor`-style checks)."""
        return self.http.request("get", SPREADSHEET_URL % self.spreadsheet_id).json()


class ConcurrentChange(LockedError):
    """Another run wrote to the sheet after this run read it: this run's write was refused whole."""


__all__ = ["GoogleSheet", "GoogleSheetsSettings", "ConcurrentChange", "SCOPES", "a1_block", "quote_tab", "to_api"]
