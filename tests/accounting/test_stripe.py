"""The Stripe adapter against the Stripe emulator, driven by the official stripe SDK unmodified.

The shared contract (tests/accounting/contract.py) first, then what is Stripe's own: the invoice's fields,
minor units (JPY), tax rates per line, idempotency keys on every POST, the search lag, faults.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from functions.accounting.stripe_accounting import StripeAccounting
from functions.accounting.stripe_client import StripeSettings, to_minor
from functions.errors import AuthError, ConfigError, ConflictError, InputError, Transient
from functions.models import InvoiceLine
from tests.accounting.contract import AccountingContract
from tests.accounting.test_qbo_adapter import ENTRIES, draft
from tests.emulators.stripe import API_KEY, StripeEmulator


@pytest.fixture
def emu():
    e = StripeEmulator(hang_seconds=0.6)
    for name in ("Acme Retail Inc.", "Bluefin Logistics LLC"):
        e.add_customer(name)
    e.add_tax_rate("VAT20", "20")
    e.start()
    yield e
    e.stop()


def make(emu: StripeEmulator, **overrides) -> StripeAccounting:
    settings = StripeSettings(
        _env_file=None,
        api_key=API_KEY,
        base_url=emu.base_url,
        timeout_seconds=0.3,
        retry_base_seconds=0.01,
        sheet_url="https://docs.google.com/spreadsheets/d/abc",
        **overrides,
    )
    return StripeAccounting(settings, sleep=lambda s: None)


class StripeTarget:
    def __init__(self, emu: StripeEmulator):
        self.emu = emu

    def make(self) -> StripeAccounting:
        return make(self.emu)

    def live_count(self) -> int:
        return len(self.emu.live())

    def lose_next_create_answer(self) -> None:
        self.emu.fail_next("timeout", path="/v1/invoices")

    def pay(self, external_id: str) -> None:
        self.emu.pay(external_id)


class TestStripeContract(AccountingContract):
    @pytest.fixture
    def target(self, emu):
        return StripeTarget(emu)


class TestStripeContractWhileSearchLags(AccountingContract):
    """The same promises when search has not caught up with any write yet (Stripe: up to a minute)."""

    @pytest.fixture
    def target(self, emu):
        emu.search_lag = True
        return StripeTarget(emu)


def test_a_draft_with_every_field_lines_in_cents_and_links_back(emu):
    d = draft(tax="VAT20", discount="30.00")
    [created] = make(emu).create_invoices([d], ENTRIES)
    [inv] = emu.invoices.values()
    assert (inv["status"], inv["collection_method"], inv["auto_advance"], inv["days_until_due"]) == (
        "draft",
        "send_invoice",
        False,
        30,
    )
    assert inv["metadata"] == {
        "invoice_key": d.key,
        "client": "Acme Retail",
        "period": "2026-10",
        "sheet": "https://docs.google.com/spreadsheets/d/abc",
        "lines": "complete",
    }
    assert [line["amount"] for line in inv["lines"]["data"]] == [30000, -3000]
    vat = next(iter(emu.tax_rates))
    assert [r["id"] for r in inv["lines"]["data"][0]["tax_rates"]] == [vat]
    assert (inv["subtotal"], inv["tax"], inv["description"]) == (27000, 6000, "Thank you for your business.")
    assert created.total == Decimal("270.00") and created.url.endswith(f"/invoices/{inv['id']}")
    assert created.number == inv["id"]  # a draft has no number until a person finalizes it


def test_zero_decimal_currencies_go_in_whole_units_and_fractions_are_refused():
    assert to_minor(Decimal("120000"), "JPY") == 120000 and to_minor(Decimal("1.5"), "KWD") == 1500
    with pytest.raises(InputError, match=r"12\.5 JPY is not a whole number of whole units"):
        to_minor(Decimal("12.5"), "JPY", "Acme line 1")
    with pytest.raises(InputError, match="whole cents"):
        to_minor(Decimal("1.005"), "USD")


def test_a_yen_invoice_is_sent_in_yen(emu):
    d = draft(rate="15000", currency="JPY")
    make(emu).create_invoices([d], ENTRIES)
    [inv] = emu.invoices.values()
    assert (inv["currency"], inv["subtotal"]) == ("jpy", 30000)


def test_check_names_every_missing_customer_tax_rate_and_amount_at_once(emu):
    odd = draft("Cobalt Health", customer="Cobalt Health", tax="GST")
    cents = draft(currency="JPY", rate="0.25")
    problems = make(emu).check([odd, cents])
    assert len(problems) == 3
    assert problems[0].startswith('Cobalt Health: Stripe has no customer "Cobalt Health"')
    assert problems[1].startswith("Acme Retail (2026-10) line 1: 0.50 JPY is not a whole number of whole units")
    assert (
        problems[2].startswith('Stripe has no active tax rate "GST"')
        and "Cobalt Health (2026-10) line 1" in problems[2]
    )
    with pytest.raises(ConfigError, match="nothing was created"):
        make(emu).create_invoices([odd], ENTRIES)
    assert emu.invoices == {}


def test_create_missing_makes_the_customer_once_by_name_or_email(emu):
    acct = make(emu)
    assert acct.check([draft("Cobalt Health", customer="billing@cobalt.example")], create_missing=True) == []
    assert make(emu).check([draft("Cobalt Health", customer="billing@cobalt.example")], create_missing=True) == []
    made = [c for c in emu.customers.values() if c["email"] == "billing@cobalt.example"]
    assert len(made) == 1 and made[0]["name"] == "Cobalt Health"


def test_every_post_carries_an_idempotency_key_and_a_retry_is_replayed(emu):
    emu.fail_next("drop", path="/add_lines")  # the lines are added, the answer is lost
    emu.fail_next("500", path="/v1/invoices", method="POST")
    [created] = make(emu).create_invoices([draft()], ENTRIES)
    [inv] = emu.invoices.values()
    assert len(inv["lines"]["data"]) == 1 and created.total == Decimal("300.00")
    assert all(saved[0] == "POST" for saved in emu.idempotency.values())
    assert emu.count("POST", "") == len(emu.idempotency) + 2  # the 500 and the replayed add_lines


def test_a_changed_invoice_within_24_hours_is_a_conflict_even_before_search_sees_it(emu):
    emu.search_lag = True
    make(emu).create_invoices([draft()], ENTRIES)
    with pytest.raises(ConflictError, match="Acme Retail already has Stripe invoice"):
        make(emu).create_invoices([draft(hours="3")], ENTRIES)
    assert len(emu.invoices) == 1


def test_after_24_hours_search_finds_it(emu):
    make(emu).create_invoices([draft()], ENTRIES)
    emu.age_keys()
    [again] = make(emu).create_invoices([draft()], ENTRIES)
    assert again.status == "existing" and len(emu.invoices) == 1


def test_a_crash_between_the_invoice_and_its_lines_is_completed_on_the_next_run(emu):
    emu.fail_next("validation", path="/add_lines")
    with pytest.raises(Exception, match="Invalid request"):
        make(emu).create_invoices([draft()], ENTRIES)
    [inv] = emu.invoices.values()
    assert inv["lines"]["data"] == []
    emu.age_keys()  # even a day later
    [done] = make(emu).create_invoices([draft()], ENTRIES)
    assert done.total == Decimal("300.00") and len(emu.invoices) == 1
    assert len(inv["lines"]["data"]) == 1


def test_rate_limits_are_retried_and_an_expired_key_is_a_sentence(emu):
    emu.fail_next("429", path="/v1/customers", times=2)
    make(emu).create_invoices([draft()], ENTRIES)
    assert len(emu.invoices) == 1
    emu.expire_key()
    with pytest.raises(AuthError, match="set STRIPE_API_KEY"):
        make(emu).create_invoices([draft("Bluefin Logistics")], ENTRIES)


def test_a_draft_is_finalized_unsent_then_voided(emu):
    acct = make(emu)
    [inv] = acct.create_invoices([draft()], ENTRIES)
    [rec] = acct.invoices_for(draft())
    voided = acct.void_invoice(rec)
    held = emu.invoices[inv.external_id]
    assert held["status"] == "void" and held["number"] == voided.number and held["auto_advance"] is False


def test_a_line_amount_is_never_rounded(emu):
    odd = draft().model_copy(
        update={
            "lines": (InvoiceLine(description="x", line_item="Design", quantity=1, unit_price="0.005", amount="0.005"),)
        }
    )
    problems = make(emu).check([odd])
    assert problems == [
        "Acme Retail (2026-10) line 1: 0.005 USD is not a whole number of whole cents, which is all Stripe "
        "accepts; nothing was sent."
    ]


def test_transient_failures_end_in_a_retryable_error(emu):
    emu.fail_next("500", path="/v1/invoices", times=10)
    with pytest.raises(Transient, match="gave up"):
        make(emu, max_attempts=2).create_invoices([draft()], ENTRIES)


# -- the emulator behaves like Stripe where the adapter depends on it (the SDK, driven directly) -------------
def test_sdk_a_reused_key_with_other_parameters_is_an_idempotency_error_and_a_repeat_is_replayed(emu):
    """docs.stripe.com/api/idempotent_requests: the first answer is saved and returned for the same key; the
    idempotency layer compares parameters and errors when they differ (type idempotency_error)."""
    import stripe

    client = stripe.StripeClient(API_KEY, base_addresses={"api": emu.base_url}, max_network_retries=0)
    customer = next(iter(emu.customers))
    first = client.v1.invoices.create({"customer": customer, "auto_advance": False}, {"idempotency_key": "k1"})
    again = client.v1.invoices.create({"customer": customer, "auto_advance": False}, {"idempotency_key": "k1"})
    assert again.id == first.id and again.last_response.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(stripe.IdempotencyError, match="same parameters"):
        client.v1.invoices.create({"customer": customer, "description": "x"}, {"idempotency_key": "k1"})
    assert len(emu.invoices) == 1


def test_sdk_a_draft_cannot_be_voided_until_it_is_finalized_and_an_expired_key_is_refused(emu):
    """Stripe's invoice lifecycle (docs.stripe.com/invoicing/overview): void applies to open invoices; a draft is
    finalized first (it then has a number). A revoked or expired key answers 401 (AuthenticationError)."""
    import stripe

    client = stripe.StripeClient(API_KEY, base_addresses={"api": emu.base_url}, max_network_retries=0)
    inv = client.v1.invoices.create({"customer": next(iter(emu.customers)), "auto_advance": False})
    assert inv.number is None and inv.status == "draft"
    with pytest.raises(stripe.InvalidRequestError, match="open or uncollectible"):
        client.v1.invoices.void_invoice(inv.id)
    final = client.v1.invoices.finalize_invoice(inv.id, {"auto_advance": False})
    assert final.status == "open" and final.number
    assert client.v1.invoices.void_invoice(inv.id).status == "void"
    emu.fail_next("expired")
    with pytest.raises(stripe.AuthenticationError):
        client.v1.customers.list()
