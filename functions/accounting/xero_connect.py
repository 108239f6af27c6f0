"""Connecting Xero: the OAuth 2.0 authorization-code flow by copy and paste (`python main.py connect xero`),
the organisation chosen from `/connections`, and the tokens stored before anything else can use them."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlparse

from ..errors import AuthError
from .qbo_tokens import TokenSet, TokenStore, token_store_from_spec, utcnow
from .xero_client import SCOPES, XeroApi, XeroSettings


def connect(
    settings: XeroSettings,
    read_line: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
    store: TokenStore | None = None,
) -> str:
    """Print the consent URL, read back the address the browser landed on, exchange the code, pick the
    organisation and store the tokens. Returns the organisation's tenant id."""
    store = store or token_store_from_spec(settings.token_store)
    state = secrets.token_urlsafe(24)
    query = {
        "response_type": "code",
        "client_id": settings.client_id,
        "redirect_uri": settings.redirect_uri,
        "scope": SCOPES,
        "state": state,
    }
    write("Open this address in a browser, sign in to Xero and allow access to the organisation to invoice from:")
    write(f"{settings.url('authorize')}?{urlencode(query)}")
    write(f"Your browser is then sent to {settings.redirect_uri}?code=... (the page may not load; that is fine).")
    pasted = read_line("Paste that whole address here: ").strip()
    params = {k: v[0] for k, v in parse_qs(urlparse(pasted).query).items()}
    if "error" in params:
        raise AuthError(
            f"Xero did not grant access ({params['error']}). Run `python main.py connect xero` again"
            f" (docs/RUNBOOK.md#xero-or-stripe-refuses-its-credentials)."
        )
    if params.get("state") != state:
        raise AuthError(
            "The pasted address is not from this sign-in (its state does not match). Run "
            "`python main.py connect xero` again and paste the address from that attempt"
            " (docs/RUNBOOK.md#xero-or-stripe-refuses-its-credentials)."
        )
    if not params.get("code"):
        raise AuthError("The pasted address has no code; paste the whole address from the browser bar.")
    api = XeroApi(settings, store)
    answer = api.auth.http.request(
        "POST",
        settings.url("token"),
        what="exchanging the Xero sign-in code (codes expire after 5 minutes)",
        data={"grant_type": "authorization_code", "code": params["code"], "redirect_uri": settings.redirect_uri},
        auth=(settings.client_id, settings.client_secret.get_secret_value()),
        timeout=settings.timeout_seconds,
    ).json()
    now = utcnow()
    store.save(  # stored first: the refresh token is the only way back in
        TokenSet(
            access_token=answer["access_token"],
            refresh_token=answer["refresh_token"],
            realm_id=settings.tenant_id,
            access_expires_at=(now + timedelta(seconds=int(answer.get("expires_in", 1800)))).isoformat(),
            refresh_expires_at=(now + timedelta(days=60)).isoformat(),
            environment="xero",
        )
    )
    tenant = api.tenant  # XERO_TENANT_ID, or the one organisation /connections lists (stored with the tokens)
    write(f"Connected to Xero organisation {tenant}; tokens saved to {store.describe()}.")
    return tenant
