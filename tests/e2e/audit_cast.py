"""The page audit's cast: a person who has something on every page (second factors, a kAuth
phone, credentials, an organisation they administer, an application they allowed, a second
session, activity), a locked-out member, and the addresses of their pages."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import urlencode

from idp.account.signup import VERIFY_PATH
from idp.account.signup import SignupRequest
from idp.federation import FEDERATION
from idp.federation.connections import ConnectionInput
from idp.kauth import KAUTH
from idp.mfa import MFA
from idp.model import RequestContext
from idp.model import Role
from idp.oidc import OIDC
from idp.security.center import SECURITY
from idp.security.credentials import CREDENTIALS
from tests.conftest import AuthActions
from tests.conftest import Person
from tests.kauth.conftest import Phone
from tests.mfa.conftest import Enrol
from tests.mfa.softauthn import SoftAuthenticator
from tests.oidc.conftest import pkce

CTX = RequestContext(ip="198.51.100.23", user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
REDIRECT = "http://127.0.0.1:9/callback"
ORG = "acme"
CLIENT = "globex"
TENANT = "7a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d"


@dataclass
class Cast:
    person: Person
    phone: Phone
    ids: dict[str, Any] = field(default_factory=dict)  # what page addresses name: rows, tokens, clients

    def approve(self, number: int) -> None:
        """Approve the sign-in waiting on the phone, with the number the browser shows."""
        [challenge] = self.phone.pending()
        response = self.phone.answer(challenge["id"], "approve", number)
        assert response.status_code == 200, response.json

    def credentials(self, services: Any) -> None:
        """An app password and an API token (made again after the compromised-password wizard
        revoked them)."""
        user = services.users.get(self.person.id)
        credentials = services.get(CREDENTIALS)
        if not credentials.app_passwords(user):
            self.ids["app_password"] = credentials.create_app_password(user, "Calendar on my phone", CTX)[0].id
        if not credentials.api_tokens(user):
            self.ids["api_token"] = credentials.create_api_token(
                user, "Backup script", ["account:read", "sessions:read"], 30, CTX)[0].id

    def new_password(self) -> str:
        """A fresh password for the person (the compromised-password wizard replaces it)."""
        self.person.password = f"audit passphrase {secrets.token_hex(6)}"
        return self.person.password


def _key(services: Any, user: Any, kind: str, name: str) -> int:
    mfa = services.get(MFA)
    soft = SoftAuthenticator(mfa.rp.origin)
    credential = mfa.finish_registration(user, soft.create(mfa.begin_registration(user, kind)), name, CTX)
    return int(credential[0].id)


def _phone(client: Any, services: Any, clock: Any, user: Any, name: str) -> Phone:
    enrolment = services.get(KAUTH).start_enrolment(user)
    phone = Phone(client, clock)
    response = phone.enrol(enrolment.token, name=name, platform="Android 15")
    assert response.status_code == 201, response.json
    return phone


def _organisation(services: Any, admin: Any, member: Any) -> dict[str, Any]:
    accounts = services.accounts
    org = accounts.create_org(ORG, "Acme Corporation")
    # Its legal representative: every organisation page and form is theirs to see.
    accounts.add_member(org, admin, Role.LEGAL_REPRESENTATIVE, ctx=CTX)
    accounts.add_member(org, member, Role.COLLABORATOR, ctx=CTX, actor_id=admin.id)
    federation = services.get(FEDERATION)
    # Another domain than the person's: their own sign-in stays on the password.
    connection = federation.save_connection(org, ConnectionInput(
        kind="entra", name="Acme Entra ID", client_id="acme-app", domains="acme.example",
        tenant_id=TENANT, client_secret="acme-secret", jit_enabled=True,
    ))
    federation.sql.add_link(
        user_id=admin.id, connection_id=connection.id, namespace=f"entra:{TENANT}",
        subject="oid-audit-0001", label="ada.lovelace@acme.example", now=services.clock.now(),
    )
    return {"org": ORG, "connection": connection.id, "invitation": _invitation(services, admin)}


def _invitation(services: Any, admin: Any) -> str:
    """A pending invitation to an address without an account; returns its link's path."""
    from tests.conftest import outbox

    services.invitations.invite(admin, ORG, "new.member@example.org", Role.ADMIN, CTX)
    [mail] = [m for m in outbox(services) if m["to"] == "new.member@example.org"]
    link = next(word for word in mail["body"].split() if "/orgs/invitations/" in word)
    return link.removeprefix(services.settings.server.base_url)


def _client(services: Any, admin: Any, make_user: Any) -> dict[str, Any]:
    """The person's organisation is a partner, managing a client (full access) whose pages they
    open acting for it."""
    from idp.partners import PARTNERS
    from idp.partners.access import parse_access
    from idp.partners.requests import Decision

    partners = services.get(PARTNERS)
    partners.lifecycle.set_partner(ORG, True, CTX)
    owner = make_user(email="hedy@example.com", display_name="Hedy Lamarr")
    owner_user = services.users.get(owner.id)
    services.organisations.create(owner_user, CLIENT, "Globex Corporation", CTX)
    full = parse_access(access="full", rights=[], payer="client", days="365", auto_renew=True)
    request = partners.requests.invite(admin, ORG, owner.email, full, CTX)
    partners.requests.accept(owner_user, request.id, Decision(full, org_slug=CLIENT), CTX)
    return {"client": CLIENT}


def _locked(services: Any, member: Any) -> str:
    """Locks the member by failed attempts; returns the path of the e-mailed unlock link."""
    for _ in range(member.lockout_threshold):
        services.lockout.register_failure(member, member.email, CTX)
    member = services.users.get(member.id)
    assert member.locked_at is not None
    return "/unlock/" + services.get(SECURITY).unlock.token_for(member, member.locked_at)


def _application(services: Any, user: Any) -> dict[str, str]:
    oidc = services.get(OIDC)
    allowed, _secret = oidc.clients.create("Acme Timesheets", redirect_uris=[REDIRECT])
    oidc.service.give_consent(user, oidc.clients.find(allowed.client_id), "openid profile email", CTX)
    asking, _secret = oidc.clients.create("Acme Expenses", redirect_uris=[REDIRECT])
    _verifier, challenge = pkce()
    query = urlencode({
        "response_type": "code", "client_id": asking.client_id, "redirect_uri": REDIRECT,
        "scope": "openid profile email offline_access", "state": "audit", "code_challenge": challenge,
        "code_challenge_method": "S256",
    })
    return {"consent": f"/oauth/authorize?{query}",
            "authorize_error": "/oauth/authorize?" + urlencode({"client_id": "no-such-application"})}


def _email_link(services: Any, user: Any) -> str:
    """The path of a link confirming a new login e-mail, as mailed to it."""
    import re

    from tests.conftest import outbox

    services.email_change.request(user, "ada.lovelace@example.org", ctx=CTX)
    [body] = [m["body"] for m in outbox(services) if m["to"] == "ada.lovelace@example.org"]
    match = re.search(r"https?://[^/\s]+(/profile/email/confirm/\S+)", body)
    assert match, body
    return match.group(1)


def portrait() -> bytes:
    """A 300 x 300 PNG: the picture the header and the profile show."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (300, 300), (38, 84, 160)).save(out, "PNG")
    return out.getvalue()


def _signup_link(services: Any) -> str:
    """The activation link of someone who signed up and has not confirmed yet."""
    signup = services.signup
    pending = signup.open_account(signup.validate(SignupRequest(
        email="marie@example.com", given_name="Marie", family_name="Curie",
        password="radium and polonium", confirm="radium and polonium",
    )), CTX, proven=False)
    return VERIFY_PATH + signup.token_for(pending)


def make_cast(services: Any, client: Any, clock: Any, make_user: Any) -> Cast:
    """Everything made through the services (and one device through the kAuth API), as if done
    on the pages; a second session signed in from another browser first."""
    person = make_user(email="ada@example.com", display_name="Ada Lovelace")
    member = make_user(email="grace@example.com", display_name="Grace Hopper")
    signing_in = AuthActions(client)  # the second session, from Firefox on another computer
    signing_in.identify(person.email)
    signing_in.password(person.password, **{"User-Agent": CTX.user_agent})
    user = services.users.get(person.id)
    ids: dict[str, Any] = {}
    Enrol(services, clock).totp(person)
    ids["key"] = _key(services, user, "security_key", "Blue key")
    _key(services, user, "passkey", "Laptop passkey")
    phone = _phone(client, services, clock, user, "Pixel of Ada")
    ids["device"] = phone.device_id
    ids |= _organisation(services, user, services.users.get(member.id))
    ids |= _client(services, user, make_user)
    ids["unlock"] = _locked(services, services.users.get(member.id))
    # The member's password never changes in the audit (the wizard replaces the person's).
    ids["reset"] = "/login/reset/" + services.password_reset.token_for(services.users.get(member.id))
    ids |= _application(services, user)
    services.profiles.set_names(user, given_name="Ada", family_name="Lovelace", display_name="", ctx=CTX)
    services.profiles.set_picture(user, portrait(), ctx=CTX)
    ids["email_link"] = _email_link(services, user)
    ids["signup_link"] = _signup_link(services)
    ids["phone"] = services.phones.add(user, label="Mobile", number="+41 79 123 45 67", ctx=CTX,
                                       text="%(code)s").id
    ids["notify_address"] = _notify_address(services, user)
    cast = Cast(person, phone, ids)
    cast.credentials(services)
    return cast


def _notify_address(services: Any, user: Any) -> str:
    """A second notification address waiting for its link; returns the link's path."""
    from tests.conftest import outbox

    address = services.get(SECURITY).notify_address.add(user, "ada.elsewhere@example.org", CTX)
    [mail] = [m for m in outbox(services) if m["to"] == address]
    link = next(word for word in mail["body"].split() if "/security/notifications/address/" in word)
    return link.removeprefix(services.settings.server.base_url)
