"""Test stand-ins for Google's identity pieces: a signing key, its certificate endpoint, ID tokens, and
service-account key files.

`GoogleIdentity` generates an RSA key and a self-signed X.509 certificate, serves the certificate the way
https://www.googleapis.com/oauth2/v1/certs does (`{"<kid>": "-----BEGIN CERTIFICATE-----..."}`), and signs
real RS256 ID tokens with google-auth's own signer, so the code under test verifies them exactly as it
would verify Google's. `service_account_file()` writes a key file whose token_uri points at an emulator.

    with GoogleIdentity() as identity:    # the certificate endpoint on a free port: identity.certs_url
        token = identity.token("ops@agency.example", audience)
"""

from __future__ import annotations

import datetime as dt
import json
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

from tests.emulators._server import LocalServer


def _key_and_cert(common_name: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


class GoogleIdentity(LocalServer):
    """A test issuer of Google-style ID tokens, with its certificate endpoint on 127.0.0.1."""

    title = "Google ID-token certificates"
    ISSUER = "https://accounts.google.com"

    def __init__(self) -> None:
        self.kid = "test-key-1"
        self.key_pem, self.cert_pem = _key_and_cert("invoicing-test-signer")
        self.signer = crypt.RSASigner.from_string(self.key_pem, key_id=self.kid)
        self.cert_fetches = 0

    @property
    def certs_url(self) -> str:
        """Where the certificates are served, as https://www.googleapis.com/oauth2/v1/certs serves Google's."""
        return self.base_url + "/oauth2/v1/certs"

    def token(
        self,
        email: str,
        audience: str,
        *,
        verified: bool = True,
        issuer: str | None = None,
        lifetime: int = 3600,
        issued_at: int | None = None,
        signer: crypt.RSASigner | None = None,
        **claims: Any,
    ) -> str:
        now = int(time.time()) if issued_at is None else issued_at
        payload = {
            "iss": issuer or self.ISSUER,
            "aud": audience,
            "sub": str(abs(hash(email)) % 10**20),
            "email": email,
            "email_verified": verified,
            "iat": now,
            "exp": now + lifetime,
            **claims,
        }
        return jwt.encode(signer or self.signer, payload).decode()


class _CertsHandler(BaseHTTPRequestHandler):
    emu: GoogleIdentity

    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/oauth2/v1/certs":
            self.send_error(404)
            return
        self.emu.cert_fetches += 1
        data = json.dumps({self.emu.kid: self.emu.cert_pem}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        return None


GoogleIdentity.handler = _CertsHandler


def other_signer() -> crypt.RSASigner:
    """A signer whose key the certificate endpoint does not publish (a forged token), same kid."""
    key_pem, _ = _key_and_cert("forger")
    return crypt.RSASigner.from_string(key_pem, key_id="test-key-1")


SERVICE_ACCOUNT = "invoicing@test-project.iam.gserviceaccount.com"  # the tests' service account


def service_account_file(directory: Path, token_uri: str, email: str = SERVICE_ACCOUNT) -> Path:
    """A service-account JSON key, shaped like the one the Cloud console downloads, for an emulator's /token."""
    key_pem, _ = _key_and_cert(email)
    info = {
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": "0123abcd",
        "private_key": key_pem,
        "client_email": email,
        "client_id": "1234567890",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
    }
    path = directory / "service-account.json"
    path.write_text(json.dumps(info), encoding="utf-8")
    return path
