"""pytest fixtures shared by the Google tests: the Sheets emulator, a service-account key for it, ID tokens.

Import them into a test module with `from tests.emulators.google_fixtures import *  # noqa: F401,F403`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.auth.transport.requests import AuthorizedSession, Request

from functions.auth import google_credentials
from functions.sheet.gsheets import SCOPES, GoogleSheet, GoogleSheetsSettings
from functions.sheet.gsheets_http import EmulatorSession

from .google_certs import GoogleIdentity, service_account_file
from .sheets import SheetsEmulator

__all__ = [
    "sheets_emulator",
    "sheets_url",
    "sa_file",
    "new_sheet_id",
    "gsheet",
    "identity",
    "gsettings",
    "PersonSession",
]


class PersonSession(AuthorizedSession):
    """A person's session as far as the Sheets API can tell (their own token), for gspread's public API:
    what the UI does, sent to the emulator instead of sheets.googleapis.com."""

    def __init__(self, emu_url: str, key_file: Path):
        super().__init__(google_credentials(key_file, SCOPES), auth_request=Request(EmulatorSession(emu_url)))
        self.emu_url = emu_url

    def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        return super().request(method, url.replace("https://sheets.googleapis.com", self.emu_url), *args, **kwargs)


@pytest.fixture(scope="module")
def sheets_emulator() -> Iterator[SheetsEmulator]:
    with SheetsEmulator() as emu:
        yield emu


@pytest.fixture
def sheets_url(sheets_emulator: SheetsEmulator) -> str:
    sheets_emulator.reset_calls()
    sheets_emulator.delay = 0.0
    sheets_emulator.fail_after_commit = False
    return sheets_emulator.base_url


@pytest.fixture(scope="module")
def sa_file(sheets_emulator: SheetsEmulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return service_account_file(tmp_path_factory.mktemp("sa"), sheets_emulator.base_url + "/token")


@pytest.fixture
def new_sheet_id(sheets_emulator: SheetsEmulator) -> str:
    sid = "sheet-" + uuid.uuid4().hex[:10]
    sheets_emulator.create(sid, "Agency invoicing")
    return sid


@pytest.fixture
def gsettings(sheets_url: str, sa_file: Path, new_sheet_id: str) -> GoogleSheetsSettings:
    return GoogleSheetsSettings(
        spreadsheet_id=new_sheet_id,
        credentials_file=sa_file,
        api_base_url=sheets_url,
        max_attempts=4,
        backoff_seconds=0.01,
        max_backoff_seconds=0.05,
        timeout_seconds=10,
    )


@pytest.fixture
def gsheet(gsettings: GoogleSheetsSettings) -> GoogleSheet:
    return GoogleSheet.from_settings(gsettings)


@pytest.fixture(scope="module")
def identity() -> Iterator[GoogleIdentity]:
    with GoogleIdentity() as ident:
        yield ident
