"""The sign-in flow with second factors: TOTP, recovery codes, "try another way", lockout, amr."""

from __future__ import annotations

import datetime as dt

import pytest

from idp.mfa import MFA
from tests.conftest import csrf_of
from tests.conftest import events
from tests.mfa.conftest import CTX


def _session_amr(services, person):
    sessions = services.sessions.list(person.id)
    assert len(sessions) == 1
    return sessions[0].amr


def _post_code(client, url, code, **extra):
    page = client.get(url)
    return client.post(url, data={"csrf_token": csrf_of(page.get_data(as_text=True)), "code": code, **extra})


def test_an_account_without_second_factor_signs_in_with_the_password_alone(make_user, auth, services):
    person = make_user()
    response = auth.sign_in(person.email, person.password)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert _session_amr(services, person) == ["pwd"]


def test_the_password_leads_to_the_code_page_and_the_code_signs_in(make_user, auth, enrol, services, client):
    person = make_user()
    secret = enrol.totp(person)
    response = auth.sign_in(person.email, person.password)
    assert response.headers["Location"] == "/login/totp"
    assert services.sessions.list(person.id) == []
    response = _post_code(client, "/login/totp", enrol.code_now(secret))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert _session_amr(services, person) == ["mfa", "otp", "pwd"]


def test_a_wrong_code_is_refused_counted_and_recorded(make_user, auth, enrol, services, client):
    person = make_user()
    enrol.totp(person)
    auth.sign_in(person.email, person.password)
    response = _post_code(client, "/login/totp", "000000")
    assert response.status_code == 401
    assert "This code is not valid" in response.get_data(as_text=True)
    failed = events(services, "account:signin:failed")
    assert failed[-1]["details"] == {"reason": "factor", "factor": "totp"}
    assert services.lockout.failures(services.users.get(person.id)) == 1
    assert services.sessions.list(person.id) == []


@pytest.mark.parametrize("code", ["12ab56", "123", "1" * 5000, ""])
def test_a_malformed_code_gets_a_clear_message_and_does_not_count(make_user, auth, enrol, services, client, code):
    person = make_user()
    enrol.totp(person)
    auth.sign_in(person.email, person.password)
    response = _post_code(client, "/login/totp", code)
    assert response.status_code == 401
    body = response.get_data(as_text=True)
    assert "Enter the 6-digit code from your app." in body
    assert services.lockout.failures(services.users.get(person.id)) == 0


def test_a_code_used_once_cannot_sign_in_again(make_user, auth, enrol, services, client, app):
    person = make_user()
    secret = enrol.totp(person)
    code = enrol.code_now(secret)
    auth.sign_in(person.email, person.password)
    assert _post_code(client, "/login/totp", code).status_code == 302
    other = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(other).sign_in(person.email, person.password)
    response = _post_code(other, "/login/totp", code)
    assert response.status_code == 401
    assert "already used" in response.get_data(as_text=True)


def test_the_code_page_refuses_a_post_without_csrf(make_user, auth, enrol, client):
    person = make_user()
    secret = enrol.totp(person)
    auth.sign_in(person.email, person.password)
    response = client.post("/login/totp", data={"code": enrol.code_now(secret)})
    assert response.status_code == 400


def test_factor_pages_without_a_flow_send_back_to_the_start(client):
    for url in ("/login/totp", "/login/security-key", "/login/recovery-code", "/login/other-ways"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_a_factor_the_account_does_not_have_is_not_offered(make_user, auth, enrol, client):
    person = make_user()
    enrol.totp(person)
    auth.sign_in(person.email, person.password)
    response = client.get("/login/security-key")
    assert response.headers["Location"] == "/login"


def test_try_another_way_lists_every_factor_of_the_flow(make_user, auth, enrol, client):
    person = make_user()
    enrol.totp(person)
    enrol.key(person)
    auth.sign_in(person.email, person.password)
    page = client.get("/login/totp").get_data(as_text=True)
    assert "Try another way" in page
    choices = client.get("/login/other-ways").get_data(as_text=True)
    for label, url in [("Authenticator app", "/login/totp"), ("Security key or passkey", "/login/security-key"),
                       ("Recovery code", "/login/recovery-code")]:
        assert label in choices and f'href="{url}"' in choices


def test_a_factor_registered_by_another_feature_appears_in_the_list(make_user, auth, enrol, client, services):
    from dataclasses import dataclass

    @dataclass
    class Push:
        name: str = "push"
        label: str = "Approve on your phone"
        endpoint: str = "account.home"

        def enrolled(self, user):
            return True

    services.factors.register(Push())
    person = make_user()
    enrol.totp(person)
    auth.sign_in(person.email, person.password)
    assert "Approve on your phone" in client.get("/login/other-ways").get_data(as_text=True)


def test_the_method_used_last_is_offered_first(make_user, auth, enrol, client, app, clock, services):
    person = make_user()
    soft = enrol.key(person)
    secret = enrol.totp(person)
    # TOTP was enrolled last (its confirmation counts as a use): it comes first.
    assert auth.sign_in(person.email, person.password).headers["Location"] == "/login/totp"
    # Use the key, then the key is offered first.
    from tests.mfa.conftest import options_of

    page = client.get("/login/security-key").get_data(as_text=True)
    clock.advance(seconds=60)
    response = client.post("/login/security-key", data={
        "csrf_token": csrf_of(page), "credential": soft.get(options_of(page))})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    from tests.conftest import AuthActions

    other = AuthActions(app.test_client())
    assert other.sign_in(person.email, person.password).headers["Location"] == "/login/security-key"
    assert secret


def test_a_recovery_code_signs_in_once(make_user, auth, enrol, services, client, mfa, app):
    person = make_user()
    enrol.totp(person)
    code = mfa.shown_codes(enrol.user(person))[0]
    auth.sign_in(person.email, person.password)
    response = _post_code(client, "/login/recovery-code", code.lower())
    assert response.status_code == 302
    assert _session_amr(services, person) == ["mfa", "otp", "pwd"]
    assert events(services, "mfa:recovery_code:used")
    from tests.conftest import AuthActions

    other = app.test_client()
    AuthActions(other).sign_in(person.email, person.password)
    response = _post_code(other, "/login/recovery-code", code)
    assert response.status_code == 401
    assert "not valid or was already used" in response.get_data(as_text=True)


@pytest.mark.parametrize("code", ["x", "ABCD-EFGH-JKMN-PQRS-TUVW" * 10])
def test_a_malformed_recovery_code_gets_a_clear_message(make_user, auth, enrol, client, code):
    person = make_user()
    enrol.totp(person)
    auth.sign_in(person.email, person.password)
    response = _post_code(client, "/login/recovery-code", code)
    assert response.status_code == 401
    assert "A recovery code has 12 letters and digits" in response.get_data(as_text=True)


def test_second_factor_failures_lock_the_account(make_user, auth, enrol, services, client):
    person = make_user()
    secret = enrol.totp(person)
    auth.sign_in(person.email, person.password)
    for _ in range(services.users.get(person.id).lockout_threshold):
        _post_code(client, "/login/totp", "000000")
    assert services.users.get(person.id).locked_at is not None
    # Even the right code no longer completes this sign-in.
    response = _post_code(client, "/login/totp", enrol.code_now(secret))
    assert services.sessions.list(person.id) == []
    assert response.status_code in (302, 401)


def test_the_code_page_is_in_french(make_user, auth, enrol, client):
    person = make_user()
    enrol.totp(person)
    auth.sign_in(person.email, person.password)
    page = client.get("/login/totp?lang=fr").get_data(as_text=True)
    assert "Saisissez le code de votre application d" in page


def test_the_enrolment_of_every_factor_is_read_in_one_statement(make_user, enrol, services, clock):
    from idp.mfa.model import Enrolment

    mfa = services.get(MFA)
    person = make_user()
    user = services.users.get(person.id)
    assert mfa.enrolment(user) == Enrolment()
    enrol.totp(person)
    totp_used = clock.now() - dt.timedelta(seconds=30)  # the confirming code counts as a use
    enrol.key(person)
    enrol.key(person, name="Spare key")
    mfa.regenerate_codes(user, CTX)
    found = mfa.enrolment(user)
    assert (found.totp, found.keys, found.codes_left, found.keys_last_used) == (True, 2, 10, None)
    assert found.totp_last_used == totp_used and found.totp_last_used.tzinfo is not None
    assert [f.name for f in services.factors.for_user(user)] == ["totp", "webauthn", "recovery"]
