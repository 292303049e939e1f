"""Start the local Entra-like tenant (node-oidc-provider over TLS) and walk its sign-in pages."""

from __future__ import annotations

import datetime as dt
import html
import ipaddress
import json
import re
import socket
import subprocess
import uuid
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urljoin
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TENANT_DIR = Path(__file__).parent / "tenant"
NODE = "node"


def make_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, also its own CA (the bundle given to the app)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "tenant-cert.pem", directory / "tenant-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Tenant:
    """`conform`: the ID token carries no profile or e-mail claim, only userinfo does."""

    id: str
    clients: list[dict[str, Any]] = field(default_factory=list)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    conform: bool = False


def client(client_id: str, secret: str, redirect_uri: str, **extra: Any) -> dict[str, Any]:
    return {
        "client_id": client_id, "client_secret": secret, "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_post", **extra,
    }


class TenantServer:
    """One node process serving one or more tenants at https://127.0.0.1:<port>/<tenant-id>/v2.0."""

    def __init__(self, workdir: Path) -> None:
        """Picks the port and makes the certificate; `start()` runs the server once the clients
        (and so their redirect addresses) are known."""
        self.workdir = workdir
        self.cert, self.key = make_cert(workdir)
        self.port = free_port()
        self.host = f"https://127.0.0.1:{self.port}"

    def start(self, tenants: list[Tenant]) -> TenantServer:
        config = {
            "port": self.port, "cert": str(self.cert), "key": str(self.key),
            "tenants": [
                {"id": t.id, "clients": t.clients, "accounts": t.accounts, "conform": t.conform} for t in tenants
            ],
        }
        path = self.workdir / f"tenant-{uuid.uuid4().hex[:6]}.json"
        path.write_text(json.dumps(config))
        self.log = (self.workdir / "tenant.log").open("w")
        self.proc = subprocess.Popen(
            [NODE, str(TENANT_DIR / "server.mjs"), str(path)], cwd=TENANT_DIR,
            stdout=subprocess.PIPE, stderr=self.log, text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            self.stop()
            raise RuntimeError(f"the tenant did not start: {line!r}; see {self.workdir / 'tenant.log'}")
        return self

    def issuer(self, tenant_id: str) -> str:
        return f"{self.host}/{tenant_id}/v2.0"

    def http(self) -> requests.Session:
        session = requests.Session()
        session.verify = str(self.cert)
        session.trust_env = False
        return session

    def misbehave(self, tenant_id: str, **control: Any) -> None:
        """Tamper with the next responses: id_token={claim: value|None}, foreign_key=True (token);
        userinfo={claim: value|None}, userinfo_status=500 (userinfo)."""
        self.http().post(f"{self.host}/_control/{tenant_id}", json=control, timeout=5).raise_for_status()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.close()


FORM = re.compile(r'<form[^>]*action="([^"]+)"', re.S)
INPUT = re.compile(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', re.S)


def sign_in_at_tenant(server: TenantServer, auth_uri: str, login: str, *, cancel: bool = False) -> dict[str, Any]:
    """Play the person at the tenant: open the authorization URL, type the account, follow
    redirects until the tenant answers our callback. Returns {"method", "url", "params"}."""
    http = server.http()
    url = auth_uri
    response = http.get(url, allow_redirects=False, timeout=10)
    for _ in range(20):
        if response.status_code in (302, 303):
            url = urljoin(url, response.headers["Location"])
            if not url.startswith(server.host):
                parts = urlsplit(url)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                return {"method": "GET", "url": url, "path": parts.path, "params": params}
            response = http.get(url, allow_redirects=False, timeout=10)
            continue
        body = response.text
        action_match = FORM.search(body)
        assert action_match, f"unexpected tenant page {response.status_code}: {body[:500]}"
        action = html.unescape(action_match.group(1))
        if "/interaction/" in action:
            data = {"login": login} | ({"cancel": "1"} if cancel else {})
            url = urljoin(url, action)
            response = http.post(url, data=data, allow_redirects=False, timeout=10)
            continue
        # form_post: the tenant's auto-submitting form to our callback
        params = {html.unescape(k): html.unescape(v) for k, v in INPUT.findall(body)}
        return {"method": "POST", "url": action, "path": urlsplit(action).path, "params": params}
    raise AssertionError("too many redirects at the tenant")
