"""A partner's request to a client: who may send it, to whom, the link (single use, expiring,
withdrawn), the review (which organisation, other rights than asked), accept and decline, the
mails in both languages."""

from __future__ import annotations

import datetime as dt

import pytest

from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.model import Role
from idp.partners.access import parse_access
from idp.partners.requests import Decision
from idp.partners.rules import PartnerForbiddenError
from tests.account.conftest import post
from tests.conftest import events
from tests.conftest import outbox
from tests.partners.conftest import CTX
from tests.partners.conftest import LINK

ASK = {"access": "limited", "rights": ["products"], "payer": "client", "days": "30", "auto_renew": False}


def link_of(services, email):
    [mail] = [m for m in outbox(services) if m["to"] == email and "asks to manage" in m["subject"]]
    return LINK.search(mail["body"]).group(1)


# -- who sends it ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["p_admin", "p_collab"])
def test_only_a_partners_legal_representative_adds_clients(cast, who):
    with pytest.raises(PartnerForbiddenError):
        cast.invite(by=who)
    assert cast.partners.ports.partners.pending_of(cast.org("reseller").id, cast.services.clock.now()) == []


def test_a_non_partner_organisation_cannot_add_clients(cast):
    cast.partners.lifecycle.set_partner("reseller", False, CTX)
    with pytest.raises(PartnerForbiddenError, match="not a partner"):
        cast.invite()


def test_a_non_member_gets_not_found(cast):
    with pytest.raises(NotFoundError):
        cast.invite(by="c_lr")


def test_a_partner_cannot_add_itself(cast):
    with pytest.raises(ValidationError, match="its own client") as caught:
        cast.invite(cast.people["p_lr"].email)
    assert caught.value.field == "email"


def test_a_partner_cannot_add_a_client_it_manages_already(cast):
    cast.manage()
    with pytest.raises(ValidationError, match="already under your management"):
        cast.invite()


def test_one_pending_request_per_address(cast):
    cast.invite("new@example.com")
    with pytest.raises(ValidationError, match="pending"):
        cast.invite("NEW@example.com")


def test_the_request_is_recorded_and_mailed(cast, services):
    request = cast.invite("Someone@Example.com")
    assert request.email == "someone@example.com"
    [event] = events(services, "partners:client:invited")
    assert event["org_id"] == cast.org("reseller").id and event["actor_id"] == cast.people["p_lr"].id
    assert event["details"]["with"] == "someone@example.com" and event["details"]["days"] == 30
    [mail] = outbox(services)[-1:]
    assert mail["to"] == "Someone@example.com"  # as typed (the domain lower-cased); the row keeps it lower-cased
    assert mail["subject"] == "Reseller SA asks to manage your organisation on Identity"
    assert "Access asked: limited to Products, Billing." in mail["body"]
    assert "Duration: 30 days." in mail["body"] and "Paula Partner, of Reseller SA" in mail["body"]


def test_the_mail_is_in_the_clients_language(cast, services, make_user):
    make_user("francoise@example.com", locale="fr")
    cast.invite("francoise@example.com", access="full", rights=[], payer="partner", days="1")
    [mail] = outbox(services)[-1:]
    assert mail["subject"] == "Reseller SA demande à gérer votre organisation sur Identity"
    assert "Accès demandé\u00a0: accès complet." in mail["body"]
    assert "Moyens de paiement\u00a0: ceux du partenaire." in mail["body"]
    assert "Durée\u00a0: 1 jour." in mail["body"]


# -- the link ---------------------------------------------------------------------------------


def test_the_link_works_once(cast, services, client, auth):
    cast.invite()
    path = link_of(services, cast.people["c_lr"].email)
    token = path.rsplit("/", 1)[1]
    opened = cast.partners.requests.open(token)
    assert opened.has_account
    cast.accept(opened.request)
    with pytest.raises(ValidationError, match="already answered"):
        cast.partners.requests.open(token)
    with pytest.raises(ValidationError, match="already answered"):
        cast.accept(opened.request)
    assert "already answered" in client.get(path).get_data(as_text=True)


def test_the_link_expires(cast, services, clock):
    cast.invite()
    token = link_of(services, cast.people["c_lr"].email).rsplit("/", 1)[1]
    clock.advance(seconds=services.settings.partners.request_ttl)
    with pytest.raises(ValidationError, match="expired"):
        cast.partners.requests.open(token)
    with pytest.raises(ValidationError, match="expired"):
        cast.partners.requests.review(cast.user("c_lr"), cast.partners.ports.partners.pending_to(
            cast.people["c_lr"].email, clock.now() - clock.now().resolution)[0].id)


def test_the_request_ttl_is_a_setting(cast, services):
    assert services.settings.partners.request_ttl == 14 * 86400
    request = cast.invite()
    assert request.expires_at - request.created_at == dt.timedelta(days=14)


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-3] + "xyz", lambda t: "9" + t, lambda t: "x" * 400, lambda t: t.split(".")[0], lambda t: "",
    lambda t: "١." + t.split(".", 1)[1],
])
def test_an_altered_link_is_not_valid(cast, services, mangle):
    cast.invite()
    token = link_of(services, cast.people["c_lr"].email).rsplit("/", 1)[1]
    with pytest.raises(ValidationError, match="not valid"):
        cast.partners.requests.open(mangle(token))


def test_a_withdrawn_request_says_so(cast, services, client):
    request = cast.invite()
    path = link_of(services, cast.people["c_lr"].email)
    cast.partners.requests.cancel(cast.user("p_lr"), "reseller", request.id, CTX)
    assert "withdrew this request" in client.get(path).get_data(as_text=True)
    assert len(events(services, "partners:client:request_cancelled")) == 1
    with pytest.raises(PartnerForbiddenError):
        cast.partners.requests.cancel(cast.user("p_admin"), "reseller", request.id, CTX)


def test_another_partners_request_cannot_be_withdrawn(cast, services, make_user):
    rival = make_user()
    services.organisations.create(services.accounts.user(rival.id), "rival", "Rival", CTX)
    cast.partners.lifecycle.set_partner("rival", True, CTX)
    request = cast.invite()
    with pytest.raises(NotFoundError):
        cast.partners.requests.cancel(services.accounts.user(rival.id), "rival", request.id, CTX)


# -- the review -------------------------------------------------------------------------------


def test_the_client_grants_other_rights_and_another_duration(cast, services, clock):
    request = cast.invite(rights=["products", "billing"], days="365", auto_renew=True)
    p = cast.accept(request, rights=["activity"], days="7", auto_renew=False)
    assert p.rights == {"activity"} and p.term_days == 7 and not p.auto_renew
    assert p.ends_at - p.starts_at == dt.timedelta(days=7)
    [partner_log, client_log] = events(services, "partners:partnership:granted")
    assert partner_log["org_id"] == cast.org("reseller").id and partner_log["details"]["with"] == "Client Sàrl"
    assert client_log["org_id"] == cast.org("client").id and client_log["details"]["with"] == "Reseller SA"
    assert partner_log["details"]["rights"] == ["activity"] and partner_log["details"]["as_requested"] is False
    mails = [m for m in outbox(services) if "granted" in m["subject"] or "now manages" in m["subject"]]
    assert {m["to"] for m in mails} == {cast.people["p_lr"].email, cast.people["c_lr"].email}
    [to_partner] = [m for m in mails if m["to"] == cast.people["p_lr"].email]
    assert to_partner["subject"] == "Client Sàrl granted Reseller SA access"
    assert "Access: limited to Activity." in to_partner["body"] and "Granted by Chloé Client." in to_partner["body"]
    # The partner then sees what was granted.
    reached = cast.partners.client_of(cast.user("p_lr"), "reseller", "client")
    assert reached.partnership.rights == {"activity"}


def test_a_client_administrator_who_is_not_its_legal_representative_cannot_accept(cast, services):
    request = cast.invite(cast.people["c_admin"].email)
    review = cast.partners.requests.review(cast.user("c_admin"), request.id)
    assert review.eligible == []  # administrator of client: not offered
    with pytest.raises(PartnerForbiddenError):
        cast.accept(request, by="c_admin", org="client")
    assert events(services, "partners:partnership:granted") == []


def test_a_person_chooses_among_the_organisations_they_legally_represent(cast, services):
    second = services.organisations.create(cast.user("c_lr"), "second", "Second", CTX)
    request = cast.invite()
    review = cast.partners.requests.review(cast.user("c_lr"), request.id)
    assert [m.org_slug for m in review.eligible] == ["client", "second"]
    p = cast.accept(request, org="second")
    assert p.client_org_id == second.id


def test_an_organisation_under_another_partner_cannot_be_chosen(cast, services, make_user):
    cast.manage()
    rival = make_user()
    services.organisations.create(services.accounts.user(rival.id), "rival", "Rival", CTX)
    cast.partners.lifecycle.set_partner("rival", True, CTX)
    request = cast.partners.requests.invite(services.accounts.user(rival.id), "rival", cast.people["c_lr"].email,
                                            parse_access(**ASK), CTX)
    review = cast.partners.requests.review(cast.user("c_lr"), request.id)
    assert [c.refused for c in review.choices] == ["Another partner manages this organisation: end that partnership first."]
    with pytest.raises(ValidationError, match="Another partner"):
        cast.partners.requests.accept(cast.user("c_lr"), request.id, Decision(parse_access(**ASK), org_slug="client"), CTX)


def test_the_review_is_only_for_the_address_it_was_sent_to(cast, services):
    request = cast.invite()
    with pytest.raises(NotFoundError):
        cast.partners.requests.review(cast.user("c_admin"), request.id)
    with pytest.raises(NotFoundError):
        cast.accept(request, by="c_admin")
    with pytest.raises(NotFoundError):
        cast.partners.requests.decline(cast.user("p_lr"), request.id, CTX)


def test_an_organisation_one_is_not_a_member_of_cannot_be_chosen(cast, services, make_user):
    services.organisations.create(services.accounts.user(make_user().id), "elsewhere", "Elsewhere", CTX)
    request = cast.invite()
    with pytest.raises(ValidationError, match="Choose one of your organisations"):
        cast.accept(request, org="elsewhere")
    services.accounts.add_member(cast.org("reseller"), cast.user("c_lr"), Role.LEGAL_REPRESENTATIVE)
    with pytest.raises(ValidationError, match="its own client"):
        cast.accept(request, org="reseller")


def test_declining_tells_the_partner(cast, services):
    request = cast.invite()
    cast.partners.requests.decline(cast.user("c_lr"), request.id, CTX)
    [event] = events(services, "partners:partnership:declined")
    assert event["org_id"] == cast.org("reseller").id and event["user_id"] == cast.people["c_lr"].id
    [mail] = [m for m in outbox(services) if "declined" in m["subject"]]
    assert mail["to"] == cast.people["p_lr"].email
    assert "Chloé Client (c.lr@example.com) declined the request of Reseller SA" in mail["body"]
    with pytest.raises(ValidationError, match="already answered"):
        cast.accept(request)


def test_the_french_notice_of_a_grant(cast, services):
    services.accounts.set_locale(cast.user("c_lr"), "fr")
    cast.accept(cast.invite(), access="full", rights=[], days="2", auto_renew=True)
    [mail] = [m for m in outbox(services) if m["to"] == cast.people["c_lr"].email and "gère" in m["subject"]]
    assert mail["subject"] == "Reseller SA gère désormais Client Sàrl"
    assert "Accès\u00a0: accès complet." in mail["body"] and "puis il se renouvelle de lui-même" in mail["body"]


# -- a new person, through the link -----------------------------------------------------------


def test_a_new_person_signs_up_names_the_organisation_and_accepts(cast, services, client, auth):
    request = cast.invite("newcomer@example.com")
    path = link_of(services, "newcomer@example.com")
    html = client.get(path).get_data(as_text=True)
    assert "Create your account" in html and 'value="newcomer@example.com" readonly' in html
    response = post(client, path + "/signup", {"given_name": "Nora", "new_password": "a fresh long passphrase",
                                                "confirm": "a fresh long passphrase", "email": "evil@example.com"},
                    page=path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    user = services.users.by_email("newcomer@example.com")
    assert user is not None and user.is_active and services.users.by_email("evil@example.com") is None
    assert events(services, "account:user:signed_up")[-1]["details"] == {"how": "partner_request", "outcome": "active"}
    auth.sign_in("newcomer@example.com", "a fresh long passphrase")
    assert client.get(path).headers["Location"].endswith(f"/partners/requests/{request.id}")
    review = client.get(f"/partners/requests/{request.id}").get_data(as_text=True)
    assert "A new organisation" in review
    response = post(client, f"/partners/requests/{request.id}/accept", {
        "org": "-new-", "new_name": "Nora's Bakery", "new_slug": "nora", "access": "limited",
        "rights": ["products"], "days": "30"}, page=f"/partners/requests/{request.id}")
    assert response.status_code == 302, response.get_data(as_text=True)
    [m] = services.organisations.mine(user)
    assert m.org_slug == "nora" and m.role is Role.LEGAL_REPRESENTATIVE
    assert cast.partners.client_of(cast.user("p_lr"), "reseller", "nora").partnership.contact_email == "newcomer@example.com"


def test_signing_up_through_the_link_of_an_existing_account_is_refused(cast, services, client):
    cast.invite()
    path = link_of(services, cast.people["c_lr"].email)
    html = client.get(path).get_data(as_text=True)
    assert "Create your account" not in html and "sign in to review" in html
    response = post(client, path + "/signup", {"given_name": "X", "new_password": "a fresh long passphrase",
                                                "confirm": "a fresh long passphrase"}, page="/login")
    assert response.status_code == 400 and "An account has this address already" in response.get_data(as_text=True)


@pytest.mark.parametrize(("data", "message"), [
    ({"given_name": ""}, "Enter your first name"),
    ({"new_password": "short", "confirm": "short"}, "at least 8 characters"),
    ({"confirm": "another long passphrase"}, "The two new passwords differ."),
    ({"given_name": "N" * 5000}, "too long"),
])
def test_bad_input_on_the_links_sign_up_form(cast, services, client, data, message):
    cast.invite("newcomer@example.com")
    path = link_of(services, "newcomer@example.com")
    form = {"given_name": "Nora", "new_password": "a fresh long passphrase", "confirm": "a fresh long passphrase"}
    response = post(client, path + "/signup", form | data, page=path)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert services.users.by_email("newcomer@example.com") is None


def test_the_links_sign_up_form_refuses_a_wrong_csrf_token_and_a_bad_link(cast, services, client):
    cast.invite("newcomer@example.com")
    path = link_of(services, "newcomer@example.com")
    form = {"given_name": "Nora", "new_password": "a fresh long passphrase", "confirm": "a fresh long passphrase"}
    assert client.post(path + "/signup", data=form | {"csrf_token": "forged"}).status_code == 400
    response = post(client, "/partners/requests/link/1.forged/signup", form, page=path)
    assert "not valid" in response.get_data(as_text=True)
    assert services.users.by_email("newcomer@example.com") is None
