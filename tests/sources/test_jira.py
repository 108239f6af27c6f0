"""The Jira Cloud worklog source, through the real requests client, against the local Jira emulator."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import SecretStr

from functions import pipeline
from functions.config import Settings, bootstrap
from functions.errors import AuthError, ConfigError, InputErrors, Transient
from functions.models import Period
from functions.ports import IncrementalSource
from functions.settings import JiraSettings
from functions.sources.jira import JiraSource, adf_text
from tests.emulators.jira import PEOPLE, JiraEmulator
from tests.fakes import MemorySheet
from tests.seeding import seed_categories

OCT = Period.parse("2026-10")
NOV_2 = int(datetime(2026, 11, 2, 9, 0, tzinfo=UTC).timestamp() * 1000)


class Waits(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Clock:
    def __init__(self, ms: int):
        self.ms = ms

    def __call__(self) -> int:
        return self.ms

    def at(self) -> datetime:
        return datetime.fromtimestamp(self.ms / 1000, UTC)


@pytest.fixture
def clock():
    return Clock(NOV_2)


@pytest.fixture
def emu(clock):
    e = JiraEmulator(clock=clock, hang_seconds=1.5)
    e.start()
    yield e
    e.stop()


def seed_clients(sheet: MemorySheet) -> MemorySheet:
    """The clients the projects bill to: Acme by its project name, Globex by Tracker Keys (Jira key, Asana gid)."""
    sheet.ensure_layout()
    header = sheet.tabs["Clients"][0]
    row = {h: None for h in header}
    acme = {**row, "Client": "Acme Web", "Currency": "USD"}
    globex = {**row, "Client": "Globex Corporation", "Currency": "USD", "Tracker Keys": "GLOBEX, 1202000000000002"}
    sheet.tabs["Clients"] = [header, [acme[h] for h in header], [globex[h] for h in header]]
    return sheet


def make_source(emu: JiraEmulator, waits: Waits | None = None, **kw) -> JiraSource:
    env = emu.env()
    values = dict(
        site=env["JIRA_SITE"],
        base_url=env["JIRA_BASE_URL"],
        email=env["JIRA_EMAIL"],
        api_token=SecretStr(env["JIRA_API_TOKEN"]),
        timeout_seconds=1.0,
        retry_budget_seconds=10,
    )
    settings = JiraSettings(**{**values, **kw})
    return JiraSource.from_settings(settings, sleep=waits if waits is not None else Waits())


def test_a_month_of_worklogs_becomes_entries_with_issue_key_summary_link_and_exact_hours(emu):
    source = make_source(emu)
    assert isinstance(source, IncrementalSource)
    result = source.fetch(OCT)
    assert len(result.entries) == 40 and result.incremental == ("jira",) and result.covers == ()
    by_id = {e.source_id: e for e in result.entries}
    wid, raw = next(iter(emu.worklogs.items()))
    entry = by_id[wid]
    issue = emu.issues[raw["issueId"]]
    key, fields = issue["key"], issue["fields"]
    assert entry.source == "jira" and entry.url == f"https://northwind.atlassian.net/browse/{key}"
    assert entry.notes.startswith(f"{key} {fields['summary']}")
    assert entry.hours == Decimal(raw["timeSpentSeconds"]) / 3600
    assert entry.client == fields["project"]["name"] and entry.person == raw["author"]["displayName"]
    assert entry.project == (fields.get("parent", {}).get("fields", {}).get("summary") or fields["project"]["name"])
    assert fields["project"]["key"] in entry.tags
    # One page of ids each, one chunk of bodies, one search for the issues.
    assert [p for _, p, _ in emu.calls] == [
        "/rest/api/3/worklog/updated",
        "/rest/api/3/worklog/deleted",
        "/rest/api/3/worklog/list",
        "/rest/api/3/search/jql",
    ]
    search = emu.calls[3][2]
    assert search["jql"].startswith("id in (") and "startAt" not in search
    assert set(search["fields"]) >= {"summary", "project", "issuetype", "labels", "parent"}


def test_adf_comments_become_plain_text():
    doc = {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "Fixed "}, {"type": "text", "text": "retry"}]},
            {
                "type": "bulletList",
                "content": [
                    {
                        "type": "listItem",
                        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "a"}]}],
                    },
                    {
                        "type": "listItem",
                        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "b"}]}],
                    },
                ],
            },
            {
                "type": "paragraph",
                "content": [
                    {"type": "mention", "attrs": {"id": "1", "text": "@Ana"}},
                    {"type": "hardBreak"},
                    {"type": "inlineCard", "attrs": {"url": "https://x.example/1"}},
                ],
            },
        ],
    }
    assert adf_text(doc) == "Fixed retry\n- a\n- b\n@Ana\nhttps://x.example/1"
    assert adf_text(None) == "" and adf_text("plain v2 text") == "plain v2 text"


def test_pages_of_ids_are_followed_and_bodies_read_in_chunks(emu, clock):
    emu.add_random_worklogs(2100, "2026-10")
    source = make_source(emu, chunk_size=1000, timeout_seconds=10)  # a page of 1,000 on a loaded machine
    result = source.fetch(OCT)
    assert len(result.entries) == 2140
    assert emu.count("worklog/updated") == 3  # 1000 + 1000 + the rest (nextPage until lastPage)
    assert emu.count("worklog/list") == 3 and all(len(b["ids"]) <= 1000 for m, p, b in emu.calls if "list" in p)


def test_a_resync_asks_only_what_changed_and_flags_deletions(emu, clock, tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    sheet = seed_clients(seed_categories(MemorySheet()))
    source = make_source(emu)
    services = bootstrap(Settings(workdir=tmp_path), source=source, sheet=sheet, clock=clock.at)
    first = pipeline.refresh(services, OCT)
    assert first.new == 40

    ids = list(emu.worklogs)
    clock.ms += 3_600_000
    emu.edit_worklog(ids[0], timeSpentSeconds=7200, at=clock.ms - 20 * 60_000)
    emu.delete_worklog(ids[1], at=clock.ms - 20 * 60_000)  # older than the next overlap window
    emu.calls.clear()
    second = pipeline.refresh(services, OCT)
    assert (second.imported, second.updated, second.gone) == (1, 1, 1)
    assert emu.count() == 4  # updated, deleted, one chunk, one search
    flags = {r[sheet.col("Time", "Entry ID")]: r[sheet.col("Time", "Flags")] for r in sheet.tabs["Time"][1:]}
    assert "No longer in the source" in flags[ids[1]]

    clock.ms += 3_600_000
    emu.calls.clear()
    third = pipeline.refresh(services, OCT)
    assert emu.count() == 2 and third.imported == 0  # nothing changed: the two id feeds, nothing else
    assert (
        "No longer in the source"
        in {r[sheet.col("Time", "Entry ID")]: r[sheet.col("Time", "Flags")] for r in sheet.tabs["Time"][1:]}[ids[1]]
    )


def test_bad_worklogs_are_located_and_skipped_only_with_the_switch(emu):
    ids = list(emu.worklogs)
    del emu.worklogs[ids[0]]["author"]
    emu.worklogs[ids[1]]["timeSpentSeconds"] = -60
    with pytest.raises(InputErrors) as caught:
        make_source(emu).fetch(OCT)
    text = str(caught.value)
    assert f"jira:{ids[0]}: has no author" in text and f"jira:{ids[1]}: has negative time" in text
    result = make_source(emu, skip_bad_records=True).fetch(OCT)
    assert len(result.entries) == 38 and {s.where for s in result.skipped} == {f"jira:{ids[0]}", f"jira:{ids[1]}"}


def test_429_waits_for_retry_after_and_500_and_timeouts_are_retried(emu):
    waits = Waits()
    emu.fail_next("429", path="worklog/updated", retry_after="3")
    emu.fail_next("500", path="worklog/list")
    emu.fail_next("timeout", path="search/jql")
    emu.fail_next("malformed", path="worklog/deleted")
    result = make_source(emu, waits).fetch(OCT)
    assert len(result.entries) == 40 and waits[0] == 3.0 and len(waits) == 4


def test_wrong_credentials_and_missing_settings_are_sentences(emu):
    source = make_source(emu)
    emu.token = "rotated"  # the token was revoked in Atlassian's account settings
    with pytest.raises(AuthError, match="JIRA_API_TOKEN"):
        source.fetch(OCT)
    with pytest.raises(ConfigError, match="JIRA_EMAIL, JIRA_API_TOKEN"):
        JiraSource.from_settings(JiraSettings(site="acme.atlassian.net"))
    assert "emu-jira-token" not in repr(source) and "rotated" not in repr(source)


def test_a_server_that_keeps_failing_gives_up_within_the_budget(emu):
    emu.fail_next("500", times=50)
    with pytest.raises(Transient, match="Nothing was changed"):
        make_source(emu, max_attempts=3).fetch(OCT)


def test_the_people_tab_makes_the_same_person_in_two_tools_one_person(emu, clock, tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    sheet = seed_clients(seed_categories(MemorySheet()))
    account, name, email = PEOPLE[1]  # Ben's email is hidden by Jira: his display name maps him
    sheet.tabs["People"] = [
        ["Source", "Account", "Person", "Role"],
        ["jira", name, "Ben Okafor-Smith", "Senior Developer"],
        ["", "ana@northwind.example", "Ana Ruiz", "Principal Engineer"],
    ]
    services = bootstrap(Settings(workdir=tmp_path), source=make_source(emu), sheet=sheet, clock=clock.at)
    pipeline.refresh(services, OCT)
    people = {(r[sheet.col("Time", "Person")], r[sheet.col("Time", "Role")]) for r in sheet.tabs["Time"][1:]}
    assert ("Ben Okafor-Smith", "Senior Developer") in people and ("Ana Ruiz", "Principal Engineer") in people
    assert not any(p == name for p, _ in people)


def test_a_jira_project_no_client_maps_stops_the_refresh_with_its_records_named(emu, clock, tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    sheet = seed_categories(MemorySheet())  # no Clients rows yet
    services = bootstrap(Settings(workdir=tmp_path), source=make_source(emu), sheet=sheet, clock=clock.at)
    with pytest.raises(InputErrors, match='jira project "Globex Platform", which no client maps') as caught:
        pipeline.refresh(services, OCT)
    assert "Tracker Keys" in str(caught.value) and len(sheet.tabs["Time"]) == 1 and len(sheet.tabs["Sync"]) == 1
    seed_clients(sheet)
    sheet.tabs["Clients"].pop()  # Globex unmapped: its worklogs are listed and skipped with the switch
    done = pipeline.refresh(services, OCT, skip_bad_rows=True)
    assert done.new + len(done.skipped_rows) == 40 and done.skipped_rows[0].startswith("jira:")
    assert {c for c in done.clients} == {"Acme Web"}
