"""The fault matrix: throttles, server errors, expired tokens, lost answers after a commit, validation faults.

Every case ends with the same invariant checked against the emulator: exactly one invoice per client and
period, whatever happened on the way.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from functions.accounting.quickbooks import PartialCreateError, QuickBooksUnavailable
from functions.errors import AuthError, Terminal, Transient
from tests.accounting.test_qbo_adapter import CUSTOMERS, ENTRIES, draft, make_adapter
from tests.emulators.quickbooks import QuickBooksEmulator


def one_invoice_each(emu: QuickBooksEmulator, *clients: str) -> None:
    names = sorted(i["CustomerRef"]["name"] for i in emu.all("Invoice"))
    assert names == sorted(CUSTOMERS[c] for c in clients)


@pytest.mark.parametrize("kind", ["429", "500", "drop", "timeout"])
@pytest.mark.parametrize("batch_size", [30, 1])
def test_transient_faults_on_the_create_call_are_retried_without_duplicates(emu, tmp_path, kind, batch_size):
    qbo = make_adapter(emu, tmp_path, batch_size=batch_size)
    path = "/batch#create" if batch_size > 1 else "/invoice"
    emu.fail_next(kind, path=path)
    created = qbo.create_invoices([draft(), draft("Bluefin Logistics")], ENTRIES)
    assert [c.status for c in created] == ["created", "created"]
    assert emu.count(path) >= 2  # it really was called again
    one_invoice_each(emu, "Acme Retail", "Bluefin Logistics")
    assert len(emu.all("Attachable")) == 4  # a time detail and a PDF each


def test_a_lost_answer_is_replayed_by_requestid(emu, tmp_path):
    qbo = make_adapter(emu, tmp_path)
    emu.fail_next("drop", path="/batch#create")
    [created] = qbo.create_invoices([draft()], ENTRIES)
    assert len(emu.replay) >= 1 and emu.count("/batch#create") == 2
    assert created.number == emu.all("Invoice")[0]["DocNumber"]


def test_429_honours_retry_after(emu, tmp_path):
    slept: list[float] = []
    qbo = make_adapter(emu, tmp_path, sleep=slept.append)
    emu.fail_next("429", path="/batch#query", retry_after="7")
    qbo.create_invoices([draft()], ENTRIES)
    assert slept == [7.0] and emu.throttled == 1


def test_crash_after_commit_then_rerun_finds_the_invoice_by_its_key(emu, tmp_path):
    qbo = make_adapter(emu, tmp_path, max_attempts=2)
    emu.fail_next("drop", path="/batch#create", times=2)  # every attempt of this run loses its answer
    with pytest.raises(QuickBooksUnavailable) as err:
        qbo.create_invoices([draft()], ENTRIES)
    assert "run create-invoices again" in str(err.value)
    one_invoice_each(emu, "Acme Retail")  # QuickBooks committed it anyway
    rerun = make_adapter(emu, tmp_path)
    [found] = rerun.create_invoices([draft()], ENTRIES)
    assert found.status == "existing" and found.external_id == emu.all("Invoice")[0]["Id"]
    one_invoice_each(emu, "Acme Retail")
    assert len(emu.all("Attachable")) == 2  # the rerun attached the time detail and PDF the crash skipped


def test_crash_before_the_call_then_rerun_creates_once(emu, tmp_path):
    qbo = make_adapter(emu, tmp_path, max_attempts=2)
    emu.fail_next("500", path="/batch#query", times=2)
    with pytest.raises(Transient):
        qbo.create_invoices([draft()], ENTRIES)
    assert emu.all("Invoice") == []
    [created] = make_adapter(emu, tmp_path).create_invoices([draft()], ENTRIES)
    assert created.status == "created"
    one_invoice_each(emu, "Acme Retail")


def test_a_lost_upload_is_not_attached_twice(emu, tmp_path):
    qbo = make_adapter(emu, tmp_path)
    emu.fail_next("drop", path="/upload")
    qbo.create_invoices([draft()], ENTRIES)
    # the dropped answer came after both files were stored: the retry looked first and sent nothing again
    assert len(emu.all("Attachable")) == 2 and emu.count("/upload") == 1


def test_expired_access_token_refreshes_once_and_stores_the_rotated_token_first(emu, tmp_path):
    qbo = make_adapter(emu, tmp_path)
    old_refresh = json.loads((tmp_path / "tokens.json").read_text())["refresh_token"]
    emu.oauth.expire_access_tokens()
    emu.oauth.age_refresh_tokens()  # a day later: the refresh rotates the refresh token
    qbo.create_invoices([draft()], ENTRIES)
    stored = json.loads((tmp_path / "tokens.json").read_text())
    assert qbo.auth.refreshes == 1 and emu.oauth.refresh_calls == 1
    assert stored["refresh_token"] != old_refresh and stored["refresh_token"] in emu.oauth.refresh
    assert old_refresh not in emu.oauth.refresh  # rotated: the old one is spent
    one_invoice_each(emu, "Acme Retail")


def test_a_second_401_after_refresh_asks_to_reconnect(emu, tmp_path):
    qbo = make_adapter(emu, tmp_path)
    emu.fail_next("401", path="/batch#query", times=2)
    with pytest.raises(AuthError) as err:
        qbo.create_invoices([draft()], ENTRIES)
    assert "python main.py connect quickbooks" in str(err.value)
    assert emu.oauth.refresh_calls == 1 and emu.all("Invoice") == []


def test_revoked_connection_asks_to_reconnect_without_leaking_tokens(emu, tmp_path):
    qbo = make_adapter(emu, tmp_path)
    stored = json.loads((tmp_path / "tokens.json").read_text())
    emu.oauth.revoke_all()
    with pytest.raises(AuthError) as err:
        qbo.create_invoices([draft()], ENTRIES)
    text = str(err.value)
    assert "expired or access was revoked" in text and "python main.py connect quickbooks" in text
    assert stored["refresh_token"] not in text and stored["access_token"] not in text
    assert emu.oauth.client_secret not in text


def test_validation_fault_is_not_retried_and_names_client_and_line(emu, tmp_path):
    qbo = make_adapter(emu, tmp_path)
    emu.fail_next("validation", path="/batch#create")
    with pytest.raises(Terminal) as err:
        qbo.create_invoices([draft()], ENTRIES)
    assert emu.count("/batch#create") == 1
    assert "QuickBooks refused" in str(err.value) and "Line 1" in str(err.value)
    assert emu.all("Invoice") == []


def test_validation_fault_on_a_single_create_names_the_line(emu, tmp_path):
    qbo = make_adapter(emu, tmp_path, batch_size=1)
    emu.fail_next("validation", path="/invoice")
    with pytest.raises(PartialCreateError) as err:
        qbo.create_invoices([draft()], ENTRIES)
    assert 'Acme Retail (2026-10), line 1 ("Development - Oct 2026")' in str(err.value)
    assert emu.count("/invoice") == 1


def test_client_throttle_keeps_under_the_concurrency_limit(tmp_path):
    emu = QuickBooksEmulator(latency=0.05)
    emu.start()
    try:
        for n in range(30):
            emu._insert("Customer", {"DisplayName": f"Client {n:03d}", "CurrencyRef": {"value": "USD"}})
        qbo = make_adapter(emu, tmp_path, batch_size=1)
        created = qbo.create_invoices([draft(f"Client {n:03d}") for n in range(30)], ENTRIES)
        assert len(created) == 30 and emu.throttled == 0
    finally:
        emu.stop()


def test_client_throttle_keeps_under_the_rate_limit(tmp_path):
    # the emulator allows one more than the client aims for: network jitter may bunch arrivals a little
    emu = QuickBooksEmulator(per_minute=9, window=0.5)
    emu.start()
    try:
        qbo = make_adapter(emu, tmp_path, batch_size=1, requests_per_minute=8, rate_window_seconds=0.5)
        clients = [c for c in CUSTOMERS if c not in ("Dunmore & Co.", "Fjord Analytics")][
            :9
        ]  # one lookup batch, nine invoices, one upload: over the 8 a window allows
        created = qbo.create_invoices([draft(c) for c in clients], ENTRIES)
        assert len(created) == 9 and emu.throttled == 0 and len(emu.calls) > 8
    finally:
        emu.stop()


def test_a_refused_attachment_keeps_the_invoice_and_the_rerun_attaches_it(emu, tmp_path):
    qbo = make_adapter(emu, tmp_path)
    emu.fail_next("validation", path="/upload")
    with pytest.raises(PartialCreateError) as err:
        qbo.create_invoices([draft()], ENTRIES)
    [created] = err.value.created  # the caller can still write the invoice back
    assert created.status == "created" and "files are not all attached yet" in str(err.value)
    assert emu.all("Attachable") == []  # both files went in the one refused upload
    [again] = make_adapter(emu, tmp_path).create_invoices([draft()], ENTRIES)
    assert again.status == "existing" and len(emu.all("Attachable")) == 2
    one_invoice_each(emu, "Acme Retail")


def test_an_expired_connection_during_creation_stays_an_auth_error(emu, tmp_path):
    qbo = make_adapter(emu, tmp_path)
    assert qbo.check([draft()]) == []
    emu.fail_next("401", path="/batch#create", times=2)
    with pytest.raises(AuthError):
        qbo.create_invoices([draft()], ENTRIES)
    assert emu.all("Invoice") == []


FAULTS = ["429", "500", "drop", "401", "validation"]
PATHS = ["/batch#query", "/batch#create", "/invoice", "/upload"]


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    schedule=st.lists(st.tuples(st.sampled_from(FAULTS), st.sampled_from(PATHS), st.integers(1, 3)), max_size=4),
    batch_size=st.sampled_from([1, 2, 30]),
)
# Seven faults on /query drain two per run (max_attempts=2): it takes more runs than a fixed six allowed.
@example(
    schedule=[
        ("429", "/batch#query", 1),
        ("429", "/batch#query", 2),
        ("429", "/batch#query", 3),
        ("validation", "/batch#query", 3),
    ],
    batch_size=30,
)
def test_any_fault_schedule_ends_with_exactly_one_invoice_each(tmp_path_factory, schedule, batch_size):
    """Whatever fails, and however often the run must be repeated, each client ends with one invoice, one
    time detail and one PDF, and the last run returns them all."""
    emu = QuickBooksEmulator(hang_seconds=0.6)
    emu.start()
    try:
        for kind, path, times in schedule:
            emu.fail_next(kind, path=path, times=times)
        clients = ["Acme Retail", "Bluefin Logistics", "Cedar Health"]
        drafts = [draft(c) for c in clients]
        tmp = tmp_path_factory.mktemp("run")
        result = None
        # The person clicks "Create invoices" again until it goes through. Every failed run uses up at least
        # one injected fault, so one run more than there are faults always can finish.
        for _ in range(sum(times for _, _, times in schedule) + 1):
            try:
                result = make_adapter(emu, tmp, batch_size=batch_size, max_attempts=2).create_invoices(drafts, ENTRIES)
                break
            except (Transient, Terminal):
                continue
        assert result is not None
        assert sorted(r.client for r in result) == clients
        one_invoice_each(emu, *clients)
        assert len(emu.all("Attachable")) == 6  # a time detail and a PDF each
    finally:
        emu.stop()
