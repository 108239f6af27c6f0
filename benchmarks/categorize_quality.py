"""Offline categorization quality: train on one labelled month, score the next.

    .venv/bin/python benchmarks/categorize_quality.py                 # the generated agency (agency_months.py)
    .venv/bin/python benchmarks/categorize_quality.py --dataset all   # and the demo's and the messy months
    .venv/bin/python benchmarks/categorize_quality.py --dataset messy --dump /tmp/messy.csv

The first month is played as it happens in the sheet: the offline classifier suggests with no history,
a person corrects to the true label and approves. The second month then runs the offline chain
(Rules tab -> memory of past decisions -> offline classifier) with the first month as the Time tab's
history. Printed: accuracy overall, per true category and per suggestion source, how often a suggestion
shown at each confidence is right, the confusions that cost most, and how many entries (distinct
descriptions, requests of 50) Claude would be asked about with AI on (only those below its threshold).

Data sets:
- `agency` (default): a two-month agency the project has never seen (benchmarks/agency_months.py): 15
  people, 25 clients, 12 categories of its own, English/German/Spanish notes; scored as the issue's four
  figures (first month with no history; second month overall, on phrasings never seen, on phrasings seen).
- `kanal`: a second generated agency designed apart from the first (benchmarks/agency_b.py): other
  category names and meanings ("Discovery", "Build", "Care plan", "Copy"...), French, Portuguese and Dutch
  notes written another way; the same four figures, so the first month is not measured where it was tuned.
- `sample`: the demo agency's September (history/) and October (exports/) CSV exports with labels.
- `messy`: built here, deterministic: notes the way people type them (abbreviations, typos, ticket ids,
  emojis, empty or one-word notes, misleading task columns, words shared by several categories), with
  about a quarter of the second month's phrasings never seen in the first (new features, new jargon).
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from functions.categorize.chain import Chain  # noqa: E402 - imported after the sys.path setup above
from functions.categorize.classifier import OfflineClassifier  # noqa: E402 - imported after the sys.path setup above
from functions.categorize.claude_prompt import normalize  # noqa: E402 - imported after the sys.path setup above
from functions.categorize.memory import MemoryCategorizer  # noqa: E402 - imported after the sys.path setup above
from functions.categorize.rules import RulesCategorizer  # noqa: E402 - imported after the sys.path setup above
from functions.models import LOW_CONFIDENCE, Category, TimeEntry, TimeRow  # noqa: E402 - imported after the sys.path setup above
from functions.ports import CategorizeContext, CategorizeReport  # noqa: E402 - imported after the sys.path setup above

SAMPLE = ROOT / "functions" / "sample"

from benchmarks.agency_b import CATEGORIES as KANAL_CATEGORIES  # noqa: E402 - after the sys.path setup
from benchmarks.agency_b import kanal_months  # noqa: E402 - after the sys.path setup
from benchmarks.agency_months import CATEGORIES as AGENCY_CATEGORIES  # noqa: E402 - after the sys.path setup
from benchmarks.agency_months import agency_months  # noqa: E402 - after the sys.path setup


def load_categories() -> tuple[Category, ...]:
    with open(SAMPLE / "config" / "Categories.csv", encoding="utf-8") as fh:
        return tuple(
            Category(
                name=r["Category"], meaning=r["Meaning"], billable=r["Billable"] == "TRUE", line_item=r["Line Item"]
            )
            for r in csv.DictReader(fh)
        )


@dataclass(frozen=True)
class Month:
    entries: tuple[TimeEntry, ...]
    labels: dict[str, str]  # entry ref -> true category


# -- the demo agency's months ------------------------------------------------------------------------


def sample_months() -> tuple[Month, Month]:
    from functions.sources.csv_exports import read_export

    def month(files: Sequence[Path], labels: Path) -> Month:
        with open(labels, encoding="utf-8") as fh:
            lab = {f"{r['source']}:{r['entry_id']}": r["category"] for r in csv.DictReader(fh)}
        entries = tuple(e for f in files for e in read_export(f)[1])
        return Month(entries, {e.ref: lab[e.ref] for e in entries if e.ref in lab})

    sep = sorted(p for p in (SAMPLE / "history").glob("september_*.csv") if "labels" not in p.name)
    octo = sorted((SAMPLE / "exports").glob("october_*.csv"))
    return month(sep, SAMPLE / "history" / "september_labels.csv"), month(octo, SAMPLE / "labels.csv")


# -- a harder, messier labelled set ------------------------------------------------------------------

FEATURES = [
    "checkout",
    "login",
    "search",
    "cart",
    "onboarding",
    "invoices page",
    "push notifs",
    "profile",
    "reporting",
    "billing",
    "sso",
    "export",
    "admin panel",
    "pricing page",
    "api v2",
    "webhooks",
]
NEW_FEATURES = ["loyalty pts", "wishlist", "dark mode", "gift cards", "chatbot", "b2b portal"]
PEOPLE = ["ben", "chloe", "dmitri", "maya", "sam from acme", "the PO", "jen", "raj"]
TYPO = {
    "review": "reveiw",
    "meeting": "meetign",
    "deploy": "delpoy",
    "update": "udpate",
    "design": "desgin",
    "testing": "tesitng",
    "fix": "fx",
    "client": "cleint",
    "report": "reprot",
}

# Each category: phrasings seen from month one, and phrasings that first appear in month two (drift).
# Some bare words ("review", "sync", "wip", "emails", "report") belong to two categories, as in life.
INTENTS: dict[str, tuple[list[str], list[str]]] = {
    "Development": (
        [
            "{t} impl {f}",
            "{f} - wip",
            "PR review {t}",
            "refactor {f} module",
            "{f} endpoint",
            "build {f} UI",
            "code {f}",
            "pairing w/ {p} on {f}",
            "{f}",
            "wip",
            "integration w/ stripe",
            "review",
        ],
        ["graphql resolvers {f}", "migrate {f} to react 19", "feature flagging {f}", "{f} v2 scaffolding"],
    ),
    "Design": (
        [
            "wireframes {f}",
            "mockups for {f}",
            "figma - {f}",
            "design review w/ {p}",
            "{f} prototype",
            "design system tokens",
            "icons",
            "wip",
            "review",
        ],
        ["motion spec {f}", "hi-fi comps {f}", "a11y contrast pass"],
    ),
    "Project Management": (
        [
            "status report",
            "backlog grooming",
            "sprint planning",
            "weekly report to client",
            "update jira board",
            "timeline/plan for {f}",
            "resourcing",
            "emails",
            "report",
        ],
        ["raid log", "burndown review", "scope change request {f}"],
    ),
    "Meetings": (
        [
            "mtg w/ client re: {f}",
            "call w/ {p}",
            "demo {f} to client",
            "kickoff",
            "client sync",
            "standup w/ client team",
            "workshop w/ stakeholders",
            "sync",
        ],
        ["qbr prep + qbr", "steerco", "exec readout"],
    ),
    "QA": (
        ["testing {f}", "regression run", "test plan {f}", "UAT support", "e2e tests {f}", "qa {t}", "bug bash"],
        ["playwright specs {f}", "smoke tests after release", "exploratory session {f}"],
    ),
    "Maintenance": (
        [
            "{t} fix null ptr in {f}",
            "hotfix {f}",
            "{t} bugfix",
            "bump deps",
            "fix {f} crash",
            "regression in {f}",
            "security patch",
            "{t}",
        ],
        ["cve-2026 remediation", "sentry errors {f}", "node 24 upgrade"],
    ),
    "Support": (
        [
            "ticket {t}",
            "answer client q about {f}",
            "user can't login",
            "content update on site",
            "help {p} w/ export",
            "support",
            "password reset",
            "emails",
        ],
        ["zendesk queue", "triage inbox", "walkthrough for new user"],
    ),
    "DevOps": (
        [
            "deploy {f} to prod",
            "ci pipeline",
            "terraform {f}",
            "k8s upgrade",
            "monitoring alerts",
            "infra",
            "dns/ssl",
            "delpoy",
        ],
        ["argo rollout", "grafana dashboards", "cost optimization aws"],
    ),
    "Content": (
        ["blog post draft", "copy for {f}", "seo copy", "edit case study", "cms entry", "newsletter"],
        ["microcopy {f}", "content audit", "translations handoff"],
    ),
    "Strategy": (
        ["roadmap", "discovery {f}", "tech audit", "analytics review", "strategy workshop prep"],
        ["opportunity sizing", "north star metrics", "competitive teardown"],
    ),
    "Data & Analytics": (
        ["dashboard {f}", "tracking plan", "ga4 events {f}", "sql for report", "looker", "data pipeline", "report"],
        ["dbt models", "cohort analysis", "attribution report"],
    ),
    "Internal": (
        [
            "internal standup",
            "1:1 w/ {p}",
            "timesheets",
            "all hands",
            "agency admin",
            "team mtg",
            "misc",
            "hiring interview",
            "sync",
        ],
        ["offsite planning", "laptop setup", "okr drafting"],
    ),
    "Sales": (
        ["proposal for {c}", "estimate {f}", "pitch deck", "sow draft", "rfp response"],
        ["pricing options for {c}", "pre-sales call {c}", "renewal quote"],
    ),
    "Training": (
        ["course - {f}", "conference", "tutorial", "onboarding docs reading", "learning rust"],
        ["certification prep", "brown bag talk", "workshop (internal) on a11y"],
    ),
}
TASKS = {
    "Development": "Development",
    "Design": "Design",
    "Project Management": "Project Management",
    "Meetings": "Meetings",
    "QA": "Testing",
    "Maintenance": "Development",
    "Support": "Support",
    "DevOps": "Development",
    "Content": "Content",
    "Strategy": "",
    "Data & Analytics": "",
    "Internal": "Non-billable",
    "Sales": "Business Development",
    "Training": "Non-billable",
}
WEIGHTS = {
    "Development": 24,
    "Design": 9,
    "Project Management": 8,
    "Meetings": 11,
    "QA": 7,
    "Maintenance": 9,
    "Support": 6,
    "DevOps": 6,
    "Content": 4,
    "Strategy": 3,
    "Data & Analytics": 4,
    "Internal": 6,
    "Sales": 2,
    "Training": 2,
}
CLIENTS = ["Acme Retail", "Globex", "Initech", "Umbrella Health", "Harbor Bank", "Mosaic Media"]
PROJECTS = ["Replatform", "Mobile App", "Website", "Data Platform", "Retainer"]


def _mess(text: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.08:
        for right, wrong in TYPO.items():
            if right in text:
                return text.replace(right, wrong, 1)
    if r < 0.16:
        return text.upper() if rng.random() < 0.3 else text.capitalize() + "."
    if r < 0.2:
        return text + " " + rng.choice(["🙂", "🔥", "(cont.)", "- cont'd", "!!", "?"])
    if r < 0.23:
        return text + "\nfollow-up tmrw"
    if r < 0.25:
        return text + f" (emailed {rng.choice(PEOPLE).split()[0]}@acme-retail.com)"
    return text


def messy_month(seed: int, n: int, drift: bool, start: date) -> Month:
    """`n` labelled entries; with `drift`, a quarter use phrasings and features never seen before."""
    rng = random.Random(seed)
    cats = list(WEIGHTS)
    entries, labels = [], {}
    for i in range(n):
        cat = rng.choices(cats, weights=[WEIGHTS[c] for c in cats])[0]
        seen, new = INTENTS[cat]
        use_new = drift and rng.random() < 0.25
        template = rng.choice(new if use_new else seen)
        feature = rng.choice(NEW_FEATURES if use_new and rng.random() < 0.6 else FEATURES)
        client = rng.choice(CLIENTS)
        notes = template.format(
            t=f"{client[:4].upper()}-{rng.randint(100, 2999)}", f=feature, p=rng.choice(PEOPLE), c=client.split()[0]
        )
        notes = "" if rng.random() < 0.04 else _mess(notes, rng)
        # Half the trackers have no task column; some people log everything under one task.
        task = TASKS[cat] if rng.random() < 0.5 else ""
        if task and rng.random() < 0.12:
            task = "Development"
        e = TimeEntry(
            source="toggl" if not task else "harvest",
            source_id=f"m{seed}-{i}",
            date=start + timedelta(days=rng.randrange(28)),
            client=client,
            project=rng.choice(PROJECTS),
            task=task,
            person=rng.choice(PEOPLE).split()[0].title(),
            notes=notes,
            hours=str(rng.choice([0.25, 0.5, 1, 1.5, 2, 3, 4])),
        )
        entries.append(e)
        labels[e.ref] = cat
    return Month(tuple(entries), labels)


def messy_months(n: int = 2000) -> tuple[Month, Month]:
    return (
        messy_month(9, n, drift=False, start=date(2026, 9, 1)),
        messy_month(10, n, drift=True, start=date(2026, 10, 1)),
    )


# -- playing the sheet ------------------------------------------------------------------------------


def offline() -> Chain:
    return Chain([RulesCategorizer(), MemoryCategorizer(), OfflineClassifier()])


def reviewed_history(month: Month, categories: tuple[Category, ...]) -> tuple[tuple[TimeRow, ...], float]:
    """The first month as the Time tab ends up: the chain's suggestions with no history at all, corrected
    by a person to the true label and approved. Also returns how many suggestions were right."""
    ctx = CategorizeContext(categories=categories)
    sug = offline().suggest(month.entries, ctx, CategorizeReport())
    rows = tuple(
        TimeRow(
            row=i + 2,
            entry=e,
            category=month.labels[e.ref],
            approved=True,
            suggested_category=sug[e.ref].category,
            suggested_by=sug[e.ref].source,
            confidence=sug[e.ref].confidence,
        )
        for i, e in enumerate(month.entries)
        if e.ref in month.labels
    )
    return rows, sum(r.category == r.suggested_category for r in rows) / max(len(rows), 1)


def derived_kinds(train: Month, test: Month) -> dict[str, str]:
    """For a data set that does not say: empty, vague, seen (the same normalized notes were in the first
    month) or new."""
    from functions.categorize.text import is_vague, normalize_notes

    before = {normalize_notes(e.notes) for e in train.entries}
    out = {}
    for e in test.entries:
        if not e.notes.strip():
            out[e.ref] = "empty"
        elif is_vague(e.notes):
            out[e.ref] = "vague"
        else:
            out[e.ref] = "seen" if normalize_notes(e.notes) in before else "new"
    return out


def evaluate(
    name: str, train: Month, test: Month, categories: tuple[Category, ...], ask_below: float = 0.8
) -> dict[str, object]:
    t0 = time.perf_counter()
    history, first_month = reviewed_history(train, categories)
    _, first_month_meanings_only = reviewed_history(
        train, tuple(c.model_copy(update={"keywords": ""}) for c in categories)
    )
    ctx = CategorizeContext(categories=categories, history=history)
    entries = [e for e in test.entries if e.ref in test.labels]
    report = CategorizeReport()
    t1 = time.perf_counter()
    out = offline().suggest(entries, ctx, report)
    seconds_second = time.perf_counter() - t1
    seconds = time.perf_counter() - t0

    kinds = getattr(test, "kinds", {}) or derived_kinds(train, test)
    per_cat: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_src: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    conf: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    cost: Counter[tuple[str, str]] = Counter()
    for e in entries:
        s, truth = out[e.ref], test.labels[e.ref]
        ok = int(s.category == truth)
        for table, key in ((per_cat, truth), (per_src, s.source), (per_kind, kinds.get(e.ref, "-"))):
            table[key][0] += ok
            table[key][1] += 1
        band = "≥ 0.9" if s.confidence >= 0.9 else ("0.6-0.9" if s.confidence >= LOW_CONFIDENCE else "< 0.6 (flagged)")
        conf[band][0] += ok
        conf[band][1] += 1
        if not ok:
            cost[(truth, s.category)] += 1
    # With AI on, only entries below the threshold are asked about; one request per 50 distinct descriptions.
    low = [e for e in entries if out[e.ref].confidence < ask_below]
    distinct_all = {(normalize(e.notes), normalize(e.task)) for e in entries if (e.notes + e.task).strip()}
    placed = Chain([RulesCategorizer(), MemoryCategorizer()]).suggest(entries, ctx, CategorizeReport())
    left = [e for e in entries if e.ref not in placed]
    distinct_left = {(normalize(e.notes), normalize(e.task)) for e in left if (e.notes + e.task).strip()}
    distinct_low = {(normalize(e.notes), normalize(e.task)) for e in low if (e.notes + e.task).strip()}
    correct = sum(v[0] for v in per_cat.values())
    return {
        "name": name,
        "train": len(history),
        "test": len(entries),
        "first_month_accuracy": first_month,
        "first_month_meanings_only": first_month_meanings_only,
        "accuracy": correct / len(entries),
        "per_category": dict(per_cat),
        "per_source": dict(per_src),
        "per_kind": dict(per_kind),
        "confidence": dict(conf),
        "ask_below": ask_below,
        "to_claude": len(low),
        "distinct_all": len(distinct_all),
        "distinct_left": len(distinct_left),
        "distinct_to_claude": len(distinct_low),
        "seconds": seconds,
        "seconds_second": seconds_second,
        "confusions": cost.most_common(8),
    }


def _pct(ok: int, n: int) -> str:
    return f"{ok / n:6.1%} ({ok}/{n})" if n else "     - (0/0)"


# USD per distinct description at Haiku 5.5 list prices with a cached system block: an estimate, taking
# ~120 input and ~40 output tokens per description (benchmarks/claude_usage.py measures a real run).
USD_PER_DESCRIPTION = 0.1 * 120 / 1e6 + 0.5 * 40 / 1e6


def print_result(r: dict[str, object]) -> None:
    print(
        f"\n== {r['name']}: trained on {r['train']} entries, scored on {r['test']} ({r['seconds']:.1f} s in all; "
        f"the second month's categorizing with the first as history: {r['seconds_second']:.1f} s)"
    )
    kinds: dict[str, list[int]] = r["per_kind"]  # type: ignore[assignment]
    print(
        f"first month, no history at all: {r['first_month_accuracy']:.1%} "
        f"(with the Keywords column left blank: {r['first_month_meanings_only']:.1%})"
    )
    print(f"second month, one reviewed month as history: overall {r['accuracy']:.1%}")
    for kind, label in (("new", "phrasings never seen"), ("seen", "phrasings seen last month")):
        if kind in kinds:
            print(f"  {label:<28} {_pct(*kinds[kind])}")
    for kind in ("vague", "empty"):
        if kind in kinds:
            print(f"  {kind + ' notes':<28} {_pct(*kinds[kind])}")
    print("  per true category:")
    for cat, (ok, n) in sorted(r["per_category"].items(), key=lambda kv: -kv[1][1]):  # type: ignore[union-attr]
        print(f"    {cat:<24} {_pct(ok, n)}")
    print("  per suggestion source:")
    for src, (ok, n) in sorted(r["per_source"].items()):  # type: ignore[union-attr]
        print(f"    {src:<24} {_pct(ok, n)}")
    print("  by confidence shown (right / shown):")
    for band, (ok, n) in sorted(r["confidence"].items()):  # type: ignore[union-attr]
        print(f"    {band:<24} {_pct(ok, n)}")
    left = int(r["distinct_left"])  # type: ignore[call-overload]
    saved = left - int(r["distinct_to_claude"])  # type: ignore[call-overload]
    print(
        f"  with AI on, asked below {r['ask_below']}: {r['to_claude']} entries, {r['distinct_to_claude']} "
        f"distinct descriptions, {math.ceil(int(r['distinct_to_claude']) / 50)} requests of 50 "  # type: ignore[call-overload]
        f"(asking about all rules and memory left, as before: {left} descriptions, {math.ceil(left / 50)} "
        f"requests; saved {saved} descriptions, ~{saved * USD_PER_DESCRIPTION:.4f} USD; the month has "
        f"{r['distinct_all']} distinct descriptions)"
    )
    print(f"  costliest confusions (truth -> suggested, entries): {r['confusions']}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["agency", "kanal", "sample", "messy", "all"], default="agency")
    parser.add_argument("--size", type=int, default=2000, help="entries per month of the messy set")
    parser.add_argument("--dump", type=Path, help="write the messy set as CSV (month,notes,task,...,label)")
    args = parser.parse_args(argv)
    if args.dataset in ("agency", "all"):
        first, second = agency_months(args.size)
        print_result(evaluate("agency (Hafenblick Studio, generated: Sep -> Oct)", first, second, AGENCY_CATEGORIES))
    if args.dataset in ("kanal", "all"):
        first, second = kanal_months(args.size)
        print_result(evaluate("kanal (Kanal & Co, generated apart: Sep -> Oct)", first, second, KANAL_CATEGORIES))
    if args.dataset in ("sample", "all"):
        print_result(evaluate("sample (demo agency Sep -> Oct)", *sample_months(), load_categories()))
    if args.dataset in ("messy", "all"):
        train, test = messy_months(args.size)
        print_result(evaluate("messy (built here, month 2 with 25% new phrasings)", train, test, load_categories()))
        if args.dump:
            with open(args.dump, "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(["month", "client", "project", "task", "notes", "category"])
                for label, m in (("train", train), ("test", test)):
                    for e in m.entries:
                        w.writerow([label, e.client, e.project, e.task, e.notes, m.labels[e.ref]])
            print(f"\nwrote {args.dump}")


if __name__ == "__main__":
    main()
