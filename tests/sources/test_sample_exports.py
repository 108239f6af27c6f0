"""The demo agency's generated exports: reproducible, importable, labelled, and holding the cases that matter."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from functions.models import CategoryRule, Period, TimeEntry
from functions.sample import generate
from functions.sources.csv_exports import CsvSource, read_export

SAMPLE = Path(generate.__file__).parent
OCTOBER_FILES = [SAMPLE / "exports" / f"october_{t}.csv" for t in ("harvest", "toggl", "clockify")]
SEPTEMBER_FILES = [SAMPLE / "history" / f"september_{t}.csv" for t in ("harvest", "toggl", "clockify")]
CATEGORIES = {row["Category"] for row in csv.DictReader((SAMPLE / "config" / "Categories.csv").open(encoding="utf-8"))}
AGENCY = json.loads((SAMPLE / "agency.json").read_text(encoding="utf-8"))


def load(files: list[Path]) -> list[TimeEntry]:
    return [e for f in files for e in read_export(f)[1]]


def labels(path: Path) -> dict[str, str]:
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len({(r["source"], r["entry_id"]) for r in rows}) == len(rows), "a label is repeated"
    return {f"{r['source']}:{r['entry_id']}": r["category"] for r in rows}


@pytest.fixture(scope="module")
def october() -> list[TimeEntry]:
    return load(OCTOBER_FILES)


def test_generator_rewrites_the_checked_in_files_byte_for_byte(tmp_path: Path) -> None:
    counts = generate.write_all(tmp_path)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.csv"))
    assert [str(p) for p in written] == [
        "exports/october_clockify.csv",
        "exports/october_harvest.csv",
        "exports/october_toggl.csv",
        "history/september_clockify.csv",
        "history/september_harvest.csv",
        "history/september_labels.csv",
        "history/september_toggl.csv",
        "labels.csv",
    ]
    for rel in written:
        assert (tmp_path / rel).read_bytes() == (SAMPLE / rel).read_bytes(), f"{rel} differs from the checked-in file"
    assert sum(n for name, n in counts.items() if name.startswith("october")) == len(load(OCTOBER_FILES))


def test_the_files_are_in_the_real_encodings() -> None:
    harvest, toggl, clockify = (p.read_bytes() for p in OCTOBER_FILES)
    assert harvest.count(b"\r\n") >= harvest.count(b"\n") - 10  # CRLF rows (a few LF inside multi-line notes)
    assert toggl.startswith(b"\xef\xbb\xbf") and not harvest.startswith(b"\xef\xbb\xbf")
    assert clockify.startswith(b"Project,Client,Description")
    assert b"United States Dollar - USD" in harvest and b"Euro - EUR" in harvest and b"British Pound - GBP" in harvest


def test_october_imports_cleanly_in_the_expected_size(october: list[TimeEntry]) -> None:
    # (its speed is measured by benchmarks/pipeline_scale.py, not asserted here)
    result = CsvSource(OCTOBER_FILES).fetch(Period.parse("2026-10"))
    assert 1400 <= len(result.entries) <= 1800
    assert result.skipped == () and result.covers == ("harvest", "toggl", "clockify")
    assert {e.source for e in october} == {"harvest", "toggl", "clockify"}


@pytest.mark.parametrize(
    ("files", "label_file"),
    [(OCTOBER_FILES, SAMPLE / "labels.csv"), (SEPTEMBER_FILES, SAMPLE / "history" / "september_labels.csv")],
)
def test_every_entry_has_exactly_one_true_label_from_the_vocabulary(files: list[Path], label_file: Path) -> None:
    entries = load(files)
    truth = labels(label_file)
    assert sorted(truth) == sorted(e.ref for e in entries)
    assert set(truth.values()) == CATEGORIES  # every category, the non-billable ones too


def test_september_is_a_different_month_not_a_copy(october: list[TimeEntry]) -> None:
    september = load(SEPTEMBER_FILES)
    assert all(e.date.month == 9 for e in september) and all(e.date.month == 10 for e in october)
    assert 1400 <= len(september) <= 1800
    assert not {e.source_id for e in september} & {e.source_id for e in october}


def test_staffing_people_work_on_two_to_five_clients_and_every_client_is_staffed(october: list[TimeEntry]) -> None:
    clients_of: dict[str, set[str]] = defaultdict(set)
    for e in october:
        clients_of[e.person].add(e.client)
    assert set(clients_of) == {p["name"] for p in AGENCY["people"]}
    assert all(2 <= len(c) <= 5 for c in clients_of.values()), {p: len(c) for p, c in clients_of.items()}
    assert set().union(*clients_of.values()) == {c["name"] for c in AGENCY["clients"]}


def test_working_days_hold_six_to_nine_hours_in_short_entries(october: list[TimeEntry]) -> None:
    per_day: dict[tuple[str, object], Decimal] = defaultdict(Decimal)
    for e in october:
        per_day[(e.person, e.date)] += e.hours
    normal = [h for (p, d), h in per_day.items() if d.weekday() < 5 and h < 12]
    # Timers add or lose a few minutes against the planned 6-9 h.
    assert all(Decimal("5.5") <= h <= Decimal("9.5") for h in normal)
    long = [e for e in october if e.hours > 4]
    assert len(long) == 1 and long[0].hours == Decimal("12.5")  # the one night-long incident
    assert min(e.hours for e in october) == Decimal("0.25")


def test_the_cases_a_pipeline_must_handle_are_present(october: list[TimeEntry]) -> None:
    notes = [e.notes for e in october]
    assert sum(e.hours > 12 for e in october) == 1
    assert len([e for e in october if e.date.weekday() >= 5]) >= 2
    assert any(e.source_id.endswith("#2") for e in october)
    assert {n[:1] for n in notes} >= {"=", "+", "-", "@"}
    assert "ACME-1423 fix null ptr on checkout" in notes
    assert sum("\n" in n for n in notes) >= 2 and "" in notes and "misc" in notes
    assert any(ord(ch) > 0x1F000 for n in notes for ch in n)  # emojis
    assert any(not e.billable for e in october if e.source == "harvest")
    harvest_billable = [e for e in october if e.source == "harvest" and e.billable]
    blank = sum(e.rate is None for e in harvest_billable)
    assert 0 < blank < len(harvest_billable) * 0.15  # Harvest rate present for most rows, blank for some
    assert all(e.rate is not None for e in october if e.source == "clockify" and e.billable)
    currencies = {a["name"]: a["currency"] for a in AGENCY["clients"]}
    assert all(e.currency == currencies[e.client] for e in october if e.source == "harvest")


def test_duplicated_row_is_the_same_entry_twice(october: list[TimeEntry]) -> None:
    by_id = {e.source_id: e for e in october}
    dupes = [e for e in october if e.source_id.endswith("#2")]
    exact = [d for d in dupes if by_id[d.source_id[:-2]].model_copy(update={"source_id": d.source_id}) == d]
    assert len(exact) >= 1


# Rules a Rules tab might plausibly hold (keywords per category). The notes must not be so clean that they
# give the answer away, nor so vague that rules are useless.
KEYWORDS = {
    "Maintenance": "bug|fix|hotfix|regression|patch|upgrade|deps|dependenc|security",
    "QA": "test|qa|uat|cypress|smoke",
    "DevOps": "deploy|ci/cd|pipeline|k8s|terraform|docker|infra|dns|ssl|monitoring|aws",
    "Design": "design|wireframe|mockup|figma|prototype|icon|moodboard|research|redlines|style guide",
    "Meetings": "mtg|meeting|call|sync|standup|kickoff|demo|workshop",
    "Project Management": "pm |sprint planning|backlog|status|jira|timeline|scheduling|planning|retro|budget",
    "Support": "support|ticket|helpdesk|request",
    "Content": "copy|blog|seo|content|cms|newsletter|proofread|editing",
    "Strategy": "discovery|roadmap|audit|strategy|competitor|prioritization",
    "Data & Analytics": "dashboard|ga4|tracking plan|etl|sql|looker|bigquery|analysis|report|metrics|data",
    "Internal": "internal|1:1|timesheet|all hands|admin|hiring|laptop",
    "Sales": "proposal|estimate|pitch|pre-sales|rfp|scoping|sow",
    "Training": "learning|course|conference|tutorial|training|reading",
    "Development": "implement|build|refactor|code review|feature|dev |integrat|wired|component|frontend|backend",
}


def test_keyword_rules_alone_get_only_part_of_the_labels_right(october: list[TimeEntry]) -> None:
    rules = [CategoryRule(category=c, pattern=p, field="notes") for c, p in KEYWORDS.items()]
    truth = labels(SAMPLE / "labels.csv")
    right = Counter(next((r.category for r in rules if r.matches(e)), None) == truth[e.ref] for e in october)
    share = right[True] / len(october)
    assert 0.45 <= share <= 0.75, f"keyword rules got {share:.0%} right"
