"""Generate the demo agency's tracked time as real Harvest, Toggl and Clockify CSV exports, with true labels.

Deterministic (seeded `random.Random`), so re-running rewrites the checked-in files byte for byte:

    .venv/bin/python -m functions.sample.generate

writes, from agency.json (the people and clients) and `habits` (how they work and write):

- exports/october_harvest.csv (CRLF), exports/october_toggl.csv (UTF-8 BOM), exports/october_clockify.csv
- labels.csv: `source,entry_id,category`, the category a careful ops person would choose for each entry,
  keyed by the id the importer computes (the demo plays the reviewer with it; benchmarks score with it)
- history/september_*.csv + history/september_labels.csv: a labelled previous month to train on.

Notes are written the way people type them (ticket ids, abbreviations, typos, emojis, empty, multi-line,
leading `=`/`+`/`-`/`@`), and many say little about the category on their own, so keyword rules alone get
only part of them right.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import random
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from ..sources.csv_exports import read_export
from .export_writers import (
    CLOCKIFY_HEADER,
    HARVEST_HEADER,
    TOGGL_HEADER,
    Planned,
    clockify_rows,
    harvest_rows,
    ticket_prefix,
    toggl_rows,
    write_csv,
)
from .habits import (
    CLEAR,
    CLOCKIFY_TASKS,
    FEATURES,
    FX,
    HARVEST_TASKS,
    NAMES,
    NON_BILLABLE,
    ROLE_MIX,
    ROLE_RATES,
    SPECIAL_NOTES,
    TOGGL_TAGS,
    VAGUE,
    VAGUE_SHARE,
)

HERE = Path(__file__).resolve().parent
AGENCY = HERE / "agency.json"


def short_name(client: str) -> str:
    return client.split()[0].rstrip(".,&")


def working_days(year: int, month: int) -> list[date]:
    days = [date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]
    return [d for d in days if d.weekday() < 5]


def staffing(agency: dict, rng: random.Random) -> dict[str, list[dict]]:
    """Each person's 2-5 clients (of their tracker); every client has someone."""
    plan: dict[str, list[dict]] = {}
    for tracker in ("harvest", "toggl", "clockify"):
        people = [p for p in agency["people"] if p["tracker"] == tracker]
        clients = [c for c in agency["clients"] if c["tracker"] == tracker]
        order = clients[:]
        rng.shuffle(order)
        for p in people:
            plan[p["name"]] = []
        for i, c in enumerate(order):
            plan[people[i % len(people)]["name"]].append(c)
        for p in people:
            want = min(rng.randint(2, 5), len(clients))
            mine = plan[p["name"]]
            while len(mine) < want:
                c = rng.choice(clients)
                if c not in mine:
                    mine.append(c)
            del mine[5:]
    return plan


def _typo(text: str, rng: random.Random) -> str:
    letters = [i for i in range(len(text) - 1) if text[i].isalpha() and text[i + 1].isalpha()]
    if not letters:
        return text
    i = rng.choice(letters)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def make_note(category: str, client: dict, rng: random.Random) -> str:
    pool = VAGUE[category] if rng.random() < VAGUE_SHARE else CLEAR[category]
    template = rng.choice(pool)
    note = template.format(
        t=f"{ticket_prefix(client['name'])}-{rng.randint(100, 1999)}",
        f=rng.choice(FEATURES),
        w=rng.choice(NAMES),
        c=short_name(client["name"]),
        n=rng.randint(2, 48),
    )
    roll = rng.random()
    if roll < 0.05:
        note = _typo(note, rng)
    elif roll < 0.10 and note:
        note = note[0].upper() + note[1:]
    elif roll < 0.13 and note:
        note = note + rng.choice([" 🙂", " ✅", " 🔥", " 🐛", "!!"])
    elif roll < 0.16 and note:
        note = note + "."
    elif roll < 0.18 and note:
        note = note.lower()
    return note


def split_day(total: Decimal, rng: random.Random) -> list[Decimal]:
    sizes = [Decimal(x) for x in ("0.25", "0.5", "0.75", "1", "1.25", "1.5", "2", "2.5", "3", "3.5", "4")]
    weights = [1, 5, 4, 10, 6, 10, 12, 8, 7, 4, 3]
    parts: list[Decimal] = []
    left = total
    while left > 0:
        size = min(rng.choices(sizes, weights)[0], left)
        parts.append(size)
        left -= size
    return parts


def rate_for(person: dict, client: dict) -> Decimal:
    usd = Decimal(ROLE_RATES[person["role"]])
    scaled = usd * FX[client["currency"]]
    return (scaled / 5).quantize(Decimal("1")) * 5


def plan_month(
    agency: dict, clients_of: dict[str, list[dict]], year: int, month: int, rng: random.Random
) -> list[Planned]:
    """Every entry of the month, before formatting, with its true category."""
    days = working_days(year, month)
    out: list[Planned] = []
    for person in agency["people"]:
        mine = clients_of[person["name"]]
        weights = [rng.randint(1, 6) for _ in mine]
        off = set(rng.sample(days, rng.randint(0, 2)))
        mix = ROLE_MIX[person["role"]]
        for day in days:
            if day in off:
                continue
            total = Decimal(rng.randint(24, 36)) / 4  # 6-9 h in quarter hours
            clock = datetime.combine(day, datetime.min.time()) + timedelta(minutes=rng.randint(500, 580))
            for hours in split_day(total, rng):
                client = rng.choices(mine, weights)[0]
                category = rng.choices(list(mix), list(mix.values()))[0]
                p = _make(person, client, day, category, make_note(category, client, rng), hours, clock, rng)
                out.append(p)
                clock += timedelta(seconds=p.seconds or int(hours * 3600)) + timedelta(minutes=rng.randint(0, 12))
    return out


def _make(
    person: dict,
    client: dict,
    day: date,
    category: str,
    notes: str,
    hours: Decimal,
    start: datetime,
    rng: random.Random,
) -> Planned:
    tracker = client["tracker"]
    project = rng.choice(client["projects"])
    billable = category not in NON_BILLABLE
    if category in NON_BILLABLE and rng.random() < 0.25:
        billable = True  # logged as billable by mistake; the reviewer unticks it
    elif category not in NON_BILLABLE and rng.random() < 0.02:
        billable = False  # marked non-billable in the tracker (goodwill, rework)
    rate = rate_for(person, client)
    p = Planned(tracker, day, person, client, project, category, notes, hours, billable, start=start, rate=rate)
    if tracker == "harvest":
        task = rng.choice(HARVEST_TASKS[category])
        if rng.random() < 0.08:
            task = rng.choice(["Development", "Project Management", "Meetings"])  # picked the wrong task
        if task in ("Non-billable", "Business Development"):
            billable = False
        url = ""
        if notes[:1].isalpha() and "-" in notes.split(" ")[0] and notes.split(" ")[0].split("-")[-1].isdigit():
            key = notes.split(" ")[0]
            url = f"https://{short_name(client['name']).lower()}.atlassian.net/browse/{key}"
        rate_out = None if (not billable or rng.random() < 0.07) else rate
        logged = hours
        if rng.random() < 0.15 and hours <= 4:  # a running timer, not typed-in quarter hours
            timed = ((hours * 3600 + rng.randint(-400, 400)) / 3600).quantize(Decimal("0.01"))
            logged = min(max(timed, Decimal("0.25")), Decimal("4"))
        return replace(p, task=task, billable=billable, rate=rate_out, url=url, hours=logged)
    seconds = int(hours * 3600) + rng.randint(-420, 420)
    if hours <= 4:  # entries stay within 0.25-4 h, timer noise or not
        seconds = min(max(seconds, 900), 4 * 3600)
    if tracker == "toggl":
        tags = tuple(
            rng.sample(TOGGL_TAGS.get(category, []), k=min(len(TOGGL_TAGS.get(category, [])), rng.randint(0, 2)))
        )
        # Toggl's workspace bills in USD; the CAD client has no tracker rate.
        rate_out = rate if billable and client["currency"] == "USD" else None
        return replace(p, seconds=seconds, tags=tags, rate=rate_out, billable=billable)
    task = rng.choice(CLOCKIFY_TASKS[category])
    tags = ("billable",) if billable and rng.random() < 0.3 else ()
    return replace(p, seconds=seconds, task=task, tags=tags, rate=rate if billable else None, billable=billable)


def add_special_cases(
    entries: list[Planned], agency: dict, clients_of: dict[str, list[dict]], year: int, month: int, rng: random.Random
) -> list[Planned]:
    """The cases a pipeline must handle: long entry, exact duplicate, weekend work, nasty notes."""
    people = {p["name"]: p for p in agency["people"]}
    out = list(entries)
    # Nasty notes replace the notes of some entries with the matching category (or any entry if none).
    for note, category in SPECIAL_NOTES:
        candidates = [i for i, e in enumerate(out) if e.category == category]
        i = rng.choice(candidates or range(len(out)))
        if note.startswith("ACME"):
            candidates = [i for i, e in enumerate(out) if e.client["name"] == "Acme Retail"]
            i = rng.choice(candidates)
        out[i] = replace(out[i], notes=note, category=category, url="")
    # One entry over 12 h: a production incident worked through the night.
    hugo = people["Hugo Laurent"]
    client = clients_of["Hugo Laurent"][0]
    day = working_days(year, month)[9]
    out = [e for e in out if not (e.person is hugo and e.day == day)]
    start = datetime.combine(day, datetime.min.time()) + timedelta(hours=8)
    out.append(
        _make(
            hugo, client, day, "DevOps", "prod outage - DB failover, restore + postmortem", Decimal("12.5"), start, rng
        )
    )
    # Weekend work: a Saturday hotfix and a Sunday deploy window.
    weekend = [d for d in (date(year, month, x) for x in range(1, 29)) if d.weekday() >= 5]
    ben, ben_client = people["Ben Okafor"], clients_of["Ben Okafor"][0]
    out.append(
        _make(
            ben,
            ben_client,
            weekend[2],
            "Maintenance",
            "weekend hotfix - payment step 500s",
            Decimal("2"),
            datetime.combine(weekend[2], datetime.min.time()) + timedelta(hours=10),
            rng,
        )
    )
    noah, noah_client = people["Noah Schmidt"], clients_of["Noah Schmidt"][0]
    out.append(
        _make(
            noah,
            noah_client,
            weekend[5],
            "DevOps",
            "deploy window sunday (planned w/ client)",
            Decimal("3"),
            datetime.combine(weekend[5], datetime.min.time()) + timedelta(hours=9),
            rng,
        )
    )
    out.sort(key=lambda e: (e.tracker, e.day, e.person["name"], e.start or datetime.min))
    # One exact duplicate row (the same entry saved twice), right after its original.
    harvest = [i for i, e in enumerate(out) if e.tracker == "harvest" and e.notes and e.category == "Development"]
    i = harvest[len(harvest) // 3]
    out.insert(i + 1, out[i])
    return out


def generate_month(
    agency: dict,
    clients_of: dict[str, list[dict]],
    year: int,
    month: int,
    rng: random.Random,
    out_dir: Path,
    prefix: str,
    labels_path: Path,
) -> dict[str, int]:
    """Write the three exports of one month and their labels; returns entries per file."""
    planned = add_special_cases(plan_month(agency, clients_of, year, month, rng), agency, clients_of, year, month, rng)
    files = {
        "harvest": (out_dir / f"{prefix}_harvest.csv", HARVEST_HEADER, harvest_rows, {"crlf": True}),
        "toggl": (out_dir / f"{prefix}_toggl.csv", TOGGL_HEADER, toggl_rows, {"bom": True}),
        "clockify": (out_dir / f"{prefix}_clockify.csv", CLOCKIFY_HEADER, clockify_rows, {}),
    }
    labels: list[tuple[str, str, str]] = []
    counts: dict[str, int] = {}
    for tracker, (path, header, to_rows, opts) in files.items():
        mine = [e for e in planned if e.tracker == tracker]
        write_csv(path, header, to_rows(mine), **opts)
        # Label by the id the importer computes, so the labels always match what the pipeline sees.
        source, entries, _ = read_export(path)
        if source != tracker or len(entries) != len(mine):
            raise RuntimeError(f"{path.name}: the importer read {len(entries)} entries, {len(mine)} were written")
        labels.extend((source, e.source_id, p.category) for e, p in zip(entries, mine, strict=True))
        counts[path.name] = len(entries)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["source", "entry_id", "category"])
    writer.writerows(labels)
    labels_path.write_bytes(buf.getvalue().encode("utf-8"))
    return counts


def write_all(root: Path = HERE) -> dict[str, int]:
    """Write October (exports/, labels.csv) and September (history/) under `root`; entries per file."""
    agency = json.loads(AGENCY.read_text(encoding="utf-8"))
    rng = random.Random(2026)
    clients_of = staffing(agency, rng)
    october = generate_month(agency, clients_of, 2026, 10, rng, root / "exports", "october", root / "labels.csv")
    # A separate seed, so September is not October with other dates (a classifier must generalise).
    history = generate_month(
        agency,
        clients_of,
        2026,
        9,
        random.Random(202609),
        root / "history",
        "september",
        root / "history" / "september_labels.csv",
    )
    return {**october, **history}


def main() -> None:
    for name, n in write_all().items():
        print(f"{name}: {n} entries")


if __name__ == "__main__":
    main()
