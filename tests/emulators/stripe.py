"""A stateful emulator of the parts of the Stripe API the Stripe adapter uses, on 127.0.0.1.

Shaped after Stripe's API reference and the stripe-python SDK's models (facts, not code):

- requests are form-encoded with bracketed keys (`metadata[invoice_key]=…`, `lines[0][amount]=…`), the API
  key is HTTP Bearer (`sk_test_…`), lists answer `{"object": "list", "data", "has_more", "url"}` newest
  first with `limit` / `starting_after`, search answers `{"object": "search_result", "data", "has_more",
  "next_page"}` for Stripe's query language (`metadata['k']:'v'`, `field:'v'`, joined by AND);
- errors are `{"error": {"type", "message", "param", "code"}}`: 400 invalid_request_error, 401 for a bad
  or expired key, 404 resource_missing, 429 rate_limit;
- Idempotency-Key (docs.stripe.com/api/idempotent_requests): the first answer to a POST is saved and
  replayed for the same key (header `Idempotent-Replayed: true`), also when it was an error; the same key
  with other parameters is a 400 `idempotency_error`; keys are pruned after 24 hours (`age_keys()`);
- search is eventually consistent ("data is searchable in under 1 minute"): with `search_lag=True`,
  search sees the state as of the last `index()`, while list and retrieve are always current;
- invoices: drafts have no number until finalized; `add_lines` only on drafts; finalize only a draft
  (number assigned, status open; nothing is sent); void only open or uncollectible; metadata merges.

Fault switches (`fail_next(kind, path=…)`): 429, 500, drop (commit, then lose the answer), timeout (commit,
then hang past the client's timeout), expired (401), validation (400 with a param).

    python -m tests.emulators.stripe --port 8790 --latency 0.15
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.emulators._server import LocalServer, serve

API_KEY = "sk_test_emulator"


class StripeError(Exception):
    def __init__(self, status: int, type_: str, message: str, param: str = "", code: str = ""):
        super().__init__(message)
        self.status = status
        body: dict[str, Any] = {"type": type_, "message": message}
        if param:
            body["param"] = param
        if code:
            body["code"] = code
        self.body = {"error": body}


@dataclass
class Fault:
    kind: str
    path: str
    times: int = 1
    method: str = ""


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`a[b][0][c]=v` pairs into nested dicts and lists, as Stripe reads them."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt: Any = value if last else ({} if not parts[i + 1].isdigit() else [])
            if isinstance(node, list):
                idx = int(part)
                while len(node) <= idx:
                    node.append(None)
                if node[idx] is None or last:
                    node[idx] = nxt
                node = node[idx]
            else:
                if part not in node or last:
                    node[part] = nxt
                node = node[part]
    return root


class StripeEmulator(LocalServer):
    title = "Stripe API"
    default_port = 8790

    def __init__(self, latency: float = 0.0, hang_seconds: float = 3.0, search_lag: bool = False):
        self.latency, self.hang_seconds, self.search_lag = latency, hang_seconds, search_lag
        self.keys = {API_KEY}
        self.customers: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.tax_rates: dict[str, dict[str, Any]] = {}
        self.indexed: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, tuple[str, str, Any, int, dict[str, Any]]] = {}
        self.calls: list[tuple[str, str]] = []
        self.faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._numbers = itertools.count(1)
        self._clock = itertools.count(1_790_000_000)
        self._lock = threading.RLock()

    # -- test controls ---------------------------------------------------------------------------------------
    def fail_next(self, kind: str, path: str = "", times: int = 1, method: str = "") -> None:
        self.faults.append(Fault(kind, path, times, method))

    def expire_key(self) -> None:
        self.keys.clear()

    def age_keys(self) -> None:
        """Stripe prunes idempotency keys once they are at least 24 hours old."""
        self.idempotency.clear()

    def index(self) -> None:
        """The search index catches up with every write so far."""
        with self._lock:
            self.indexed = json.loads(json.dumps(self.invoices))

    def add_customer(self, name: str, email: str = "") -> dict[str, Any]:
        return self._create_customer({"name": name, "email": email} if email else {"name": name})

    def add_tax_rate(self, display_name: str, percentage: str, inclusive: bool = False) -> dict[str, Any]:
        rid = self._id("txr")
        self.tax_rates[rid] = {
            "id": rid,
            "object": "tax_rate",
            "active": True,
            "display_name": display_name,
            "percentage": float(percentage),
            "inclusive": inclusive,
        }
        return self.tax_rates[rid]

    def pay(self, invoice_id: str, amount: int | None = None) -> None:
        inv = self.invoices[invoice_id]
        inv["amount_paid"] = inv["total"] if amount is None else amount
        inv["amount_remaining"] = inv["amount_due"] = inv["total"] - inv["amount_paid"]
        if inv["amount_remaining"] <= 0:
            inv["status"] = "paid"

    def live(self) -> list[dict[str, Any]]:
        return [i for i in self.invoices.values() if i["status"] != "void"]

    def count(self, method: str, fragment: str) -> int:
        return sum(1 for m, p in self.calls if m == method and fragment in p)

    def summary(self) -> str:
        return f"{len(self.customers)} customers, API key {API_KEY}"

    def env(self) -> dict[str, str]:
        return {"ACCOUNTING": "stripe", "STRIPE_BASE_URL": self.base_url, "STRIPE_API_KEY": API_KEY}

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every API call")

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> StripeEmulator:
        emu = cls(latency=args.latency)
        for name in ("Acme Retail Inc.", "Bluefin Logistics LLC", "Cobalt Health"):
            emu.add_customer(name)
        emu.add_tax_rate("VAT 20%", "20")
        return emu

    # -- objects ---------------------------------------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):014d}"

    def _create_customer(self, p: dict[str, Any]) -> dict[str, Any]:
        cid = self._id("cus")
        self.customers[cid] = {
            "id": cid,
            "object": "customer",
            "name": p.get("name"),
            "email": p.get("email"),
            "metadata": _metadata({}, p.get("metadata")),
            "created": next(self._clock),
        }
        return self.customers[cid]

    def _totals(self, inv: dict[str, Any]) -> None:
        subtotal = sum(line["amount"] for line in inv["lines"]["data"])
        tax = 0
        for line in inv["lines"]["data"]:
            for rate in line.get("tax_rates", []):
                if not rate["inclusive"]:
                    tax += round(line["amount"] * rate["percentage"] / 100)
        inv.update(subtotal=subtotal, tax=tax, total=subtotal + tax)
        inv["amount_due"] = inv["amount_remaining"] = inv["total"] - inv["amount_paid"]

    def _create_invoice(self, p: dict[str, Any]) -> dict[str, Any]:
        customer = p.get("customer")
        if customer not in self.customers:
            raise StripeError(400, "invalid_request_error", f"No such customer: '{customer}'", "customer")
        if p.get("collection_method") == "send_invoice" and "days_until_due" not in p and "due_date" not in p:
            raise StripeError(
                400,
                "invalid_request_error",
                "Invoices with collection_method=send_invoice must have either days_until_due or due_date set.",
                "days_until_due",
            )
        iid = self._id("in")
        inv = {
            "id": iid,
            "object": "invoice",
            "customer": customer,
            "currency": str(p.get("currency") or "usd").lower(),
            "status": "draft",
            "number": None,
            "auto_advance": p.get("auto_advance") == "true",
            "collection_method": p.get("collection_method", "charge_automatically"),
            "days_until_due": int(p["days_until_due"]) if "days_until_due" in p else None,
            "description": p.get("description"),
            "metadata": _metadata({}, p.get("metadata")),
            "amount_paid": 0,
            "created": next(self._clock),
            "lines": {"object": "list", "data": [], "has_more": False, "url": f"/v1/invoices/{iid}/lines"},
            "hosted_invoice_url": None,
        }
        self._totals(inv)
        self.invoices[iid] = inv
        return inv

    def _invoice(self, iid: str) -> dict[str, Any]:
        if iid not in self.invoices:
            raise StripeError(404, "invalid_request_error", f"No such invoice: '{iid}'", "id", "resource_missing")
        return self.invoices[iid]

    def _add_lines(self, inv: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
        if inv["status"] != "draft":
            raise StripeError(400, "invalid_request_error", "You can only add lines to a draft invoice.")
        lines = p.get("lines") or []
        if not lines:
            raise StripeError(400, "invalid_request_error", "Missing required param: lines.", "lines")
        for n, line in enumerate(lines):
            amount = str(line.get("amount", ""))
            if not re.fullmatch(r"-?\d+", amount):
                raise StripeError(400, "invalid_request_error", f"Invalid integer: {amount}", f"lines[{n}][amount]")
            rates = line.get("tax_rates") or []
            for rid in rates:
                if rid not in self.tax_rates:
                    raise StripeError(
                        400, "invalid_request_error", f"No such tax rate: '{rid}'", f"lines[{n}][tax_rates]"
                    )
        for line in lines:
            inv["lines"]["data"].append(
                {
                    "id": self._id("il"),
                    "object": "line_item",
                    "amount": int(line["amount"]),
                    "currency": inv["currency"],
                    "description": line.get("description"),
                    "metadata": _metadata({}, line.get("metadata")),
                    "tax_rates": [dict(self.tax_rates[rid]) for rid in line.get("tax_rates") or []],
                }
            )
        inv["metadata"] = _metadata(inv["metadata"], p.get("invoice_metadata"))
        self._totals(inv)
        return inv

    # -- routing ---------------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, p: dict[str, Any]) -> tuple[int, Any]:
        parts = path.strip("/").split("/")[1:]  # after v1
        with self._lock:
            if parts == ["customers"]:
                if method == "POST":
                    return 200, self._create_customer(p)
                return 200, _page(sorted(self.customers.values(), key=lambda c: -c["created"]), p, path)
            if parts == ["tax_rates"]:
                rows = [r for r in self.tax_rates.values() if p.get("active") != "true" or r["active"]]
                return 200, _page(rows, p, path)
            if parts == ["invoices"]:
                if method == "POST":
                    return 200, self._create_invoice(p)
                rows = [i for i in self.invoices.values() if not p.get("customer") or i["customer"] == p["customer"]]
                return 200, _page(sorted(rows, key=lambda i: -i["created"]), p, path)
            if parts == ["invoices", "search"]:
                source = self.indexed if self.search_lag else self.invoices
                return 200, _search(list(source.values()), p, path)
            if len(parts) >= 2 and parts[0] == "invoices":
                inv = self._invoice(parts[1])
                action = parts[2] if len(parts) > 2 else ""
                if method == "GET" and not action:
                    return 200, inv
                if action == "add_lines":
                    return 200, self._add_lines(inv, p)
                if action == "finalize":
                    if inv["status"] != "draft":
                        raise StripeError(400, "invalid_request_error", "This invoice is already finalized.")
                    inv.update(status="open", number=f"EMU0001-{next(self._numbers):04d}")
                    inv["auto_advance"] = p.get("auto_advance") == "true"
                    return 200, inv
                if action == "void":
                    if inv["status"] not in ("open", "uncollectible"):
                        raise StripeError(
                            400,
                            "invalid_request_error",
                            f"You can only void an invoice with status open or uncollectible; this one is "
                            f"{inv['status']}.",
                        )
                    inv["status"] = "void"
                    inv["amount_due"] = inv["amount_remaining"] = 0
                    return 200, inv
                if not action and method == "POST":
                    inv["metadata"] = _metadata(inv["metadata"], p.get("metadata"))
                    if "description" in p and inv["status"] == "draft":
                        inv["description"] = p["description"]
                    return 200, inv
        raise StripeError(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")


def _metadata(old: dict[str, str], new: Any) -> dict[str, str]:
    merged = dict(old)
    for k, v in (new or {}).items():
        if len(k) > 40:
            raise StripeError(400, "invalid_request_error", "Metadata keys can have up to 40 characters.", "metadata")
        if len(str(v)) > 500:
            raise StripeError(
                400, "invalid_request_error", "Metadata values can have up to 500 characters.", "metadata"
            )
        if v == "":
            merged.pop(k, None)
        else:
            merged[k] = str(v)
    if len(merged) > 50:
        raise StripeError(400, "invalid_request_error", "You can have up to 50 metadata keys.", "metadata")
    return merged


def _page(rows: list[dict[str, Any]], p: dict[str, Any], url: str) -> dict[str, Any]:
    limit = min(int(p.get("limit", 10)), 100)
    if p.get("starting_after"):
        ids = [r["id"] for r in rows]
        rows = rows[ids.index(p["starting_after"]) + 1 :] if p["starting_after"] in ids else []
    return {"object": "list", "data": rows[:limit], "has_more": len(rows) > limit, "url": url}


CLAUSE = re.compile(r"(metadata\['([^']+)'\]|\w+):'((?:[^'\\]|\\.)*)'")


def _search(rows: list[dict[str, Any]], p: dict[str, Any], url: str) -> dict[str, Any]:
    query = str(p.get("query", ""))
    clauses = [c.strip() for c in re.split(r"\s+AND\s+", query) if c.strip()]
    tests = []
    for clause in clauses:
        m = CLAUSE.fullmatch(clause)
        if not m:
            raise StripeError(400, "invalid_request_error", f"The query is not valid: {clause}", "query")
        tests.append((m.group(2), m.group(1), m.group(3).replace("\\'", "'")))

    def ok(row: dict[str, Any]) -> bool:
        for meta_key, field_, value in tests:
            have = (row.get("metadata") or {}).get(meta_key) if meta_key else row.get(field_)
            if str(have) != value:
                return False
        return True

    found = sorted([r for r in rows if ok(r)], key=lambda r: -r["created"])
    start = int(p.get("page") or 0)
    limit = min(int(p.get("limit", 10)), 100)
    chunk = found[start : start + limit]
    more = start + limit < len(found)
    return {
        "object": "search_result",
        "data": chunk,
        "has_more": more,
        "next_page": str(start + limit) if more else None,
        "url": url,
    }


class _Handler(BaseHTTPRequestHandler):
    emu: StripeEmulator
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", f"req_{time.monotonic_ns()}")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        emu = self.emu
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        pairs = parse_qsl(url.query, keep_blank_values=True) + parse_qsl(raw, keep_blank_values=True)
        params = parse_form(pairs)
        with emu._lock:
            emu.calls.append((method, url.path))
            fault = next(
                (f for f in emu.faults if f.path in url.path and f.times > 0 and f.method in ("", method)),
                None,
            )
            if fault:
                fault.times -= 1
        if emu.latency:
            time.sleep(emu.latency)
        if fault and fault.kind == "429":
            return self._send(
                429,
                StripeError(429, "invalid_request_error", "Request rate limit exceeded.", code="rate_limit").body,
                {"Retry-After": "0"},
            )
        if fault and fault.kind == "500":
            return self._send(500, StripeError(500, "api_error", "An unknown error occurred.").body)
        token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if token not in emu.keys or (fault and fault.kind == "expired"):
            shown = token[:8] + "*" * max(len(token) - 12, 0) + token[-4:]
            return self._send(
                401,
                StripeError(
                    401, "invalid_request_error", f"Expired API Key provided: {shown}", code="api_key_expired"
                ).body,
            )
        if fault and fault.kind == "validation":
            return self._send(
                400, StripeError(400, "invalid_request_error", "Invalid request (emulated).", "metadata").body
            )
        key = self.headers.get("Idempotency-Key", "") if method == "POST" else ""
        replayed = False
        with emu._lock:
            saved = emu.idempotency.get(key) if key else None
            if saved is not None:
                if (saved[0], saved[1], saved[2]) != (method, url.path, params):
                    status, payload = (
                        400,
                        StripeError(
                            400,
                            "idempotency_error",
                            "Keys for idempotent requests can only be used with the same parameters they were "
                            f"first used with. Try using a key other than '{key}' if you meant to execute a "
                            "different request.",
                        ).body,
                    )
                else:
                    status, payload, replayed = saved[3], saved[4], True
            else:
                try:
                    status, payload = emu.handle(method, url.path, params)
                except StripeError as exc:
                    status, payload = exc.status, exc.body
                payload = json.loads(json.dumps(payload))  # the answer as sent, not the live object
                if key:
                    emu.idempotency[key] = (method, url.path, params, status, payload)
        if fault and fault.kind in ("drop", "timeout"):
            if fault.kind == "timeout":
                time.sleep(emu.hang_seconds)
            self.close_connection = True  # committed, but the client never hears back
            return None
        self._send(status, payload, {"Idempotent-Replayed": "true"} if replayed else {})


StripeEmulator.handler = _Handler


if __name__ == "__main__":
    serve(StripeEmulator)
