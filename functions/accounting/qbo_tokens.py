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
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from ..errors import AuthError, ConfigError, Transient

DEFAULT_TOKEN_FILE = "~/.config/invoicing/quickbooks-tokens.json"
RECONNECT = "Reconnect with `python main.py connect quickbooks`."


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

    Uses the REST API through google-auth's AuthorizedSession (Application Default Credentials on Cloud
    Functions), so no extra client library is needed. `session` and `endpoint` are for tests.
    """

    def __init__(self, secret: str, session: Any | None = None, endpoint: str = "https://secretmanager.googleapis.com"):
        self.secret = secret.strip("/")
        self.endpoint = endpoint.rstrip("/")
        self._session = session

    def describe(self) -> str:
        return f"Secret Manager {self.secret}"

    def _http(self) -> Any:
        if self._session is None:
            import google.auth
            from google.auth.transport.requests import AuthorizedSession

            credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
            self._session = AuthorizedSession(credentials)
        return self._session

    def load(self) -> TokenSet | None:
        import base64

        resp = self._http().get(f"{self.endpoint}/v1/{self.secret}/versions/latest:access", timeout=30)
        if resp.status_code == 404:
            return None
        self._raise_for(resp, "read")
        data = base64.b64decode(resp.json()["payload"]["data"]).decode("utf-8")
        return TokenSet.from_json(data, self.describe())

    def save(self, tokens: TokenSet) -> None:
        import base64

        payload = {"payload": {"data": base64.b64encode(tokens.to_json().encode()).decode("ascii")}}
        resp = self._http().post(f"{self.endpoint}/v1/{self.secret}:addVersion", json=payload, timeout=30)
        self._raise_for(resp, "save")

    def _raise_for(self, resp: Any, verb: str) -> None:
        if resp.status_code < 300:
            return
        # The body may echo a request; only the status goes into the message.
        text = f"Could not {verb} the QuickBooks tokens in {self.describe()} (HTTP {resp.status_code})."
        if resp.status_code == 429 or resp.status_code >= 500:
            raise Transient(text + " Try again in a minute.")
        raise ConfigError(text + " Check that the secret exists and the service account may access it.")


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
