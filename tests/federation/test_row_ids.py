"""Ids in single sign-on addresses: a number past what a row id can be is a plain 400, never a database error."""

from __future__ import annotations

import pytest

from idp.model import Role
from tests.conftest import csrf_of

TOO_LARGE = ["2147483648", "9223372036854775808", "99999999999999999999999"]
MESSAGE = "This address holds a number too large to name anything here."


@pytest.fixture
def admin(services, make_user, auth, sso):
    person = make_user("admin@contoso.com")
    services.accounts.add_member(sso.org(), services.users.get(person.id), Role.ADMIN)
    auth.sign_in(person.email, person.password)
    return person


@pytest.mark.parametrize("number", TOO_LARGE)
def test_a_connection_page_with_a_too_large_id_says_so(client, admin, number):
    response = client.get(f"/orgs/contoso/sso/{number}")
    assert response.status_code == 400
    assert MESSAGE in response.get_data(as_text=True)


@pytest.mark.parametrize("number", TOO_LARGE)
@pytest.mark.parametrize("action", ["", "/test", "/enable", "/disable"])
def test_forms_posted_to_a_too_large_connection_id_are_refused_plainly(client, admin, number, action):
    token = csrf_of(client.get("/").get_data(as_text=True))
    response = client.post(f"/orgs/contoso/sso/{number}{action}", data={"csrf_token": token})
    assert response.status_code == 400
    assert MESSAGE in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/sso/links/add/{n}", "/sso/links/{n}/remove"])
def test_linked_identity_buttons_with_a_too_large_id_are_refused_plainly(client, admin, path):
    token = csrf_of(client.get("/").get_data(as_text=True))
    response = client.post(path.format(n=TOO_LARGE[0]), data={"csrf_token": token})
    assert response.status_code == 400
    assert MESSAGE in response.get_data(as_text=True)


def test_the_largest_row_id_is_an_ordinary_unknown_connection(client, admin, sso):
    connection = sso.connect()
    assert client.get("/orgs/contoso/sso/2147483647").status_code == 404
    assert client.get(f"/orgs/contoso/sso/{connection.id}").status_code == 200
