"""A small stateful emulator of the QuickBooks Online Accounting API v3 (+ Intuit OAuth), test code only.

Shaped after Intuit's public API reference: JSON bodies wrapped as `{"Invoice": {...}, "time": ...}`,
the SQL-like query endpoint (`SELECT * FROM Invoice WHERE CustomerRef IN ('1','2') AND TxnDate >= '2026-10-01'
ORDERBY Id STARTPOSITION 1 MAXRESULTS 1000`), `requestid` replay, the batch endpoint (at most 30 items),
multipart Attachable upload, Fault bodies with QuickBooks codes and the right HTTP status, the throttles
(10 concurrent requests, 500 per minute per company) and switches for faults:

    emu.fail_next("429")                          # ThrottleExceeded, with Retry-After
    emu.fail_next("500", path="batch")            # a server error on the next batch call
    emu.fail_next("drop", path="invoice")         # commit the invoice, then drop the connection
    emu.fail_next("timeout", path="batch")        # commit, then hang past the client's timeout
    emu.fail_next("validation", path="invoice")   # a ValidationFault naming line 1
    emu.oauth.expire_access_tokens()              # the next call answers 401
    emu.fail_next("expire", path="upload")        # the token's hour runs out when this call arrives: 401
    emu.fail_next("stall", path="batch")          # hold it hang_seconds before handling (kill the client then)
    emu.fail_next("drop", path="invoice", operation="void")   # only a void: commit it, lose the answer
    emu.fail_next("edit", path="invoice", operation="void")   # someone edits it first: the void is stale (5010)

What it models of QuickBooks' own rules (docs/emulators.md lists them with their sources): void
(`?operation=void`: the invoice stays with its DocNumber, amounts, quantities and Balance 0, PrivateNote prefixed
"Voided", SyncToken advanced; a stale SyncToken is 5010; an invoice with a payment applied is not voided) and delete
(`?operation=delete`: `status: Deleted`, gone from reads and queries); name-list records made inactive
(queries return active records only unless they name `Active`; a transaction naming one is refused with 610;
the name stays taken, 6240); payments (`POST /payment` with Line[].LinkedTxn naming invoices: each invoice's
Balance drops and it gets a LinkedTxn of TxnType "Payment"); the field lengths the product writes (2050); and
which fields a query may filter on (4001 QueryValidationError).

Run it on its own with a seeded sample company (the demo agency's Clients tab as customers, the items its
Rules and Categories name, its terms and tax codes):

    python -m tests.emulators.quickbooks --port 8765 --latency 0.15
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.emulators._server import LocalServer, serve
from tests.emulators.intuit_oauth import OAuthEmulator

ENTITIES = {
    "customer": "Customer",
    "item": "Item",
    "taxcode": "TaxCode",
    "term": "Term",
    "invoice": "Invoice",
    "attachable": "Attachable",
    "account": "Account",
    "payment": "Payment",
}
_SAMPLE = Path(__file__).resolve().parents[2] / "functions" / "sample"

# Name lists: a query returns active records only unless its WHERE names Active.
NAME_LISTS = {"Customer", "Item", "Account", "Term", "TaxCode"}
# Maximum lengths of the fields the product writes (code 2050 when exceeded).
LIMITS = {"Customer": {"DisplayName": 500}, "Item": {"Name": 100, "Description": 4000}, "Invoice": {"DocNumber": 21}}
# What a WHERE clause may name, per entity ("filterable" in Intuit's reference); anything else is 4001.
_META = {"metadata.createtime", "metadata.lastupdatedtime"}
FILTERABLE = {
    "Customer": {"id", "displayname", "companyname", "givenname", "familyname", "middlename", "fullyqualifiedname"}
    | {"printoncheckname", "primaryemailaddr", "active", "balance"},
    "Item": {"id", "name", "active", "type", "sku", "fullyqualifiedname"},
    "Invoice": {"id", "docnumber", "txndate", "duedate", "customerref", "totalamt", "balance"},
    "Account": {"id", "name", "accounttype", "accountsubtype", "classification", "active", "fullyqualifiedname"},
    "Term": {"id", "name", "active"},
    "TaxCode": {"id", "name", "active"},
    "Attachable": {"id", "filename", "attachableref.entityref.type", "attachableref.entityref.value"},
    "Payment": {"id", "txndate", "customerref", "totalamt"},
}
INACTIVE = (
    "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, "
    "customers, items, vendors or employees."
)


@dataclass
class FaultSwitch:
    kind: str  # 429 | 500 | 401 | expire | stall | drop | timeout | validation | edit
    path: str = ""  # substring of the request path the fault applies to
    times: int = 1
    retry_after: str = "0"  # for 429
    operation: str = ""  # only requests with this ?operation= (void, delete); blank: any request on the path


def fault_body(message: str, detail: str, code: str, kind: str = "ValidationFault") -> dict:
    return {"Fault": {"Error": [{"Message": message, "Detail": detail, "code": code}], "type": kind}, "time": _now()}


def _now() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="milliseconds")


class QboError(Exception):
    def __init__(self, status: int, message: str, detail: str, code: str, kind: str = "ValidationFault"):
        super().__init__(message)
        self.status, self.body = status, fault_body(message, detail, code, kind)


class QuickBooksEmulator(LocalServer):
    title, default_port = "QuickBooks Online + Intuit OAuth", 8765

    def __init__(
        self,
        realm_id: str = "9341453172465555",
        client_id: str = "emu-client-id",
        client_secret: str = "emu-client-secret",
        latency: float = 0.0,
        seed: bool = True,
        max_concurrent: int = 10,
        per_minute: int = 500,
        window: float = 60.0,
        hang_seconds: float = 3.0,
    ):
        self.realm_id, self.latency, self.hang_seconds = realm_id, latency, hang_seconds
        self.max_concurrent, self.per_minute, self.window = max_concurrent, per_minute, window
        self.oauth = OAuthEmulator(client_id, client_secret, realm_id)
        self.db: dict[str, dict[str, dict]] = {name: {} for name in ENTITIES.values()}
        self.files: dict[str, bytes] = {}  # Attachable Id -> uploaded bytes
        self.replay: dict[str, tuple[int, dict]] = {}  # requestid -> the answer given the first time
        self.calls: list[tuple[str, str]] = []  # (method, path) of every API call that reached the server
        self.minorversions: set[str] = set()
        self.faults: list[FaultSwitch] = []
        self.throttled = 0
        self._ids = 0
        self._lock = threading.RLock()
        self._active = 0
        self._recent: deque[float] = deque()
        if seed:
            self.seed()

    # -- lifecycle (start/stop: LocalServer); run by hand: python -m tests.emulators.quickbooks ----------
    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every API call")
        parser.add_argument("--empty", action="store_true", help="start without the sample company")

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> QuickBooksEmulator:
        return cls(latency=args.latency, seed=not args.empty)

    def summary(self) -> str:
        return f"company {self.realm_id}"

    def env(self) -> dict[str, str]:
        """The environment that points the QuickBooks adapter (API and OAuth discovery) at this emulator."""
        return {
            "ACCOUNTING": "quickbooks",
            "QBO_BASE_URL": self.base_url,
            "QBO_REALM_ID": self.realm_id,
            "QBO_CLIENT_ID": self.oauth.client_id,
            "QBO_CLIENT_SECRET": self.oauth.client_secret,
            "QBO_REDIRECT_URI": "http://localhost:8000/callback",
        }

    def instructions(self, args: argparse.Namespace) -> list[str]:
        return ["then run `python main.py connect quickbooks` and open the printed URL (it approves at once)."]

    # -- switches and inspection ----------------------------------------------------------------------
    def fail_next(self, kind: str, path: str = "", times: int = 1, retry_after: str = "0", operation: str = "") -> None:
        with self._lock:
            self.faults.append(FaultSwitch(kind, path, times, retry_after, operation))

    def edit(self, entity: str, obj_id: str) -> None:
        """Someone changes the record in QuickBooks (another user, another app): its SyncToken moves on."""
        with self._lock:
            current = self.db[entity][obj_id]
            current["SyncToken"] = str(int(current["SyncToken"]) + 1)
            current["MetaData"] = {**current["MetaData"], "LastUpdatedTime": _now()}

    def count(self, path_part: str = "", method: str = "") -> int:
        return sum(1 for m, p in self.calls if path_part in p and (not method or m == method))

    def all(self, entity: str) -> list[dict]:
        with self._lock:
            return list(self.db[entity].values())

    # -- sample company --------------------------------------------------------------------------------
    def seed(self) -> None:
        """The demo agency as a QuickBooks company: customers, items, tax codes and terms its config names."""
        config = _SAMPLE / "config"
        clients = _csv_rows(config / "Clients.csv")
        rules = _csv_rows(config / "Rules.csv")
        categories = _csv_rows(config / "Categories.csv")
        self._insert("Account", {"Name": "Services", "AccountType": "Income", "Active": True})
        terms = {"Due on receipt": 0, "Net 15": 15, "Net 30": 30, "Net 45": 45, "Net 60": 60}
        for row in clients:
            m = re.fullmatch(r"Net (\d+)", row.get("Terms", "").strip())
            if m:
                terms.setdefault(row["Terms"].strip(), int(m.group(1)))
        for name, days in terms.items():
            self._insert("Term", {"Name": name, "Active": True, "Type": "STANDARD", "DueDays": days})
        codes = {"TAX": "Taxable", "NON": "Non-taxable", "VAT20": "VAT 20%", "EXEMPT": "Exempt"}
        codes.update({c: c for c in (r.get("Tax Code", "").strip() for r in clients + rules) if c and c not in codes})
        for name, desc in codes.items():
            self._insert("TaxCode", {"Name": name, "Description": desc, "Active": True, "Taxable": name != "NON"})
        for row in clients:
            name = (row.get("Customer") or row["Client"]).strip()
            self._insert(
                "Customer",
                {
                    "DisplayName": name,
                    "CompanyName": name,
                    "Active": True,
                    "CurrencyRef": {"value": row.get("Currency", "").strip() or "USD"},
                },
            )
        items = {r.get("Line Item", "").strip() for r in categories}
        items |= {r.get(k, "").strip() for r in rules for k in ("Line Item", "Accounting Item")}
        for name in sorted(items - {""}) + ["Fixed Fee", "Retainer", "Expenses", "Write-off", "Minimum fee"]:
            if not any(i["Name"] == name for i in self.db["Item"].values()):
                self._insert(
                    "Item",
                    {
                        "Name": name,
                        "Type": "Service",
                        "Active": True,
                        "IncomeAccountRef": {"value": "1", "name": "Services"},
                    },
                )

    # -- the API ----------------------------------------------------------------------------------------
    def _insert(self, entity: str, obj: dict) -> dict:
        with self._lock:
            self._ids += 1
            stamp = _now()
            obj = {
                **obj,
                "Id": str(self._ids),
                "SyncToken": "0",
                "domain": "QBO",
                "sparse": False,
                "MetaData": {"CreateTime": stamp, "LastUpdatedTime": stamp},
            }
            self.db[entity][obj["Id"]] = obj
            return obj

    def handle_api(self, method: str, path: str, query: dict[str, str], body: bytes, ctype: str) -> tuple[int, Any]:
        parts = path.split("/")  # ['', 'v3', 'company', realm, resource, id?]
        if len(parts) < 5 or parts[3] != self.realm_id:
            raise QboError(
                403, "ApplicationAuthorizationFailed", "The realm is not this company", "003100", "AUTHORIZATION"
            )
        resource = parts[4].lower()
        if method == "GET" and len(parts) == 6 and resource in ENTITIES:
            obj = self.db[ENTITIES[resource]].get(parts[5])
            if obj is None:
                raise QboError(
                    400,
                    "Object Not Found",
                    f"Object Not Found : Something you're trying to use has "
                    f"been made inactive. Check the fields with accounts, {ENTITIES[resource]} Id "
                    f"{parts[5]}.",
                    "610",
                )
            return 200, {ENTITIES[resource]: obj, "time": _now()}
        if method != "POST":
            raise QboError(405, "Unsupported Operation", f"{method} {path}", "500", "SERVICE")
        if resource == "query":
            return 200, {"QueryResponse": self.query(body.decode("utf-8")), "time": _now()}
        if resource == "batch":
            return 200, self.batch(json.loads(body, parse_float=Decimal))
        if resource == "upload":
            return 200, self.upload(body, ctype)
        if resource in ENTITIES:
            entity = ENTITIES[resource]
            obj = json.loads(body, parse_float=Decimal)
            operation = query.get("operation", "")
            if operation == "void":
                return 200, {entity: self.void(entity, obj), "time": _now()}
            if operation == "delete":
                return 200, {entity: self.delete(entity, obj), "time": _now()}
            if operation not in ("", "create", "update"):
                raise QboError(400, "Unsupported Operation", f"Operation {operation} is not supported.", "500")
            return 200, {entity: self.save(entity, obj), "time": _now()}
        raise QboError(400, "Unsupported Operation", f"Operation {resource} is not supported.", "500", "SERVICE")

    def _current(self, entity: str, obj: dict) -> dict:
        """The stored object an update, void or delete names, at the SyncToken it was read at."""
        current = self.db[entity].get(str(obj.get("Id")))
        if current is None:
            raise QboError(400, "Object Not Found", f"{entity} {obj.get('Id')} does not exist.", "610")
        if str(obj.get("SyncToken")) != current["SyncToken"]:
            raise QboError(
                400,
                "Stale Object Error",
                f"You and {current.get('DisplayName', 'someone')} were working on this at the same time.",
                "5010",
            )
        return current

    def void(self, entity: str, obj: dict) -> dict:
        """A voided invoice stays, with its customer and lines; every amount and the balance become 0 and
        the private note starts with "Voided"."""
        if entity != "Invoice":
            raise QboError(400, "Unsupported Operation", f"Operation void is not supported for {entity}.", "500")
        with self._lock:
            current = self._current(entity, obj)
            if any(t.get("TxnType") == "Payment" for t in current.get("LinkedTxn") or []):
                raise QboError(
                    400,
                    "A business validation error has occurred while processing your request",
                    "Business Validation Error: This invoice has a payment applied to it. Remove the payment "
                    "from the invoice before you void it.",
                    "6000",
                )
            note = str(current.get("PrivateNote") or "")
            voided = {
                **current,
                "Line": [_zeroed(line) for line in current.get("Line", [])],
                "TotalAmt": Decimal("0"),
                "Balance": Decimal("0"),
                "PrivateNote": "Voided" + (f" - {note}" if note else ""),
                "SyncToken": str(int(current["SyncToken"]) + 1),
                "MetaData": {**current["MetaData"], "LastUpdatedTime": _now()},
            }
            self.db[entity][current["Id"]] = voided
            return voided

    def _check_payment(self, obj: dict) -> dict:
        """A payment received: its lines name the invoices it pays (LinkedTxn TxnType Invoice)."""
        obj = _clean(obj)
        total = Decimal("0")
        for n, line in enumerate(obj.get("Line") or [], start=1):
            amount = Decimal(str(line.get("Amount", 0)))
            for txn in line.get("LinkedTxn") or []:
                inv = self.db["Invoice"].get(str(txn.get("TxnId")))
                if txn.get("TxnType") != "Invoice" or inv is None:
                    raise QboError(400, "Invalid Reference Id", f"Line {n}: Invalid Reference Id : Invoice", "2500")
                if amount > Decimal(str(inv["Balance"])):
                    raise QboError(
                        400,
                        "A business validation error has occurred while processing your request",
                        f"Line {n}: The payment amount {amount} is more than the invoice's open balance.",
                        "6000",
                    )
            total += amount
        return {**obj, "TotalAmt": Decimal(str(obj.get("TotalAmt") or total)), "UnappliedAmt": Decimal("0")}

    def _apply_payment(self, payment: dict) -> None:
        for line in payment.get("Line") or []:
            for txn in line.get("LinkedTxn") or []:
                inv = self.db["Invoice"][str(txn["TxnId"])]
                inv["Balance"] = Decimal(str(inv["Balance"])) - Decimal(str(line.get("Amount", 0)))
                inv["LinkedTxn"] = [*(inv.get("LinkedTxn") or []), {"TxnId": payment["Id"], "TxnType": "Payment"}]
                inv["SyncToken"] = str(int(inv["SyncToken"]) + 1)

    def delete(self, entity: str, obj: dict) -> dict:
        """A deleted transaction is gone: reads answer 610 and queries no longer return it."""
        if entity not in ("Invoice", "Attachable"):
            raise QboError(400, "Unsupported Operation", f"Operation delete is not supported for {entity}.", "500")
        with self._lock:
            current = self._current(entity, obj)
            del self.db[entity][current["Id"]]
            return {"status": "Deleted", "domain": "QBO", "Id": current["Id"]}

    def save(self, entity: str, obj: dict) -> dict:
        with self._lock:
            _check_lengths(entity, obj)
            if obj.get("Id"):
                current = self._current(entity, obj)
                merged = {**current, **obj} if obj.get("sparse") else {**obj}
                merged.update(
                    Id=current["Id"],
                    SyncToken=str(int(current["SyncToken"]) + 1),
                    MetaData={**current["MetaData"], "LastUpdatedTime": _now()},
                )
                self.db[entity][current["Id"]] = merged
                return merged
            check = getattr(self, f"_check_{entity.lower()}", None)
            prepared = check(obj) if check else obj
            inserted = self._insert(entity, prepared)
            if entity == "Payment":
                self._apply_payment(inserted)
            return inserted

    def _check_customer(self, obj: dict) -> dict:
        name = str(obj.get("DisplayName") or "").strip()
        if not name:
            raise QboError(
                400,
                "Required param missing, need to supply the required value for the API",
                "Required parameter DisplayName is missing in the request",
                "2020",
            )
        if any(c["DisplayName"].casefold() == name.casefold() for c in self.db["Customer"].values()):
            raise QboError(400, "Duplicate Name Exists Error", f"The name supplied already exists. : {name}", "6240")
        return {**_clean(obj), "DisplayName": name, "CurrencyRef": obj.get("CurrencyRef") or {"value": "USD"}}

    def _check_item(self, obj: dict) -> dict:
        name = str(obj.get("Name") or "").strip()
        if not name or any(i["Name"].casefold() == name.casefold() for i in self.db["Item"].values()):
            raise QboError(400, "Duplicate Name Exists Error", f"The name supplied already exists. : {name}", "6240")
        return {**_clean(obj), "Name": name, "Type": obj.get("Type") or "Service"}

    def _check_invoice(self, obj: dict) -> dict:
        obj = _clean(obj)
        customer = self.db["Customer"].get(str((obj.get("CustomerRef") or {}).get("value", "")))
        if customer is None:
            raise QboError(
                400,
                "Invalid Reference Id",
                "Invalid Reference Id : Customer assigned to this transaction has been deleted or does not exist.",
                "2500",
            )
        if customer.get("Active") is False:
            raise QboError(400, "Object Not Found", INACTIVE, "610")
        currency = (obj.get("CurrencyRef") or {}).get("value") or customer["CurrencyRef"]["value"]
        if currency != customer["CurrencyRef"]["value"]:
            raise QboError(
                400,
                "A business validation error has occurred while processing your request",
                f"Business Validation Error: The currency {currency} does not match the currency "
                f"{customer['CurrencyRef']['value']} of customer {customer['DisplayName']}.",
                "6000",
            )
        if obj.get("SalesTermRef") and str(obj["SalesTermRef"].get("value")) not in self.db["Term"]:
            raise QboError(400, "Invalid Reference Id", "Invalid Reference Id : SalesTermRef", "2500")
        lines, total, discount = [], Decimal("0"), Decimal("0")
        for n, line in enumerate(obj.get("Line") or [], start=1):
            kind = line.get("DetailType")
            amount = Decimal(str(line.get("Amount", 0)))
            if kind == "SalesItemLineDetail":
                d = line["SalesItemLineDetail"]
                item = self.db["Item"].get(str((d.get("ItemRef") or {}).get("value", "")))
                if item is None:
                    raise QboError(
                        400,
                        "Invalid Reference Id",
                        f"Line {n}: Invalid Reference Id : Item "
                        f"{(d.get('ItemRef') or {}).get('value')} does not exist.",
                        "2500",
                    )
                if item.get("Active") is False:
                    raise QboError(400, "Object Not Found", f"Line {n}: {INACTIVE}", "610")
                tax = (d.get("TaxCodeRef") or {}).get("value")
                if tax and tax not in self.db["TaxCode"] and tax not in ("TAX", "NON"):
                    raise QboError(
                        400, "Invalid Reference Id", f"Line {n}: Invalid Reference Id : TaxCode {tax}", "2500"
                    )
                # A line may give only its Amount (QuickBooks accepts it, with Qty and UnitPrice absent or 0, as
                # python-quickbooks sends them by default); when it gives both, they must multiply to the Amount.
                qty, price = Decimal(str(d.get("Qty") or 0)), Decimal(str(d.get("UnitPrice") or 0))
                if qty and price:
                    if abs((qty * price).quantize(Decimal("0.01"), ROUND_HALF_UP) - amount) > Decimal("0.01"):
                        raise QboError(
                            400,
                            "Amount calculation incorrect",
                            f"Line {n}: Amount is not equal to UnitPrice * Qty. Supplied value:{amount}",
                            "6070",
                        )
                d = {**d, "Qty": qty, "UnitPrice": price}
                total += amount
                line = {**line, "Amount": amount, "SalesItemLineDetail": d}
            elif kind == "DiscountLineDetail":
                line = {**line, "Amount": amount}
                discount += amount
            elif kind != "DescriptionOnly":
                raise QboError(
                    400, "Request has invalid or unsupported property", f"Line {n}: DetailType {kind}", "2010"
                )
            lines.append({**line, "Id": str(n), "LineNum": n})
        if not lines:
            raise QboError(400, "Required param missing", "An invoice needs at least one line.", "2020")
        lines.append({"Amount": total, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
        with self._lock:
            number = str(1001 + len(self.db["Invoice"]))
        amount = total - discount
        txn = obj.get("TxnDate") or date.today().isoformat()
        due = obj.get("DueDate")
        if not due and obj.get("SalesTermRef"):
            days = int(self.db["Term"][str(obj["SalesTermRef"]["value"])].get("DueDays") or 0)
            due = (date.fromisoformat(txn) + timedelta(days=days)).isoformat()
        return {
            **obj,
            "Line": lines,
            "TotalAmt": amount,
            "Balance": amount,
            "DocNumber": obj.get("DocNumber") or number,
            "TxnDate": txn,
            "DueDate": due or txn,
            "CurrencyRef": {"value": currency},
            "EmailStatus": "NotSet",
            "CustomerRef": {"value": customer["Id"], "name": customer["DisplayName"]},
        }

    def batch(self, body: dict) -> dict:
        items = body.get("BatchItemRequest") or []
        if len(items) > 30:
            raise QboError(400, "Batch size exceeds max limit", "Batch request can have at most 30 items.", "7010")
        out = []
        for item in items:
            if "Query" in item:  # a BatchItemRequest may be a query: its answer is that query's QueryResponse
                try:
                    out.append({"bId": item["bId"], "QueryResponse": self.query(str(item["Query"]))})
                except QboError as exc:
                    out.append({"bId": item["bId"], "Fault": exc.body["Fault"]})
                continue
            entity = next(k for k in item if k in ENTITIES.values())
            try:
                if item.get("operation") != "create":
                    raise QboError(400, "Unsupported Operation", "Only create is emulated in batch.", "500")
                out.append({"bId": item["bId"], entity: self.save(entity, item[entity])})
            except QboError as exc:
                out.append({"bId": item["bId"], "Fault": exc.body["Fault"]})
        return {"BatchItemResponse": out, "time": _now()}

    def upload(self, body: bytes, ctype: str) -> dict:
        """Every numbered file_metadata_NN / file_content_NN pair of the multipart body, in order; a pair whose
        metadata names an object that does not exist refuses the whole request (nothing is stored)."""
        parts = _multipart(body, ctype)
        numbers = sorted(int(k.rsplit("_", 1)[1]) for k in parts if re.fullmatch(r"file_metadata_\d+", k))
        if not numbers:
            raise QboError(400, "Invalid Request", "No file_metadata part in the upload.", "2020")
        files = []
        for n in numbers:
            meta = json.loads(parts[f"file_metadata_{n:02d}"][1])
            if f"file_content_{n:02d}" not in parts:
                raise QboError(400, "Invalid Request", f"file_content_{n:02d} is missing.", "2020")
            headers, content = parts[f"file_content_{n:02d}"]
            data = base64.b64decode(content) if "base64" in headers.lower() else content.encode()
            for ref in meta.get("AttachableRef") or []:
                entity = (ref.get("EntityRef") or {}).get("type", "")
                if str(ref["EntityRef"].get("value")) not in self.db.get(entity.capitalize(), {}):
                    raise QboError(
                        400,
                        "Invalid Reference Id",
                        f"Invalid Reference Id : {entity} {ref['EntityRef'].get('value')}",
                        "2500",
                    )
            files.append((meta, data))
        out = []
        for meta, data in files:
            att = self._insert("Attachable", {**_clean(meta), "Size": len(data)})
            self.files[att["Id"]] = data
            out.append({"Attachable": att})
        return {"AttachableResponse": out, "time": _now()}

    def query(self, sql: str) -> dict:
        q = parse_query(sql)
        entity = {e.lower(): e for e in ENTITIES.values()}.get(q["entity"].lower())
        if entity is None:
            raise QboError(400, "QueryParserError", f'Encountered "{q["entity"]}": not an entity', "4000")
        allowed = FILTERABLE.get(entity, set()) | _META
        for field, _op, _want in q["where"]:
            if field.lower() not in allowed:
                raise QboError(
                    400, "Invalid query", f"QueryValidationError: property '{field}' is not queryable", "4001"
                )
        active_only = entity in NAME_LISTS and not any(f.lower() == "active" for f, _o, _w in q["where"])
        with self._lock:
            rows = [
                r
                for r in self.db[entity].values()
                if all(_test(r, *cond) for cond in q["where"]) and not (active_only and r.get("Active") is False)
            ]
        if q["count"]:
            return {"totalCount": len(rows)}
        if q["order"]:
            field, desc = q["order"]
            rows.sort(key=lambda r: _sort_key(_values(r, field)), reverse=desc)
        start, limit = q["start"], min(q["max"], 1000)
        page = rows[start - 1 : start - 1 + limit]
        return {entity: page, "startPosition": start, "maxResults": len(page)} if page else {}


def _zeroed(line: dict) -> dict:
    """A line of a voided invoice: amount and quantity 0 (Intuit: "amounts and quantities are zeroed")."""
    out = {**line, "Amount": Decimal("0")}
    if "SalesItemLineDetail" in line:
        out["SalesItemLineDetail"] = {**line["SalesItemLineDetail"], "Qty": Decimal("0")}
    return out


def _check_lengths(entity: str, obj: dict) -> None:
    for field_, limit in LIMITS.get(entity, {}).items():
        value = obj.get(field_)
        if isinstance(value, str) and len(value) > limit:
            raise QboError(
                400,
                "String length is either shorter or longer than supported by specification",
                f"{field_}: String length specified does not match the supported length. Min:0 Max:{limit} "
                f"supported. Supplied length:{len(value)}",
                "2050",
            )


def _csv_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# -- the query language subset -------------------------------------------------------------------------
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:\\.|[^'\\])*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op><=|>=|!=|=|<|>|\(|\)|,|\*)"
    r"|(?P<word>[A-Za-z_][\w.]*))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise QboError(
                400, "QueryParserError", f"Encountered an unexpected character at {pos}: {text[pos:]}", "4000"
            )
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "str":
            value = value[1:-1].replace("\\'", "'")
        out.append((kind, value))
        pos = m.end()
    return out


def parse_query(sql: str) -> dict:
    toks = _tokens(sql)
    words = [v.upper() if k == "word" else v for k, v in toks]
    if not words or words[0] != "SELECT" or "FROM" not in words:
        raise QboError(400, "QueryParserError", "Expected SELECT ... FROM ...", "4000")
    i = words.index("FROM")
    q: dict[str, Any] = {
        "count": "COUNT" in words[1:i],
        "entity": toks[i + 1][1],
        "where": [],
        "order": None,
        "start": 1,
        "max": 100,
    }
    i += 2
    while i < len(toks):
        w = words[i]
        if w in ("WHERE", "AND"):
            field, op = toks[i + 1][1], words[i + 2]
            i += 3
            if op == "IN":
                values = []
                i += 1  # "("
                while toks[i][1] != ")":
                    if toks[i][1] != ",":
                        values.append(toks[i][1])
                    i += 1
                i += 1
                q["where"].append((field, "IN", values))
            else:
                q["where"].append((field, op, toks[i][1]))
                i += 1
        elif w in ("ORDER", "ORDERBY"):
            i += 2 if w == "ORDER" else 1
            desc = i + 1 < len(toks) and words[i + 1] == "DESC"
            q["order"] = (toks[i][1], desc)
            i += 2 if i + 1 < len(toks) and words[i + 1] in ("ASC", "DESC") else 1
        elif w in ("STARTPOSITION", "MAXRESULTS"):
            q["start" if w == "STARTPOSITION" else "max"] = int(toks[i + 1][1])
            i += 2
        else:
            raise QboError(400, "QueryParserError", f'Encountered "{toks[i][1]}" in the query', "4000")
    return q


def _values(obj: Any, field: str) -> list[Any]:
    """Every value a dotted field reaches; Refs compare by their value, lists by any element."""
    current = [obj]
    for part in field.split("."):
        nxt = []
        for o in current:
            for item in o if isinstance(o, list) else [o]:
                if isinstance(item, dict):
                    key = next((k for k in item if k.lower() == part.lower()), None)
                    if key is not None:
                        nxt.append(item[key])
        current = nxt
    flat = []
    for v in current:
        for item in v if isinstance(v, list) else [v]:
            flat.append(item.get("value") if isinstance(item, dict) else item)
    return flat


def _test(obj: dict, field: str, op: str, want: Any) -> bool:
    for have in _values(obj, field):
        h = str(have).casefold() if not isinstance(have, bool) else str(have).lower()
        if op == "IN" and h in {str(w).casefold() for w in want}:
            return True
        if op == "LIKE" and re.fullmatch(re.escape(str(want).casefold()).replace("%", ".*"), h, re.S):
            return True
        w = str(want).casefold()
        if isinstance(have, (int, Decimal)) and not isinstance(have, bool) and re.fullmatch(r"-?\d+(\.\d+)?", w):
            h, w = Decimal(str(have)), Decimal(w)  # type: ignore[assignment]
        if (
            (op == "=" and h == w)
            or (op == "!=" and h != w)
            or (op == "<" and h < w)
            or (op == ">" and h > w)
            or (op == "<=" and h <= w)
            or (op == ">=" and h >= w)
        ):
            return True
    return False


def _sort_key(values: list[Any]) -> tuple:
    v = values[0] if values else ""
    return (0, int(v), "") if str(v).isdigit() else (1, 0, str(v))


def _clean(obj: dict) -> dict:
    """Drop what a client may not set (python-quickbooks sends defaults such as TotalAmt "" and Id None)."""
    return {
        k: v
        for k, v in obj.items()
        if v is not None and v != "" and k not in ("Id", "SyncToken", "MetaData", "TotalAmt", "Balance")
    }


def _multipart(body: bytes, ctype: str) -> dict[str, tuple[str, str]]:
    boundary = ctype.split("boundary=", 1)[1].strip().strip('"')
    parts: dict[str, tuple[str, str]] = {}
    for chunk in body.decode("utf-8").split("--" + boundary):
        chunk = chunk.replace("\r\n", "\n").strip("\n")
        if not chunk or chunk.startswith("--"):
            continue
        head, _, content = chunk.partition("\n\n")
        name = re.search(r'name="([^"]+)"', head)
        if name:
            parts[name.group(1)] = (head, content.strip())
    return parts


def _dumps(obj: Any) -> bytes:
    """JSON with Decimals written as exact numbers (QuickBooks sends amounts as numbers, not strings)."""
    text = json.dumps(obj, default=lambda o: f"@@{o}@@" if isinstance(o, Decimal) else str(o))
    return re.sub(r'"@@(-?[\d.E+-]+)@@"', r"\1", text).encode()


class _Handler(BaseHTTPRequestHandler):
    emu: QuickBooksEmulator
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        return None

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = _dumps(body) if body is not None else b""
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("intuit_tid", "emu-" + str(time.monotonic_ns()))
        if self.headers.get("Connection", "").lower() == "close":
            self.send_header("Connection", "close")  # python-quickbooks asks for it on uploads
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        emu = self.emu
        url = urlparse(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        base = f"http://{self.headers.get('Host')}"
        if url.path.startswith("/.well-known/openid"):
            return self._send(200, emu.oauth.discovery(base))
        if url.path == "/connect/oauth2":
            status, headers, payload = emu.oauth.authorize(url.query)
            return self._send(status, payload, headers)
        if url.path == "/oauth2/v1/tokens/bearer":
            return self._send(*emu.oauth.token(self.headers.get("Authorization", ""), body.decode()))
        if url.path == "/oauth2/v1/tokens/revoke":
            return self._send(*emu.oauth.revoke(self.headers.get("Authorization", ""), json.loads(body or b"{}")))
        if not url.path.startswith("/v3/company/"):
            return self._send(404, fault_body("Not found", url.path, "404", "SERVICE"))
        self._api(method, url.path, {k: v[0] for k, v in parse_qs(url.query).items()}, body)

    def _api(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        emu = self.emu
        label = path  # what calls and faults see: a batch of queries only reads, tests tell it from one that creates
        if path.endswith("/batch"):
            label += "#query" if b'"Query"' in body and b'"operation"' not in body else "#create"
        with emu._lock:
            emu.calls.append((method, label))
            emu._active += 1
            now = time.monotonic()
            while emu._recent and emu._recent[0] <= now - emu.window:
                emu._recent.popleft()
            emu._recent.append(now)
            over = emu._active > emu.max_concurrent or len(emu._recent) > emu.per_minute
            wait = max(1, int(emu._recent[0] + emu.window - now + 0.999)) if len(emu._recent) > emu.per_minute else 1
            fault = next(
                (
                    f
                    for f in emu.faults
                    if f.path in label and f.times > 0 and (not f.operation or f.operation == query.get("operation"))
                ),
                None,
            )
            if fault:
                fault.times -= 1
        try:
            if emu.latency:
                time.sleep(emu.latency)
            if over or (fault and fault.kind == "429"):
                emu.throttled += 1
                return self._send(
                    429,
                    fault_body(
                        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                        "The request limit was reached.",
                        "3001",
                        "SERVICE",
                    ),
                    {"Retry-After": str(wait) if over else fault.retry_after},
                )  # type: ignore[union-attr]
            if fault and fault.kind == "expire":  # the hour is up mid-run: this and every later call with it is 401
                emu.oauth.expire_access_tokens()
            if fault and fault.kind == "stall":  # held before it is handled: a client killed now committed nothing
                time.sleep(emu.hang_seconds)
            if not emu.oauth.bearer_ok(self.headers.get("Authorization", "")) or (fault and fault.kind == "401"):
                return self._send(
                    401,
                    {
                        "fault": {
                            "error": [
                                {
                                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                                    "detail": "Token expired",
                                    "code": "3200",
                                }
                            ],
                            "type": "AUTHENTICATION",
                        },
                        "time": _now(),
                    },
                )
            minor = query.get("minorversion", "")
            if minor and not minor.isdigit():
                return self._send(400, fault_body("Invalid minorversion", f"minorversion {minor}", "2070"))
            emu.minorversions.add(minor)
            if fault and fault.kind == "500":
                return self._send(
                    500,
                    fault_body(
                        "An application error has occurred while processing your request",
                        "System Failure Error",
                        "10000",
                        "SystemFault",
                    ),
                )
            if fault and fault.kind == "validation":
                return self._send(
                    400,
                    fault_body(
                        "A business validation error has occurred while processing your request",
                        "Line 1: The emulator was told to refuse this request.",
                        "6000",
                    ),
                )
            if fault and fault.kind == "edit":  # another user saves the record just before this request lands
                target = str(json.loads(body or b"{}").get("Id", ""))
                entity = ENTITIES.get(path.split("/")[4].lower(), "")
                if target in emu.db.get(entity, {}):
                    emu.edit(entity, target)
            rid = query.get("requestid")
            with emu._lock:
                cached = emu.replay.get(rid) if rid else None
            if cached:
                status, payload = cached
            else:
                try:
                    status, payload = emu.handle_api(method, path, query, body, self.headers.get("Content-Type", ""))
                except QboError as exc:
                    status, payload = exc.status, exc.body
                if rid and method == "POST" and status == 200:
                    with emu._lock:
                        emu.replay[rid] = (status, payload)
            if fault and fault.kind in ("drop", "timeout"):
                if fault.kind == "timeout":
                    time.sleep(emu.hang_seconds)
                self.close_connection = True  # committed, but the client never hears back
                return None
            self._send(status, payload)
        finally:
            with emu._lock:
                emu._active -= 1


QuickBooksEmulator.handler = _Handler


if __name__ == "__main__":
    serve(QuickBooksEmulator)
