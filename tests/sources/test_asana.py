"""The Asana source (time tracking entries and milestones), through requests, against the local Asana emulator."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import SecretStr

from functions import pipeline
from functions.config import Settings, bootstrap, build_source
from functions.errors import AuthError, ConfigError, InputErrors
from functions.models import Period
from functions.settings import AsanaSettings
from functions.sources.asana import AsanaSource
from functions.sources.sync import MultiSource
from tests.emulators.asana import PROJECTS, AsanaEmulator
from tests.emulators.jira import JiraEmulator
from tests.fakes import MemorySheet
from tests.seeding import seed_categories
from tests.sources.test_jira import make_source as jira_source
from tests.sources.test_jira import seed_clients

OCT = Period.parse("2026-10")
NOV_2 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class Waits(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock(NOV_2)


@pytest.fixture
def emu(clock):
    e = AsanaEmulator(clock=clock, hang_seconds=1.5)
    e.start()
    yield e
    e.stop()


def make_source(emu: AsanaEmulator, waits: Waits | None = None, **kw) -> AsanaSource:
    env = emu.env()
    base = dict(
        token=SecretStr(env["ASANA_TOKEN"]),
        base_url=env["ASANA_BASE_URL"],
        projects=env["ASANA_PROJECTS"],
        timeout_seconds=1.0,
        retry_budget_seconds=10,
    )
    base.update(kw)
    return AsanaSource.from_settings(AsanaSettings(**base), sleep=waits if waits is not None else Waits())


def test_a_month_of_time_entries_with_exact_minutes_and_the_milestones(emu):
    result = make_source(emu, page_size=10).fetch(OCT)
    assert len(result.entries) == 30 and result.covers == ("asana",)
    gid, raw = next(iter(emu.entries.items()))
    entry = {e.source_id: e for e in result.entries}[gid]
    assert entry.hours == Decimal(raw["duration_minutes"] * 60) / 3600
    assert entry.date == date.fromisoformat(raw["entered_on"]) and entry.person == raw["created_by"]["name"]
    assert entry.client == raw["attributable_to"]["name"] and entry.task == raw["task"]["name"]
    assert entry.url == f"https://app.asana.com/0/{raw['attributable_to']['gid']}/{raw['task']['gid']}"
    done = {m.name: m.completed for m in result.milestones}
    assert done == {"Acme Web: design sign-off": True, "Globex Platform: design sign-off": False}
    # pages of 10 followed through next_page.offset
    assert emu.count("/time_tracking_entries") >= 3 and any("offset" in q for _, _, q in emu.calls)


def test_a_resync_asks_each_project_for_modified_tasks_only(emu, clock, tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    sheet = seed_clients(seed_categories(MemorySheet()))
    services = bootstrap(Settings(workdir=tmp_path), source=make_source(emu), sheet=sheet, clock=clock)
    assert pipeline.refresh(services, OCT).new == 30

    clock.now = NOV_2 + timedelta(hours=1)
    emu.calls.clear()
    quiet = pipeline.refresh(services, OCT)
    assert quiet.imported == 0 and emu.count() == 2  # one tasks?modified_since per project, nothing else
    assert all("modified_since" in q for _, _, q in emu.calls)

    gid = next(iter(emu.entries))
    emu.edit_entry(gid, duration_minutes=95, at=clock.now)
    clock.now += timedelta(hours=1)
    emu.calls.clear()
    second = pipeline.refresh(services, OCT)
    assert second.updated == 1 and emu.count("/time_tracking_entries") == 1
    hours = {r[sheet.col("Time", "Entry ID")]: r[sheet.col("Time", "Hours")] for r in sheet.tabs["Time"][1:]}
    assert Decimal(str(hours[gid])) == Decimal(95) / 60


def test_a_rules_milestone_pointing_at_asana_is_ticked_unless_a_person_filled_it(emu, clock, tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    sheet = seed_clients(seed_categories(MemorySheet()))
    header = sheet.tabs["Rules"][0]

    def rule(**cells):
        return [cells.get(h) for h in header]

    acme = next(t for t in emu.tasks.values() if t["name"] == "Acme Web: design sign-off")
    sheet.tabs["Rules"] = [
        header,
        rule(
            Rule="milestone",
            Client="Acme Web",
            Project="Acme Web",
            Amount=5000,
            Period="2026-10",
            **{"Asana Milestone": acme["gid"]},
        ),
        rule(
            Rule="milestone",
            Client="Globex Corporation",
            Project="Globex Platform",
            Amount=3000,
            Period="2026-10",
            **{"Asana Milestone": "Globex Platform: design sign-off"},
        ),
        rule(
            Rule="milestone",
            Client="Acme Web",
            Project="Acme Web",
            Amount=100,
            Period="2026-10",
            Complete=False,
            **{"Asana Milestone": acme["gid"]},
        ),
    ]
    services = bootstrap(Settings(workdir=tmp_path), source=make_source(emu), sheet=sheet, clock=clock)
    summary = pipeline.refresh(services, OCT)
    complete = sheet.col("Rules", "Complete")
    assert [r[complete] for r in sheet.tabs["Rules"][1:]] == [True, None, False]
    assert len(summary.milestones) == 1 and "Rules!" in summary.milestones[0]
    preview = pipeline.preview(services, OCT)
    assert any(i.client == "Acme Web" for i in preview.invoices)


def test_bad_entries_are_located_and_skipped_only_with_the_switch(emu):
    gids = list(emu.entries)
    emu.entries[gids[0]]["duration_minutes"] = -30
    emu.entries[gids[1]]["created_by"] = None
    with pytest.raises(InputErrors) as caught:
        make_source(emu).fetch(OCT)
    text = str(caught.value)
    assert (
        f"asana:{gids[0]}: has negative duration_minutes (-30)" in text and f"asana:{gids[1]}: has no creator" in text
    )
    result = make_source(emu, skip_bad_records=True).fetch(OCT)
    assert len(result.entries) == 28 and len(result.skipped) == 2


def test_429_retry_after_500_timeouts_and_broken_pages_are_retried(emu):
    waits = Waits()
    emu.fail_next("429", path="time_tracking", retry_after="4")
    emu.fail_next("500", path="tasks")
    emu.fail_next("timeout", path="tasks")
    emu.fail_next("malformed", path="time_tracking")
    assert len(make_source(emu, waits).fetch(OCT).entries) == 30
    assert 4.0 in waits and len(waits) == 4  # the 429 waited what Retry-After said; the others backed off


def test_wrong_token_and_missing_settings_are_sentences(emu):
    source = make_source(emu)
    emu.token = "rotated"
    with pytest.raises(AuthError, match="ASANA_TOKEN"):
        source.fetch(OCT)
    with pytest.raises(ConfigError, match="ASANA_TOKEN, ASANA_PROJECTS"):
        AsanaSource.from_settings(AsanaSettings(token=SecretStr("")))
    assert "rotated" not in repr(source) and "emu-asana-token" not in repr(source)


def test_a_portfolio_names_the_projects_once_per_full_sync(emu):
    source = make_source(emu, projects="", portfolio="1204000000000001")
    assert len(source.fetch(OCT).entries) == 30 and emu.count("/portfolios/") == 1


def test_two_sources_in_one_refresh_and_one_failing_does_not_stop_the_other(emu, clock, tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    jira = JiraEmulator(clock=lambda: int(NOV_2.timestamp() * 1000))
    jira.start()
    try:
        sheet = seed_clients(seed_categories(MemorySheet()))
        both = MultiSource([("jira", jira_source(jira)), ("asana", make_source(emu))])
        services = bootstrap(Settings(workdir=tmp_path), source=both, sheet=sheet, clock=clock)
        first = pipeline.refresh(services, OCT)
        assert first.new == 70 and {r[sheet.col("Time", "Source")] for r in sheet.tabs["Time"][1:]} == {"jira", "asana"}
        assert [r[0] for r in sheet.tabs["Sync"][1:]] == ["asana", "jira"]

        emu.fail_next("500", times=50)
        clock.now += timedelta(hours=2)
        second = pipeline.refresh(services, OCT)
        assert len(second.source_failures) == 1 and second.source_failures[0].startswith("asana could not be read")
        runs = sheet.tabs["Runs"]
        assert runs[-1][runs[0].index("Status")] == "partial" and "asana" in runs[-1][runs[0].index("Errors")]
        marks = {r[0]: r[2] for r in sheet.tabs["Sync"][1:]}
        assert marks["asana"] == "2026-11-02T09:00:00Z" and marks["jira"] == "2026-11-02T11:00:00Z"
    finally:
        jira.stop()


def test_time_source_names_several_sources(monkeypatch, emu):
    for k, v in emu.env().items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("TIME_SOURCE", "asana, harvest")
    monkeypatch.setenv("HARVEST_ACCOUNT_ID", "123")
    monkeypatch.setenv("HARVEST_TOKEN", "t")
    monkeypatch.setenv("HARVEST_USER_AGENT", "Invoicing (ops@example.com)")
    settings = Settings(_env_file=None)
    assert settings.time_sources == ["asana", "harvest"]
    source = build_source(settings)
    assert isinstance(source, MultiSource) and [n for n, _ in source.sources] == ["asana", "harvest"]
    monkeypatch.setenv("TIME_SOURCE", "asana,jora")
    with pytest.raises(ConfigError, match='"jora" is not a source'):
        Settings(_env_file=None)
    assert PROJECTS
