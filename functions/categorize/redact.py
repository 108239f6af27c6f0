"""Scrub time-entry text before it leaves the machine for an AI categorizer.

`redact()` replaces emails, phone numbers, tokens in URLs, card numbers and obvious secrets (API keys,
JWTs, `password: ...`) with bracketed placeholders; ticket ids, dates and hours are left alone because
they are what makes a note categorizable. `Pseudonyms` swaps client names for stable aliases and back.

    >>> redact("mtg w/ jane@acme.com re: Q4, call +1 (415) 555-0134")
    'mtg w/ [email] re: Q4, call [phone]'
    >>> p = Pseudonyms(["Acme Retail"])
    >>> p.hide("Acme Retail checkout"), p.reveal(p.hide("Acme Retail checkout"))
    ('client-232f checkout', 'Acme Retail checkout')
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")

_URL = re.compile(r"\bhttps?://[^\s<>\"')\]]+", re.IGNORECASE)
# Query keys whose values grant access: a link carrying one is a credential, not a reference.
_SECRET_KEYS = re.compile(
    r"^(access_?token|token|auth|key|api_?key|apikey|sig|signature|secret|password|pwd|pass|code|session|"
    r"x-amz-signature|x-amz-credential|x-goog-signature|sas|sv|se|sp|jwt|hash)$",
    re.IGNORECASE,
)

# Vendor key shapes that are unmistakable: Anthropic/OpenAI, GitHub, Slack, AWS, Google, Stripe.
_VENDOR_KEYS = re.compile(
    r"\b(?:sk-(?:ant-)?[A-Za-z0-9_\-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|"
    r"xox[abprs]-[A-Za-z0-9\-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_\-]{30,}|[rs]k_(?:live|test)_[A-Za-z0-9]{16,})"
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")
_BEARER = re.compile(r"\b(bearer)\s+[A-Za-z0-9._~+/\-]{12,}=*", re.IGNORECASE)
_LABELLED_SECRET = re.compile(
    r"\b(password|passwd|pwd|pass|passcode|pin|secret|api[ _-]?key|token|otp)\b(\s*(?:is|=|:)\s*)(\S+)",
    re.IGNORECASE,
)
# Long unbroken runs of hex or base64-ish characters with both letters and digits look like keys.
_LONG_TOKEN = re.compile(r"\b(?=[A-Za-z0-9+/_\-]*\d)(?=[A-Za-z0-9+/_\-]*[A-Za-z])[A-Za-z0-9+/_\-]{32,}={0,2}")

# Phones: an international prefix, or a bracketed area code, or the 3-3-4 North American shape, each
# with at least 9 digits. Dates (2026-10-01), ticket ids (ACME-1423) and hours (7.5) never qualify.
_PHONE = re.compile(
    r"(?<![\w/])(?:\+\d{1,3}[\s.\-]?(?:\(\d{1,4}\)[\s.\-]?)?\d{1,4}(?:[\s.\-]?\d{2,4}){2,4}"
    r"|\(\d{2,4}\)[\s.\-]?\d{3,4}[\s.\-]?\d{3,4}"
    r"|\b\d{3}[\s.\-]\d{3}[\s.\-]\d{4})(?![\w/])"
)
_CARD = re.compile(r"\b(?:\d[ \-]?){12,18}\d\b")


def _luhn_ok(digits: str) -> bool:
    total, odd = 0, False
    for ch in reversed(digits):
        n = int(ch)
        if odd:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
        odd = not odd
    return total % 10 == 0


def _url(match: re.Match[str]) -> str:
    url = match.group(0)
    try:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return "[url]"
    if parts.username or parts.password:
        return "[url]"
    fragment_secret = bool(_SECRET_KEYS.match(parts.fragment.split("=")[0])) if "=" in parts.fragment else False
    if any(_SECRET_KEYS.match(k) for k, _ in pairs) or fragment_secret:
        return f"{parts.scheme}://{parts.netloc}{parts.path}?[redacted]"
    return url


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[card]" if 13 <= len(digits) <= 19 and _luhn_ok(digits) else match.group(0)


def _phone(match: re.Match[str]) -> str:
    return "[phone]" if len(re.sub(r"\D", "", match.group(0))) >= 9 else match.group(0)


def redact(text: str, extra_secrets: Iterable[str] = ()) -> str:
    """Return `text` with personal data and secrets replaced by `[email]`, `[phone]`, `[secret]`...

    `extra_secrets` are literal strings (the configured API key, say) that must never be sent even if
    someone pasted them into a note.
    """
    if not text:
        return text
    out = text
    for secret in extra_secrets:
        if secret and len(secret) >= 6:
            out = out.replace(secret, "[secret]")
    out = _URL.sub(_url, out)
    out = _EMAIL.sub("[email]", out)
    out = _JWT.sub("[secret]", out)
    out = _VENDOR_KEYS.sub("[secret]", out)
    out = _BEARER.sub(lambda m: f"{m.group(1)} [secret]", out)
    out = _LABELLED_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}[secret]", out)
    out = _CARD.sub(_card, out)
    out = _PHONE.sub(_phone, out)
    out = _LONG_TOKEN.sub("[secret]", out)
    return out


class Pseudonyms:
    """Stable aliases for client names (`client-232f`), so a prompt never names a client.

    The alias is a hash of the name, so it is the same in every batch and every run (which keeps the
    cached prompt prefix and the answer cache valid), and `reveal()` maps aliases in Claude's answer back.
    """

    def __init__(self, names: Iterable[str]):
        self._alias: dict[str, str] = {}
        for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
            self._alias[name] = "client-" + hashlib.sha256(name.casefold().encode()).hexdigest()[:4]
        # Longest names first so "Acme Retail" wins over "Acme" inside the same text.
        self._hide_rx = re.compile("|".join(re.escape(n) for n in self._alias), re.IGNORECASE) if self._alias else None
        self._by_alias = {a: n for n, a in self._alias.items()}
        self._lookup = {n.casefold(): a for n, a in self._alias.items()}

    def alias(self, name: str) -> str:
        return self._lookup.get(name.strip().casefold(), name)

    def hide(self, text: str) -> str:
        if not text or self._hide_rx is None:
            return text
        return self._hide_rx.sub(lambda m: self._lookup[m.group(0).casefold()], text)

    def reveal(self, text: str) -> str:
        if not text or not self._by_alias:
            return text
        return re.sub(r"client-[0-9a-f]{4}", lambda m: self._by_alias.get(m.group(0), m.group(0)), text)
