"""Invitations: accepted by the invited account or by a new one, refused to another account,
expired, withdrawn, replayed; and the second factor an organisation requires."""

from __future__ import annotations

import re

import pytest

from idp.model import RequestContext
from idp.model import Role
from tests.account.conftest import post
from tests.conftest import csrf_of
from tests.conftest import events
from tests.conftest import outbox
from tests.mfa.conftest import Enrol

CTX = RequestContext(ip="203.0.113.9")
LINK = re.compile(r"http://localhost:5000(/orgs/invitations/\S+)")


@pytest.fixture
def acme(services, make_user):
    people = {name: make_user(display_name=name.title()) for name in ("legal", "admin", "member")}
    org = services.organisations.create(services.accounts.user(people["legal"].id), "acme", "Acme", CTX)
    services.accounts.add_member(org, services.accounts.user(people["admin"].id), Role.ADMIN)
    services.accounts.add_member(org, services.accounts.user(people["member"].id), Role.COLLABORATOR)
    return people


def invite(client, auth, acme, services, email, role="collaborator"):
    auth.sign_in(acme["admin"].email, acme["admin"].password)
    response = post(client, "/orgs/acme/invite", {"email": email, "role": role}, page="/orgs/acme")
    assert response.status_code == 302, response.get_data(as_text=True)
    auth.logout()
    [mail] = [m for m in outbox(services) if m["to"].lower() == email.lower() and "invites you" in m["subject"]]
    return LINK.search(mail["body"]).group(1)


def test_an_existing_account_accepts(client, auth, acme, services, make_user):
    guest = make_user("guest@example.com")
    path = invite(client, auth, acme, services, "Guest@Example.com", "admin")
    assert [e["details"]["role"] for e in events(services, "account:organisation:invited")] == ["admin"]
    signed_out = client.get(path).get_data(as_text=True)
    assert "sign in" in signed_out.lower() and "Create your account" not in signed_out
    auth.sign_in(guest.email, guest.password)
    assert "Join Acme" in client.get(path).get_data(as_text=True)
    response = post(client, path)
    assert response.status_code == 302 and response.headers["Location"].endswith("/orgs/acme")
    [m] = services.organisations.mine(services.accounts.user(guest.id))
    assert m.role is Role.ADMIN
    assert len(events(services, "account:organisation:joined")) == 1
    replay = post(client, path, page="/orgs/")
    assert "already accepted" in replay.get_data(as_text=True)


def test_a_new_person_signs_up_through_the_link(client, auth, acme, services):
    path = invite(client, auth, acme, services, "new@example.com")
    html = client.get(path).get_data(as_text=True)
    assert "Create your account" in html and 'value="new@example.com" readonly' in html
    response = post(client, path + "/signup", {"email": "evil@example.com", "given_name": "Nina",
                                                "new_password": "a fresh long passphrase",
                                                "confirm": "a fresh long passphrase"}, page=path)
    assert response.status_code == 302, response.get_data(as_text=True)
    user = services.users.by_email("new@example.com")
    assert user is not None and user.status.value == "active"
    assert user.email_verified_at is not None  # the invitation's link was opened from that mailbox
    assert services.users.by_email("evil@example.com") is None
    assert [m.org_slug for m in services.organisations.mine(user)] == ["acme"]
    [signed_up] = events(services, "account:user:signed_up")
    assert signed_up["details"] == {"how": "invitation", "outcome": "active"}
    assert "already accepted" in client.get(path).get_data(as_text=True)


def test_the_signup_form_says_what_is_wrong(client, auth, acme, services):
    path = invite(client, auth, acme, services, "new@example.com")
    response = post(client, path + "/signup", {"given_name": "", "new_password": "x", "confirm": "x"}, page=path)
    assert response.status_code == 400 and "Enter your first name" in response.get_data(as_text=True)
    assert services.users.by_email("new@example.com") is None


def test_another_account_is_refused(client, auth, acme, services, make_user):
    path = invite(client, auth, acme, services, "guest@example.com")
    other = make_user()
    auth.sign_in(other.email, other.password)
    assert "another e-mail address" in client.get(path).get_data(as_text=True)
    token = client.get("/orgs/").get_data(as_text=True)
    response = client.post(path, data={"csrf_token": csrf_of(token)})
    assert "another e-mail address" in response.get_data(as_text=True)
    assert services.organisations.mine(services.accounts.user(other.id)) == []


def test_expired_revoked_and_altered_links(client, auth, acme, services, clock):
    path = invite(client, auth, acme, services, "late@example.com")
    clock.advance(seconds=services.settings.security.org_invitation_ttl + 1)
    assert "has expired" in client.get(path).get_data(as_text=True)
    clock.advance(seconds=-services.settings.security.org_invitation_ttl - 1)
    assert client.get(path[:-3] + "xyz").status_code == 400
    assert "not valid" in client.get("/orgs/invitations/" + "9" * 400).get_data(as_text=True)
    auth.sign_in(acme["admin"].email, acme["admin"].password)
    [pending] = services.invitations.pending(services.accounts.user(acme["admin"].id), "acme")
    assert ">late@example.com</td>" in client.get("/orgs/acme").get_data(as_text=True)
    assert post(client, f"/orgs/acme/invitations/{pending.id}/revoke", page="/orgs/acme").status_code == 302
    assert len(events(services, "account:organisation:invitation_revoked")) == 1
    assert "withdrew this invitation" in client.get(path).get_data(as_text=True).replace("&#39;", "'")


@pytest.mark.parametrize(("email", "message"), [
    ("", "Enter your e-mail address"),
    ("not-an-address", "Enter a valid e-mail address"),
    ("a" * 400 + "@example.com", "too long"),
])
def test_bad_invitation_addresses(client, auth, acme, email, message):
    auth.sign_in(acme["admin"].email, acme["admin"].password)
    response = post(client, "/orgs/acme/invite", {"email": email, "role": "collaborator"}, page="/orgs/acme")
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_a_member_or_a_pending_address_is_not_invited_twice(client, auth, acme, services):
    auth.sign_in(acme["admin"].email, acme["admin"].password)
    response = post(client, "/orgs/acme/invite", {"email": acme["member"].email, "role": "admin"}, page="/orgs/acme")
    assert "already a member" in response.get_data(as_text=True)
    post(client, "/orgs/acme/invite", {"email": "x@example.com", "role": "admin"}, page="/orgs/acme")
    response = post(client, "/orgs/acme/invite", {"email": "X@example.com", "role": "admin"}, page="/orgs/acme")
    assert "pending" in response.get_data(as_text=True)
    response = post(client, "/orgs/acme/invite", {"email": "y@example.com", "role": "legal_representative"},
                    page="/orgs/acme")
    assert response.status_code == 403


def test_a_required_second_factor_sends_members_to_enrol(client, auth, acme, services, clock):
    auth.sign_in(acme["admin"].email, acme["admin"].password)
    assert post(client, "/orgs/acme/require-factor", {"required": "y"}, page="/orgs/acme").status_code == 403
    auth.logout()
    auth.sign_in(acme["legal"].email, acme["legal"].password)
    # The legal representative turns it on, and has no factor: the next page is the enrolment.
    response = post(client, "/orgs/acme/require-factor", {"required": "y"}, page="/orgs/acme")
    assert response.status_code == 302
    assert [e["details"] for e in events(services, "account:organisation:factor_required")] == [{"required": True}]
    # Signing out stays open (from the profile, which the gate lets through).
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/profile").get_data(as_text=True))})
    member = acme["member"]
    response = auth.sign_in(member.email, member.password)
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/mfa")
    assert "requires a second factor" in client.get("/mfa").get_data(as_text=True)
    assert client.get("/security/").status_code == 302
    assert client.get("/profile").status_code == 200
    # Once the member has a second factor, the pages open again.
    Enrol(services, clock).totp(member)
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(("role", "locale", "sentence", "page"), [
    ("admin", "fr", "Admin vous invite à rejoindre Acme en tant qu'administrateur.",
     "Cette invitation est pour guest@example.com, en tant qu'administrateur."),
    ("collaborator", "fr", "Admin vous invite à rejoindre Acme en tant que collaborateur.",
     "Cette invitation est pour guest@example.com, en tant que collaborateur."),
    ("admin", "en", "Admin invites you to join Acme as an administrator.",
     "This invitation is for guest@example.com, as an administrator."),
    ("collaborator", "en", "Admin invites you to join Acme as a collaborator.",
     "This invitation is for guest@example.com, as a collaborator."),
])
def test_the_role_reads_as_a_word_of_the_sentence(client, auth, acme, services, make_user, role, locale, sentence,
                                                   page):
    make_user("guest@example.com", locale=locale)
    auth.sign_in(acme["admin"].email, acme["admin"].password)
    response = post(client, "/orgs/acme/invite", {"email": "guest@example.com", "role": role}, page="/orgs/acme")
    assert response.status_code == 302
    auth.logout()
    [mail] = [m for m in outbox(services) if m["to"] == "guest@example.com"]
    assert sentence in mail["body"] and "Administrateur" not in mail["body"] and "Administrator" not in mail["body"]
    path = LINK.search(mail["body"]).group(1)
    html = client.get(f"{path}?lang={locale}").get_data(as_text=True).replace("&#39;", "'")
    assert page in html


def test_the_legal_representative_invitation_names_the_role_in_the_sentence(client, auth, acme, services, make_user):
    make_user("heir@example.com", locale="fr")
    auth.sign_in(acme["legal"].email, acme["legal"].password)
    response = post(client, "/orgs/acme/invite", {"email": "heir@example.com", "role": "legal_representative"},
                    page="/orgs/acme")
    assert response.status_code == 302
    [mail] = [m for m in outbox(services) if m["to"] == "heir@example.com"]
    assert "Legal vous invite à rejoindre Acme en tant que représentant légal." in mail["body"]
