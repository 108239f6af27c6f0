"""A stateful emulator of Xero's identity service and the parts of the Accounting API the Xero adapter uses.

Shaped after Xero's public references (developer.xero.com, the Xero-OpenAPI spec) and xero-python's models:

- identity: `POST /connect/token` (authorization_code and refresh_token grants, client id and secret as
  HTTP Basic); access tokens live 30 minutes; refresh tokens ROTATE: each refresh answers a new one, and the
  old one stays usable for a grace period only (`age_refresh_tokens()` ends it); `GET /connections` lists
  the tenants (`tenantId`, `tenantType: ORGANISATION`, `tenantName`) the grant reaches;
- accounting (`/api.xro/2.0`, header `xero-tenant-id`): Contacts, Items, TaxRates, Currencies, Invoices
  (GET with ContactIDs / Statuses / where `Reference=="…"` / page / pageSize; PUT and POST with many invoices,
  `summarizeErrors=false` answering each with `StatusAttributeString` OK or ERROR and its ValidationErrors),
  an invoice's Attachments (`PUT /Invoices/{id}/Attachments/{FileName}`, raw bytes) and History;
- dates as Xero's JSON writes them (`/Date(1793491200000+0000)/`), amounts as JSON numbers;
- Xero keeps UnitAmount to 2 decimals unless the request says `unitdp=4`, computes each LineAmount as
  Quantity x UnitAmount (to the cent, half up) and refuses a given LineAmount that differs; tax is added per
  line for `Exclusive` invoices;
- status rules: DRAFT may be AUTHORISED or DELETED; only AUTHORISED may be VOIDED; one with payments may not;
- Idempotency-Key (128 characters at most): the first answer is saved and replayed for the same key;
- limits per tenant: 60 calls a minute and 5,000 a day, answered 429 with Retry-After and
  X-Rate-Limit-Problem (minute or day).

Fault switches (`fail_next(kind, path=…, method=…)`): 429, 500, drop (commit, lose the answer), timeout
(commit, hang past the client's timeout), expired (401 TokenExpired), validation (400 ValidationException).

    python -m tests.emulators.xero --port 8791 --latency 0.15
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import re
import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.emulators._server import LocalServer, serve

CLIENT_ID, CLIENT_SECRET = "XEROEMULATORCLIENT", "xero-emulator-secret"
API = "/api.xro/2.0"
CENT = Decimal("0.01")


class XeroError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None):
        super().__init__(str(body))
        self.status, self.body, self.headers = status, body, headers or {}


def validation(messages: list[str], element: dict[str, Any] | None = None) -> XeroError:
    el = dict(element or {})
    el["ValidationErrors"] = [{"Message": m} for m in messages]
    return XeroError(
        400,
        {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": [el],
        },
    )


@dataclass
class Fault:
    kind: str
    path: str
    method: str = ""
    times: int = 1


def ms_date(d: date) -> str:
    stamp = datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()
    return f"/Date({int(stamp * 1000)}+0000)/"


def read_date(value: Any) -> date:
    m = re.fullmatch(r"/Date\((-?\d+)([+-]\d{4})?\)/", str(value))
    if m:
        return datetime.fromtimestamp(int(m.group(1)) / 1000, UTC).date()
    return date.fromisoformat(str(value)[:10])


class XeroEmulator(LocalServer):
    title = "Xero identity and Accounting API"
    default_port = 8791

    def __init__(self, latency: float = 0.0, hang_seconds: float = 3.0, per_minute: int = 60, per_day: int = 5000):
        self.latency, self.hang_seconds = latency, hang_seconds
        self.per_minute, self.per_day = per_minute, per_day
        self.tenant_id = str(uuid.UUID(int=0xE4E0))
        self.tenant_name = "Demo Agency Ltd"
        self.tenants = [{"tenantId": self.tenant_id, "tenantName": self.tenant_name}]
        self.access: dict[str, float] = {}  # token -> expiry (monotonic)
        self.refresh: dict[str, bool] = {}  # token -> still usable
        self.codes: set[str] = set()
        self.contacts: dict[str, dict[str, Any]] = {}
        self.items: dict[str, dict[str, Any]] = {}
        self.tax_rates = [
            {"Name": "Tax Exempt", "TaxType": "NONE", "EffectiveRate": Decimal("0"), "Status": "ACTIVE"},
            {"Name": "20% (VAT on Income)", "TaxType": "OUTPUT2", "EffectiveRate": Decimal("20"), "Status": "ACTIVE"},
        ]
        self.currencies = ["USD", "EUR", "GBP", "JPY"]
        self.invoices: dict[str, dict[str, Any]] = {}
        self.attachments: dict[str, dict[str, bytes]] = {}
        self.history: dict[str, list[str]] = {}
        self.idempotency: dict[str, tuple[int, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.faults: list[Fault] = []
        self._recent: deque[float] = deque()
        self._today = 0
        self._numbers = itertools.count(1)
        self._lock = threading.RLock()

    # -- controls --------------------------------------------------------------------------------------------
    def issue(self) -> dict[str, Any]:
        """A fresh grant, as the authorization-code exchange answers it."""
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.access[access] = time.monotonic() + 1800
        self.refresh[refresh] = True
        return {"access_token": access, "refresh_token": refresh, "expires_in": 1800, "token_type": "Bearer"}

    def expire_access_tokens(self) -> None:
        for k in self.access:
            self.access[k] = 0

    def age_refresh_tokens(self) -> None:
        """The grace period of every rotated refresh token ends."""
        self.refresh = {k: v for k, v in self.refresh.items() if v is True}

    def fail_next(self, kind: str, path: str = "", times: int = 1, method: str = "") -> None:
        self.faults.append(Fault(kind, path, method, times))

    def add_contact(self, name: str, email: str = "") -> dict[str, Any]:
        cid = str(uuid.uuid4())
        self.contacts[cid] = {"ContactID": cid, "Name": name, "EmailAddress": email, "ContactStatus": "ACTIVE"}
        return self.contacts[cid]

    def add_item(self, code: str, name: str = "") -> dict[str, Any]:
        iid = str(uuid.uuid4())
        self.items[iid] = {"ItemID": iid, "Code": code, "Name": name or code, "IsSold": True}
        return self.items[iid]

    def pay(self, invoice_id: str, amount: Decimal | None = None) -> None:
        inv = self.invoices[invoice_id]
        inv["Status"] = "AUTHORISED" if inv["Status"] == "DRAFT" else inv["Status"]
        inv["AmountPaid"] = inv["Total"] if amount is None else amount
        inv["AmountDue"] = inv["Total"] - inv["AmountPaid"]
        if inv["AmountDue"] <= 0:
            inv["Status"] = "PAID"

    def live(self) -> list[dict[str, Any]]:
        return [i for i in self.invoices.values() if i["Status"] not in ("VOIDED", "DELETED")]

    def count(self, method: str, fragment: str) -> int:
        return sum(1 for m, p in self.calls if m == method and fragment in p)

    def summary(self) -> str:
        return f"tenant {self.tenant_name}, {len(self.contacts)} contacts"

    def env(self) -> dict[str, str]:
        return {
            "ACCOUNTING": "xero",
            "XERO_BASE_URL": self.base_url,
            "XERO_CLIENT_ID": CLIENT_ID,
            "XERO_CLIENT_SECRET": CLIENT_SECRET,
        }

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every API call")

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> XeroEmulator:
        emu = cls(latency=args.latency)
        for name in ("Acme Retail Inc.", "Bluefin Logistics LLC", "Cobalt Health"):
            emu.add_contact(name)
        for code in ("Development", "Design", "Strategy"):
            emu.add_item(code)
        return emu

    def instructions(self, args: argparse.Namespace) -> list[str]:
        return ["then `python main.py connect xero` (the emulator approves at once) and create invoices."]

    # -- identity --------------------------------------------------------------------------------------------
    def token(self, form: dict[str, str], auth: str) -> tuple[int, Any]:
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if auth != expected:
            return 400, {"error": "invalid_client"}
        grant = form.get("grant_type")
        if grant == "authorization_code":
            if form.get("code") not in self.codes:
                return 400, {"error": "invalid_grant"}
            self.codes.discard(form["code"])
            return 200, self.issue()
        if grant == "refresh_token":
            old = form.get("refresh_token", "")
            if old not in self.refresh:
                return 400, {"error": "invalid_grant"}
            if self.refresh[old] is True:
                self.refresh[old] = False  # rotated: usable during the grace period only
            answer = self.issue()
            return 200, answer
        return 400, {"error": "unsupported_grant_type"}

    # -- accounting ------------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, q: dict[str, str], body: bytes) -> tuple[int, Any]:
        parts = [unquote(p) for p in path[len(API) :].strip("/").split("/")]
        data = json.loads(body, parse_float=Decimal) if body and parts[-2:-1] != ["Attachments"] else {}
        name = parts[0]
        with self._lock:
            if name == "Contacts" and len(parts) == 1:
                if method == "GET":
                    rows = [c for c in self.contacts.values() if c["ContactStatus"] == "ACTIVE"]
                    return 200, {"Contacts": _paged(rows, q)}
                return 200, {"Contacts": [self._create_contact(c) for c in data.get("Contacts", [])]}
            if name == "Items":
                if method == "GET":
                    return 200, {"Items": list(self.items.values())}
                out = []
                for it in data.get("Items", []):
                    if any(i["Code"] == it.get("Code") for i in self.items.values()):
                        raise validation([f"Item code '{it.get('Code')}' already exists"])
                    out.append({**self.add_item(it["Code"], it.get("Name", "")), **it})
                    self.items[out[-1]["ItemID"]] = out[-1]
                return 200, {"Items": out}
            if name == "TaxRates":
                return 200, {"TaxRates": self.tax_rates}
            if name == "Currencies":
                return 200, {"Currencies": [{"Code": c} for c in self.currencies]}
            if name == "Invoices" and len(parts) == 1:
                if method == "GET":
                    return 200, {"Invoices": _paged(self._find(q), q)}
                summarize = q.get("summarizeErrors", "true").lower() != "false"
                return self._put_invoices(data.get("Invoices", []), summarize, int(q.get("unitdp") or 2))
            if name == "Invoices":
                inv = self.invoices.get(parts[1])
                if inv is None:
                    raise XeroError(404, {"Title": "Not Found", "Status": 404})
                if len(parts) == 2:
                    if method == "GET":
                        return 200, {"Invoices": [inv]}
                    return 200, {"Invoices": [self._update(inv, (data.get("Invoices") or [data])[0])]}
                if parts[2] == "Attachments":
                    files = self.attachments.setdefault(inv["InvoiceID"], {})
                    if len(parts) == 3:
                        return 200, {
                            "Attachments": [{"FileName": n, "ContentLength": len(b)} for n, b in files.items()]
                        }
                    files[parts[3]] = body  # the same name again replaces it
                    inv["HasAttachments"] = True
                    return 200, {"Attachments": [{"AttachmentID": str(uuid.uuid4()), "FileName": parts[3]}]}
                if parts[2] == "History":
                    notes = self.history.setdefault(inv["InvoiceID"], [])
                    if method == "GET":
                        return 200, {"HistoryRecords": [{"Details": n} for n in notes]}
                    notes.extend(str(r.get("Details", "")) for r in data.get("HistoryRecords", []))
                    return 200, {"HistoryRecords": data.get("HistoryRecords", [])}
        raise XeroError(404, {"Title": "Not Found", "Status": 404, "Detail": f"{method} {path}"})

    def _create_contact(self, c: dict[str, Any]) -> dict[str, Any]:
        name = str(c.get("Name", "")).strip()
        if not name:
            raise validation(["The contact name must be specified."])
        if any(x["Name"].casefold() == name.casefold() for x in self.contacts.values()):
            raise validation([f"The contact name {name} is already assigned to another contact."])
        return self.add_contact(name, str(c.get("EmailAddress", "")))

    def _find(self, q: dict[str, str]) -> list[dict[str, Any]]:
        rows = list(self.invoices.values())
        if q.get("ContactIDs"):
            wanted = set(q["ContactIDs"].split(","))
            rows = [i for i in rows if i["Contact"]["ContactID"] in wanted]
        if q.get("Statuses"):
            rows = [i for i in rows if i["Status"] in q["Statuses"].split(",")]
        where = q.get("where", "")
        for field_, value in re.findall(r'(\w+)\s*==\s*"([^"]*)"', where):
            rows = [i for i in rows if str(i.get(field_)) == value]
        return sorted(rows, key=lambda i: i["InvoiceNumber"])

    def _put_invoices(self, invoices: list[dict[str, Any]], summarize: bool, unitdp: int = 2) -> tuple[int, Any]:
        out = []
        for raw in invoices:
            try:
                out.append({**self._create_invoice(raw, unitdp), "StatusAttributeString": "OK"})
            except XeroError as exc:
                if summarize:
                    raise
                messages = exc.body["Elements"][0]["ValidationErrors"]
                out.append({**raw, "StatusAttributeString": "ERROR", "HasErrors": True, "ValidationErrors": messages})
        return 200, {"Invoices": out}

    def _lines(
        self, raw_lines: list[dict[str, Any]], exclusive: bool, unitdp: int = 2
    ) -> tuple[list[dict[str, Any]], list[str]]:
        lines, problems = [], []
        rates = {t["TaxType"]: t for t in self.tax_rates}
        codes = {i["Code"] for i in self.items.values()}
        for n, li in enumerate(raw_lines, start=1):
            if li.get("ItemCode") and li["ItemCode"] not in codes:
                problems.append(f"Item code '{li['ItemCode']}' is not valid")
            if li.get("TaxType") and li["TaxType"] not in rates:
                problems.append(
                    f"The TaxType code '{li['TaxType']}' does not exist or cannot be used for this type of transaction."
                )
            if "Quantity" in li or "UnitAmount" in li:
                q, u = Decimal(str(li.get("Quantity", 1))), Decimal(str(li.get("UnitAmount", 0)))
                u = u.quantize(Decimal("0.0001") if unitdp == 4 else CENT, ROUND_HALF_UP)  # 2 places unless unitdp=4
                li = {**li, "UnitAmount": u}
                amount = (q * u).quantize(CENT, ROUND_HALF_UP)
                if "LineAmount" in li and Decimal(str(li["LineAmount"])).quantize(CENT) != amount:
                    problems.append(
                        f"Line {n}: the LineAmount {li['LineAmount']} does not equal Quantity x UnitAmount ({amount})."
                    )
            else:
                amount = Decimal(str(li.get("LineAmount", 0))).quantize(CENT)
            rate = rates.get(li.get("TaxType", ""), {"EffectiveRate": Decimal("0")})["EffectiveRate"]
            tax = (amount * rate / 100).quantize(CENT, ROUND_HALF_UP) if exclusive else Decimal("0")
            lines.append({**li, "LineItemID": str(uuid.uuid4()), "LineAmount": amount, "TaxAmount": tax})
        return lines, problems

    def _create_invoice(self, raw: dict[str, Any], unitdp: int = 2) -> dict[str, Any]:
        contact = self.contacts.get(str((raw.get("Contact") or {}).get("ContactID", "")))
        problems = [] if contact else ["A Contact must be specified for this type of transaction"]
        if raw.get("CurrencyCode", "USD") not in self.currencies:
            problems.append(f"The currency {raw.get('CurrencyCode')} is not enabled for this organisation.")
        if raw.get("Type") != "ACCREC":
            problems.append("This emulator creates sales invoices (ACCREC) only.")
        if len(str(raw.get("Reference", ""))) > 255:
            problems.append("Reference must not be more than 255 characters long.")
        lines, more = self._lines(raw.get("LineItems", []), raw.get("LineAmountTypes") == "Exclusive", unitdp)
        problems += more
        if problems:
            raise validation(problems, raw)
        iid = str(uuid.uuid4())
        subtotal = sum((li["LineAmount"] for li in lines), Decimal("0"))
        tax = sum((li["TaxAmount"] for li in lines), Decimal("0"))
        assert contact is not None
        inv = {
            "Type": "ACCREC",
            "InvoiceID": iid,
            "InvoiceNumber": f"INV-{next(self._numbers):04d}",
            "Reference": raw.get("Reference", ""),
            "Contact": {"ContactID": contact["ContactID"], "Name": contact["Name"]},
            "Date": ms_date(read_date(raw["Date"])),
            "DueDate": ms_date(read_date(raw["DueDate"])),
            "Status": raw.get("Status", "DRAFT"),
            "LineAmountTypes": raw.get("LineAmountTypes", "Exclusive"),
            "LineItems": lines,
            "SubTotal": subtotal,
            "TotalTax": tax,
            "Total": subtotal + tax,
            "AmountDue": subtotal + tax,
            "AmountPaid": Decimal("0"),
            "CurrencyCode": raw.get("CurrencyCode", "USD"),
            "Url": raw.get("Url", ""),
            "HasAttachments": False,
            "UpdatedDateUTC": ms_date(date.today()),
        }
        self.invoices[iid] = inv
        return inv

    def _update(self, inv: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
        status = change.get("Status")
        if status and status != inv["Status"]:
            allowed = {"DRAFT": {"AUTHORISED", "DELETED", "SUBMITTED"}, "SUBMITTED": {"AUTHORISED", "DELETED"}}
            allowed["AUTHORISED"] = {"VOIDED"}
            if status not in allowed.get(inv["Status"], set()):
                raise validation([f"Invoice not of valid status for modification (it is {inv['Status']})."])
            if status == "VOIDED" and inv["AmountPaid"] > 0:
                raise validation(["Invoice has payments applied and cannot be voided."])
            inv["Status"] = status
            if status == "VOIDED":
                inv["AmountDue"] = Decimal("0")
        return inv


def _paged(rows: list[dict[str, Any]], q: dict[str, str]) -> list[dict[str, Any]]:
    if "page" not in q:
        return rows
    size = min(int(q.get("pageSize", 100)), 1000)
    page = max(int(q["page"]), 1)
    return rows[(page - 1) * size : page * size]


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return float(o)
    raise TypeError(type(o))


class _Handler(BaseHTTPRequestHandler):
    emu: XeroEmulator
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload, default=_default).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        emu = self.emu
        url = urlsplit(self.path)
        q = dict(parse_qsl(url.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with emu._lock:
            emu.calls.append((method, url.path))
        if emu.latency:
            time.sleep(emu.latency)
        if url.path == "/connect/token":
            with emu._lock:
                status, payload = emu.token(dict(parse_qsl(body.decode())), self.headers.get("Authorization", ""))
            return self._send(status, payload)
        if url.path == "/connect/authorize":  # the consent page approves at once and redirects with a code
            code = secrets.token_urlsafe(12)
            emu.codes.add(code)
            target = f"{q.get('redirect_uri', '')}?code={code}&state={q.get('state', '')}&scope={q.get('scope', '')}"
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        with emu._lock:
            fault = next(
                (f for f in emu.faults if f.times > 0 and f.path in url.path and f.method in ("", method)), None
            )
            if fault:
                fault.times -= 1
            valid = emu.access.get(token, 0) > time.monotonic()
        if not valid or (fault and fault.kind == "expired"):
            return self._send(
                401,
                {"Type": None, "Title": "Unauthorized", "Status": 401, "Detail": "TokenExpired: token expired"},
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if url.path == "/connections":
            rows = [{"id": str(uuid.uuid4()), "tenantType": "ORGANISATION", **t} for t in emu.tenants]
            return self._send(200, rows)
        if self.headers.get("xero-tenant-id") not in {t["tenantId"] for t in emu.tenants}:
            return self._send(
                403, {"Type": None, "Title": "Forbidden", "Status": 403, "Detail": "AuthenticationUnsuccessful"}
            )
        with emu._lock:
            now = time.monotonic()
            while emu._recent and emu._recent[0] <= now - 60:
                emu._recent.popleft()
            emu._recent.append(now)
            emu._today += 1
            over = "day" if emu._today > emu.per_day else "minute" if len(emu._recent) > emu.per_minute else ""
        if over or (fault and fault.kind == "429"):
            wait = "0" if not over else str(max(1, int(emu._recent[0] + 60 - now + 0.999)))
            return self._send(
                429, {"Title": "Too Many Requests"}, {"Retry-After": wait, "X-Rate-Limit-Problem": over or "minute"}
            )
        if fault and fault.kind == "500":
            return self._send(500, {"Title": "An error occurred", "Status": 500})
        if fault and fault.kind == "validation":
            return self._send(400, validation(["Emulated validation error."]).body)
        key = self.headers.get("Idempotency-Key", "") if method in ("PUT", "POST") else ""
        if len(key) > 128:
            return self._send(400, validation(["The Idempotency-Key must be 128 characters or fewer."]).body)
        with emu._lock:
            if key and key in emu.idempotency:
                status, payload = emu.idempotency[key]
            else:
                try:
                    status, payload = emu.handle(method, url.path, q, body)
                except XeroError as exc:
                    status, payload = exc.status, exc.body
                payload = json.loads(json.dumps(payload, default=_default), parse_float=Decimal)
                if key and status < 500:
                    emu.idempotency[key] = (status, payload)
        if fault and fault.kind in ("drop", "timeout"):
            if fault.kind == "timeout":
                time.sleep(emu.hang_seconds)
            self.close_connection = True
            return None
        self._send(status, payload)


XeroEmulator.handler = _Handler


if __name__ == "__main__":
    serve(XeroEmulator)
