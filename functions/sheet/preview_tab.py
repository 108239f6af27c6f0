"""The Preview tab: per client its lines, a total row, currency, status (ready / held / not billed / invoiced),
warnings, non-billable hours, duplicates held out, and what changed since the last preview.

Rows come out in the column order of sheet_templates/tabs/Preview.json, without the header. Numbers stay
Decimal; the sheet adapter formats them.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ..billing.engine import BillingResult
from ..models import InvoiceDraft
from ..money import ZERO, fmt_money, tidy_hours
from ..values import parse_decimal, text
from .contract import HeaderMap, load_contract

Cell = Any


def _keys() -> list[str]:
    return load_contract().tab("Preview").keys()


def _row(**values: Cell) -> list[Cell]:
    return [values.get(k, "") for k in _keys()]


def _dec(v: Cell) -> Decimal | None:
    try:
        return parse_decimal(v)
    except ValueError:
        return None


LineKey = tuple[str, str, Decimal | None, int]


def _line_keys(items: Sequence[tuple[str, str, Decimal | None]]) -> list[LineKey]:
    """(line item, kind, rate, n-th such line): how a line is recognised between two previews, so a line whose
    description changed with its task count ("3 tasks" -> "4 tasks") still reads as the same line."""
    seen: dict[tuple[str, str, Decimal | None], int] = {}
    keys = []
    for item in items:
        seen[item] = seen.get(item, 0) + 1
        keys.append((*item, seen[item]))
    return keys


def _previous(previous: Sequence[Sequence[Cell]] | None) -> dict[str, dict[str, Any]]:
    """client -> {"lines": {line key: (description, quantity, amount)}, "total": Decimal|None, "status": str}."""
    out: dict[str, dict[str, Any]] = {}
    if not previous:
        return out
    hm = HeaderMap(load_contract().tab("Preview"), list(previous[0]))
    for r in previous[1:]:
        r = list(r)
        client = text(hm.get(r, "client"))
        if not client:
            continue
        slot = out.setdefault(client, {"lines": {}, "total": None, "status": "", "rows": []})
        line = text(hm.get(r, "line"))
        if line == "Total":
            slot["total"] = _dec(hm.get(r, "amount"))
            slot["status"] = text(hm.get(r, "status"))
        elif line.isdigit():
            slot["rows"].append(
                (
                    (text(hm.get(r, "line_item")), text(hm.get(r, "kind")), _dec(hm.get(r, "rate"))),
                    (text(hm.get(r, "description")), _dec(hm.get(r, "quantity")), _dec(hm.get(r, "amount"))),
                )
            )
    for slot in out.values():
        rows = slot.pop("rows")
        slot["lines"] = dict(zip(_line_keys([k for k, _ in rows]), (v for _, v in rows), strict=True))
    return out


def previous_descriptions(
    previous: Sequence[Sequence[Cell]] | None, drafts: Sequence[InvoiceDraft]
) -> dict[tuple[str, int], tuple[str, str]]:
    """(client, line index) -> (Invoice Description, Description By) of the same line in the last preview.

    A line is the same when its client, line item, kind and rate (and its place among such lines) match, as
    for "Changed"; functions/describe decides from the pair whether a person edited the text.
    """
    if not previous:
        return {}
    hm = HeaderMap(load_contract().tab("Preview"), list(previous[0]))
    if "client_description" not in hm.index:
        return {}
    rows: dict[str, list[tuple[tuple[str, str, Decimal | None], tuple[str, str]]]] = {}
    for r in previous[1:]:
        r = list(r)
        client, line = text(hm.get(r, "client")), text(hm.get(r, "line"))
        if client and line.isdigit():
            rows.setdefault(client, []).append(
                (
                    (text(hm.get(r, "line_item")), text(hm.get(r, "kind")), _dec(hm.get(r, "rate"))),
                    (text(hm.get(r, "client_description")), text(hm.get(r, "description_by"))),
                )
            )
    before = {
        client: dict(zip(_line_keys([k for k, _ in got]), (v for _, v in got), strict=True))
        for client, got in rows.items()
    }
    out: dict[tuple[str, int], tuple[str, str]] = {}
    for d in drafts:
        old = before.get(d.client)
        if not old:
            continue
        keys = _line_keys([(line.line_item, line.kind, line.unit_price) for line in d.lines])
        for n, key in enumerate(keys):
            if key in old:
                out[(d.client, n)] = old[key]
    return out


def _h(d: Decimal) -> Decimal:
    return tidy_hours(d)


def preview_rows(result: BillingResult, previous: list[list[Cell]] | None) -> list[list[Cell]]:
    """The Preview tab's rows for a billing result (header excluded)."""
    before = _previous(previous)
    clients = sorted(
        {d.client for d in result.drafts}
        | set(result.held)
        | set(result.held_drafts)
        | set(result.non_billable)
        | set(result.not_billed)
        | set(result.duplicates)
        | set(result.invoiced)
        | {i.client for i in result.issues if i.client},
        key=str.casefold,
    )
    drafts = {d.client: d for d in result.drafts}
    out: list[list[Cell]] = []
    for client in clients:
        draft = drafts.get(client) or result.held_drafts.get(client)
        status = (
            "held"
            if client in result.held
            else "not billed"
            if client in result.not_billed
            else "ready"
            if client in drafts
            else "invoiced"
            if client in result.invoiced
            else ""
        )
        prev = before.get(client)
        if draft is not None:
            out.extend(_lines(draft, status, prev))
        if client in result.held:
            out.append(_row(client=client, line="Held", status="held", notes=result.held[client]))
        if client in result.not_billed:
            out.append(_row(client=client, line="Not billed", status="not billed", notes=result.not_billed[client]))
        if client in result.invoiced:
            numbers = ", ".join(result.invoiced[client])
            out.append(
                _row(
                    client=client,
                    line="Invoiced",
                    status="invoiced",
                    notes=f"already on invoice {numbers} for {result.period}"
                    if result.period
                    else f"already on invoice {numbers}",
                )
            )
        for issue in result.issues_for(client):
            out.append(
                _row(
                    client=client,
                    line="Warning" if issue.level != "error" else "Error",
                    status=status,
                    notes=str(issue),
                )
            )
        nb = result.non_billable.get(client, ())
        if nb:
            hours = sum((n.hours for n in nb), ZERO)
            reasons = sorted({n.reason for n in nb})
            out.append(
                _row(
                    client=client,
                    line="Non-billable",
                    hours=_h(hours),
                    entries=len(nb),
                    status=status,
                    notes="not invoiced: " + "; ".join(reasons),
                )
            )
        dupes = result.duplicates.get(client, ())
        if dupes:
            out.append(
                _row(
                    client=client,
                    line="Duplicate",
                    hours=_h(sum((n.hours for n in dupes), ZERO)),
                    entries=len(dupes),
                    status=status,
                    notes="not invoiced: " + "; ".join(f"{n.ref} {n.reason}" for n in dupes),
                )
            )
    for client in sorted(set(before) - set(clients), key=str.casefold):
        out.append(
            _row(
                client=client,
                line="Removed",
                changed="gone since the last preview",
                notes="was in the last preview; nothing to invoice now",
            )
        )
    for issue in result.issues:
        if not issue.client:
            out.append(_row(line="Warning", notes=str(issue)))
    return out


def _lines(draft: InvoiceDraft, status: str, prev: dict[str, Any] | None) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    keys = _line_keys([(line.line_item, line.kind, line.unit_price) for line in draft.lines])
    for n, (line, key) in enumerate(zip(draft.lines, keys, strict=True), start=1):
        changed = ""
        if prev is None:
            changed = "new"
        else:
            old = prev["lines"].get(key)
            if old is None:
                changed = "new line"
            elif (old[1], old[2]) != (line.quantity, line.amount):
                _, q, a = old
                changed = (
                    f"was {_h(q)} h, {fmt_money(a, draft.currency)}" if q is not None and a is not None else "changed"
                )
            elif old[0] != line.description:
                changed = f"was: {old[0]}"
        rows.append(
            _row(
                client=draft.client,
                line=str(n),
                description=line.description,
                client_description=line.shown_description,
                description_by=line.description_by,
                line_item=line.line_item,
                hours=_h(line.raw_hours) if line.raw_hours else "",
                quantity=line.quantity,
                rate=line.unit_price,
                amount=line.amount,
                currency=draft.currency,
                entries=len(line.entry_refs) or "",
                status=status,
                notes="; ".join(line.detail),
                kind=line.kind,
                tax_code=line.tax_code,
                changed=changed,
            )
        )
    raw = sum((line.raw_hours for line in draft.lines), ZERO)
    qty = sum((line.quantity for line in draft.lines if line.kind == "hours"), ZERO)
    changed = ""
    if prev is None:
        changed = "new"
    elif prev["total"] is not None and prev["total"] != draft.total:
        changed = f"total was {fmt_money(prev['total'], draft.currency)}"
    elif prev["total"] is None:
        changed = "new"
    elif set(prev["lines"]) != set(keys):
        changed = "lines changed"
    if prev is not None and prev.get("status") and prev["status"] != status and not changed:
        changed = f"was {prev['status']}"
    rows.append(
        _row(
            client=draft.client,
            line="Total",
            description=f"Due {draft.due_date.isoformat()} ({draft.terms})",
            hours=_h(raw),
            quantity=_h(qty),
            amount=draft.total,
            currency=draft.currency,
            entries=len(draft.entry_refs),
            status=status,
            notes=draft.memo,
            tax_code=draft.tax_code,
            changed=changed,
        )
    )
    return rows
