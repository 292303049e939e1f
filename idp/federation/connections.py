"""Configuring an organisation's single sign-on connections: who may, what is checked, and the
"test connection" report in plain words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from idp.account.org_rules import OrgAct
from idp.account.org_rules import may
from idp.account.service import AccountService
from idp.clock import Clock
from idp.crypto import SecretBox
from idp.errors import N_
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.federation.entra import EntraClient
from idp.federation.entra import EntraCredential
from idp.federation.errors import FederationError
from idp.federation.http import UpstreamHttp
from idp.federation.model import Connection
from idp.federation.ports import ConnectionStore
from idp.model import Organisation
from idp.model import RequestContext
from idp.model import Role
from idp.model import User

ENTRA, OIDC = "entra", "oidc"
KINDS = (ENTRA, OIDC)
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
THUMBPRINT = re.compile(r"^[0-9A-Fa-f]{40}$")
JIT_ROLES = (Role.COLLABORATOR.value, Role.ADMIN.value)


@dataclass(frozen=True)
class ConnectionInput:
    """What an administrator typed; `client_secret`/`cert_key` None keeps the stored value."""

    kind: str
    name: str
    client_id: str
    domains: str
    tenant_id: str = ""
    issuer: str = ""
    client_secret: str | None = None
    cert_key: str | None = None
    cert_thumbprint: str = ""
    jit_enabled: bool = False
    jit_role: str = Role.COLLABORATOR.value
    password_allowed: bool = True


@dataclass(frozen=True)
class Check:
    ok: bool
    message: str
    params: dict[str, Any] = field(default_factory=dict)




def parse_domains(raw: str) -> list[str]:
    domains = sorted({d.strip().lower().lstrip("@") for d in re.split(r"[\s,;]+", raw) if d.strip()})
    if not domains:
        raise ValidationError(N_("Enter at least one e-mail domain, e.g. example.com."), field="domains")
    for domain in domains:
        if not DOMAIN.match(domain):
            raise ValidationError(N_("“%(domain)s” is not a domain name."), field="domains", domain=domain[:80])
    if len(domains) > 50:
        raise ValidationError(N_("At most 50 domains per connection."), field="domains")
    return domains


class ConnectionAdmin:
    """The administrators' side of FederationService (a mixin: it reads the attributes below)."""

    sql: ConnectionStore
    http: UpstreamHttp
    entra: EntraClient
    accounts: AccountService
    events: EventRecorder
    box: SecretBox
    clock: Clock

    # -- who may configure --------------------------------------------------------------

    def managed_orgs(self, user: User) -> list[Organisation]:
        """Organisations whose connections `user` may configure (the permission table's
        `manage_sso`, idp.account.org_rules)."""
        orgs = []
        for m in self.accounts.memberships(user):
            if may(m, OrgAct.MANAGE_SSO):
                orgs.append(self.accounts.org(m.org_slug))
        return orgs

    def require_manager(self, user: User, slug: str) -> Organisation:
        """The organisation, if `user` manages it; NotFoundError otherwise (the same answer as
        for an organisation that does not exist)."""
        for org in self.managed_orgs(user):
            if org.slug == slug.strip().lower():
                return org
        raise NotFoundError("no such organisation")

    def connection(self, connection_id: int, org: Organisation | None = None) -> Connection:
        found = self.sql.get(connection_id)
        if found is None or (org is not None and found.org_id != org.id):
            raise NotFoundError("no such connection")
        return found

    def connections(self, org: Organisation) -> list[Connection]:
        return self.sql.of_org(org.id)

    def all_connections(self) -> list[Connection]:
        """Every organisation's connections (for the operator's `idp sso list`)."""
        return self.sql.all()

    # -- configuring ----------------------------------------------------------------------

    def save_connection(
        self, org: Organisation, data: ConnectionInput, *, connection_id: int | None = None,
        actor_id: int | None = None, ctx: RequestContext | None = None,
    ) -> Connection:
        """Create or update a connection after checking every field; the client secret and the
        certificate key are stored encrypted and never logged."""
        existing = self.connection(connection_id, org) if connection_id is not None else None
        kind = data.kind.strip().lower()
        if kind not in KINDS:
            raise ValidationError(N_("Choose Microsoft Entra ID or OpenID Connect."), field="kind")
        name = " ".join(data.name.split())
        if not name or len(name) > 200:
            raise ValidationError(N_("Give the connection a name (200 characters at most)."), field="name")
        client_id = data.client_id.strip()
        if not client_id or len(client_id) > 200 or any(c.isspace() for c in client_id):
            raise ValidationError(N_("Enter the application (client) id given by the directory."), field="client_id")
        tenant_id, issuer = "", ""
        if kind == ENTRA:
            tenant_id = data.tenant_id.strip().lower()
            if not GUID.match(tenant_id):
                raise ValidationError(
                    N_("The tenant id is a GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47."), field="tenant_id"
                )
        else:
            issuer = data.issuer.strip().rstrip("/")
            if not issuer.startswith("https://") or len(issuer) > 500 or any(c.isspace() for c in issuer):
                raise ValidationError(N_("The issuer is an https:// address."), field="issuer")
        domains = parse_domains(data.domains)
        if data.jit_role not in JIT_ROLES:
            raise ValidationError(N_("New members can be collaborators or administrators."), field="jit_role")
        values: dict[str, Any] = {
            "kind": kind, "name": name, "tenant_id": tenant_id, "issuer": issuer, "client_id": client_id,
            "jit_enabled": bool(data.jit_enabled), "jit_role": data.jit_role,
            "password_allowed": bool(data.password_allowed),
        }
        secret = (data.client_secret or "").strip()
        if secret:
            if len(secret) > 1000:
                raise ValidationError(N_("The client secret is too long."), field="client_secret")
            values["secret_enc"] = self.box.encrypt(secret)
        if data.cert_key:
            if kind != ENTRA:
                raise ValidationError(N_("Certificates are for Entra ID connections."), field="cert_key")
            if "PRIVATE KEY" not in data.cert_key or len(data.cert_key) > 20_000:
                raise ValidationError(N_("Paste the certificate's private key in PEM form."), field="cert_key")
            if not THUMBPRINT.match(data.cert_thumbprint.strip()):
                raise ValidationError(
                    N_("The thumbprint is the certificate's SHA-1 fingerprint: 40 hexadecimal characters."),
                    field="cert_thumbprint",
                )
            values["cert_key_enc"] = self.box.encrypt(data.cert_key)
            values["cert_thumbprint"] = data.cert_thumbprint.strip().upper()
        has_secret = "secret_enc" in values or (existing is not None and existing.secret_enc)
        has_cert = "cert_key_enc" in values or (existing is not None and existing.cert_key_enc)
        if not has_secret and not has_cert:
            raise ValidationError(
                N_("Enter the client secret (or, for Entra ID, a certificate)."), field="client_secret"
            )
        if existing is None:
            values["enabled"] = True
        saved = self.sql.save_connection(
            connection_id=connection_id, org_id=org.id, domains=domains, now=self.clock.now(), **values
        )
        self.events.record_event(
            EventTag.FED_CONNECTION_SAVED, ctx=ctx, org_id=org.id, actor_id=actor_id, product=Product.ADMIN,
            details={"connection": saved.id, "kind": kind, "domains": domains, "jit": saved.jit_enabled,
                     "password_allowed": saved.password_allowed, "secret_changed": bool(secret or data.cert_key)},
        )
        return saved

    def set_enabled(
        self, connection: Connection, enabled: bool, *, actor_id: int | None = None, ctx: RequestContext | None = None
    ) -> Connection:
        updated = self.sql.set_enabled(connection.id, enabled, self.clock.now())
        self.events.record_event(
            EventTag.FED_CONNECTION_DISABLED if not enabled else EventTag.FED_CONNECTION_SAVED, ctx=ctx,
            org_id=connection.org_id, actor_id=actor_id, product=Product.ADMIN,
            details={"connection": connection.id, "enabled": enabled},
        )
        return updated

    def test_connection(
        self, connection: Connection, *, actor_id: int | None = None, ctx: RequestContext | None = None
    ) -> list[Check]:
        """Run discovery and read the keys; each line says in plain words what is right or wrong."""
        checks: list[Check] = []
        try:
            self._credential_check(connection)
            checks.append(Check(True, N_("A client credential is stored and can be decrypted.")))
        except FederationError:
            checks.append(Check(False, N_("No usable client secret or certificate is stored: enter it again.")))
        expected = self.expected_issuer(connection)
        try:
            meta = self.http.get_json(expected.rstrip("/") + "/.well-known/openid-configuration", fresh=True)
        except FederationError as exc:
            if exc.reason == "unreachable":
                checks.append(Check(False, N_(
                    "The directory at %(url)s cannot be reached (network, TLS certificate or address)."
                ), {"url": expected}))
            else:
                checks.append(Check(False, N_(
                    "The directory has no discovery document at %(url)s: check the tenant id or issuer."
                ), {"url": expected}))
            self._tested(connection, checks, actor_id, ctx)
            return checks
        checks.append(Check(True, N_("The discovery document was found.")))
        if meta.get("issuer") == expected:
            checks.append(Check(True, N_("The directory names itself %(issuer)s, as expected."), {"issuer": expected}))
        else:
            got = str(meta.get("issuer"))[:200]
            checks.append(Check(
                False, N_("The directory names itself %(got)s instead of %(issuer)s."), {"got": got, "issuer": expected}
            ))
        token_endpoint = meta.get("token_endpoint")
        if isinstance(token_endpoint, str) and token_endpoint.startswith("https://"):
            checks.append(Check(True, N_("The token endpoint uses https.")))
        else:
            checks.append(Check(False, N_("The token endpoint is missing or does not use https.")))
        try:
            keys = self.http.jwks_for(meta, None)
            count = len(keys.get("keys", []))
            checks.append(Check(count > 0, N_("The directory publishes %(count)s signing key(s)."), {"count": count}))
        except FederationError:
            checks.append(Check(False, N_("The directory's signing keys cannot be read.")))
        self._tested(connection, checks, actor_id, ctx)
        return checks

    def _tested(
        self, connection: Connection, checks: list[Check], actor_id: int | None, ctx: RequestContext | None
    ) -> None:
        self.events.record_event(
            EventTag.FED_CONNECTION_TESTED, ctx=ctx, org_id=connection.org_id, actor_id=actor_id,
            product=Product.ADMIN, details={"connection": connection.id, "ok": all(c.ok for c in checks)},
        )


    def expected_issuer(self, connection: Connection) -> str:
        return self.entra.issuer(connection.tenant_id) if connection.kind == ENTRA else connection.issuer

    def _credential_check(self, connection: Connection) -> EntraCredential:
        secret = self.box.decrypt_str(connection.secret_enc) if connection.secret_enc else None
        key = self.box.decrypt_str(connection.cert_key_enc) if connection.cert_key_enc else None
        credential = EntraCredential(secret=secret, private_key=key, thumbprint=connection.cert_thumbprint)
        credential.for_msal()
        return credential

    def _credential(self, connection: Connection) -> EntraCredential:
        try:
            return self._credential_check(connection)
        except FederationError:
            raise
        except Exception:
            raise FederationError("misconfigured", "the stored credential cannot be decrypted") from None
