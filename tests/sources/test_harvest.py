"""The Harvest API source, through the real requests client, against the local Harvest emulator."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import SecretStr

from functions.errors import AuthError, ConfigError, InputErrors, Transient
from functions.models import Period, TimeEntry
from functions.ports import TimeSource
from functions.sources.harvest import HarvestApiError, HarvestClient, HarvestSettings, HarvestSource
from tests.emulators.harvest import HarvestEmulator

OCT = Period.parse("2026-10")


@pytest.fixture
def emu():
    e = HarvestEmulator(hang_seconds=1.0)
    e.start()
    yield e
    e.stop()


def settings_for(emu: HarvestEmulator, **kw) -> HarvestSettings:
    env = emu.env()
    base = dict(
        account_id=env["HARVEST_ACCOUNT_ID"],
        token=SecretStr(env["HARVEST_TOKEN"]),
        user_agent=env["HARVEST_USER_AGENT"],
        base_url=env["HARVEST_BASE_URL"],
        read_timeout_seconds=0.4,
        retry_budget_seconds=10,
    )
    base.update(kw)
    return HarvestSettings(**base)


class Waits(list):
    """Stands in for time.sleep: records the waits the retry loop asks for, without waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_source(emu: HarvestEmulator, sleep=None, **kw) -> HarvestSource:
    s = settings_for(emu, **kw)
    HarvestSource.from_settings(s)  # the checks production runs
    return HarvestSource(s, HarvestClient(s, sleep=sleep if sleep is not None else Waits()))


def empty_account(emu: HarvestEmulator) -> dict[str, int]:
    """Drop the random sample entries, keep people, clients, projects and tasks; ids by name."""
    emu.entries.clear()
    ids = {f"{u['first_name']} {u['last_name']}": u["id"] for u in emu.users.values()}
    ids |= {p["name"]: p["id"] for p in emu.projects.values()}
    ids |= {t["name"]: t["id"] for t in emu.tasks.values()}
    return ids


# -- mapping --------------------------------------------------------------------------------------------------


def test_every_field_is_mapped_golden(emu):
    ids = empty_account(emu)
    a = emu.add_entry(
        ids["Ana Ruiz"],
        ids["Checkout Revamp"],
        ids["Development"],
        date(2026, 10, 5),
        Decimal("1.5"),
        notes="Checkout — payment retries\r\nand tests",
        billable=True,
        billable_rate=Decimal("185.00"),
        permalink="https://github.com/northwind/app/issues/42",
    )
    b = emu.add_entry(
        ids["Ben Okafor"],
        ids["Brand Site"],
        ids["Meetings"],
        date(2026, 10, 31),
        Decimal("0.125"),
        notes="",
        billable=False,
        billable_rate=None,
    )
    c = emu.add_entry(
        ids["Ben Okafor"],
        ids["Data Pipeline"],
        ids["QA Testing"],
        date(2026, 10, 1),
        Decimal("2.3333"),
        notes="Zero rate",
        billable=True,
        billable_rate=Decimal("0"),
    )
    emu.users[ids["Ben Okafor"]]["roles"] = []  # a person without a role in Harvest
    result = make_source(emu).fetch(OCT)

    expected = (
        TimeEntry(
            source="harvest-api",
            source_id=str(c["id"]),
            date=date(2026, 10, 1),
            client="Fjord Analytics",
            project="Data Pipeline",
            task="QA Testing",
            person="Ben Okafor",
            role="",
            email="ben.okafor@northwind.example",
            notes="Zero rate",
            hours=Decimal("2.3333"),  # as Harvest sent it: never cut on import
            billable=True,
            rate=None,
            currency="EUR",
            url=f"https://northwind.harvestapp.com/time/day/2026/10/01/{ids['Ben Okafor']}",
        ),
        TimeEntry(
            source="harvest-api",
            source_id=str(a["id"]),
            date=date(2026, 10, 5),
            client="Acme Retail",
            project="Checkout Revamp",
            task="Development",
            person="Ana Ruiz",
            role="Principal Engineer",
            email="ana.ruiz@northwind.example",
            notes="Checkout — payment retries\nand tests",
            hours=Decimal("1.50"),
            billable=True,
            rate=Decimal("185.00"),
            currency="USD",
            url="https://github.com/northwind/app/issues/42",
        ),
        TimeEntry(
            source="harvest-api",
            source_id=str(b["id"]),
            date=date(2026, 10, 31),
            client="Dunmore & Co.",
            project="Brand Site",
            task="Meetings",
            person="Ben Okafor",
            role="",
            email="ben.okafor@northwind.example",
            notes="",
            hours=Decimal("0.125"),
            billable=False,
            rate=None,
            currency="GBP",
            url=f"https://northwind.harvestapp.com/time/day/2026/10/31/{ids['Ben Okafor']}",
        ),
    )
    assert result.entries == expected
    assert all(
        isinstance(e.hours, Decimal) and str(e.hours) == str(x.hours)
        for e, x in zip(result.entries, expected, strict=True)
    )  # 1.50 not 1.5000000001: no float on the way
    assert result.covers == ("harvest-api",)
    assert result.descriptions == ("Harvest API (account 1234567): 3 entries in 2026-10",)
    assert result.skipped == ()


def test_the_seeded_month_maps_people_roles_and_emails_from_one_users_pass(emu):
    source = make_source(emu)
    assert isinstance(source, TimeSource)
    result = source.fetch(OCT)
    assert len(result.entries) == 48
    people = {f"{u['first_name']} {u['last_name']}": u for u in emu.users.values()}
    for e in result.entries:
        raw = emu.entries[int(e.source_id)]
        assert e.person == raw["user"]["name"] and e.client == raw["client"]["name"]
        assert e.role == people[e.person]["roles"][0] and e.email == people[e.person]["email"]
        assert e.hours == raw["hours"] and e.billable == raw["billable"]
    assert emu.count("/v2/users") == 2  # /users/me and one page of /users, not one per entry
    assert emu.count("/v2/time_entries") == 1
    headers = emu.headers_seen[-1]
    assert headers["Harvest-Account-Id"] == "1234567"
    assert headers["User-Agent"] == "Invoicing tests (ops@northwind.example)"
    assert headers["Authorization"] == "Bearer emu-harvest-token"


# -- pagination and the period --------------------------------------------------------------------------------


def test_pagination_follows_next_links_over_several_pages(emu):
    seen: list[tuple[int, int, str]] = []
    whole = make_source(emu).fetch(OCT)
    paged = make_source(emu, per_page=10).fetch(OCT, lambda done, total, what: seen.append((done, total, what)))
    assert paged.entries == whole.entries and len(paged.entries) == 48
    entry_calls = [q for _, p, q in emu.calls[-7:] if p == "/v2/time_entries"]
    assert len(entry_calls) == 5  # 48 entries, 10 a page
    assert "cursor" not in entry_calls[0] and all("cursor" in q for q in entry_calls[1:])
    assert all(q["from"] == "2026-10-01" and q["to"] == "2026-10-31" for q in entry_calls)  # filters kept
    pages = [(d, t) for d, t, what in seen if "time entries" in what]
    assert pages == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert [(d, t) for d, t, what in seen if "users" in what] == [(1, 2), (2, 2)]  # 18 people, 10 a page


def test_the_period_filter_asks_harvest_for_the_month_only(emu):
    oct_result = make_source(emu).fetch(OCT)
    assert all(OCT.contains(e.date) for e in oct_result.entries)
    sep = make_source(emu).fetch(Period.parse("2026-09"))
    assert sorted(e.date for e in sep.entries) == [date(2026, 9, 27), date(2026, 9, 30)]
    assert sep.descriptions == ("Harvest API (account 1234567): 2 entries in 2026-09",)
    assert {(q["from"], q["to"]) for _, p, q in emu.calls if p == "/v2/time_entries"} == {
        ("2026-10-01", "2026-10-31"),
        ("2026-09-01", "2026-09-30"),
    }
    assert make_source(emu).fetch(Period.parse("2027-03")).entries == ()


# -- identity -------------------------------------------------------------------------------------------------


def test_an_edited_entry_keeps_its_id(emu):
    source = make_source(emu)
    before = {e.source_id: e for e in source.fetch(OCT).entries}
    target = next(iter(before))
    emu.edit_entry(int(target), hours=Decimal("7.75"), notes="Edited in Harvest")
    after = {e.source_id: e for e in source.fetch(OCT).entries}
    assert after.keys() == before.keys()
    assert after[target].hours == Decimal("7.75") and after[target].notes == "Edited in Harvest"
    assert after[target].sync_hash() != before[target].sync_hash()
    assert all(after[k] == before[k] for k in before if k != target)
    emu.delete_entry(int(target))
    assert target not in {e.source_id for e in source.fetch(OCT).entries}


# -- faults ---------------------------------------------------------------------------------------------------


def test_429_waits_for_retry_after_then_succeeds(emu):
    waits = Waits()
    emu.fail_next("429", path="time_entries", retry_after="7")
    result = make_source(emu, sleep=waits, retry_budget_seconds=30).fetch(OCT)
    assert len(result.entries) == 48 and waits == [7.0]
    assert emu.count("/v2/time_entries") == 2


def test_429_longer_than_the_budget_stops_at_once_as_transient(emu):
    waits = Waits()
    emu.fail_next("429", path="time_entries", retry_after="120")
    with pytest.raises(Transient, match="rate limit.*HARVEST_RETRY_BUDGET_SECONDS=10"):
        make_source(emu, sleep=waits).fetch(OCT)
    assert waits == [] and emu.count("/v2/time_entries") == 1


def test_the_emulated_rate_limit_is_honoured_for_real():
    emu = HarvestEmulator(rate_limit=3, window=0.5)
    emu.start()
    try:
        import time as _time

        started = _time.monotonic()
        result = make_source(emu, sleep=_time.sleep, per_page=20).fetch(OCT)  # 3 + 3 pages = 6 calls
        assert len(result.entries) == 48
        assert emu.throttled >= 1 and _time.monotonic() - started >= 1.0  # Retry-After: 1 was waited out
    finally:
        emu.stop()


def test_500_is_retried_with_backoff(emu):
    waits = Waits()
    emu.fail_next("500", path="time_entries", times=2)
    assert len(make_source(emu, sleep=waits).fetch(OCT).entries) == 48
    assert len(waits) == 2 and 0 < waits[0] < waits[1] <= 1.0  # 0.5 then 1 s, with jitter


def test_500_that_persists_is_transient_after_max_attempts(emu):
    waits = Waits()
    emu.fail_next("500", path="time_entries", times=99)
    with pytest.raises(Transient, match=r"server error \(500\); gave up after 3 attempt"):
        make_source(emu, sleep=waits, max_attempts=3).fetch(OCT)
    assert emu.count("/v2/time_entries") == 3 and len(waits) == 2


def test_a_timeout_is_retried(emu):
    waits = Waits()
    emu.fail_next("timeout", path="time_entries")
    assert len(make_source(emu, sleep=waits).fetch(OCT).entries) == 48
    assert len(waits) == 1 and emu.count("/v2/time_entries") == 2


def test_timeouts_that_persist_are_transient(emu):
    emu.fail_next("timeout", path="users/me", times=2)
    with pytest.raises(Transient, match="did not answer GET /v2/users/me in time"):
        make_source(emu, max_attempts=2).fetch(OCT)


def test_an_unreachable_api_is_transient_and_names_the_base_url(emu):
    import socket

    with socket.socket() as probe:  # a port nothing listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    waits = Waits()
    with pytest.raises(Transient, match="could not be reached.*check HARVEST_BASE_URL"):
        make_source(emu, sleep=waits, max_attempts=2, base_url=f"http://127.0.0.1:{closed}/v2").fetch(OCT)
    assert len(waits) == 1 and emu.calls == []


def test_a_malformed_page_is_retried_and_then_reported(emu):
    waits = Waits()
    emu.fail_next("malformed", path="time_entries")
    assert len(make_source(emu, sleep=waits, per_page=10).fetch(OCT).entries) == 48
    assert len(waits) == 1
    emu.fail_next("malformed", path="time_entries", times=99)
    with pytest.raises(Transient, match="broken page for GET /v2/time_entries.*not JSON"):
        make_source(emu, max_attempts=3).fetch(OCT)


def test_401_is_an_auth_error_naming_the_setting_and_never_retried(emu):
    emu.fail_next("401")
    with pytest.raises(AuthError) as info:
        make_source(emu).fetch(OCT)
    text = str(info.value)
    assert "HARVEST_TOKEN" in text and "invalid_token" in text and "id.getharvest.com/developers" in text
    assert len(emu.calls) == 1


def test_a_wrong_token_is_refused_and_the_token_never_shows(emu, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "pat-SECRET-9f8e7d"
    source = make_source(emu, token=SecretStr(secret))
    with pytest.raises(AuthError) as info:
        source.fetch(OCT)
    assert len(emu.calls) == 1
    shown = [
        str(info.value),
        repr(info.value),
        repr(source),
        repr(source.client),
        repr(source.settings),
        str(source.settings),
        str(source.settings.model_dump()),
        caplog.text,
    ]
    assert not any(secret in s for s in shown)


def test_403_is_a_config_error_naming_the_account_setting(emu):
    source = make_source(emu, account_id="7654321")
    with pytest.raises(ConfigError, match="HARVEST_ACCOUNT_ID") as info:
        source.fetch(OCT)
    assert "403" in str(info.value) and len(emu.calls) == 1


def test_404_is_a_config_error_naming_the_base_url(emu):
    with pytest.raises(ConfigError, match="HARVEST_BASE_URL") as info:
        make_source(emu, base_url=emu.base_url.replace("/v2", "/api/v2")).fetch(OCT)
    assert "404" in str(info.value) and len(emu.calls) == 1


def test_400_and_422_are_never_retried(emu):
    client = HarvestClient(settings_for(emu, user_agent=""), sleep=Waits())
    with pytest.raises(ConfigError, match="HARVEST_USER_AGENT"):
        client.get("/users/me")
    client = HarvestClient(settings_for(emu), sleep=Waits())
    with pytest.raises(HarvestApiError, match="status 422: per_page must be between 1 and 2000; retrying will not"):
        client.get("/time_entries", {"per_page": 5000})
    assert len(emu.calls) == 2 and client.retries == 0


def test_the_retry_budget_is_per_fetch(emu):
    waits = Waits()
    source = make_source(emu, sleep=waits, retry_budget_seconds=8)
    for _ in range(3):  # 5 s of Retry-After each time: three fetches, 15 s in all, each within its 8 s
        emu.fail_next("429", path="time_entries", retry_after="5")
        assert len(source.fetch(OCT).entries) == 48
    assert waits == [5.0, 5.0, 5.0]


def test_a_bad_entry_stops_the_import_naming_the_entry(emu):
    entry = next(e for e in emu.entries.values() if e["spent_date"].startswith("2026-10"))
    entry["hours"] = "lots"  # a value Harvest's schema would never send, straight into the store
    with pytest.raises(InputErrors) as info:
        make_source(emu).fetch(OCT)
    assert f"harvest-api:{entry['id']}" in str(info.value) and "lots" in str(info.value)


def test_a_next_link_to_another_host_is_refused(emu):
    client = HarvestClient(settings_for(emu))
    with pytest.raises(HarvestApiError, match="refusing to send the token"):
        client.get("https://api.example.net/v2/time_entries?cursor=x")
    assert emu.calls == []


# -- who the token sees --------------------------------------------------------------------------------------


def test_a_managers_token_fetches_but_does_not_claim_to_cover_the_source(emu):
    emu.users[emu.me_id]["access_roles"] = ["manager"]
    result = make_source(emu).fetch(OCT)
    assert result.covers == () and "Manager" in result.descriptions[0] and len(result.entries) == 48


def test_a_members_token_is_refused_before_fetching(emu):
    emu.users[emu.me_id]["access_roles"] = ["member"]
    with pytest.raises(ConfigError, match="not an Administrator or Manager"):
        make_source(emu).fetch(OCT)
    assert emu.count("/v2/time_entries") == 0


# -- settings -------------------------------------------------------------------------------------------------


def test_settings_come_from_the_environment(emu, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env
    for key, value in emu.env().items():
        monkeypatch.setenv(key, value)
    source = HarvestSource.from_settings(HarvestSettings())
    assert len(source.fetch(OCT).entries) == 48
    assert "emu-harvest-token" not in repr(HarvestSettings())


def test_missing_settings_are_named_together(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for key in ("HARVEST_ACCOUNT_ID", "HARVEST_TOKEN", "HARVEST_USER_AGENT"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(ConfigError, match="needs HARVEST_ACCOUNT_ID, HARVEST_TOKEN, HARVEST_USER_AGENT"):
        HarvestSource.from_settings(HarvestSettings())
    with pytest.raises(ConfigError, match="numeric account id"):
        HarvestSource.from_settings(HarvestSettings(account_id="acme", token=SecretStr("t"), user_agent="A (a@b.c)"))
    with pytest.raises(ConfigError, match="HARVEST_USER_AGENT should name the app"):
        HarvestSource.from_settings(HarvestSettings(account_id="1", token=SecretStr("t"), user_agent="curl"))


def test_cached_people_are_read_again_once_older_than_a_day(emu):
    s = settings_for(emu)
    moment = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    source = HarvestSource(s, HarvestClient(s, sleep=Waits()), clock=lambda: moment)
    first = source.fetch(OCT)
    state = json.loads(first.marks[0].state)
    assert state["people_at"] == "2026-11-02T09:00:00Z" and state["web"].endswith(".harvestapp.com")

    emu.calls.clear()
    moment = datetime(2026, 11, 3, 8, 59, tzinfo=UTC)  # 23 h 59 min later: the cache holds
    source.fetch_changes(OCT, None, state)
    assert [p for _, p, _ in emu.calls] == ["/v2/users/me", "/v2/time_entries"]

    emu.calls.clear()
    moment = datetime(2026, 11, 3, 9, 1, tzinfo=UTC)  # a day and a minute: emails and roles are read again
    again = source.fetch_changes(OCT, None, state)
    assert [p for _, p, _ in emu.calls] == ["/v2/users/me", "/v2/time_entries", "/v2/users"]
    assert json.loads(again.marks[0].state)["people_at"] == "2026-11-03T09:01:00Z"

    emu.calls.clear()
    source.fetch_changes(OCT, None, {**state, "people_at": "not a time"})  # a damaged cache is only a cache
    assert [p for _, p, _ in emu.calls][-1] == "/v2/users"
