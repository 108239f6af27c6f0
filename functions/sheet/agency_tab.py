"""The Agency tab and the Clients tab's billing details -> the letterhead of each invoice document.

The Agency tab is key/value rows (Setting, Value): the agency's name, address, contact, email, phone, tax id,
logo, payment instructions, pay link, footer and the tax rates documents may compute. A blank or missing
setting falls back to its AGENCY_* setting (`AGENCY_NAME`, `AGENCY_ADDRESS` ...). Each client's Billing
Address, Contact and Email come from the Clients tab, and its rounding rule is said in words for the time
detail. Every problem is an InputError naming its cell, like the other settings tabs.

    >>> heads, errors = parse_letterheads({"Agency": [["Setting", "Value"], ["Name", "Northwind"]]})
    >>> heads.agency.agency.name, errors
    ('Northwind', [])
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..billing.rounding import Rounding, parse_rounding
from ..errors import InputError, Location
from ..models import InvoiceDraft, Letterhead, Party
from ..settings import Settings
from ..values import parse_decimal
from .tab_reader import Cell, TabReader, did_you_mean

# The Agency tab's settings (as people write them, case aside) -> the AGENCY_* setting each falls back to
SETTINGS = {
    "name": "agency_name",
    "address": "agency_address",
    "contact": "agency_contact",
    "email": "agency_email",
    "phone": "agency_phone",
    "tax id": "agency_tax_id",
    "logo": "agency_logo",
    "payment instructions": "agency_payment",
    "pay link": "agency_pay_link",
    "footer": "agency_footer",
    "tax rates": "",
}
HEADERS = {k: k.title().replace("Id", "ID") for k in SETTINGS}
UNSET = "Set your agency's name in the Agency tab (Name) or AGENCY_NAME to show who this invoice is from."
MAX_LOGO_BYTES = 1_000_000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TAX = re.compile(r"^([A-Za-z0-9_.-]+)\s*[:=]?\s*([0-9]+(?:[.,][0-9]+)?)\s*%$")


def lines_of(value: str) -> str:
    """An address or payment text as lines: a new line or " | " separates them."""
    parts = [p.strip() for chunk in value.splitlines() for p in chunk.split("|")]
    return "\n".join(p for p in parts if p)


def rounding_words(r: Rounding) -> str:
    """A client's rounding for the client: `each entry rounded up to 15 min, at least 15 min per entry`."""
    parts = []
    if r.increment:
        how = {"up": "rounded up to", "nearest": "rounded to the nearest", "down": "rounded down to"}[r.mode]
        parts.append(f"each {r.per} {how} {r.increment} min")
    if r.minimum:
        parts.append(f"at least {r.minimum} min per entry")
    return ", ".join(parts)


@dataclass(frozen=True)
class Letterheads:
    """The agency's letterhead and each client's billing details (by client name, case aside)."""

    agency: Letterhead
    clients: Mapping[str, tuple[Party, str]] = field(default_factory=dict)

    def for_draft(self, draft: InvoiceDraft) -> InvoiceDraft:
        bill_to, rounding = self.clients.get(draft.client.casefold(), (Party(), ""))
        # the accounting customer when it is a name (QuickBooks may be given an Id: then the client's name)
        name = draft.customer if draft.customer and not draft.customer.isdigit() else draft.client
        head = self.agency.model_copy(
            update={"bill_to": bill_to.model_copy(update={"name": name}), "rounding": rounding}
        )
        return draft.model_copy(update={"letterhead": head})

    def apply(self, drafts: Sequence[InvoiceDraft]) -> list[InvoiceDraft]:
        return [self.for_draft(d) for d in drafts]


def parse_letterheads(
    tables: Mapping[str, list[list[Cell]]], settings: Settings | None = None, folders: Sequence[Path] = ()
) -> tuple[Letterheads, list[InputError]]:
    """The letterheads from the Agency and Clients tabs, settings as fallback; a logo path is looked up as
    written, then in each of `folders` (the work folder, the demo's config folder)."""
    errors: list[InputError] = []
    values: dict[str, tuple[str, str]] = {}  # setting -> (value, where it came from)
    t = TabReader("Agency", list(tables.get("Agency") or []), errors)
    if t.require("setting", "value"):
        for row, r in t.body:
            key = " ".join(t.text(r, "setting").split()).casefold()
            value = t.text(r, "value")
            if key not in SETTINGS:
                t.error("setting", row, f'"{t.text(r, "setting")}" is not an agency setting{_did_you_mean(key)}')
            elif key in values:
                t.error("setting", row, f'"{HEADERS[key]}" is set twice; keep one row')
            elif value:
                values[key] = (value, t.where("value", row))
    for key, attr in SETTINGS.items():
        fallback = str(getattr(settings, attr, "") or "") if settings is not None and attr else ""
        if key not in values and fallback:
            values[key] = (fallback, attr.upper())

    def get(key: str) -> str:
        return values.get(key, ("", ""))[0]

    email = get("email")
    if email and not _EMAIL.match(email):
        _error(errors, values["email"][1], f'"{email}" is not an email address')
    agency = Letterhead(
        agency=Party(
            name=get("name"),
            address=lines_of(get("address")),
            contact=get("contact"),
            email=email,
            phone=get("phone"),
            tax_id=get("tax id"),
        ),
        logo=_logo(get("logo"), values.get("logo", ("", ""))[1], folders, errors),
        payment=lines_of(get("payment instructions")),
        pay_link=_link(get("pay link"), values.get("pay link", ("", ""))[1], errors),
        footer=get("footer"),
        tax_rates=_tax_rates(get("tax rates"), values.get("tax rates", ("", ""))[1], errors),
        unset="" if get("name") else UNSET,
    )
    return Letterheads(agency=agency, clients=_clients(tables.get("Clients") or [], errors)), errors


def _did_you_mean(key: str) -> str:
    hint = did_you_mean(key, list(SETTINGS))
    if hint:
        return hint.replace(hint.split('"')[1], HEADERS[hint.split('"')[1]])
    return f" (use one of: {', '.join(HEADERS.values())})"


def _error(errors: list[InputError], where: str, message: str) -> None:
    """At a cell of the Agency tab (`B4`) or a setting (`AGENCY_LOGO`)."""
    if where and where[0].isupper() and where[-1].isdigit() and "_" not in where:
        errors.append(InputError(message, Location(tab="Agency", cell=where)))
    else:
        errors.append(InputError(f"{where}: {message}" if where else message))


def _logo(value: str, where: str, folders: Sequence[Path], errors: list[InputError]) -> bytes:
    if not value:
        return b""
    data: bytes | None = None
    if value.startswith("data:"):
        head, _, payload = value.partition(",")
        try:
            data = base64.b64decode(payload, validate=True) if head.endswith(";base64") else None
        except (binascii.Error, ValueError):
            data = None
        if data is None:
            _error(errors, where, "the logo is not a base64 data: value (write data:image/png;base64,...)")
            return b""
    elif value.startswith(("http://", "https://")):
        _error(
            errors,
            where,
            f'the logo "{value}" is a web address, which a run does not download; save the PNG or JPEG in the '
            "work folder and write its file name here, or paste it as data:image/png;base64,...",
        )
        return b""
    else:
        path = Path(value).expanduser()
        found = next((p for p in [path, *(d / path for d in folders)] if p.is_file()), None)
        if found is None:
            _error(errors, where, f'the logo file "{value}" is not there (looked in the work folder too)')
            return b""
        if found.stat().st_size > MAX_LOGO_BYTES:
            _error(errors, where, f'the logo file "{value}" is over 1 MB; use a smaller PNG or JPEG')
            return b""
        data = found.read_bytes()
    if not (data.startswith(b"\x89PNG\r\n\x1a\n") or data.startswith(b"\xff\xd8\xff")):
        _error(errors, where, f'the logo "{value[:60]}" is not a PNG or JPEG image')
        return b""
    return data


def _link(value: str, where: str, errors: list[InputError]) -> str:
    if value and not re.match(r"^https?://[^\s]+$", value):
        _error(errors, where, f'the pay link "{value}" is not a web address (write https://...)')
        return ""
    return value


def _tax_rates(value: str, where: str, errors: list[InputError]) -> tuple[tuple[str, Decimal], ...]:
    out: list[tuple[str, Decimal]] = []
    for part in (p.strip() for p in re.split(r"[;\n]", value)):
        if not part:
            continue
        m = _TAX.match(part)
        rate = parse_decimal(m.group(2).replace(",", ".")) if m else None
        if not m or rate is None or rate > 100:
            _error(errors, where, f'"{part}" is not a tax rate (write a tax code and a percent: "TAX 8.875%")')
            continue
        out.append((m.group(1), rate / 100))
    return tuple(out)


def _clients(rows: list[list[Cell]], errors: list[InputError]) -> dict[str, tuple[Party, str]]:
    """Billing Address, Contact, Email and the rounding in words, per client (blank columns are fine)."""
    t = TabReader("Clients", rows, errors)  # only Email is checked here: the rest is parse_book's to report
    out: dict[str, tuple[Party, str]] = {}
    if "client" not in t.hm.index:
        return out
    for row, r in t.body:
        name = t.text(r, "client")
        if not name or name.casefold() in out:
            continue
        email = t.text(r, "email")
        if email and not _EMAIL.match(email):
            t.error("email", row, f'"{email}" is not an email address')
        try:
            rounding = parse_rounding(t.text(r, "rounding"), t.text(r, "round_per"), t.text(r, "minimum_entry"))
        except ValueError:
            rounding = Rounding()  # reported by parse_book at its cell
        party = Party(address=lines_of(t.text(r, "billing_address")), contact=t.text(r, "contact"), email=email)
        out[name.casefold()] = (party, rounding_words(rounding))
    return out
