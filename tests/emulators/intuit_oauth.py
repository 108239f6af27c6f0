"""A stateful emulator of Intuit's OAuth 2.0 endpoints (discovery, authorize, token, revoke), test code only.

Shaped after Intuit's public OAuth 2.0 reference: the discovery document names the endpoints; the token
endpoint takes HTTP Basic client credentials and a form body (`grant_type=authorization_code|refresh_token`)
and answers `{access_token, refresh_token, token_type, expires_in, x_refresh_token_expires_in}`; errors are
`{"error": "invalid_grant"}` with 400. Refresh tokens rotate the way Intuit's do (intuit/oauth-jsclient#74,
intuit/QuickBooks-V3-PHP-SDK#454): within a day a refresh answers the *same* refresh token, which stays usable;
once a day has passed (`age_refresh_tokens()`), the refresh answers a new one and the old one stops working --
which is what makes "persist the new refresh token before using it" testable.

It has no server of its own: tests/emulators/quickbooks.py serves these routes next to the API, so one
base URL points both intuit-oauth and python-quickbooks at this machine.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from urllib.parse import parse_qs, urlencode, urlparse

ACCESS_TTL = 3600
REFRESH_TTL = 8726400  # 101 days, as Intuit documents


class OAuthEmulator:
    def __init__(self, client_id: str, client_secret: str, realm_id: str):
        self.client_id = client_id
        self.client_secret = client_secret
        self.realm_id = realm_id
        self._lock = threading.Lock()
        self.codes: dict[str, str] = {}  # code -> redirect_uri
        self.access: dict[str, float] = {}  # access token -> expiry (epoch)
        self.refresh: set[str] = set()  # refresh tokens that still work
        self.refresh_calls = 0
        self.fail_refresh_with: str | None = None  # e.g. "invalid_grant" to emulate a revoked grant
        self.rotation_due = False  # True once a day has passed since the refresh token was issued

    # -- test switches ------------------------------------------------------------------------------
    def issue(self) -> dict:
        """Tokens as if a user had just connected (for tests that skip the consent step)."""
        with self._lock:
            return self._issue()

    def expire_access_tokens(self) -> None:
        """Every access token issued so far now answers 401, as after an hour."""
        with self._lock:
            for token in self.access:
                self.access[token] = 0.0

    def age_refresh_tokens(self) -> None:
        """As if a day had passed: the next refresh hands out a new refresh token and spends the old one."""
        with self._lock:
            self.rotation_due = True

    def revoke_all(self) -> None:
        with self._lock:
            self.access.clear()
            self.refresh.clear()

    # -- routes ---------------------------------------------------------------------------------------
    def discovery(self, base: str) -> dict:
        return {
            "issuer": f"{base}/op/v1",
            "authorization_endpoint": f"{base}/connect/oauth2",
            "token_endpoint": f"{base}/oauth2/v1/tokens/bearer",
            "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
            "revocation_endpoint": f"{base}/oauth2/v1/tokens/revoke",
            "jwks_uri": f"{base}/op/v1/jwks",
            "response_types_supported": ["code"],
            "scopes_supported": ["openid", "email", "profile", "address", "phone"],
        }

    def authorize(self, query: str) -> tuple[int, dict[str, str], dict]:
        """The consent page, auto-approved: redirect to redirect_uri with code, state and realmId."""
        q = {k: v[0] for k, v in parse_qs(query).items()}
        if q.get("client_id") != self.client_id or q.get("response_type") != "code" or not q.get("redirect_uri"):
            return 400, {}, {"error": "invalid_request"}
        if "com.intuit.quickbooks.accounting" not in q.get("scope", "").split():
            return 400, {}, {"error": "invalid_scope"}
        code = "AB" + secrets.token_urlsafe(24)
        with self._lock:
            self.codes[code] = q["redirect_uri"]
        params = {"code": code, "state": q.get("state", ""), "realmId": self.realm_id}
        return 302, {"Location": f"{q['redirect_uri']}?{urlencode(params)}"}, {}

    def token(self, authorization: str, body: str) -> tuple[int, dict]:
        if authorization != "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode():
            return 401, {"error": "invalid_client"}
        form = {k: v[0] for k, v in parse_qs(body).items()}
        with self._lock:
            grant = form.get("grant_type")
            if grant == "authorization_code":
                redirect = self.codes.pop(form.get("code", ""), None)
                if redirect is None or redirect != form.get("redirect_uri"):
                    return 400, {"error": "invalid_grant"}
                return 200, self._issue()
            if grant == "refresh_token":
                self.refresh_calls += 1
                token = form.get("refresh_token", "")
                if self.fail_refresh_with or token not in self.refresh:
                    return 400, {"error": self.fail_refresh_with or "invalid_grant"}
                if not self.rotation_due:  # within a day: the same refresh token, still valid
                    return 200, self._issue(refresh=token)
                self.rotation_due = False
                self.refresh.discard(token)  # rotated: the old refresh token is spent
                return 200, self._issue()
        return 400, {"error": "unsupported_grant_type"}

    def revoke(self, authorization: str, body: dict) -> tuple[int, dict]:
        if not authorization.startswith("Basic "):
            return 401, {"error": "invalid_client"}
        with self._lock:
            token = body.get("token", "")
            self.refresh.discard(token)
            self.access.pop(token, None)
        return 200, {}

    def bearer_ok(self, authorization: str) -> bool:
        token = authorization.removeprefix("Bearer ").strip()
        with self._lock:
            return self.access.get(token, 0.0) > time.time()

    def _issue(self, refresh: str = "") -> dict:
        access, refresh = "eyJ" + secrets.token_urlsafe(32), refresh or "RT1-" + secrets.token_urlsafe(24)
        self.access[access] = time.time() + ACCESS_TTL
        self.refresh.add(refresh)
        return {
            "token_type": "bearer",
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": ACCESS_TTL,
            "x_refresh_token_expires_in": REFRESH_TTL,
        }


def redirect_params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
