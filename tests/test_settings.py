"""Settings: one rule for every section (code, environment, `.env` in the working directory, default), one
name per setting, a typo as one sentence, and a root that imports no adapter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from functions.config import build_accounting, build_categorizer, build_sheet, build_source
from functions.settings import (
    AsanaSettings,
    ClaudeSettings,
    CloudSettings,
    GoogleSheetsSettings,
    HarvestSettings,
    JiraSettings,
    QuickBooksSettings,
    SettingError,
    Settings,
    TogglSettings,
)

ROOT = Path(__file__).resolve().parents[1]
PREFIXES = ("HARVEST_", "TOGGL_", "GOOGLE_SHEET", "QBO_", "AI_", "ANTHROPIC_", "INVOICING_")
ROOT_NAMES = ("WORKDIR", "SHEET", "ACCOUNTING", "TIME_SOURCE", "INVOICE_PREFIX", "AGENCY_NAME")


@pytest.fixture
def dotenv(tmp_path, monkeypatch):
    """A working directory with nothing but a `.env`, and an environment without any of our settings."""
    for name in list(os.environ):
        if name.startswith(PREFIXES) or name in ROOT_NAMES:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)

    def write(text: str) -> Settings:
        (tmp_path / ".env").write_text(text, encoding="utf-8")
        return Settings()

    return write


# ------------------------------------------------------------------ a .env alone configures each adapter


def test_harvest_from_dotenv(dotenv):
    settings = dotenv(
        "TIME_SOURCE=harvest\nHARVEST_ACCOUNT_ID=123\nHARVEST_TOKEN=tok-from-dotenv\n"
        'HARVEST_USER_AGENT="Invoicing (ops@example.com)"\n'
    )
    source = build_source(settings)
    assert type(source).__name__ == "HarvestSource" and source.settings.account_id == "123"
    assert source.settings.token.get_secret_value() == "tok-from-dotenv"
    assert "tok-from-dotenv" not in repr(settings.harvest)


def test_toggl_from_dotenv(dotenv):
    settings = dotenv("TIME_SOURCE=toggl\nTOGGL_API_TOKEN=toggl-from-dotenv\nTOGGL_WORKSPACE_ID=4567\n")
    source = build_source(settings)
    assert source.describe() == "Toggl Track API (workspace 4567)"


def test_google_sheets_from_dotenv(dotenv):
    settings = dotenv(
        "SHEET=google\nGOOGLE_SHEET_ID=sheet-from-dotenv\nGOOGLE_SHEETS_API_BASE_URL=http://127.0.0.1:9\n"
    )  # anonymous, as against an emulator
    sheet = build_sheet(settings)
    assert sheet.describe() == "https://docs.google.com/spreadsheets/d/sheet-from-dotenv/edit"


def test_quickbooks_from_dotenv(dotenv, tmp_path):
    settings = dotenv(
        f"ACCOUNTING=quickbooks\nQBO_CLIENT_ID=abc\nQBO_CLIENT_SECRET=s3cret-from-dotenv\n"
        f"QBO_REALM_ID=9130\nQBO_ENVIRONMENT=production\nQBO_TOKEN_STORE=file:{tmp_path}/t.json\n"
    )
    qbo = build_accounting(settings)
    assert qbo.describe() == "QuickBooks Online production, company 9130"
    assert qbo.settings.client_id == "abc" and qbo.settings.client_secret.get_secret_value() == "s3cret-from-dotenv"


def test_claude_from_dotenv(dotenv):
    settings = dotenv("AI_ENABLED=true\nANTHROPIC_API_KEY=sk-from-dotenv\nAI_BATCH_SIZE=7\nAI_MODEL=claude-haiku-4-5\n")
    chain = build_categorizer(settings)
    claude = next(s for s in chain.stages if type(s).__name__ == "ClaudeCategorizer")
    assert (claude.settings.ai_batch_size, claude.settings.ai_model) == (7, "claude-haiku-4-5")
    assert "sk-from-dotenv" not in repr(claude) + repr(claude.settings)


def test_cloud_from_dotenv(dotenv):
    from functions.cloud import verifier

    settings = dotenv(
        "INVOICING_ALLOWED_CALLERS=ops@agency.example, finance@agency.example\nINVOICING_AUDIENCES=https://fn.example\n"
    )
    v = verifier(settings.cloud)
    assert set(v.allowed) == {"ops@agency.example", "finance@agency.example"}
    assert set(v.audiences) == {"https://fn.example"}


# ------------------------------------------------------------------ one rule, one name


def test_the_environment_wins_over_dotenv_and_code_over_both(dotenv, monkeypatch):
    (Path.cwd() / ".env").write_text("GOOGLE_SHEET_ID=from-dotenv\nHARVEST_TOKEN=from-dotenv\n", encoding="utf-8")
    monkeypatch.setenv("GOOGLE_SHEET_ID", "from-env")
    assert Settings().google.spreadsheet_id == "from-env"
    assert Settings().harvest.token.get_secret_value() == "from-dotenv"
    assert GoogleSheetsSettings(spreadsheet_id="from-code").spreadsheet_id == "from-code"


def test_the_old_sheet_id_name_still_works_but_the_new_one_wins(dotenv):
    # documented nowhere: it keeps a deployment or .env made before the rename working
    assert dotenv("GOOGLE_SHEETS_SPREADSHEET_ID=old-name\n").google.spreadsheet_id == "old-name"
    assert dotenv("GOOGLE_SHEETS_SPREADSHEET_ID=old\nGOOGLE_SHEET_ID=new\n").google.spreadsheet_id == "new"


@pytest.mark.parametrize(
    "cls, field, name",
    [
        (Settings, "time_source", "TIME_SOURCE"),
        (HarvestSettings, "token", "HARVEST_TOKEN"),
        (TogglSettings, "api_token", "TOGGL_API_TOKEN"),
        (GoogleSheetsSettings, "spreadsheet_id", "GOOGLE_SHEET_ID"),
        (GoogleSheetsSettings, "credentials_file", "GOOGLE_SHEETS_CREDENTIALS_FILE"),
        (QuickBooksSettings, "token_store", "QBO_TOKEN_STORE"),
        (ClaudeSettings, "anthropic_api_key", "ANTHROPIC_API_KEY"),
        (CloudSettings, "source_csv", "INVOICING_SOURCE_CSV"),
    ],
)
def test_each_setting_has_one_name(cls, field, name):
    assert cls.env_name(field) == name


def test_every_secret_is_a_secret_str():
    secrets = {
        (cls.__name__, f)
        for cls in (HarvestSettings, TogglSettings, QuickBooksSettings, ClaudeSettings)
        for f, info in cls.model_fields.items()
        if "SecretStr" in repr(info.annotation)
    }
    assert secrets == {
        ("HarvestSettings", "token"),
        ("TogglSettings", "api_token"),
        ("QuickBooksSettings", "client_secret"),
        ("ClaudeSettings", "anthropic_api_key"),
    }


def test_defaults_agree_with_the_adapters():
    from functions.categorize.claude import DEFAULT_MODEL
    from functions.sources import harvest, toggl

    assert HarvestSettings(_env_file=None).base_url == harvest.DEFAULT_BASE_URL
    assert HarvestSettings(_env_file=None).per_page == harvest.MAX_PER_PAGE
    assert TogglSettings(_env_file=None).base_url == toggl.DEFAULT_BASE_URL
    assert ClaudeSettings(_env_file=None).ai_model == DEFAULT_MODEL


def test_the_root_switches_claude_off_when_told_in_code(dotenv):
    dotenv("AI_ENABLED=true\nANTHROPIC_API_KEY=k\n")
    assert Settings().claude.active
    assert not Settings(ai_enabled=False).claude.active


# ------------------------------------------------------------------ a typo is one sentence


@pytest.mark.parametrize(
    "env, section, sentence",
    [
        (
            "ACCOUNTING=quickbook",
            None,
            'ACCOUNTING is "quickbook"; use one of: ledger, quickbooks, stripe, xero (did you mean "quickbooks"?).',
        ),
        ("SHEET=gogle", None, 'SHEET is "gogle"; use one of: xlsx, google (did you mean "google"?).'),
        (
            "TIME_SOURCE=harvst",
            None,
            'TIME_SOURCE is "harvst"; use one of: csv, harvest, toggl, jira, asana (did you mean "harvest"?).',
        ),
        ("AI_ENABLED=maybe", None, 'AI_ENABLED is "maybe"; use one of: true, false.'),
        ("AI_BATCH_SIZE=abc", "claude", 'AI_BATCH_SIZE is "abc"; use a whole number from 1 to 200.'),
        (
            "QBO_ENVIRONMENT=prod",
            "quickbooks",
            'QBO_ENVIRONMENT is "prod"; use one of: sandbox, production (did you mean "production"?).',
        ),
        ("TOGGL_WORKSPACE_ID=acme", "toggl", 'TOGGL_WORKSPACE_ID is "acme"; use a whole number.'),
        ("TOGGL_TIMEOUT_SECONDS=0", "toggl", 'TOGGL_TIMEOUT_SECONDS is "0"; use a number above 0.'),
    ],
)
def test_a_typo_is_one_sentence(dotenv, env, section, sentence):
    with pytest.raises(SettingError) as exc:
        settings = dotenv(env + "\n")
        if section:
            getattr(settings, section)
    assert str(exc.value) == sentence


def test_a_wrong_secret_is_named_but_not_shown(dotenv):
    with pytest.raises(SettingError) as exc:
        HarvestSettings(token=12345)  # type: ignore[arg-type]
    assert "HARVEST_TOKEN" in str(exc.value) and "12345" not in str(exc.value)


# ------------------------------------------------------------------ the root imports no adapter


def test_reading_every_section_imports_no_adapter():
    code = (
        "import sys\nfrom functions.settings import Settings\ns = Settings()\n"
        "[getattr(s, n) for n in ('harvest', 'toggl', 'google', 'quickbooks', 'claude', 'cloud')]\n"
        "print(sorted(m for m in sys.modules if m.startswith(('functions.sources', 'functions.sheet', "
        "'functions.categorize', 'functions.accounting.qbo_client', 'functions.accounting.quickbooks', "
        "'anthropic', 'gspread', 'quickbooks', 'flask'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_env_example_lists_every_setting_by_its_one_name():
    import re

    from functions.accounting.stripe_client import StripeSettings
    from functions.accounting.xero_client import XeroSettings
    from functions.aws import AwsSettings

    names = {
        cls.env_name(f)
        for cls in (
            Settings,
            HarvestSettings,
            TogglSettings,
            JiraSettings,
            AsanaSettings,
            GoogleSheetsSettings,
            QuickBooksSettings,
            ClaudeSettings,
            CloudSettings,
            StripeSettings,
            XeroSettings,
            AwsSettings,
        )
        for f in cls.model_fields
    }
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert listed == names
