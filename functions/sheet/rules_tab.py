"""The Rules tab: categorize and rollup rules, tiers, retainers, caps, fixed fees, milestones, expenses and
discounts, each row checked alone and then against the others (a client with two retainers, tiers that end at
the same hours ...). Problems are InputErrors naming the cell.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..billing.caps import Cap
from ..billing.discounts import Discount
from ..billing.expenses import Expense
from ..billing.fixed import FixedFee, Milestone
from ..billing.retainer import Retainer
from ..billing.rollup import Rollup, check_pattern
from ..billing.tiers import Tier
from ..errors import InputError, Location
from ..models import CategoryRule
from ..values import is_blank
from .tab_reader import Cell, TabReader, did_you_mean, known_name

RULE_KINDS = ("categorize", "rollup", "tier", "retainer", "cap", "fixed fee", "milestone", "expense", "discount")
_KIND_ALIASES = {
    "category": "categorize",
    "roll-up": "rollup",
    "roll up": "rollup",
    "fixed": "fixed fee",
    "fixed-fee": "fixed fee",
    "fixedfee": "fixed fee",
    "pass-through": "expense",
    "tiers": "tier",
    "nte": "cap",
    "not-to-exceed": "cap",
}


def _kind(t: TabReader, r: list[Cell], row: int) -> str | None:
    raw = " ".join(t.text(r, "rule").split()).casefold()
    kind = _KIND_ALIASES.get(raw, raw)
    if kind in RULE_KINDS:
        return kind
    if not raw:
        t.error("rule", row, f"the rule has no kind; write one of: {', '.join(RULE_KINDS)}")
    else:
        t.error("rule", row, f'unknown rule "{t.text(r, "rule")}"{did_you_mean(raw, RULE_KINDS)}')
    return None


def parse_rules(t: TabReader, clients: dict[str, str], categories: dict[str, str]) -> dict[str, tuple[Any, ...]]:
    out: dict[str, list[Any]] = {
        k: []
        for k in (
            "category_rules",
            "rollups",
            "tiers",
            "retainers",
            "caps",
            "fixed_fees",
            "milestones",
            "expenses",
            "discounts",
        )
    }
    if not t.require("rule"):
        return {k: tuple(v) for k, v in out.items()}
    for row, r in t.body:
        kind = _kind(t, r, row)
        client = known_name(t, row, "client", t.text(r, "client"), clients, "client")
        category = known_name(t, row, "category", t.text(r, "category"), categories, "category")
        if kind is None or client is None or category is None:
            continue
        loc = t.loc("rule", row)
        field = t.text(r, "field").casefold() or "any"
        if field not in ("notes", "task", "project", "any"):
            t.error(
                "field",
                row,
                f'"{t.text(r, "field")}" is not a field to match; write notes, task, project or any'
                f"{did_you_mean(field, ('notes', 'task', 'project', 'any'))}",
            )
            continue
        pattern, project = t.text(r, "pattern"), t.text(r, "project")
        line_item, item, tax = t.text(r, "line_item"), t.text(r, "accounting_item"), t.text(r, "tax_code")
        description = t.text(r, "description")
        if pattern and (problem := check_pattern(pattern)):
            t.error("pattern", row, problem)
            continue
        needs_client = kind not in ("categorize", "rollup")
        if needs_client and not client:
            t.error("client", row, f"a {kind} rule needs a Client")
            continue
        n_errors = len(t.errors)
        if kind == "categorize":
            if not pattern:
                t.error("pattern", row, "a categorize rule needs a Pattern (words separated by |, or /regex/)")
            if not category:
                t.error("category", row, "a categorize rule needs the Category to suggest")
            if len(t.errors) == n_errors:
                out["category_rules"].append(
                    CategoryRule(
                        category=category,
                        pattern=pattern,
                        field=field,
                        client=client,
                        line_item=line_item,
                        location=loc,
                    )
                )
        elif kind == "rollup":
            if not line_item:
                t.error("line_item", row, "a rollup rule needs the Line Item the entries go to")
            elif not (category or project or pattern or item or tax):
                t.error(
                    "line_item",
                    row,
                    "this rollup matches nothing and maps nothing: fill Category, Project or "
                    "Pattern, or an Accounting Item",
                )
            else:
                out["rollups"].append(
                    Rollup(
                        client=client,
                        category=category,
                        project=project,
                        field=field,
                        pattern=pattern,
                        line_item=line_item,
                        item=item,
                        tax_code=tax,
                        location=loc,
                    )
                )
        elif kind == "tier":
            rate = t.money(r, row, "rate")
            if rate is None and len(t.errors) == n_errors:
                t.error("rate", row, "a tier needs the Rate of its hours")
            up_to = t.hours(r, row, "hours")
            if len(t.errors) == n_errors and rate is not None:
                out["tiers"].append(Tier(client=client, up_to=up_to, rate=rate, location=loc))
        elif kind == "retainer":
            fee, hours = t.money(r, row, "amount"), t.hours(r, row, "hours")
            over, cap = t.money(r, row, "rate"), t.hours(r, row, "rollover_cap")
            if fee is None and is_blank(t.hm.get(r, "amount")):
                t.error("amount", row, "a retainer needs its monthly fee in Amount")
            if hours is None and is_blank(t.hm.get(r, "hours")):
                t.error("hours", row, "a retainer needs the hours its fee includes in Hours")
            if len(t.errors) == n_errors and fee is not None and hours is not None:
                out["retainers"].append(
                    Retainer(
                        client=client,
                        fee=fee,
                        included_hours=hours,
                        overage_rate=over,
                        rollover_cap=cap,
                        line_item=line_item or "Retainer",
                        item=item,
                        description=description,
                        location=loc,
                    )
                )
        elif kind == "cap":
            amount = t.money(r, row, "amount")
            if amount is None and len(t.errors) == n_errors:
                t.error("amount", row, "a cap needs the not-to-exceed Amount")
            elif amount is not None:
                out["caps"].append(Cap(client=client, project=project, amount=amount, location=loc))
        elif kind in ("fixed fee", "milestone"):
            amount = t.money(r, row, "amount")
            period = t.period(r, row, "period")
            if not project:
                t.error("project", row, f"a {kind} needs the Project it bills")
            if amount is None and is_blank(t.hm.get(r, "amount")):
                t.error("amount", row, f"a {kind} needs its fee in Amount")
            if kind == "milestone" and period is None and is_blank(t.hm.get(r, "period")):
                t.error("period", row, "a milestone needs the Period (YYYY-MM) it is billed in")
            complete = t.boolean(r, row, "complete", False)
            if len(t.errors) == n_errors and amount is not None:
                common = dict(
                    client=client,
                    project=project,
                    amount=amount,
                    line_item=line_item,
                    item=item,
                    tax_code=tax,
                    description=description,
                    location=loc,
                )
                if kind == "fixed fee":
                    out["fixed_fees"].append(FixedFee(period=period, **common))
                else:
                    out["milestones"].append(
                        Milestone(period=period, complete=complete, invoice=t.text(r, "invoice"), **common)
                    )
        elif kind == "expense":
            amount, markup = t.money(r, row, "amount"), t.percent(r, row, "percent")
            period = t.period(r, row, "period")
            if not description:
                t.error("description", row, "an expense needs a Description (it is the line's text)")
            if amount is None and is_blank(t.hm.get(r, "amount")):
                t.error("amount", row, "an expense needs its cost in Amount")
            if len(t.errors) == n_errors and amount is not None:
                out["expenses"].append(
                    Expense(
                        client=client,
                        description=description,
                        amount=amount,
                        markup=markup or Decimal(0),
                        period=period,
                        line_item=line_item or "Expenses",
                        item=item,
                        tax_code=tax,
                        location=loc,
                    )
                )
        elif kind == "discount":
            percent, amount = t.percent(r, row, "percent"), t.money(r, row, "amount")
            period = t.period(r, row, "period")
            if len(t.errors) == n_errors:
                if (percent is None) == (amount is None):
                    t.error("percent", row, "a discount needs either a Percent or an Amount (one of them)")
                elif percent is not None and percent > 100:
                    t.error("percent", row, f"a discount of {percent}% is more than the whole invoice")
                else:
                    out["discounts"].append(
                        Discount(
                            client=client,
                            line_item=line_item,
                            percent=percent,
                            amount=amount,
                            period=period,
                            description=description,
                            location=loc,
                        )
                    )
    _cross_checks(t, out)
    return {k: tuple(v) for k, v in out.items()}


def _cross_checks(t: TabReader, out: dict[str, list[Any]]) -> None:
    """Rules that are fine alone but contradict each other."""

    def err(location: str, message: str) -> None:
        tab, cell = location.split("!")
        t.errors.append(InputError(message, Location(tab=tab, cell=cell)))

    by_client: dict[str, list[Any]] = {}
    for r in out["retainers"]:
        by_client.setdefault(r.client.casefold(), []).append(r)
    for rows in by_client.values():
        for extra in rows[1:]:
            err(extra.location, f'"{extra.client}" already has a retainer at {rows[0].location}; keep one')
    tiers_by: dict[str, list[Tier]] = {}
    for tier in out["tiers"]:
        tiers_by.setdefault(tier.client.casefold(), []).append(tier)
    for key, rows in tiers_by.items():
        if key in by_client:
            err(rows[0].location, f'"{rows[0].client}" has both tiers and a retainer; use one of them')
        ups = [r.up_to for r in rows if r.up_to is not None]
        if len(ups) != len(set(ups)):
            err(rows[-1].location, f'two tiers of "{rows[0].client}" end at the same hours')
        if sum(1 for r in rows if r.up_to is None) > 1:
            err(rows[-1].location, f'"{rows[0].client}" has more than one open-ended tier (blank Hours)')
        if all(r.up_to is not None for r in rows):
            err(rows[-1].location, f'the last tier of "{rows[0].client}" needs a blank Hours (everything beyond)')
    fee_projects: dict[tuple[str, str], str] = {}
    for f in out["fixed_fees"] + out["milestones"]:
        fee_projects.setdefault((f.client.casefold(), f.project.casefold()), f.location)
    caps_seen: dict[tuple[str, str], str] = {}
    for c in out["caps"]:
        cap_key = (c.client.casefold(), c.project.casefold())
        if cap_key in caps_seen:
            err(c.location, f"this cap repeats the one at {caps_seen[cap_key]}; keep one")
        caps_seen[cap_key] = c.location
