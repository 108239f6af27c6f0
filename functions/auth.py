"""Google credentials: the service account the pipeline acts as, and the ID tokens of whoever calls it.

Outgoing: `google_credentials(file, scopes)` loads a service-account key file, or application-default
credentials when no file is named (on Cloud Functions that is the function's runtime service account).

Incoming: `CallerVerifier.verify(authorization_header)` checks a Google-signed OpenID Connect ID token
(RS256 signature against Google's certificates, audience, expiry, issuer) and that its verified email is on
the allowlist. It returns the caller's email or raises `Unauthenticated` (401) / `Forbidden` (403).

    >>> verifier = CallerVerifier(audiences=("https://fn.example",), allowed=("ops@agency.example",))
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict, Unpack

import google.auth
import google.auth.exceptions
import google.auth.transport.requests
import requests
from google.auth.credentials import Credentials
from google.oauth2 import id_token, service_account

from .errors import AuthError, ConfigError

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")


_CREDENTIALS: dict[tuple[str, float, tuple[str, ...]], Credentials] = {}
_CREDENTIALS_LOCK = threading.Lock()


def google_credentials(credentials_file: Path | str | None, scopes: Sequence[str]) -> Credentials:
    """A service account from a key file, or application-default credentials when `credentials_file` is empty.

    One Credentials object per key file (and its modification time) and scopes, per process: its access
    token is fetched once and reused by every adapter until it nears expiry (google-auth refreshes it then),
    instead of one token request per run on a warm Cloud Function instance."""
    path = str(Path(credentials_file).expanduser()) if credentials_file else ""
    try:
        stamp = Path(path).stat().st_mtime if path else 0.0
    except OSError:
        stamp = -1.0
    key = (path, stamp, tuple(scopes))
    with _CREDENTIALS_LOCK:
        if key not in _CREDENTIALS:
            _CREDENTIALS[key] = _load_credentials(credentials_file, scopes)
        return _CREDENTIALS[key]


def _load_credentials(credentials_file: Path | str | None, scopes: Sequence[str]) -> Credentials:
    if credentials_file:
        path = Path(credentials_file).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"The service-account key file {path} does not exist; set GOOGLE_SHEETS_CREDENTIALS_FILE "
                f"to the JSON key you downloaded, or unset it to use application-default credentials."
            )
        try:
            return service_account.Credentials.from_service_account_file(str(path), scopes=list(scopes))
        except (ValueError, KeyError, json.JSONDecodeError) as exc:
            # the key file's content is secret: name the file and the kind of fault, never the content
            raise ConfigError(
                f"{path} is not a service-account key file ({type(exc).__name__}); download a JSON "
                f"key for the service account again."
            ) from None
    try:
        creds, _project = google.auth.default(scopes=list(scopes))
    except google.auth.exceptions.DefaultCredentialsError:
        raise ConfigError(
            "No Google credentials were found: set GOOGLE_SHEETS_CREDENTIALS_FILE to a service-account "
            "key file, or run `gcloud auth application-default login` (see docs/google.md)."
        ) from None
    return creds


def account_email(creds: Credentials) -> str:
    """The email to share the spreadsheet with, when the credentials know it."""
    return str(getattr(creds, "service_account_email", "") or getattr(creds, "signer_email", "") or "")


# what google-auth's message is about -> our sentence; nothing of its text (which can hold the token) is kept
_REFUSALS = (
    ("expired", "it has expired; sign in again"),
    ("too early", "it is not valid yet (check the clock)"),
    ("audience", "it was issued for another audience"),
    ("signature", "its signature does not verify against Google's certificates"),
    ("certificate", "its signature does not verify against Google's certificates"),
    ("issuer", "it was not issued by Google"),
)


def _refusal(message: str) -> str:
    lowered = message.casefold()
    for word, sentence in _REFUSALS:
        if word in lowered:
            return sentence
    return "it is not a well-formed JWT"


class Unauthenticated(AuthError):
    """No valid ID token: missing, malformed, badly signed, expired, or for another audience (HTTP 401)."""


class Forbidden(AuthError):
    """A valid token, but its email may not call this function (HTTP 403)."""


class VerifierOptions(TypedDict, total=False):
    """The optional fields of `CallerVerifier`, for `from_lists`."""

    certs_url: str
    issuers: tuple[str, ...]
    clock_skew_seconds: int


@dataclass(frozen=True)
class CallerVerifier:
    """Verifies `Authorization: Bearer <Google ID token>` and the caller's email against an allowlist.

    `audiences` lists what the token's `aud` may be: the function URL (Cloud Scheduler's OIDC token) and the
    Apps Script project's OAuth client id (what `ScriptApp.getIdentityToken()` puts in `aud`).
    """

    audiences: tuple[str, ...]
    allowed: tuple[str, ...]
    certs_url: str = GOOGLE_CERTS_URL
    issuers: tuple[str, ...] = GOOGLE_ISSUERS
    clock_skew_seconds: int = 10

    @classmethod
    def from_lists(
        cls, audiences: Iterable[str], allowed: Iterable[str], **kw: Unpack[VerifierOptions]
    ) -> CallerVerifier:
        return cls(
            audiences=tuple(a.strip() for a in audiences if a.strip()),
            allowed=tuple(e.strip().casefold() for e in allowed if e.strip()),
            **kw,
        )

    def verify(self, authorization: str | None, session: requests.Session | None = None) -> str:
        if not self.audiences or not self.allowed:
            # refusing everyone beats accepting everyone when the deployment forgot its settings
            raise Forbidden(
                "This function has no allowed callers configured (INVOICING_ALLOWED_CALLERS and "
                "INVOICING_AUDIENCES); nobody may call it until they are set."
            )
        if not authorization or not authorization.startswith("Bearer ") or not authorization[7:].strip():
            raise Unauthenticated("The request has no ID token; send `Authorization: Bearer <Google ID token>`.")
        token = authorization[7:].strip()
        request = google.auth.transport.requests.Request(session=session)
        try:
            claims = id_token.verify_token(
                token,
                request,
                audience=list(self.audiences),
                certs_url=self.certs_url,
                clock_skew_in_seconds=self.clock_skew_seconds,
            )
        except google.auth.exceptions.TransportError:
            # Google's certificates could not be fetched: not the caller's fault, but nothing may run unverified
            raise Unauthenticated(
                "The ID token could not be checked because Google's signing certificates were "
                "unreachable; try again in a minute."
            ) from None
        except (ValueError, google.auth.exceptions.GoogleAuthError) as exc:
            # google-auth quotes the token, or a decoded segment of it, in its messages (`Can't parse segment:
            # b'...'`): the answer and the log get one of our own sentences, never a word of the token
            raise Unauthenticated(f"The ID token was refused: {_refusal(str(exc))}") from None
        if claims.get("iss") not in self.issuers:
            raise Unauthenticated(f"The ID token was issued by {claims.get('iss')!r}, not by Google.")
        email = str(claims.get("email", "")).casefold()
        if not email or claims.get("email_verified") is not True:
            raise Forbidden(
                "The ID token carries no verified email; the Apps Script manifest needs the "
                "userinfo.email scope, and Cloud Scheduler must use an OIDC token."
            )
        if email not in self.allowed:
            raise Forbidden(f"{email} may not call this function; add it to INVOICING_ALLOWED_CALLERS.")
        return email
