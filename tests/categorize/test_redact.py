"""What leaves the machine: redaction of personal data and secrets, and client pseudonyms."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.categorize.redact import Pseudonyms, redact

REDACTED = [
    ("mtg w/ jane.doe@acme-retail.com re: Q4", "mtg w/ [email] re: Q4"),
    ("call +1 (415) 555-0134 back", "call [phone] back"),
    ("call 415-555-0134", "call [phone]"),
    ("UK office +44 20 7946 0958", "UK office [phone]"),
    ("ring (020) 7946 0958", "ring [phone]"),
    (
        "reset link https://app.acme.com/reset?token=abc123XYZ&u=7 sent",
        "reset link https://app.acme.com/reset?[redacted] sent",
    ),
    ("s3 https://b.s3.amazonaws.com/f.pdf?X-Amz-Signature=deadbeef", "s3 https://b.s3.amazonaws.com/f.pdf?[redacted]"),
    ("login https://admin:hunter2@staging.acme.com/", "login [url]"),
    ("key sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv", "key [secret]"),
    ("gh ghp_abcdefghijklmnopqrstuvwxyz0123456789", "gh [secret]"),
    ("aws AKIAIOSFODNN7EXAMPLE", "aws [secret]"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N", "jwt [secret]"),
    ("Authorization: Bearer abcdef0123456789abcdef", "Authorization: Bearer [secret]"),
    ("staging pwd: Tr0ub4dor&3 for QA", "staging pwd: [secret] for QA"),
    ("password is hunter2", "password is [secret]"),
    ("paid with 4111 1111 1111 1111", "paid with [card]"),
]

KEPT = [
    "ACME-1423 fix null ptr on checkout",
    "2026-10-01 deploy, 7.5h, 10:00-12:30",
    "release v1.2.3 build 20261001",
    "see https://github.com/acme/shop/pull/1423 and https://docs.acme.com/page?lang=en",
    "order 1234567890123 refund (not a valid card number)",
    "misc",
    "JIRA-77 + JIRA-78 estimates",
]


@pytest.mark.parametrize("text,expected", REDACTED)
def test_redacts_personal_data_and_secrets(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_leaves_what_makes_a_note_categorizable(text: str) -> None:
    assert redact(text) == text


def test_extra_secrets_are_removed_even_inside_words() -> None:
    key = "my-very-own-key-0001"
    assert redact(f"pasted {key} by mistake", extra_secrets=[key]) == "pasted [secret] by mistake"


@settings(max_examples=60, deadline=None)
@given(
    local=st.from_regex(r"[a-z][a-z0-9._]{0,12}", fullmatch=True),
    domain=st.from_regex(r"[a-z]{2,10}\.(com|io|co\.uk|example)", fullmatch=True),
    before=st.text(alphabet="abc xyz-:,", max_size=20),
)
def test_no_email_survives(local: str, domain: str, before: str) -> None:
    email = f"{local}@{domain}"
    out = redact(f"{before} {email} done")
    assert email not in out and "@" not in out


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_redaction_is_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


def test_pseudonyms_hide_every_client_and_reveal_them_back() -> None:
    p = Pseudonyms(["Acme", "Acme Retail", "Globex"])
    hidden = p.hide("Acme Retail checkout for ACME and globex")
    assert "acme" not in hidden.casefold() and "globex" not in hidden.casefold()
    # The longer name wins, so "Acme Retail" is one alias, not "Acme"'s alias plus " Retail".
    assert p.alias("Acme Retail") in hidden and "Retail" not in hidden
    assert p.reveal(hidden) == "Acme Retail checkout for Acme and Globex"
    assert p.alias("acme") == Pseudonyms(["Acme"]).alias("Acme")  # stable across runs and batches
