"""The client's pages: who has access, changing the rights, ending the partnership (POST with a
CSRF token and a ticked box); the requests a person reviews, and bad input on each form."""

from __future__ import annotations

import pytest

from idp.capability import DELEGATED_ACCESS
from idp.capability import PartnerRight
from idp.partners.model import Status
from tests.account.conftest import post
from tests.conftest import csrf_of
from tests.conftest import events
from tests.conftest import outbox
from tests.partners.conftest import CTX

REVIEW = {"org": "client", "access": "limited", "rights": ["products"], "days": "30"}


def sign_in(cast, auth, who):
    auth.sign_in(cast.people[who].email, cast.people[who].password)


def test_who_has_access(cast, client, auth):
    cast.manage(rights=["products", "activity"], auto_renew=True)
    sign_in(cast, auth, "c_lr")
    html = client.get("/orgs/client/partners").get_data(as_text=True)
    assert "Reseller SA" in html and "Limited: Products, Activity" in html and "renews" in html
    assert "End this partnership" in html and "Change the rights of Reseller SA" in html
    auth.logout()
    sign_in(cast, auth, "c_admin")  # sees, does not act
    html = client.get("/orgs/client/partners").get_data(as_text=True)
    assert "Reseller SA" in html and "End this partnership" not in html
    auth.logout()
    sign_in(cast, auth, "p_collab")
    assert client.get("/orgs/client/partners").status_code == 404


def test_ending_from_the_page(cast, client, auth, services, clock):
    p = cast.manage()
    sign_in(cast, auth, "c_lr")
    path = f"/orgs/client/partners/{p.id}/end"
    page = client.get(path)
    assert page.status_code == 200 and "from its very next request" in page.get_data(as_text=True)
    assert cast.partners.ports.partners.partnership(p.id).status is Status.ACTIVE  # GET changes nothing
    response = client.post(path, data={"csrf_token": "forged", "confirm": "y"})
    assert response.status_code == 400
    response = post(client, path, {})
    assert response.status_code == 400 and "Tick the box" in response.get_data(as_text=True)
    assert services.get(DELEGATED_ACCESS)(cast.people["p_lr"].id, p.client_org_id, PartnerRight.PRODUCTS,
                                          clock.now()) is not None
    response = post(client, path, {"confirm": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/orgs/client/partners")
    assert services.get(DELEGATED_ACCESS)(cast.people["p_lr"].id, p.client_org_id, PartnerRight.PRODUCTS,
                                          clock.now()) is None
    html = client.get("/orgs/client/partners").get_data(as_text=True)
    assert "No partner manages this organisation." in html and "Past partnerships" in html and "Ended" in html
    assert client.get(path).status_code == 400  # no longer active
    mails = [m for m in outbox(services) if "no longer" in m["subject"]]
    assert {m["to"] for m in mails} == {cast.people["p_lr"].email, cast.people["c_lr"].email}


def test_the_partner_sees_at_once_that_the_client_ended_it(cast, client, auth, services):
    p = cast.manage()
    sign_in(cast, auth, "p_lr")
    assert client.get("/orgs/reseller/clients/client").status_code == 200
    cast.partners.lifecycle.end(cast.user("c_lr"), "client", p.id, True, CTX)
    assert client.get("/orgs/reseller/clients/client").status_code == 404
    assert "Ended" in client.get("/orgs/reseller/clients").get_data(as_text=True)


def test_a_client_administrator_cannot_end_or_change(cast, client, auth):
    p = cast.manage()
    sign_in(cast, auth, "c_admin")
    token = csrf_of(client.get("/orgs/").get_data(as_text=True))
    for path in (f"/orgs/client/partners/{p.id}/end", f"/orgs/client/partners/{p.id}/change"):
        assert client.get(path).status_code == 403
        assert client.post(path, data={"csrf_token": token, "confirm": "y", **REVIEW}).status_code == 403
    assert cast.partners.ports.partners.partnership(p.id).status is Status.ACTIVE


def test_another_organisations_partnership_ids_are_not_found(cast, client, auth, services, make_user):
    p = cast.manage()
    other = make_user()
    services.organisations.create(services.accounts.user(other.id), "other", "Other", CTX)
    auth.sign_in(other.email, other.password)
    token = csrf_of(client.get("/orgs/").get_data(as_text=True))
    assert client.get(f"/orgs/other/partners/{p.id}/end").status_code == 404
    assert client.post(f"/orgs/other/partners/{p.id}/end", data={"csrf_token": token, "confirm": "y"}).status_code == 404
    assert client.post(f"/orgs/client/partners/{p.id}/end", data={"csrf_token": token, "confirm": "y"}).status_code == 404
    assert client.get("/orgs/client/partners").status_code == 404
    assert client.get("/orgs/other/partners/99999999999999999999/end").status_code == 400


def test_changing_from_the_page(cast, client, auth, services, clock):
    p = cast.manage()
    sign_in(cast, auth, "c_lr")
    path = f"/orgs/client/partners/{p.id}/change"
    html = client.get(path).get_data(as_text=True)
    assert 'value="products" checked' in html or 'checked id="rights-0"' in html or "checked" in html
    response = post(client, path, {"access": "full", "auto_renew": "y"})
    assert response.status_code == 302
    hook = services.get(DELEGATED_ACCESS)
    assert hook(cast.people["p_lr"].id, p.client_org_id, PartnerRight.BILLING, clock.now()) is not None
    assert len(events(services, "partners:partnership:changed")) == 2


@pytest.mark.parametrize(("data", "message"), [
    ({"access": "limited", "rights": []}, "at least one right"),
    ({"access": "limited", "rights": ["products", "root"]}, "Choose rights from the list."),
    ({"access": ""}, "Choose full or limited access."),
    ({"access": "x" * 5000}, "Choose full or limited access."),
])
def test_bad_input_on_the_change_form(cast, client, auth, services, data, message):
    p = cast.manage()
    sign_in(cast, auth, "c_lr")
    response = post(client, f"/orgs/client/partners/{p.id}/change", data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert events(services, "partners:partnership:changed") == []


def test_the_change_form_refuses_a_wrong_csrf_token(cast, client, auth, services):
    p = cast.manage()
    sign_in(cast, auth, "c_lr")
    assert client.post(f"/orgs/client/partners/{p.id}/change", data={"access": "full"}).status_code == 400
    assert events(services, "partners:partnership:changed") == []


# -- the requests a person reviews ------------------------------------------------------------


def test_the_requests_page_and_the_account_home(cast, client, auth):
    request = cast.invite()
    sign_in(cast, auth, "c_lr")
    assert "Partner requests" in client.get("/").get_data(as_text=True)
    html = client.get("/partners/requests").get_data(as_text=True)
    assert "Reseller SA" in html and f'href="/partners/requests/{request.id}"' in html
    assert "1 partner request waits for your review" in client.get("/orgs/client").get_data(as_text=True)
    assert 'href="/orgs/client/partners"' in client.get("/orgs/client").get_data(as_text=True)
    auth.logout()
    sign_in(cast, auth, "c_admin")
    assert "No request waits for you." in client.get("/partners/requests").get_data(as_text=True)
    assert client.get(f"/partners/requests/{request.id}").status_code == 404
    assert "Partner requests" not in client.get("/").get_data(as_text=True)


def test_accepting_from_the_page_with_other_rights(cast, client, auth, services):
    request = cast.invite(rights=["products", "billing"], days="90")
    sign_in(cast, auth, "c_lr")
    html = client.get(f"/partners/requests/{request.id}").get_data(as_text=True)
    assert '<option selected value="client">Client Sàrl</option>' in html or ">Client Sàrl</option>" in html
    assert 'value="90"' in html
    response = post(client, f"/partners/requests/{request.id}/accept", REVIEW | {"rights": ["users"], "days": "10"},
                    page=f"/partners/requests/{request.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/orgs/client/partners")
    [p] = cast.partners.ports.partners.of_client(cast.org("client").id)
    assert p.rights == {PartnerRight.USERS} and p.term_days == 10
    response = post(client, f"/partners/requests/{request.id}/accept", REVIEW, page="/orgs/")
    assert response.status_code == 400 and "already answered" in response.get_data(as_text=True)


def test_declining_from_the_page(cast, client, auth, services):
    request = cast.invite()
    sign_in(cast, auth, "c_lr")
    assert client.post(f"/partners/requests/{request.id}/decline", data={"csrf_token": "x"}).status_code == 400
    response = post(client, f"/partners/requests/{request.id}/decline", page=f"/partners/requests/{request.id}")
    assert response.status_code == 302
    assert len(events(services, "partners:partnership:declined")) == 1
    assert client.get(f"/partners/requests/{request.id}").status_code == 400


@pytest.mark.parametrize(("data", "message"), [
    ({"org": ""}, "Choose one of your organisations."),
    ({"org": "reseller"}, "Choose one of your organisations."),  # another organisation's short name
    ({"org": "x" * 500}, "Choose one of your organisations."),
    ({"rights": ["products", "everything"]}, "Choose rights from the list."),
    ({"rights": []}, "at least one right"),
    ({"days": "0"}, "from 1 to 730"),
    ({"days": "731"}, "from 1 to 730"),
    ({"days": "soon"}, "from 1 to 730"),
    ({"org": "-new-", "new_name": "", "new_slug": "fresh"}, "Enter the organisation&#39;s name."),
    ({"org": "-new-", "new_name": "Fresh", "new_slug": "Not A Slug!"}, "lower-case letters"),
    ({"org": "-new-", "new_name": "Fresh", "new_slug": "client"}, "This short name is taken"),
    ({"org": "-new-", "new_name": "F" * 300, "new_slug": "fresh"}, "too long"),
])
def test_bad_input_on_the_review_form(cast, client, auth, services, data, message):
    request = cast.invite()
    sign_in(cast, auth, "c_lr")
    response = post(client, f"/partners/requests/{request.id}/accept", REVIEW | data,
                    page=f"/partners/requests/{request.id}")
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert cast.partners.ports.partners.of_client(cast.org("client").id) == []
    assert cast.partners.ports.partners.request(request.id).state.value == "pending"


def test_the_review_form_refuses_a_wrong_csrf_token_and_other_peoples_requests(cast, client, auth, services):
    request = cast.invite()
    sign_in(cast, auth, "c_lr")
    assert client.post(f"/partners/requests/{request.id}/accept", data=REVIEW).status_code == 400
    assert post(client, "/partners/requests/99999/accept", REVIEW, page="/orgs/").status_code == 404
    auth.logout()
    sign_in(cast, auth, "c_admin")
    assert post(client, f"/partners/requests/{request.id}/accept", REVIEW, page="/orgs/").status_code == 404
    assert post(client, f"/partners/requests/{request.id}/decline", page="/orgs/").status_code == 404
    assert cast.partners.ports.partners.request(request.id).state.value == "pending"


def test_an_administrator_invited_cannot_accept_for_the_organisation_from_the_page(cast, client, auth, services):
    request = cast.invite(cast.people["c_admin"].email)
    sign_in(cast, auth, "c_admin")
    html = client.get(f"/partners/requests/{request.id}").get_data(as_text=True)
    assert ">Client Sàrl</option>" not in html
    response = post(client, f"/partners/requests/{request.id}/accept", REVIEW, page=f"/partners/requests/{request.id}")
    assert response.status_code == 403
    assert cast.partners.ports.partners.of_client(cast.org("client").id) == []


def test_the_link_for_another_signed_in_account(cast, client, auth, services):
    cast.invite()
    from tests.partners.test_requests import link_of

    path = link_of(services, cast.people["c_lr"].email)
    sign_in(cast, auth, "c_admin")
    html = client.get(path).get_data(as_text=True)
    assert "This request is for another e-mail address" in html
    assert "not valid" in client.get("/partners/requests/link/" + "9" * 400).get_data(as_text=True)
