"""Where the QuickBooks OAuth tokens live between runs: a 0600 file locally, Secret Manager in the cloud.

Intuit rotates refresh tokens: every refresh answers with a new one and the old one stops working soon
after. So a refresh is only "done" once the new token set is stored; `QuickBooksAuth` (in quickbooks.py)
saves before it uses the new access token. A lost refresh token means reconnecting by hand.

    >>> store = token_store_from_spec("file:/tmp/qbo-tokens.json")
    >>> store.describe()
    'file /tmp/qbo-tokens.json'
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from ..errors import AuthError, ConfigError, Transient
from ..transport import count_call

DEFAULT_TOKEN_FILE = "~/.config/invoicing/quickbooks-tokens.json"
RECONNECT = "Reconnect with `python main.py connect quickbooks` (docs/RUNBOOK.md#quickbooks-token-expired-or-revoked)."
# Disabled token versions are destroyed once superseded this long: time to re-enable one by hand.
DESTROY_AFTER = timedelta(days=7)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenSet:
    """One OAuth grant for one QuickBooks company. Times are UTC ISO strings so the file stays readable."""

    access_token: str
    refresh_token: str
    realm_id: str
    access_expires_at: str  # ISO 8601, UTC
    refresh_expires_at: str = ""
    environment: str = "sandbox"

    def __repr__(self) -> str:  # tokens must never reach a log through a repr
        return f"TokenSet(realm_id={self.realm_id!r}, access_expires_at={self.access_expires_at!r})"

    @classmethod
    def from_oauth(cls, auth_client: Any, realm_id: str, environment: str, now: datetime) -> TokenSet:
        """Build from an intuit-oauth AuthClient right after a token call."""
        expires_in = int(auth_client.expires_in or 3600)
        refresh_in = int(getattr(auth_client, "x_refresh_token_expires_in", 0) or 0)
        return cls(
            access_token=auth_client.access_token,
            refresh_token=auth_client.refresh_token,
            realm_id=str(realm_id),
            access_expires_at=(now + timedelta(seconds=expires_in)).isoformat(),
            refresh_expires_at=(now + timedelta(seconds=refresh_in)).isoformat() if refresh_in else "",
            environment=environment,
        )

    def access_expired(self, now: datetime, margin: timedelta = timedelta(seconds=60)) -> bool:
        try:
            return datetime.fromisoformat(self.access_expires_at) <= now + margin
        except ValueError:
            return True

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, where: str) -> TokenSet:
        try:
            data = json.loads(text)
            return cls(**{k: str(v) for k, v in data.items() if k in cls.__dataclass_fields__})
        except (ValueError, TypeError) as exc:
            raise AuthError(f"The QuickBooks token store ({where}) is unreadable. {RECONNECT}") from exc


class TokenStore(Protocol):
    def describe(self) -> str: ...

    def load(self) -> TokenSet | None:
        """The stored tokens, or None when nothing was ever stored."""
        ...

    def save(self, tokens: TokenSet) -> None:
        """Store durably; raise rather than return if the tokens may not have been kept."""
        ...


class FileTokenStore:
    """A JSON file readable only by its owner (0600), replaced atomically so a crash never leaves half a file."""

    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser()

    def describe(self) -> str:
        return f"file {self.path}"

    def load(self) -> TokenSet | None:
        if not self.path.exists():
            return None
        return TokenSet.from_json(self.path.read_text(encoding="utf-8"), self.describe())

    def save(self, tokens: TokenSet) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # mkstemp creates the file 0600 from the start: the tokens are never world-readable, not even briefly.
        fd, tmp = tempfile.mkstemp(prefix=".qbo-tokens-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(tokens.to_json())
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class SecretManagerTokenStore:
    """Google Secret Manager: each save adds a secret version; load reads `latest`.

    Secret Manager bills every ENABLED version each month, and every refresh adds one, so a save cleans up
    behind itself, in this order, each step only after the one before succeeded:

    1. add the new version;
    2. read that version back and compare it with what was written (a failure raises: nothing is touched);
    3. disable every older ENABLED version. The new version and anything newer stay ENABLED: `latest` (the
       most recently created version, the one `load` reads) is never disabled;
    4. destroy the DISABLED versions that were superseded more than `grace` ago (DESTROY_AFTER, 7 days):
       until then a disabled token set can be re-enabled by hand (`gcloud secrets versions enable`).

    Steps 3-4 are housekeeping: if they fail, or the process dies between 2 and 3, the new tokens are
    already stored and readable, the save still succeeds (with a warning in the log), and the next save
    finds and cleans every older ENABLED version. The runtime service account needs
    roles/secretmanager.secretVersionManager on this secret (deploy/secrets.sh grants it).

    Uses the REST API through google-auth's AuthorizedSession (Application Default Credentials on Cloud
    Functions), so no extra client library is needed. `session`, `endpoint` and `clock` are for tests.
    """

    def __init__(
        self,
        secret: str,
        session: Any | None = None,
        endpoint: str = "https://secretmanager.googleapis.com",
        grace: timedelta | None = None,
        clock: Callable[[], datetime] | None = None,
    ):
        self.secret = secret.strip("/")
        self.endpoint = endpoint.rstrip("/")
        self.grace = DESTROY_AFTER if grace is None else grace
        self._clock = clock or utcnow
        self._session = session
        self.last_cleanup: Cleanup | None = None  # what the last save disabled and destroyed

    def describe(self) -> str:
        return f"Secret Manager {self.secret}"

    def _http(self) -> Any:
        if self._session is None:
            import google.auth
            from google.auth.transport.requests import AuthorizedSession

            credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
            self._session = AuthorizedSession(credentials)
        count_call("Secret Manager")  # every caller of _http() sends one request
        return self._session

    def load(self) -> TokenSet | None:
        text = self._access("latest", "read")
        return None if text is None else TokenSet.from_json(text, self.describe())

    def _access(self, version: str, verb: str) -> str | None:
        import base64

        resp = self._http().get(f"{self.endpoint}/v1/{self.secret}/versions/{version}:access", timeout=30)
        if resp.status_code == 404:
            return None
        self._raise_for(resp, verb)
        return base64.b64decode(resp.json()["payload"]["data"]).decode("utf-8")

    def save(self, tokens: TokenSet) -> None:
        import base64

        text = tokens.to_json()
        payload = {"payload": {"data": base64.b64encode(text.encode()).decode("ascii")}}
        resp = self._http().post(f"{self.endpoint}/v1/{self.secret}:addVersion", json=payload, timeout=30)
        self._raise_for(resp, "save")
        number = _version_number(resp.json().get("name", ""))
        if number is None:
            raise Transient(f"{self.describe()} stored a version without a number. Try again in a minute.")
        if self._access(str(number), "read back") != text:
            raise Transient(
                f"The QuickBooks tokens read back from {self.describe()} (version {number}) differ from the "
                "ones written; older versions were kept. Try again in a minute."
            )
        self.last_cleanup = None
        try:
            self.last_cleanup = self.retire_older(number)
        except (Transient, ConfigError, OSError, ValueError, KeyError) as exc:
            # The tokens are stored; the next save retries the housekeeping.
            log.warning("Stored version %s of %s but could not retire older versions: %s", number, self.secret, exc)

    def retire_older(self, keep: int) -> Cleanup:
        """Disable the ENABLED versions older than `keep`; destroy the DISABLED ones superseded > grace ago."""
        enabled = self._list("state:ENABLED")
        newest = max([keep, *enabled])
        disabled_now = []
        for number in sorted(enabled):
            if number < keep and number != newest:
                self._post(number, "disable")
                disabled_now.append(number)
        disabled = self._list("state:DISABLED")
        cutoff = self._clock() - self.grace
        # A version is superseded when the next one is created, so once any newer version is older than
        # the grace period, it has been superseded for longer than that.
        created_before_cutoff = [n for n, t in {**enabled, **disabled}.items() if t <= cutoff]
        superseded_by = max(created_before_cutoff, default=0)
        destroyed = []
        for number in sorted(disabled):
            if number < superseded_by and number < keep:
                self._post(number, "destroy")
                destroyed.append(number)
        return Cleanup(kept=keep, disabled=tuple(disabled_now), destroyed=tuple(destroyed))

    def _list(self, state_filter: str) -> dict[int, datetime]:
        """Version number -> createTime for the versions matching the filter, over every page."""
        found: dict[int, datetime] = {}
        params: dict[str, Any] = {"filter": state_filter, "pageSize": 250}
        while True:
            resp = self._http().get(f"{self.endpoint}/v1/{self.secret}/versions", params=params, timeout=30)
            self._raise_for(resp, "list the versions of")
            body = resp.json()
            for version in body.get("versions", []):
                number = _version_number(version.get("name", ""))
                if number is not None:
                    found[number] = _parse_time(version.get("createTime", ""))
            token = body.get("nextPageToken")
            if not token:
                return found
            params = {**params, "pageToken": token}

    def _post(self, number: int, verb: str) -> None:
        resp = self._http().post(f"{self.endpoint}/v1/{self.secret}/versions/{number}:{verb}", json={}, timeout=30)
        self._raise_for(resp, f"{verb} an old version of")

    def _raise_for(self, resp: Any, verb: str) -> None:
        if resp.status_code < 300:
            return
        # The body may echo a request; only the status goes into the message.
        text = f"Could not {verb} the QuickBooks tokens in {self.describe()} (HTTP {resp.status_code})."
        if resp.status_code == 429 or resp.status_code >= 500:
            raise Transient(text + " Try again in a minute.")
        raise ConfigError(
            text + " Check that the secret exists and the service account may access it (docs/RUNBOOK.md#secrets)."
        )


@dataclass(frozen=True)
class Cleanup:
    """What one save's housekeeping did: the version kept, the older ones disabled and destroyed."""

    kept: int
    disabled: tuple[int, ...] = ()
    destroyed: tuple[int, ...] = ()


def _version_number(name: str) -> int | None:
    """`projects/123/secrets/s/versions/7` -> 7 (answers name the project by number, so compare numbers only)."""
    tail = name.rsplit("/versions/", 1)[-1] if "/versions/" in name else ""
    return int(tail) if tail.isdigit() else None


def _parse_time(text: str) -> datetime:
    """An RFC 3339 timestamp (`2026-11-01T02:00:00.123456789Z`); unreadable means 'now' (so never destroyed early)."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?", text.strip())
    if not match:
        return utcnow()
    fraction = (match.group(2) or "")[:7]
    zone = match.group(3) or "Z"
    parsed = datetime.fromisoformat(match.group(1) + fraction + ("+00:00" if zone == "Z" else zone))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def token_store_from_spec(spec: str, session_factory: Callable[[], Any] | None = None) -> TokenStore:
    """`file:PATH` or `secretmanager:projects/P/secrets/S` (the QBO_TOKEN_STORE setting)."""
    kind, _, rest = spec.partition(":")
    if kind == "file" and rest:
        return FileTokenStore(rest)
    if kind == "secretmanager" and rest.startswith("projects/") and "/secrets/" in rest:
        return SecretManagerTokenStore(rest, session=session_factory() if session_factory else None)
    raise ConfigError(
        f'QBO_TOKEN_STORE is "{spec}"; write it as file:PATH or secretmanager:projects/PROJECT/secrets/SECRET.'
    )


def utcnow() -> datetime:
    return datetime.now(UTC)
