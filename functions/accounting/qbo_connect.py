"""Connecting QuickBooks Online: the OAuth 2.0 authorization-code flow by copy and paste
(`python main.py connect quickbooks`), with the tokens stored before anything else can use them."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

from ..errors import AuthError, ConfigError
from .qbo_client import QuickBooksAuth, QuickBooksSettings
from .qbo_tokens import TokenSet, TokenStore, token_store_from_spec, utcnow


def connect(
    settings: QuickBooksSettings,
    read_line: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
    store: TokenStore | None = None,
) -> None:
    """The OAuth 2.0 authorization-code flow, by copy and paste: print the consent URL, read back the
    address the browser was redirected to, exchange the code and store the tokens."""
    from intuitlib.enums import Scopes
    from intuitlib.exceptions import AuthClientError

    store = store or token_store_from_spec(settings.token_store)
    auth = QuickBooksAuth(settings, store)
    client = auth.auth_client()
    state = secrets.token_urlsafe(24)
    url = client.get_authorization_url([Scopes.ACCOUNTING], state_token=state)
    write(f"Open this address in a browser, sign in to QuickBooks ({settings.environment}) and approve access:")
    write(url)
    write(f"Your browser is then sent to {settings.redirect_uri}?code=... (the page may not load; that is fine).")
    pasted = read_line("Paste that whole address here: ").strip()
    params = {k: v[0] for k, v in parse_qs(urlparse(pasted).query).items()}
    if "error" in params:
        raise AuthError(
            f"QuickBooks did not grant access ({params['error']}). Run `python main.py connect "
            "quickbooks` again and approve access (docs/RUNBOOK.md#connect-quickbooks)."
        )
    if params.get("state") != state:
        raise AuthError(
            "The pasted address is not from this sign-in (its state does not match). Run "
            "`python main.py connect quickbooks` again and paste the address from that attempt "
            "(docs/RUNBOOK.md#connect-quickbooks)."
        )
    if not params.get("code") or not params.get("realmId"):
        raise AuthError("The pasted address has no code or realmId; paste the whole address from the browser bar.")
    realm = params["realmId"]
    if settings.realm_id and settings.realm_id != realm:
        raise ConfigError(
            f"You approved QuickBooks company {realm}, but QBO_REALM_ID is {settings.realm_id}. "
            "Connect the configured company, or change QBO_REALM_ID."
        )
    try:
        client.get_bearer_token(params["code"], realm_id=realm)
    except AuthClientError as exc:
        raise AuthError(
            f"Intuit refused the sign-in code (HTTP {exc.status_code}); codes expire after a few "
            "minutes. Run `python main.py connect quickbooks` again (docs/RUNBOOK.md#connect-quickbooks)."
        ) from None
    store.save(TokenSet.from_oauth(client, realm, settings.environment, utcnow()))
    write(f"Connected to QuickBooks company {realm} ({settings.environment}); tokens saved to {store.describe()}.")
