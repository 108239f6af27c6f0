"""The Toggl Track API source, through real `requests` against the local Toggl emulator."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from functions.errors import AuthError, ConfigError, InputError, Terminal, Transient
from functions.models import Period
from functions.sources.toggl import SOURCE, TogglQuotaError, TogglSettings, TogglSource
from tests.emulators.toggl import TogglEmulator

OCTOBER = Period.parse("2026-10")
CEST = timezone(timedelta(hours=2))


@pytest.fixture
def emu():
    emulator = TogglEmulator()
    emulator.start()
    yield emulator
    emulator.stop()


class Sleeps(list):
    """Records the waits the retrying session asks for, without waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_source(emu: TogglEmulator, sleeps: Sleeps | None = None, **overrides) -> TogglSource:
    values = dict(
        api_token=emu.token,
        workspace_id=emu.workspace_id,
        base_url=emu.base_url,
        backoff_seconds=0.01,
        retry_budget_seconds=30,
        timeout_seconds=5,
    )
    settings = TogglSettings(**{**values, **overrides})
    return TogglSource.from_settings(settings, sleep=sleeps if sleeps is not None else Sleeps())


def october_ids(emu: TogglEmulator) -> set[str]:
    return {str(i) for i, e in emu.entries.items() if OCTOBER.contains(e["start"].date())}


# ---------------------------------------------------------------------------------------------------------
# Mapping.


@pytest.fixture
def small():
    """A workspace with hand-placed entries whose every field is known."""
    emulator = TogglEmulator(seed=False)
    emulator.workspace.update(default_currency="EUR", default_hourly_rate=100)
    ana = emulator.add_user("Ana Ruiz", "ana.ruiz@northwind.example")
    jonas = emulator.add_user("Jonas Weber", "jonas.weber@northwind.example")
    acme = emulator.add_client("Acme Retail")
    old = emulator.add_client("Old Client", archived=True)
    checkout = emulator.add_project("Checkout Revamp", acme, rate=150, currency="USD")
    legacy = emulator.add_project("Legacy Site", old, active=False)  # archived; no rate: the workspace's
    internal = emulator.add_project("Internal", None, billable=False)
    dev = emulator.add_task("Development", checkout)
    urgent, onsite = emulator.add_tag("urgent"), emulator.add_tag("onsite")
    ids = {
        "a": emulator.add_entry(
            ana,
            datetime(2026, 10, 5, 9, 0, 0, tzinfo=CEST),
            5027,
            checkout,
            dev,
            "Fix rounding in cart totals",
            tag_ids=(urgent, onsite),
        ),
        "b": emulator.add_entry(jonas, datetime(2026, 10, 31, 23, 30, tzinfo=CEST), 1800, legacy, None, "Late deploy"),
        "c": emulator.add_entry(
            ana, datetime(2026, 10, 1, 0, 15, tzinfo=CEST), 2700, internal, None, "Team standup", billable=False
        ),
        "d": emulator.add_entry(jonas, datetime(2026, 10, 12, 14, 0, tzinfo=CEST), 600, None, None, ""),
    }
    emulator.start()
    yield emulator, ids
    emulator.stop()


GOLDEN = {
    "a": dict(
        date="2026-10-05",
        client="Acme Retail",
        project="Checkout Revamp",
        task="Development",
        person="Ana Ruiz",
        role="",
        email="ana.ruiz@northwind.example",
        notes="Fix rounding in cart totals",
        hours=Decimal(5027) / Decimal(3600),  # the timer's 5027 s exactly, not 1.40
        billable=True,
        rate=Decimal("150.00"),
        currency="USD",
        url="",
        tags=("urgent", "onsite"),
    ),
    "b": dict(
        date="2026-10-31",
        client="Old Client",
        project="Legacy Site",
        task="",
        person="Jonas Weber",
        role="",
        email="jonas.weber@northwind.example",
        notes="Late deploy",
        hours=Decimal("0.50"),
        billable=True,
        rate=Decimal("100.00"),
        currency="EUR",
        url="",
        tags=(),
    ),
    "c": dict(
        date="2026-10-01",
        client="",
        project="Internal",
        task="",
        person="Ana Ruiz",
        role="",
        email="ana.ruiz@northwind.example",
        notes="Team standup",
        hours=Decimal("0.75"),
        billable=False,
        rate=None,
        currency=None,
        url="",
        tags=(),
    ),
    "d": dict(
        date="2026-10-12",
        client="",
        project="",
        task="",
        person="Jonas Weber",
        role="",
        email="jonas.weber@northwind.example",
        notes="",
        hours=Decimal(600) / Decimal(3600),  # ten minutes, exactly (1/6 h), not 0.17
        billable=True,
        rate=Decimal("100.00"),
        currency="EUR",
        url="",
        tags=(),
    ),
}


def as_golden(entry) -> dict:
    d = entry.model_dump(exclude={"source", "source_id"})
    d["date"] = d["date"].isoformat()
    return d


@pytest.mark.parametrize(
    "amounts,stop",
    [(True, True), (False, True), (True, False)],
    ids=["report-rates", "project-and-workspace-rates", "rows-without-stop"],
)
def test_every_field_maps_as_the_golden_says(small, amounts, stop):
    emu, ids = small
    emu.show_amounts = amounts  # without report rates, the project's and then the workspace's rate apply
    emu.include_stop = stop
    result = make_source(emu).fetch(OCTOBER)
    by_id = {e.source_id: e for e in result.entries}
    assert set(by_id) == {str(i) for i in ids.values()}
    for key, entry_id in ids.items():
        entry = by_id[str(entry_id)]
        assert entry.source == SOURCE
        assert as_golden(entry) == GOLDEN[key], key
    assert result.covers == (SOURCE,)
    assert result.descriptions == (f"Toggl Track API (workspace {emu.workspace_id}): 4 entries in 2026-10",)
    assert result.skipped == ()


def test_an_entry_on_a_project_toggl_does_not_list_is_kept_and_counted(small):
    emu, ids = small
    del emu.projects[emu.entries[ids["b"]]["project_id"]]  # deleted between the name lists and the report
    result = make_source(emu).fetch(OCTOBER)
    entry = {e.source_id: e for e in result.entries}[str(ids["b"])]
    assert (entry.project, entry.client, entry.hours) == ("", "", Decimal("0.50"))
    assert result.descriptions[0].endswith(", 1 on a project Toggl did not list (project left blank; refresh again)")


def test_a_running_timer_is_skipped_and_named(small):
    emu, ids = small
    running = emu.add_entry(next(iter(emu.users)), datetime(2026, 10, 20, 9, tzinfo=CEST), 0, running=True)
    result = make_source(emu).fetch(OCTOBER)
    assert str(running) not in {e.source_id for e in result.entries}
    assert [s.where for s in result.skipped] == [f"{SOURCE}:{running}"]
    assert "running timer" in result.skipped[0].reason
    assert len(result.entries) == 4


# ---------------------------------------------------------------------------------------------------------
# Pagination, the period, identity.


def test_pages_through_the_whole_workspace(emu):
    progress: list[tuple[int, int, str]] = []
    source = make_source(emu, page_size=7)
    result = source.fetch(OCTOBER, lambda done, total, what: progress.append((done, total, what)))
    assert {e.source_id for e in result.entries} == october_ids(emu)
    assert len(result.entries) == 48
    assert len({e.person for e in result.entries}) > 10  # every member's time, not only the token owner's
    assert emu.count("/search/time_entries", "POST") == 7  # ceil(48 / 7)
    assert [p[0] for p in progress] == list(range(1, 8))
    assert progress[-1][:2] == (7, 7)
    # names were read once per run, whatever the number of pages
    assert emu.count("/projects") == 1 and emu.count("/workspace_users") == 1 and emu.count("/tasks") == 1


def test_the_emulator_caps_page_size_and_the_source_still_gets_everything(emu):
    result = make_source(emu, page_size=500).fetch(OCTOBER)
    assert len(result.entries) == 48
    assert emu.count("/search/time_entries") == 1 + 48 // emu.max_page_size  # 50 per page: one page


def test_only_the_period_is_pulled(emu):
    september = make_source(emu).fetch(Period.parse("2026-09"))
    november = make_source(emu).fetch(Period.parse("2026-11"))
    assert [e.date.isoformat() for e in september.entries] == ["2026-09-28", "2026-09-30"]
    assert [e.date.isoformat() for e in november.entries] == ["2026-11-02", "2026-11-05"]
    october = make_source(emu).fetch(OCTOBER)
    assert all(OCTOBER.contains(e.date) for e in october.entries)
    assert not {e.source_id for e in october.entries} & {e.source_id for e in september.entries + november.entries}


def test_an_edited_entry_keeps_its_id(emu):
    before = {e.source_id: e for e in make_source(emu).fetch(OCTOBER).entries}
    target = int(sorted(before)[3])
    emu.edit_entry(target, seconds=2 * 3600 + 15 * 60, description="Edited in Toggl")
    after = {e.source_id: e for e in make_source(emu).fetch(OCTOBER).entries}
    assert set(after) == set(before)
    assert after[str(target)].hours == Decimal("2.25")
    assert after[str(target)].notes == "Edited in Toggl"
    assert after[str(target)].sync_hash() != before[str(target)].sync_hash()
    assert all(after[k] == before[k] for k in before if k != str(target))


# ---------------------------------------------------------------------------------------------------------
# Faults.


def test_429_waits_as_long_as_retry_after_says(emu):
    emu.fail_next("429", path="search", retry_after="7")
    sleeps = Sleeps()
    result = make_source(emu, sleeps).fetch(OCTOBER)
    assert len(result.entries) == 48
    assert sleeps == [7.0]
    assert emu.count("/search/time_entries") == 2


def test_429_beyond_the_budget_gives_up_at_once_as_transient(emu):
    emu.fail_next("429", path="search", retry_after="600")
    sleeps = Sleeps()
    with pytest.raises(Transient, match="rate-limiting.*TOGGL_RETRY_BUDGET_SECONDS"):
        make_source(emu, sleeps, retry_budget_seconds=30).fetch(OCTOBER)
    assert sleeps == []


def test_server_errors_are_retried_with_growing_backoff(emu):
    emu.fail_next("500", path="search", times=3)
    sleeps = Sleeps()
    source = make_source(emu, sleeps)
    result = source.fetch(OCTOBER)
    assert len(result.entries) == 48
    assert len(sleeps) == 3 and sleeps[0] < sleeps[2]
    assert source.http.retries == 3


def test_server_errors_that_persist_end_as_transient(emu):
    emu.fail_next("500", path="projects", times=1000)
    with pytest.raises(Transient, match="server error \\(HTTP 500\\)"):
        make_source(emu, retry_budget_seconds=1.0, backoff_seconds=0.1).fetch(OCTOBER)


def test_a_timeout_is_retried():
    emu = TogglEmulator(hang_seconds=1.0)
    emu.start()
    try:
        emu.fail_next("timeout", path="search")
        sleeps = Sleeps()
        source = make_source(emu, sleeps, timeout_seconds=0.3)
        result = source.fetch(OCTOBER)
        assert len(result.entries) == 48
        assert len(sleeps) == 1 and source.http.retries == 1
    finally:
        emu.stop()


@pytest.mark.parametrize(
    "kind,error,setting",
    [
        ("401", AuthError, "TOGGL_API_TOKEN"),
        ("403", AuthError, "TOGGL_WORKSPACE_ID"),
        ("404", ConfigError, "TOGGL_WORKSPACE_ID"),
    ],
)
def test_auth_and_config_refusals_are_never_retried(emu, kind, error, setting, caplog):
    caplog.set_level(logging.DEBUG)
    emu.fail_next(kind, path="search")
    sleeps = Sleeps()
    with pytest.raises(error) as info:
        make_source(emu, sleeps).fetch(OCTOBER)
    assert setting in str(info.value) and "page 1 of the detailed report" in str(info.value)
    assert sleeps == [] and emu.count("/search/time_entries") == 1
    assert emu.token not in str(info.value) and emu.token not in caplog.text


def test_a_wrong_token_says_which_setting_to_check(emu):
    source = make_source(emu)
    source.session.auth = ("not-the-token", "api_token")
    with pytest.raises(AuthError, match="TOGGL_API_TOKEN"):
        source.fetch(OCTOBER)
    assert emu.count() == 1


def test_a_wrong_workspace_says_which_setting_to_check(emu):
    settings = TogglSettings(api_token=emu.token, workspace_id=1, base_url=emu.base_url)
    with pytest.raises(ConfigError, match="check TOGGL_WORKSPACE_ID"):
        TogglSource.from_settings(settings).fetch(OCTOBER)


def test_a_used_up_quota_is_a_clear_sentence_and_not_retried(emu):
    emu.fail_next("402", path="search")
    sleeps = Sleeps()
    with pytest.raises(TogglQuotaError, match="quota .* is used up .* resets in 1800 s") as info:
        make_source(emu, sleeps).fetch(OCTOBER)
    assert isinstance(info.value, Transient) and sleeps == []


def test_a_malformed_page_imports_nothing_and_names_the_page(emu):
    emu.fail_next("malformed", path="search")  # the first page
    with pytest.raises(InputError, match="page 1 of the detailed report with something that is not JSON"):
        make_source(emu, page_size=10).fetch(OCTOBER)
    assert emu.count("/search/time_entries") == 1  # not retried: the same answer would come back


def test_a_page_with_a_broken_row_imports_nothing(emu):
    emu.fail_next("badrow", path="search")
    with pytest.raises(InputError, match="cannot be read \\(a row has no time_entries list\\)"):
        make_source(emu).fetch(OCTOBER)


def test_a_400_is_terminal_with_toggls_words_and_not_retried(emu):
    emu.fail_next("400", path="search")
    sleeps = Sleeps()
    with pytest.raises(Terminal, match="HTTP 400: Invalid page_size") as info:
        make_source(emu, sleeps).fetch(OCTOBER)
    assert not isinstance(info.value, Transient) and sleeps == [] and emu.count("/search/time_entries") == 1


def test_the_token_is_in_no_repr(emu, monkeypatch):
    monkeypatch.setenv("TOGGL_API_TOKEN", emu.token)
    monkeypatch.setenv("TOGGL_WORKSPACE_ID", str(emu.workspace_id))
    monkeypatch.setenv("TOGGL_BASE_URL", emu.base_url)
    settings = TogglSettings()
    source = TogglSource.from_settings(settings)
    for text in (repr(settings), str(settings), repr(source), repr(source.session), source.describe()):
        assert emu.token not in text
    assert len(source.fetch(OCTOBER).entries) == 48  # the env settings work


def test_missing_settings_are_named():
    with pytest.raises(ConfigError, match="TOGGL_API_TOKEN and TOGGL_WORKSPACE_ID"):
        TogglSource.from_settings(TogglSettings(_env_file=None, api_token=None, workspace_id=None))


def test_the_emulator_runs_on_its_own():
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.emulators.toggl", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        env = dict(line.split("export ", 1)[1].strip().split("=", 1) for line in lines if "export " in line)
        assert set(env) == {"TIME_SOURCE", "TOGGL_API_TOKEN", "TOGGL_WORKSPACE_ID", "TOGGL_BASE_URL"}
        settings = TogglSettings(
            api_token=env["TOGGL_API_TOKEN"],
            workspace_id=int(env["TOGGL_WORKSPACE_ID"]),
            base_url=env["TOGGL_BASE_URL"],
        )
        assert len(TogglSource.from_settings(settings).fetch(OCTOBER).entries) == 48
    finally:
        proc.terminate()
        proc.wait(timeout=5)
