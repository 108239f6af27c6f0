"""Connecting to QuickBooks (the OAuth code flow with intuit-oauth) and keeping the tokens safe."""

from __future__ import annotations

import json
import stat
from datetime import timedelta

import pytest
import requests

from functions.accounting.qbo_connect import connect
from functions.accounting.qbo_tokens import (
    FileTokenStore,
    TokenSet,
    token_store_from_spec,
    utcnow,
)
from functions.accounting.quickbooks import QuickBooksAccounting, QuickBooksSettings
from functions.errors import AuthError, ConfigError
from tests.accounting.test_qbo_adapter import ENTRIES, draft
from tests.emulators.quickbooks import QuickBooksEmulator


def settings_for(emu: QuickBooksEmulator, tmp_path, **kw) -> QuickBooksSettings:
    return QuickBooksSettings(
        _env_file=None,
        client_id=emu.oauth.client_id,
        client_secret=emu.oauth.client_secret,
        base_url=emu.base_url,
        token_store=f"file:{tmp_path / 'cfg' / 'tokens.json'}",
        redirect_uri="http://localhost:8000/callback",
        retry_base_seconds=0.01,
        **kw,
    )


def browser(printed: list[str]):
    """Stands in for the person: opens the printed consent URL and pastes back where it redirected."""

    def read_line(prompt: str) -> str:
        url = next(line for line in printed if line.startswith("http"))
        resp = requests.get(url, allow_redirects=False, timeout=5)
        assert resp.status_code == 302
        return resp.headers["Location"]

    return read_line


def test_connect_runs_the_code_flow_and_stores_tokens_0600(emu, tmp_path):
    settings = settings_for(emu, tmp_path)
    printed: list[str] = []
    connect(settings, read_line=browser(printed), write=printed.append)

    path = tmp_path / "cfg" / "tokens.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert stored["realm_id"] == emu.realm_id and stored["refresh_token"] in emu.oauth.refresh
    assert emu.oauth.client_secret not in path.read_text()
    consent = next(line for line in printed if line.startswith("http"))
    assert "com.intuit.quickbooks.accounting" in consent.replace("%20", " ").replace("+", " ")
    output = "\n".join(printed)
    assert stored["access_token"] not in output and stored["refresh_token"] not in output
    assert f"Connected to QuickBooks company {emu.realm_id}" in output

    # the stored connection is enough to create invoices: realm id comes from the tokens
    qbo = QuickBooksAccounting.from_settings(settings)
    [created] = qbo.create_invoices([draft()], ENTRIES)
    assert created.status == "created"


def test_production_environment_connects_and_links_to_the_production_app(emu, tmp_path):
    settings = settings_for(emu, tmp_path, environment="production")
    printed: list[str] = []
    connect(settings, read_line=browser(printed), write=printed.append)
    assert "(production)" in printed[0]
    [created] = QuickBooksAccounting.from_settings(settings).create_invoices([draft()], ENTRIES)
    assert created.url == f"https://app.qbo.intuit.com/app/invoice?txnId={created.external_id}"


def test_connect_refuses_a_redirect_from_another_attempt(emu, tmp_path):
    settings = settings_for(emu, tmp_path)
    printed: list[str] = []
    real = browser(printed)
    with pytest.raises(AuthError) as err:
        connect(settings, read_line=lambda p: real(p).replace("state=", "state=x"), write=printed.append)
    assert "state does not match" in str(err.value)
    assert not (tmp_path / "cfg" / "tokens.json").exists()


def test_connect_reports_a_denied_consent(emu, tmp_path):
    with pytest.raises(AuthError) as err:
        connect(
            settings_for(emu, tmp_path),
            read_line=lambda p: "http://localhost:8000/callback?error=access_denied&state=s",
            write=lambda s: None,
        )
    assert "did not grant access (access_denied)" in str(err.value)


def test_connect_refuses_another_company_than_configured(emu, tmp_path):
    printed: list[str] = []
    with pytest.raises(ConfigError) as err:
        connect(settings_for(emu, tmp_path, realm_id="123"), read_line=browser(printed), write=printed.append)
    assert "QBO_REALM_ID is 123" in str(err.value)


def test_an_expired_access_token_is_refreshed_before_the_first_call(emu, tmp_path):
    tokens = emu.oauth.issue()
    store = FileTokenStore(tmp_path / "cfg" / "tokens.json")
    store.save(
        TokenSet(
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            realm_id=emu.realm_id,
            access_expires_at=(utcnow() - timedelta(minutes=5)).isoformat(),
        )
    )
    emu.oauth.age_refresh_tokens()  # a day later: this refresh hands out a new refresh token
    qbo = QuickBooksAccounting(settings_for(emu, tmp_path), store)
    qbo.create_invoices([draft()], ENTRIES)
    assert emu.oauth.refresh_calls == 1 and qbo.auth.refreshes == 1
    assert store.load().refresh_token != tokens["refresh_token"]


def test_a_connection_past_its_refresh_expiry_says_when_and_how_to_reconnect(emu, tmp_path):
    tokens = emu.oauth.issue()
    store = FileTokenStore(tmp_path / "cfg" / "tokens.json")
    store.save(
        TokenSet(
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            realm_id=emu.realm_id,
            access_expires_at="2026-01-01T00:00:00+00:00",
            refresh_expires_at="2026-04-10T00:00:00+00:00",
        )
    )
    with pytest.raises(AuthError) as err:
        QuickBooksAccounting(settings_for(emu, tmp_path), store).check([draft()])
    assert "expired on 2026-04-10" in str(err.value) and "python main.py connect quickbooks" in str(err.value)
    assert emu.oauth.refresh_calls == 0


class _FailingStore(FileTokenStore):
    def save(self, tokens: TokenSet) -> None:
        raise OSError("disk full")


def test_a_refresh_that_cannot_be_stored_is_never_used(emu, tmp_path):
    tokens = emu.oauth.issue()
    good = FileTokenStore(tmp_path / "cfg" / "tokens.json")
    good.save(
        TokenSet(
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            realm_id=emu.realm_id,
            access_expires_at=(utcnow() - timedelta(minutes=5)).isoformat(),
        )
    )
    qbo = QuickBooksAccounting(settings_for(emu, tmp_path), _FailingStore(good.path))
    with pytest.raises(OSError):
        qbo.create_invoices([draft()], ENTRIES)
    assert emu.count("/v3/") == 0  # no API call went out with a token we could have lost


def test_not_connected_says_how_to_connect(emu, tmp_path):
    qbo = QuickBooksAccounting.from_settings(settings_for(emu, tmp_path))
    with pytest.raises(AuthError) as err:
        qbo.check([draft()])
    assert "python main.py connect quickbooks" in str(err.value)


def test_token_store_specs():
    assert token_store_from_spec("file:/tmp/x.json").describe() == "file /tmp/x.json"
    sm = token_store_from_spec("secretmanager:projects/p1/secrets/qbo", session_factory=requests.Session)
    assert sm.describe() == "Secret Manager projects/p1/secrets/qbo"
    with pytest.raises(ConfigError) as err:
        token_store_from_spec("vault:thing")
    assert "QBO_TOKEN_STORE" in str(err.value)


def test_settings_come_from_the_environment_and_hide_the_secret(monkeypatch):
    monkeypatch.setenv("QBO_CLIENT_ID", "abc")
    monkeypatch.setenv("QBO_CLIENT_SECRET", "s3cr3t-value")
    monkeypatch.setenv("QBO_ENVIRONMENT", "production")
    monkeypatch.setenv("QBO_BATCH_SIZE", "10")
    s = QuickBooksSettings(_env_file=None)
    assert (s.client_id, s.environment, s.batch_size) == ("abc", "production", 10)
    assert "s3cr3t-value" not in repr(s) and "s3cr3t-value" not in str(s.model_dump())
    monkeypatch.setenv("QBO_BATCH_SIZE", "31")
    with pytest.raises(ValueError):
        QuickBooksSettings(_env_file=None)


def test_token_set_repr_hides_tokens():
    t = TokenSet(access_token="AAA-secret", refresh_token="RRR-secret", realm_id="1", access_expires_at="x")
    assert "secret" not in repr(t)


# The Secret Manager store (versions, clean-up, crashes) is tested in test_secret_versions.py.
