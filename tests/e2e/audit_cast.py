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
from idp.domains import DOMAINS
from idp.domains.model import Reason
from idp.federation import FEDERATION
from idp.federation.connections import ConnectionInput
from idp.kauth import KAUTH
from idp.mfa import MFA
from idp.model import RequestContext
from idp.model import Role
from idp.money import MONEY
from idp.money.orders import OrderRequest
from idp.oidc import OIDC
from idp.partners import PARTNERS
from idp.partners.access import parse_access
from idp.partners.requests import Decision
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
    return {"org": ORG, "connection": connection.id, "invitation": _invitation(services, admin),
            "domain_link": _failed_transfer(services, admin)}


def _failed_transfer(services: Any, admin: Any) -> str:
    """Two transfers of the organisation, one failed (its red band, and the link in its mail);
    returns the path of the relaunch link."""
    from tests.conftest import outbox

    domains = services.get(DOMAINS)
    acting = domains.access(admin, ORG)
    domains.request(acting, "acme-shop.ch", "Xy7-auth-Code", CTX)
    domains.request(acting, "bücher-acme.ch", "Zq8-auth-Code", CTX)
    domains.reports.fail("xn--bcher-acme-9db.ch", Reason.WRONG_AUTH_CODE, "EPP 2202: invalid authorization info",
                         source="registrar", ctx=CTX)
    [mail] = [m for m in outbox(services) if m["to"] == admin.email and "/domains/relaunch/" in (m["body"] or "")]
    link = next(word for word in mail["body"].split() if "/domains/relaunch/" in word)
    return link.removeprefix(services.settings.server.base_url)


def _invitation(services: Any, admin: Any) -> str:
    """A pending invitation to an address without an account; returns its link's path."""
    from tests.conftest import outbox

    services.invitations.invite(admin, ORG, "new.member@example.org", Role.ADMIN, CTX)
    [mail] = [m for m in outbox(services) if m["to"] == "new.member@example.org"]
    link = next(word for word in mail["body"].split() if "/orgs/invitations/" in word)
    return link.removeprefix(services.settings.server.base_url)


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
    ids["order"] = _money(services, user)
    ids |= _partners(services, make_user, user)
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


def _money(services: Any, user: Any) -> int:
    """A prepaid balance, an order paid from it, one awaiting its transfer, a payout asked for;
    returns the id of the order awaiting its transfer."""
    money = services.get(MONEY)
    money.ledger.adjust(ORG, "CHF", "500.00", debit=False, note="Opening balance", ctx=CTX)
    caller = money.access.billing(user, ORG)
    for method, quantity in (("balance", "3"), ("transfer", "35")):
        request = OrderRequest(product="web_hosting", quantity=quantity, currency="CHF", method=method)
        order = money.orders.place(caller, request, f"{money.orders.quote(caller, request).total:.2f}", CTX)
    money.payouts.request(money.access.payouts(user, ORG), amount="120.50", currency="CHF", method="bank",
                          iban="CH93 0076 2011 6238 5295 7", paypal="", ctx=CTX)
    return int(order.id)
def _partners(services: Any, make_user: Any, ada: Any) -> dict[str, Any]:
    """Acme (the person's organisation) a partner managing Globex, with a request pending to a
    new address; Initech a partner managing the person's own studio; Hooli's request waiting for
    the person's review. Returns the pages' addresses."""
    from tests.conftest import outbox

    partners, orgs = services.get(PARTNERS), services.organisations
    access = parse_access(access="limited", rights=["products", "billing"], payer="client", days="365",
                          auto_renew=True)

    def partner(slug: str, name: str, person: Any) -> None:
        orgs.create(person, slug, name, CTX)
        partners.lifecycle.set_partner(slug, True, CTX)

    def person(email: str, name: str) -> Any:
        return services.users.get(make_user(email=email, display_name=name).id)

    partners.lifecycle.set_partner(ORG, True, CTX)
    hank = person("hank@globex.example", "Hank Scorpio")
    orgs.create(hank, CLIENT, "Globex Sàrl", CTX)
    # Full access: the audit acts for Globex and opens its members and its activity.
    full = parse_access(access="full", rights=[], payer="client", days="365", auto_renew=True)
    request = partners.requests.invite(ada, ORG, hank.email, full, CTX)
    partners.requests.accept(hank, request.id, Decision(full, org_slug=CLIENT), CTX)
    partners.requests.invite(ada, ORG, "prospect@example.org", access, CTX)
    [mail] = [m for m in outbox(services) if m["to"] == "prospect@example.org"]
    link = next(word for word in mail["body"].split() if "/partners/requests/link/" in word)
    partner("initech", "Initech", person("bill@initech.example", "Bill Lumbergh"))
    orgs.create(ada, "ada-studio", "Ada's Studio", CTX)
    bill = services.users.by_email("bill@initech.example")
    studio_request = partners.requests.invite(bill, "initech", ada.email, access, CTX)
    managed = partners.requests.accept(ada, studio_request.id, Decision(access, org_slug="ada-studio"), CTX)
    partner("hooli", "Hooli", person("gavin@hooli.example", "Gavin Belson"))
    hooli = services.users.by_email("gavin@hooli.example")
    waiting = partners.requests.invite(hooli, "hooli", ada.email, parse_access(
        access="full", rights=[], payer="partner", days="730", auto_renew=False), CTX)
    return {"client": CLIENT, "studio": "ada-studio", "managed": managed.id, "partner_request": waiting.id,
            "partner_link": link.removeprefix(services.settings.server.base_url)}
