"""The Applications page, withdrawing a grant, and revoke_all_grants for the compromised-password wizard."""

from __future__ import annotations

from typing import Any

from idp.oidc import OIDC
from tests.conftest import csrf_of
from tests.conftest import events


def test_the_page_lists_granted_applications_and_withdraws_one(
    flow: Any, rp: Any, person: Any, client: Any, services: Any
) -> None:
    tokens = flow.tokens(rp, person, scope="openid email offline_access")
    page = client.get("/applications")
    html = page.get_data(as_text=True)
    assert "Test confidential" in html and "Your e-mail address" in html
    assert 'href="/applications"' in client.get("/").get_data(as_text=True)  # nav entry
    response = client.post(f"/applications/{rp.client_id}/revoke", data={"csrf_token": csrf_of(html)})
    assert response.status_code == 302
    assert "No application has access" in client.get("/applications").get_data(as_text=True)
    refreshed = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                            auth=(rp.client_id, rp.secret))
    assert refreshed.get_json()["error"] == "invalid_grant"
    assert events(services, "oidc:consent:withdrawn")[-1]["product"] == rp.client_id
    assert events(services, "oidc:token:revoked")[-1]["details"]["what"] == "grant"
    # Consent is asked again.
    assert b'name="request_id"' in flow.authorize(flow.params(rp)).data


def test_withdraw_needs_csrf_and_a_known_grant(flow: Any, rp: Any, person: Any, client: Any) -> None:
    flow.tokens(rp, person)
    assert client.post(f"/applications/{rp.client_id}/revoke").status_code == 400
    html = client.get("/applications").get_data(as_text=True)
    response = client.post("/applications/unknown-client/revoke", data={"csrf_token": csrf_of(html)},
                           follow_redirects=True)
    assert "no access to withdraw" in response.get_data(as_text=True)


def test_applications_page_needs_a_session(client: Any) -> None:
    assert client.get("/applications").status_code == 302


def test_revoke_all_grants(flow: Any, rp: Any, make_client: Any, person: Any, services: Any, client: Any) -> None:
    other = make_client()
    first = flow.tokens(rp, person, scope="openid offline_access")
    flow.tokens(other, person, scope="openid offline_access")
    user = services.users.get(person.id)
    from idp.model import RequestContext

    assert services.get(OIDC).revoke_all_grants(user, RequestContext()) == 2
    assert services.get(OIDC).service.applications(user) == []
    refreshed = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
                            auth=(rp.client_id, rp.secret))
    assert refreshed.get_json()["error"] == "invalid_grant"


def test_review_item_counts_applications(flow: Any, rp: Any, person: Any, services: Any, app: Any) -> None:
    item = next(i for i in services.review if i.endpoint == "oidc_pages.applications")
    user = services.users.get(person.id)
    with app.test_request_context():
        assert item.status(user) == "None"
    flow.tokens(rp, person)
    with app.test_request_context():
        assert item.status(user) == "1"
