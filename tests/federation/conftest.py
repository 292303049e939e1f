"""Fixtures for single sign-on: a real OpenID Provider (node-oidc-provider) shaped like Entra ID
tenants, served over TLS with a certificate made here, and the person's steps through it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from idp.federation import FEDERATION
from idp.federation.service import ConnectionInput
from idp.model import Role
from tests.conftest import csrf_of
from tests.federation.tenant_server import Tenant
from tests.federation.tenant_server import TenantServer
from tests.federation.tenant_server import client
from tests.federation.tenant_server import sign_in_at_tenant

CONTOSO = "7a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d"
# A directory whose ID tokens carry no e-mail or name: only its userinfo endpoint gives them.
FABRIKAM = "5f1e2d3c-4b5a-4697-8877-665544332211"
ATTACKER = "0badc0de-0000-4000-8000-00000000dead"
REDIRECT = "http://localhost/sso/callback"
SECRET = "contoso-client-secret"

ACCOUNTS = {
    "alice": {"oid": "oid-alice-0001", "email": "alice@contoso.com", "name": "Alice Contoso", "amr": ["pwd", "mfa"]},
    "bob": {"oid": "oid-bob-0002", "email": "bob@contoso.com", "name": "Bob Contoso"},
    "carol": {"oid": "oid-carol-0003", "email": "carol@contoso.com", "name": "Carol Contoso"},
    "outsider": {"oid": "oid-out-0004", "email": "someone@elsewhere.com"},
}
FABRIKAM_ACCOUNTS = {
    "dana": {"oid": "oid-dana-0101", "email": "dana@fabrikam.com", "name": "Dana Fabrikam", "amr": ["pwd"]},
    "erin": {"oid": "oid-erin-0102", "email": "erin@fabrikam.com", "name": "Erin Fabrikam"},
    "faceless": {"oid": "oid-faceless-0103", "name": "", "preferred_username": ""},
}


@pytest.fixture(scope="session")
def certificate() -> dict[str, Any]:
    """An application certificate (Entra's alternative to a client secret): key, SHA-1 thumbprint, public JWK."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    from joserfc.jwk import RSAKey

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp-sso")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    public = RSAKey.import_key(key.public_key()).as_dict(private=False)
    return {"pem": pem, "thumbprint": cert.fingerprint(hashes.SHA1()).hex().upper(), "jwk": public}  # noqa: S303


@pytest.fixture(scope="session")
def tenant(tmp_path_factory: pytest.TempPathFactory, certificate: dict[str, Any]) -> Iterator[TenantServer]:
    server = TenantServer(tmp_path_factory.mktemp("tenant")).start([
        Tenant(CONTOSO, [
            client("entra-app", SECRET, REDIRECT),
            {"client_id": "cert-app", "redirect_uris": [REDIRECT], "grant_types": ["authorization_code", "refresh_token"],
             "response_types": ["code"], "token_endpoint_auth_method": "private_key_jwt",
             "jwks": {"keys": [certificate["jwk"]]}},
            client("generic-app", SECRET, REDIRECT, token_endpoint_auth_method="client_secret_basic"),
        ], ACCOUNTS),
        Tenant(FABRIKAM, [
            client("entra-app", SECRET, REDIRECT),
            client("generic-app", SECRET, REDIRECT, token_endpoint_auth_method="client_secret_basic"),
        ], FABRIKAM_ACCOUNTS, conform=True),
        # Anyone can create a tenant and give its users any e-mail address (nOAuth).
        Tenant(ATTACKER, [client("attacker-app", SECRET, REDIRECT)], {
            "mallory": {"oid": "oid-mallory", "email": "victim@contoso.com", "name": "Not the victim"},
        }),
    ])
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _tenant_behaves(tenant: TenantServer) -> Iterator[None]:
    for tenant_id in (CONTOSO, FABRIKAM):
        tenant.misbehave(tenant_id)
    yield
    for tenant_id in (CONTOSO, FABRIKAM):
        tenant.misbehave(tenant_id)


@pytest.fixture
def settings_overrides(tenant: TenantServer) -> dict[str, Any]:
    # The public address is the test client's own, so the callback registered at the tenant
    # (REDIRECT, built from server.base_url by the service) is where the browser comes back.
    return {"federation": {"entra_authority_host": tenant.host, "ca_bundle": str(tenant.cert)},
            "server": {"base_url": "http://localhost"}}


class Sso:
    """What a person (and an administrator) does around single sign-on, through the test client."""

    def __init__(self, services: Any, tenant: TenantServer) -> None:
        self.services = services
        self.tenant = tenant
        self.service = services.get(FEDERATION)

    def org(self, slug: str = "contoso") -> Any:
        found = self.services.accounts.orgs.by_slug(slug)
        return found or self.services.accounts.create_org(slug, slug.title())

    def connect(
        self, *, slug: str = "contoso", kind: str = "entra", tenant_id: str = CONTOSO, client_id: str = "entra-app",
        domains: str = "contoso.com", jit: bool = False, password_allowed: bool = True, issuer: str = "",
    ) -> Any:
        return self.service.save_connection(self.org(slug), ConnectionInput(
            kind=kind, name=f"{slug.title()} directory", client_id=client_id, domains=domains, tenant_id=tenant_id,
            issuer=issuer, client_secret=SECRET, jit_enabled=jit, jit_role=Role.COLLABORATOR.value,
            password_allowed=password_allowed,
        ))

    def start(self, http: Any, email: str, next_url: str | None = None) -> Any:
        page = http.get("/sso" + (f"?next={next_url}" if next_url else ""))
        data = {"csrf_token": csrf_of(page.get_data(as_text=True)), "login": email}
        if next_url:
            data["next"] = next_url
        return http.post("/sso", data=data)

    def at_tenant(self, response: Any, account: str, **kw: Any) -> dict[str, Any]:
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        location = response.headers["Location"]
        assert location.startswith(self.tenant.host), location
        return sign_in_at_tenant(self.tenant, location, account, **kw)

    def deliver(self, http: Any, answer: dict[str, Any]) -> Any:
        assert answer["path"] == "/sso/callback"
        if answer["method"] == "POST":
            response = http.post("/sso/callback", data=answer["params"])
            body = response.get_data(as_text=True)
            if response.status_code == 200 and 'http-equiv="refresh"' in body:
                # No pre-sign-in cookie with the POST: the page sends the browser back by a GET.
                resume = body.split("url=", 1)[1].split('"', 1)[0].replace("&amp;", "&")
                return http.get(resume)
            return response
        return http.get("/sso/callback", query_string=answer["params"])

    def sign_in(self, http: Any, email: str, account: str, next_url: str | None = None) -> Any:
        return self.deliver(http, self.at_tenant(self.start(http, email, next_url), account))


@pytest.fixture
def sso(services: Any, tenant: TenantServer) -> Sso:
    return Sso(services, tenant)
