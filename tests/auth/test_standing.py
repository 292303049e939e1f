"""Decision 0609 through the sign-in pages and the signed-in browser: a lock stops the password
(sign-in and re-authentication) and nothing else; a disable or a deletion stops everything."""

from __future__ import annotations

import pytest

from idp.errors import AuthenticationError
from idp.errors import FlowError
from idp.mfa import MFA
from idp.model import RequestContext
from tests.conftest import csrf_of
from tests.standing import STANDINGS
from tests.standing import put_in
from tests.standing import works

CTX = RequestContext(ip="192.0.2.44", user_agent="pytest")


@pytest.mark.parametrize("standing", STANDINGS)
def test_the_password_signs_in_only_an_active_account(client, auth, make_user, services, standing):
    person = make_user()
    put_in(services, person.id, standing)
    response = auth.sign_in(person.email, person.password)
    if works("password", standing):
        assert response.status_code == 302 and response.headers["Location"] == "/"
    else:  # the same answer as a wrong password, whatever the reason
        assert response.status_code == 401 and "Wrong e-mail or password." in response.get_data(as_text=True)


@pytest.mark.parametrize("standing", STANDINGS)
def test_a_signed_in_browser_goes_on_while_locked_and_stops_when_disabled(client, auth, make_user, services,
                                                                         standing):
    person = make_user()
    auth.sign_in(person.email, person.password)
    put_in(services, person.id, standing)
    home = client.get("/")
    if works("browser_session", standing):
        assert home.status_code == 200 and person.email in home.get_data(as_text=True)
    else:
        assert home.status_code == 302 and home.headers["Location"].startswith("/login")


@pytest.mark.parametrize("standing", STANDINGS)
def test_the_directory_signs_in_a_locked_account(make_user, services, standing):
    person = make_user()
    put_in(services, person.id, standing)
    user = services.users.get(person.id)
    flow = services.signin.start()
    if user is None:  # nobody to vouch for: the callback finds no account
        assert not works("sso", standing)
        return
    if works("sso", standing):
        outcome = services.signin.complete_federated(flow.id, user, ["pwd"], CTX, {"connection": 1})
        assert outcome.done and outcome.session is not None and "fed" in outcome.session.amr
    else:
        with pytest.raises(FlowError):
            services.signin.complete_federated(flow.id, user, ["pwd"], CTX, {"connection": 1})


@pytest.mark.parametrize("began", ["pwd", "fed"])
def test_a_lock_during_the_second_step_stops_a_password_sign_in_only(make_user, services, began):
    person = make_user()
    user = services.users.get(person.id)
    services.get(MFA).sql.set_totp(user.id, secret_enc=services.secrets.encrypt("JBSWY3DPEHPK3PXP"), step=0,
                                     now=services.clock.now())
    flow = services.signin.start()
    if began == "pwd":
        services.signin.identify(flow.id, person.email)
        assert not services.signin.check_password(flow.id, person.password, CTX).done
    else:
        assert not services.signin.complete_federated(flow.id, user, ["pwd"], CTX, {}).done
    put_in(services, person.id, "locked")  # e.g. wrong codes from this very flow
    if began == "pwd":
        with pytest.raises(FlowError):
            services.signin.factor_passed(flow.id, "totp", ["otp"], CTX)
    else:
        assert services.signin.factor_passed(flow.id, "totp", ["otp"], CTX).done


def test_a_locked_password_is_said_so_to_the_signed_in_owner(client, auth, make_user, services):
    person = make_user()
    auth.sign_in(person.email, person.password)
    put_in(services, person.id, "locked")
    page = client.get("/reauth")
    response = client.post("/reauth", data={"csrf_token": csrf_of(page.get_data(as_text=True)),
                                            "password": person.password})
    assert response.status_code == 401
    assert "Your password is locked after too many failed attempts." in response.get_data(as_text=True)
    with pytest.raises(AuthenticationError):
        services.signin.reauthenticate(services.users.get(person.id), services.sessions.list(person.id)[0],
                                       person.password, CTX)


def test_an_account_without_a_password_is_offered_only_the_ways_it_has(client, auth, make_user, services):
    from tests.mfa.conftest import Enrol

    person = make_user()
    auth.sign_in(person.email, person.password)
    Enrol(services, services.clock).key(person, kind="passkey", name="Phone")
    with services.db.transaction() as s:  # as for an account made by single sign-on, or passkey-only
        from sqlalchemy import update

        from idp.stores.models import UserRow

        s.execute(update(UserRow).where(UserRow.id == person.id).values(password_hash=None))
    page = client.get("/reauth?next=/security/kauth").get_data(as_text=True)
    assert 'type="password"' not in page and "Confirm it is you with one of the ways below." in page
    assert 'href="/mfa/reauth?next=/security/kauth"' in page and "Use your authenticator app or security key" in page
