"""Secret Manager hygiene: a token save leaves one ENABLED version, never disables the one in use, survives a
crash between storing and cleaning up, and destroys disabled versions only after the grace period.

Checked against the stateful emulator (tests/emulators/secretmanager.py), whose version list is the truth.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import requests

from functions.accounting.qbo_tokens import DESTROY_AFTER, SecretManagerTokenStore, TokenSet, utcnow
from functions.accounting.quickbooks import QuickBooksAccounting
from functions.errors import Transient
from tests.accounting.test_qbo_adapter import ENTRIES, draft
from tests.accounting.test_qbo_connect import settings_for
from tests.emulators.secretmanager import SecretManagerEmulator

SECRET = "projects/p1/secrets/qbo"


@pytest.fixture
def sm():
    with SecretManagerEmulator() as emulator:
        yield emulator


def store_for(sm: SecretManagerEmulator) -> SecretManagerTokenStore:
    return SecretManagerTokenStore(SECRET, session=requests.Session(), endpoint=sm.base_url, clock=sm.now)


def tokens(n: int) -> TokenSet:
    return TokenSet(access_token=f"a{n}", refresh_token=f"r{n}", realm_id="9", access_expires_at="2026-01-01T00:00")


def test_round_trip_and_nothing_stored_yet(sm):
    store = store_for(sm)
    assert store.load() is None
    store.save(tokens(1))
    store.save(tokens(2))
    assert store.load() == tokens(2)
    assert sm.states(SECRET) == {1: "DISABLED", 2: "ENABLED"}


def test_after_n_quickbooks_refreshes_exactly_one_version_is_enabled(emu, sm, tmp_path):
    issued = emu.oauth.issue()
    store = store_for(sm)
    store.save(
        TokenSet(
            access_token=issued["access_token"],
            refresh_token=issued["refresh_token"],
            realm_id=emu.realm_id,
            access_expires_at=(utcnow() - timedelta(minutes=5)).isoformat(),
        )
    )
    qbo = QuickBooksAccounting(settings_for(emu, tmp_path), store)
    qbo.create_invoices([draft()], ENTRIES)  # the first refresh, on the real path
    for _ in range(4):
        emu.oauth.age_refresh_tokens()
        qbo.auth.refresh(qbo.auth.tokens().access_token)
    assert qbo.auth.refreshes == 5
    assert len(sm.states(SECRET)) == 6
    assert sm.enabled(SECRET) == [6]
    assert store.load() == qbo.auth.tokens()  # the ENABLED one is the one in use
    # a new instance starting now reads the tokens the last refresh stored
    assert store_for(sm).load().refresh_token == qbo.auth.tokens().refresh_token


def test_the_version_in_use_is_never_disabled(sm):
    store = store_for(sm)
    for n in range(1, 6):
        store.save(tokens(n))
        assert sm.enabled(SECRET) == [n]  # after every save: the new one, and only it
        assert store.load() == tokens(n)
    assert sm.calls.count("disable") == 4


def test_a_newer_version_from_another_instance_stays_enabled(sm):
    """Another instance stores version 3 between our addVersion (2) and our clean-up: 3 is `latest`, in use."""
    store = store_for(sm)
    store.save(tokens(1))
    real = store.retire_older

    def other_instance_first(keep: int):
        sm.handle("POST", f"/v1/{SECRET}:addVersion", {"payload": {"data": "e30="}})
        return real(keep)

    store.retire_older = other_instance_first  # type: ignore[method-assign]
    store.save(tokens(2))
    assert sm.states(SECRET) == {1: "DISABLED", 2: "ENABLED", 3: "ENABLED"}
    store.retire_older = real  # type: ignore[method-assign]
    store.retire_older(1)  # a late clean-up for an old version disables nothing newer
    assert sm.enabled(SECRET) == [2, 3]
    store.retire_older(3)
    assert sm.enabled(SECRET) == [3]


def test_a_crash_after_add_version_leaves_the_new_tokens_readable_and_the_next_save_cleans_up(sm):
    store = store_for(sm)
    store.save(tokens(1))
    store.save(tokens(2))

    class Crash(BaseException):  # the process dies: nothing catches it
        pass

    def crash(keep: int):
        raise Crash

    crashing = store_for(sm)
    crashing.retire_older = crash  # type: ignore[method-assign]
    with pytest.raises(Crash):
        crashing.save(tokens(3))
    assert sm.enabled(SECRET) == [2, 3]  # 3 stored, 2 not yet disabled
    assert store_for(sm).load() == tokens(3)  # a restarted instance reads the new tokens

    store_for(sm).save(tokens(4))
    assert sm.enabled(SECRET) == [4]
    assert sm.states(SECRET) == {1: "DISABLED", 2: "DISABLED", 3: "DISABLED", 4: "ENABLED"}


def test_a_failed_cleanup_keeps_the_save_and_warns(sm, caplog):
    store = store_for(sm)
    store.save(tokens(1))
    sm.fail("disable", status=403)  # e.g. the service account lacks the version manager role
    with caplog.at_level(logging.WARNING):
        store.save(tokens(2))
    assert store.load() == tokens(2) and sm.enabled(SECRET) == [1, 2]
    assert "could not retire older versions" in caplog.text and "a2" not in caplog.text
    store.save(tokens(3))
    assert sm.enabled(SECRET) == [3]


def test_nothing_is_disabled_when_the_new_version_cannot_be_read_back(sm):
    store = store_for(sm)
    store.save(tokens(1))
    sm.fail("access", status=503)  # the read-back of version 2
    with pytest.raises(Transient):
        store.save(tokens(2))
    assert sm.enabled(SECRET) == [1, 2] and "disable" not in sm.calls


def test_disabled_versions_are_destroyed_after_the_grace_period(sm):
    store = store_for(sm)
    store.save(tokens(1))
    sm.advance(hours=1)
    store.save(tokens(2))  # supersedes 1
    sm.advance(days=DESTROY_AFTER.days - 1)
    store.save(tokens(3))
    assert sm.states(SECRET) == {1: "DISABLED", 2: "DISABLED", 3: "ENABLED"}  # 6 days: still kept
    sm.advance(days=1, hours=1)
    store.save(tokens(4))  # 1 superseded by 2 more than 7 days ago; 2 superseded by 3 only a day ago
    assert sm.states(SECRET) == {1: "DESTROYED", 2: "DISABLED", 3: "DISABLED", 4: "ENABLED"}
    assert store.last_cleanup is not None and store.last_cleanup.destroyed == (1,)
    assert store.load() == tokens(4)


def test_many_versions_over_several_pages(sm):
    sm.page_size = 2
    store = store_for(sm)
    sm.create_secret(SECRET)
    # an old secret from before the clean-up existed: seven versions, all ENABLED
    for _ in range(7):
        sm.handle("POST", f"/v1/{SECRET}:addVersion", {"payload": {"data": "e30="}})
    store.save(tokens(8))
    assert sm.enabled(SECRET) == [8]
