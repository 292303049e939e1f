"""Bad input to every form of the account (profile, phones, e-mail change, passwords, sign-up,
deletion, organisations, invitations, the organisation's security pages), from one table: a wrong
or missing CSRF token, every text field huge, the fields missing, malformed path ids, and another
person's or another organisation's ids. Each gets a clear 4xx answer, never a 500, and changes
nothing. A POST route of these pages that the table does not list fails the first test.

The forms' own messages (which words, in which field) are in each form's test module."""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import pytest

from idp.account.signup import SignupRequest
from idp.model import RequestContext
from idp.model import Role
from tests.account.conftest import mails
from tests.account.conftest import reset_path
from tests.conftest import AuthActions
from tests.conftest import csrf_of
from tests.conftest import events
from tests.conftest import outbox

CTX = RequestContext(ip="203.0.113.11")
BLUEPRINTS = {"profile", "phones", "email", "password", "signup", "deletion", "orgs", "org_invitations",
              "org_security", "org_security_moved"}
HUGE = "x" * 100_000  # under the 1 MiB body limit: the form and the service must say no
PASSWORD = "a long passphrase for tests"


@dataclass(frozen=True)
class Form:
    """A POST route: its path (ids filled from the world), its valid fields, the text fields, and
    whether it is used signed out."""

    rule: str
    path: str
    data: dict[str, str] = field(default_factory=dict)
    text: tuple[str, ...] = ()
    signed_out: bool = False
    # Every field may be empty (the names: a person may clear them), so "missing" is no error.
    optional: bool = False


FORMS = [
    Form("/profile/names", "/profile/names", {"given_name": "Ada", "family_name": "L", "display_name": ""},
         ("given_name", "family_name", "display_name"), optional=True),
    Form("/profile/picture", "/profile/picture"),
    Form("/profile/picture/remove", "/profile/picture/remove"),
    Form("/profile/language", "/profile/language", {"language": "fr"}, ("language",)),
    Form("/profile/timezone", "/profile/timezone", {"timezone": "Europe/Paris"}, ("timezone",)),
    Form("/profile/phones", "/profile/phones", {"number": "+41 44 668 18 01", "label": ""}, ("number", "label")),
    Form("/profile/phones/<row_id:phone_id>/confirm", "/profile/phones/{phone}/confirm", {"code": "000000"}, ("code",)),
    Form("/profile/phones/<row_id:phone_id>/resend", "/profile/phones/{phone}/resend"),
    Form("/profile/phones/<row_id:phone_id>/remove", "/profile/phones/{phone}/remove"),
    Form("/profile/email", "/profile/email", {"email": "new@example.org"}, ("email",)),
    Form("/profile/email/confirm/<token>", "{email_link}"),
    Form("/account/password", "/account/password",
         {"current_password": PASSWORD, "new_password": "another long passphrase", "confirm": "another long passphrase"},
         ("current_password", "new_password", "confirm")),
    Form("/profile/delete", "/profile/delete", {"confirm": "y"}),
    Form("/orgs/", "/orgs/", {"name": "Gamma", "slug": "gamma"}, ("name", "slug")),
    Form("/orgs/<slug>/invite", "/orgs/acme/invite", {"email": "guest2@example.com", "role": "collaborator"},
         ("email", "role")),
    Form("/orgs/<slug>/invitations/<row_id:invitation_id>/revoke", "/orgs/acme/invitations/{invitation_id}/revoke"),
    Form("/orgs/<slug>/members/<row_id:member_id>/role", "/orgs/acme/members/{member}/role", {"role": "admin"},
         ("role",)),
    Form("/orgs/<slug>/members/<row_id:member_id>/remove", "/orgs/acme/members/{member}/remove"),
    Form("/orgs/<slug>/members/<row_id:member_id>/hand-over", "/orgs/acme/members/{member}/hand-over"),
    Form("/orgs/<slug>/leave", "/orgs/acme/leave"),
    Form("/orgs/<slug>/require-factor", "/orgs/acme/require-factor", {"required": "y"}),
    Form("/orgs/<slug>/delete", "/orgs/acme/delete", {"confirm": "y"}),
    Form("/orgs/<slug>/members/<row_id:member_id>/unlock", "/orgs/acme/members/{member}/unlock"),
    Form("/org/<slug>/members/<row_id:member_id>/unlock", "/org/acme/members/{member}/unlock"),
    Form("/orgs/invitations/<token>", "{own_invitation}"),
    Form("/orgs/invitations/<token>/signup", "{invitation}/signup",
         {"given_name": "Gus", "family_name": "", "new_password": PASSWORD, "confirm": PASSWORD},
         ("given_name", "family_name", "new_password", "confirm"), signed_out=True),
    Form("/signup", "/signup", {"email": "someone@example.com", "given_name": "Sam", "family_name": "",
                                "new_password": PASSWORD, "confirm": PASSWORD},
         ("email", "given_name", "family_name", "new_password", "confirm"), signed_out=True),
    Form("/signup/verify/<token>", "{signup_link}", {"password": PASSWORD}, ("password",), signed_out=True),
    Form("/login/forgot", "/login/forgot", {"login": "ada@example.com"}, ("login",), signed_out=True),
    Form("/login/reset/<token>", "{reset_link}", {"new_password": "a new long passphrase",
                                                  "confirm": "a new long passphrase"},
         ("new_password", "confirm"), signed_out=True),
]


@pytest.fixture
def world(app, services, make_user):
    """Ada (legal representative of acme, whose members are an admin and a locked member), her
    unconfirmed phone, her pending e-mail change, an invitation for her and one for a new
    person; Eve with her own phone and organisation beta (a member, an invitation); a pending
    sign-up; a reset link for Ada."""
    ada = make_user("ada@example.com", password=PASSWORD, display_name="Ada")
    eve = make_user("eve@example.com", password=PASSWORD, display_name="Eve")
    ada_user, eve_user = services.accounts.user(ada.id), services.accounts.user(eve.id)
    acme = services.organisations.create(ada_user, "acme", "Acme", CTX)
    member, admin, stranger = (make_user(display_name=n) for n in ("Member", "Admin", "Stranger"))
    services.accounts.add_member(acme, services.accounts.user(member.id), Role.COLLABORATOR)
    services.accounts.add_member(acme, services.accounts.user(admin.id), Role.ADMIN)
    services.users.lock(member.id, services.clock.now())
    beta = services.organisations.create(eve_user, "beta", "Beta", CTX)
    services.accounts.add_member(beta, services.accounts.user(stranger.id), Role.COLLABORATOR)
    services.users.lock(stranger.id, services.clock.now())
    ids: dict[str, Any] = {"ada": ada, "eve": eve, "member": member.id, "stranger": stranger.id}
    ids["phone"] = services.phones.add(ada_user, label="", number="+41 44 668 18 00", ctx=CTX, text="%(code)s").id
    ids["eve_phone"] = services.phones.add(eve_user, label="", number="+41 44 668 18 02", ctx=CTX,
                                           text="%(code)s").id
    ids["invitation"] = _path(services.invitations.invite(ada_user, "acme", "guest@example.com", Role.COLLABORATOR,
                                                          CTX), services, "guest@example.com")
    ids["own_invitation"] = _path(services.invitations.invite(eve_user, "beta", ada.email, Role.ADMIN, CTX),
                                  services, ada.email)
    ids["invitation_id"] = services.invitations.pending(ada_user, "acme")[0].id
    ids["beta_invitation"] = services.invitations.invite(eve_user, "beta", "x@example.com", Role.ADMIN, CTX).id
    services.email_change.request(ada_user, "ada.new@example.org", ctx=CTX)
    [confirm] = mails(services, "ada.new@example.org")
    ids["email_link"] = re.search(r"(/profile/email/confirm/\S+)", confirm["body"]).group(1)
    services.signup._sleep = lambda _seconds: None  # the floor is test_signup.py's
    services.signup.sign_up(SignupRequest("pending@example.com", "Pat", "", PASSWORD, PASSWORD), CTX)
    [activate] = mails(services, "pending@example.com", "Activate")
    ids["signup_link"] = re.search(r"(/signup/verify/\S+)", activate["body"]).group(1)
    services.password_reset.request(ada.email, CTX)
    ids["reset_link"] = reset_path(services, ada.email)
    return ids


def _path(_invitation: Any, services: Any, to: str) -> str:
    [mail] = [m for m in outbox(services) if m["to"] == to and "/orgs/invitations/" in m["body"]]
    return re.search(r"(/orgs/invitations/\S+)", mail["body"]).group(1)


def _fill(path: str, world: dict[str, Any]) -> str:
    return path.format(phone=world["phone"], member=world["member"], invitation=world["invitation"],
                       email_link=world["email_link"], own_invitation=world["own_invitation"],
                       signup_link=world["signup_link"], reset_link=world["reset_link"],
                       invitation_id=world["invitation_id"])


def _browser(app: Any, world: dict[str, Any], form: Form) -> Any:
    client = app.test_client()
    if not form.signed_out:
        AuthActions(client).sign_in(world["ada"].email, PASSWORD)
    return client


def _token(client: Any, form: Form) -> str:
    return csrf_of(client.get("/login" if form.signed_out else "/profile").get_data(as_text=True))


def _state(services: Any, world: dict[str, Any]) -> tuple[Any, ...]:
    """What a refused form must leave as it was."""
    ada = world["ada"].id
    orgs = services.organisations.orgs
    return (
        services.users.get(ada), [(m.org_slug, m.role) for m in orgs.memberships_of(ada)],
        [(u.id, r, u.locked_at) for slug in ("acme", "beta") for u, r in orgs.members(orgs.by_slug(slug).id)],
        [(p.id, p.verified) for p in services.phones.list(services.users.get(ada))],
        len(outbox(services)), services.users.by_email("someone@example.com"),
        services.users.by_email("pending@example.com"), orgs.by_slug("gamma"),
    )


def _ids(form: Form) -> str:
    return form.rule


def test_every_post_route_of_the_account_pages_is_in_the_table(app):
    routes = {str(r) for r in app.url_map.iter_rules()
              if "POST" in (r.methods or ()) and r.endpoint.split(".")[0] in BLUEPRINTS}
    assert routes == {form.rule for form in FORMS}


@pytest.mark.parametrize("form", FORMS, ids=_ids)
@pytest.mark.parametrize("token", ["forged", None])
def test_a_wrong_or_missing_csrf_token_is_refused_and_changes_nothing(app, services, world, form, token):
    client = _browser(app, world, form)
    before, logged = _state(services, world), len(events(services))
    response = client.post(_fill(form.path, world), data={**form.data, **({"csrf_token": token} if token else {})})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert _state(services, world) == before and len(events(services)) == logged


TEXT_FORMS = [form for form in FORMS if form.text]


@pytest.mark.parametrize(("form", "name"), [(form, name) for form in TEXT_FORMS for name in form.text],
                         ids=lambda v: v if isinstance(v, str) else v.rule)
def test_every_text_field_huge_gets_a_clear_refusal(app, services, world, form, name):
    """One field at a time, the others valid: each field's own bound answers."""
    client = _browser(app, world, form)
    before = _state(services, world)
    data = {**form.data, name: HUGE, "csrf_token": _token(client, form)}
    response = client.post(_fill(form.path, world), data=data)
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True)[:300])
    assert _state(services, world) == before


@pytest.mark.parametrize("form", [form for form in TEXT_FORMS if not form.optional], ids=_ids)
def test_the_fields_missing_get_a_clear_refusal(app, services, world, form):
    client = _browser(app, world, form)
    before = _state(services, world)
    response = client.post(_fill(form.path, world), data={"csrf_token": _token(client, form)})
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True)[:300])
    assert _state(services, world) == before


def test_a_body_over_the_limit_is_refused_with_413(app, services, world):
    client = _browser(app, world, FORMS[0])
    before = _state(services, world)
    token = _token(client, FORMS[0])
    response = client.post("/profile/names", data={"csrf_token": token, "given_name": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert _state(services, world) == before


@pytest.mark.parametrize("path", [
    "/profile/phones/abc/confirm", "/profile/phones/99999999/confirm", "/profile/phones/-1/remove",
    "/orgs/acme/members/abc/role", "/orgs/acme/members/99999999/remove", "/orgs/acme/invitations/abc/revoke",
    "/orgs/acme/invitations/99999999/revoke", "/orgs/" + "a" * 500 + "/invite", "/orgs/acme/members/1e3/unlock",
])
def test_malformed_or_unknown_ids_in_the_path_are_not_found(app, services, world, path):
    client = _browser(app, world, FORMS[0])
    before = _state(services, world)
    response = client.post(path, data={"csrf_token": _token(client, FORMS[0]), "role": "admin", "code": "1"})
    assert response.status_code == 404
    assert _state(services, world) == before


def _others(world: dict[str, Any]) -> list[str]:
    phone, stranger = world["eve_phone"], world["stranger"]
    return [
        f"/profile/phones/{phone}/confirm", f"/profile/phones/{phone}/resend", f"/profile/phones/{phone}/remove",
        f"/orgs/acme/members/{stranger}/role", f"/orgs/acme/members/{stranger}/remove",
        f"/orgs/acme/members/{stranger}/hand-over", f"/orgs/acme/invitations/{world['beta_invitation']}/revoke",
        "/orgs/beta/invite", "/orgs/beta/leave", "/orgs/beta/require-factor", "/orgs/beta/delete",
        f"/orgs/beta/members/{stranger}/remove", f"/orgs/beta/members/{stranger}/unlock",
    ]


def test_another_persons_or_another_organisations_ids_are_not_found(app, services, world):
    client = _browser(app, world, FORMS[0])
    token = _token(client, FORMS[0])
    before, logged = _state(services, world), len(events(services))
    eve_phones = [(p.id, p.verified) for p in services.phones.list(services.users.get(world["eve"].id))]
    for path in _others(world):
        response = client.post(path, data={"csrf_token": token, "role": "admin", "code": "000000",
                                           "email": "z@example.com", "role_": "", "confirm": "y", "required": "y"})
        assert response.status_code == 404, (path, response.status_code)
    assert _state(services, world) == before and len(events(services)) == logged
    assert [(p.id, p.verified) for p in services.phones.list(services.users.get(world["eve"].id))] == eve_phones
    assert services.accounts.user(world["stranger"]).locked_at is not None
    # Unlocking someone of another organisation from one's own: told, and nobody is unlocked.
    response = client.post(f"/orgs/acme/members/{world['stranger']}/unlock", data={"csrf_token": token},
                           follow_redirects=True)
    assert "not a member" in response.get_data(as_text=True)
    assert services.accounts.user(world["stranger"]).locked_at is not None
