"""WebAuthn on the server with a software authenticator: registration, second factor, passkey
sign-in, and the error paths (wrong origin, replayed challenge, unknown credential, counter)."""

from __future__ import annotations

import json

import pytest

from idp.mfa.webauthn import WebAuthnError
from tests.conftest import AuthActions
from tests.conftest import csrf_of
from tests.conftest import events
from tests.mfa.conftest import CTX
from tests.mfa.conftest import ORIGIN
from tests.mfa.conftest import options_of
from tests.mfa.softauthn import SoftAuthenticator


def _key_page(client):
    page = client.get("/login/security-key")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return csrf_of(html), options_of(html)


def _answer(client, url, token, credential):
    return client.post(url, data={"csrf_token": token, "credential": credential})


# -- registration ---------------------------------------------------------------------------


def test_registration_stores_a_named_key_and_tells_the_owner(make_user, enrol, mfa, services, outbox_messages):
    person = make_user()
    enrol.key(person, name="Blue key")
    [credential] = mfa.credentials(enrol.user(person))
    assert (credential.name, credential.kind, credential.sign_count) == ("Blue key", "security_key", 0)
    assert credential.transports == ["usb"]
    added = events(services, "mfa:webauthn:added")
    assert added[0]["details"]["name"] == "Blue key"
    assert "second step was added" in outbox_messages()[-1]["subject"]


def test_a_passkey_must_verify_the_user(make_user, enrol, mfa):
    person = make_user()
    user = enrol.user(person)
    soft = SoftAuthenticator(ORIGIN, user_verification=False)
    with pytest.raises(WebAuthnError):
        mfa.finish_registration(user, soft.create(mfa.begin_registration(user, "passkey")), "Phone", CTX)
    assert mfa.credentials(user) == []


def test_registration_from_another_origin_is_refused(make_user, enrol, mfa):
    person = make_user()
    user = enrol.user(person)
    soft = SoftAuthenticator(ORIGIN)
    options = mfa.begin_registration(user, "security_key")
    with pytest.raises(WebAuthnError) as caught:
        mfa.finish_registration(user, soft.create(options, origin="https://evil.example"), "Key", CTX)
    assert "origin" in caught.value.reason


def test_a_registration_challenge_works_once(make_user, enrol, mfa):
    person = make_user()
    user = enrol.user(person)
    options = mfa.begin_registration(user, "security_key")
    mfa.finish_registration(user, SoftAuthenticator(ORIGIN).create(options), "One", CTX)
    with pytest.raises(WebAuthnError):
        mfa.finish_registration(user, SoftAuthenticator(ORIGIN).create(options), "Two", CTX)
    assert len(mfa.credentials(user)) == 1


def test_a_registration_challenge_expires(make_user, enrol, mfa, services):
    person = make_user()
    user = enrol.user(person)
    options = mfa.begin_registration(user, "security_key")
    services.redis.delete(mfa.cache.user_key(user.id, "webauthn:register"))  # what its TTL does
    with pytest.raises(WebAuthnError):
        mfa.finish_registration(user, SoftAuthenticator(ORIGIN).create(options), "Key", CTX)


def test_challenge_keys_have_a_ttl(make_user, enrol, mfa, services):
    person = make_user()
    user = enrol.user(person)
    mfa.begin_registration(user, "security_key")
    ttl = services.redis.ttl(mfa.cache.user_key(user.id, "webauthn:register"))
    assert 0 < ttl <= services.settings.mfa.challenge_ttl


def test_the_same_authenticator_cannot_be_registered_twice(make_user, enrol, mfa):
    person = make_user()
    user = enrol.user(person)
    soft = SoftAuthenticator(ORIGIN)
    mfa.finish_registration(user, soft.create(mfa.begin_registration(user, "security_key")), "A", CTX)
    options = json.loads(mfa.begin_registration(user, "security_key"))
    assert [c["id"] for c in options["excludeCredentials"]] == [soft.id]
    with pytest.raises(Exception, match="already registered"):
        mfa.finish_registration(user, soft.create(options), "B", CTX)


@pytest.mark.parametrize("raw", [None, "", "not json", "[]", '{"rawId": 5}', '{"rawId": "a", "response": {}}', "x" * 70_000])
def test_malformed_answers_are_refused(make_user, enrol, mfa, raw):
    person = make_user()
    user = enrol.user(person)
    mfa.begin_registration(user, "security_key")
    with pytest.raises(WebAuthnError):
        mfa.finish_registration(user, raw, "Key", CTX)


@pytest.mark.parametrize("name", ["", "   ", "x" * 65])
def test_a_key_needs_a_sensible_name(make_user, enrol, mfa, name):
    from idp.errors import ValidationError

    person = make_user()
    user = enrol.user(person)
    soft = SoftAuthenticator(ORIGIN)
    with pytest.raises(ValidationError):
        mfa.finish_registration(user, soft.create(mfa.begin_registration(user, "security_key")), name, CTX)


# -- as a second factor -----------------------------------------------------------------------


def test_password_then_security_key_signs_in(make_user, enrol, auth, client, services):
    person = make_user()
    soft = enrol.key(person)
    assert auth.sign_in(person.email, person.password).headers["Location"] == "/login/security-key"
    token, options = _key_page(client)
    assert [c["id"] for c in json.loads(options)["allowCredentials"]] == [soft.id]
    response = _answer(client, "/login/security-key", token, soft.get(options))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    [session] = services.sessions.list(person.id)
    assert session.amr == ["hwk", "mfa", "pwd", "user"]


def test_an_answer_from_another_origin_is_refused_and_counted(make_user, enrol, auth, client, services):
    person = make_user()
    soft = enrol.key(person)
    auth.sign_in(person.email, person.password)
    token, options = _key_page(client)
    response = _answer(client, "/login/security-key", token, soft.get(options, origin="https://evil.example"))
    assert response.status_code == 401
    assert "could not be verified" in response.get_data(as_text=True)
    assert services.sessions.list(person.id) == []
    assert events(services, "account:signin:failed")[-1]["details"]["factor"] == "webauthn"
    assert services.lockout.failures(services.users.get(person.id)) == 1


def test_a_replayed_answer_is_refused(make_user, enrol, auth, client, app, services):
    person = make_user()
    soft = enrol.key(person)
    auth.sign_in(person.email, person.password)
    token, options = _key_page(client)
    answer = soft.get(options)
    assert _answer(client, "/login/security-key", token, answer).status_code == 302
    other = app.test_client()
    AuthActions(other).sign_in(person.email, person.password)
    token2, _ = _key_page(other)
    response = _answer(other, "/login/security-key", token2, answer)
    assert response.status_code == 401
    assert len(services.sessions.list(person.id)) == 1


def test_a_challenge_is_used_once_within_a_flow(make_user, enrol, auth, client, services, mfa):
    person = make_user()
    soft = enrol.key(person)
    user = enrol.user(person)
    auth.sign_in(person.email, person.password)
    flow_id = "flow-for-test"
    options = mfa.begin_assertion(user, flow_id)
    answer = soft.get(options)
    assert mfa.finish_assertion(user, flow_id, answer) == ["hwk", "user"]
    with pytest.raises(WebAuthnError) as caught:
        mfa.finish_assertion(user, flow_id, answer)
    assert caught.value.reason == "no pending challenge"


def test_an_unknown_credential_is_refused(make_user, enrol, auth, client):
    person = make_user()
    enrol.key(person)
    stranger = SoftAuthenticator(ORIGIN)
    stranger.rp_id = "127.0.0.1"
    auth.sign_in(person.email, person.password)
    token, options = _key_page(client)
    response = _answer(client, "/login/security-key", token, stranger.get(options))
    assert response.status_code == 401


def test_another_accounts_key_is_refused(make_user, enrol, auth, client):
    person, other = make_user(), make_user()
    enrol.key(person)
    others_key = enrol.key(other)
    auth.sign_in(person.email, person.password)
    token, options = _key_page(client)
    response = _answer(client, "/login/security-key", token, others_key.get(options))
    assert response.status_code == 401


def test_a_sign_counter_going_backwards_is_refused(make_user, enrol, mfa):
    person = make_user()
    soft = enrol.key(person)
    user = enrol.user(person)
    mfa.finish_assertion(user, "f1", soft.get(mfa.begin_assertion(user, "f1"), count=5))
    assert mfa.credentials(user)[0].sign_count == 5
    with pytest.raises(WebAuthnError) as caught:
        mfa.finish_assertion(user, "f2", soft.get(mfa.begin_assertion(user, "f2"), count=3))
    assert "sign count" in caught.value.reason
    mfa.finish_assertion(user, "f3", soft.get(mfa.begin_assertion(user, "f3"), count=6))


def test_an_authenticator_without_counter_keeps_working(make_user, enrol, mfa):
    person = make_user()
    soft = enrol.key(person, counter=False)
    user = enrol.user(person)
    for flow in ("a", "b"):
        mfa.finish_assertion(user, flow, soft.get(mfa.begin_assertion(user, flow)))
    assert mfa.credentials(user)[0].last_used_at is not None


@pytest.mark.parametrize("credential", ["", "{}", "garbage", "x" * 100_000])
def test_garbage_on_the_key_page_gets_a_message_not_an_error(make_user, enrol, auth, client, credential):
    person = make_user()
    enrol.key(person)
    auth.sign_in(person.email, person.password)
    token, _ = _key_page(client)
    response = _answer(client, "/login/security-key", token, credential)
    assert response.status_code in (401, 413)


# -- passkey sign-in ---------------------------------------------------------------------------


def _passkey_page(client):
    html = client.get("/login/passkey").get_data(as_text=True)
    return csrf_of(html), options_of(html)


def test_the_sign_in_page_offers_passkeys(client):
    assert 'href="/login/passkey"' in client.get("/login").get_data(as_text=True)


def test_a_passkey_alone_signs_in(make_user, enrol, client, services):
    person = make_user()
    soft = enrol.key(person, kind="passkey", name="Phone", backup=True)
    token, options = _passkey_page(client)
    opts = json.loads(options)
    assert opts["allowCredentials"] == [] and opts["userVerification"] == "required"
    response = _answer(client, "/login/passkey", token, soft.get(options))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    [session] = services.sessions.list(person.id)
    assert session.amr == ["mfa", "swk", "user"]
    assert events(services, "account:signin:succeeded")[-1]["details"]["amr"] == ["mfa", "swk", "user"]


def test_a_passkey_without_user_verification_is_refused(make_user, enrol, client, services):
    person = make_user()
    soft = enrol.key(person, kind="passkey")
    soft.uv = False
    token, options = _passkey_page(client)
    response = _answer(client, "/login/passkey", token, soft.get(options))
    assert response.status_code == 401
    assert services.sessions.list(person.id) == []
    assert events(services, "mfa:passkey:failed")[-1]["user_id"] == person.id


def test_a_passkey_answer_with_the_wrong_user_handle_is_refused(make_user, enrol, client, services):
    person, other = make_user(), make_user()
    soft = enrol.key(person, kind="passkey")
    other_key = enrol.key(other, kind="passkey")
    soft.user_handle = other_key.user_handle
    token, options = _passkey_page(client)
    assert _answer(client, "/login/passkey", token, soft.get(options)).status_code == 401
    assert services.sessions.list(person.id) == services.sessions.list(other.id) == []


def test_a_passkey_answer_works_once(make_user, enrol, client, app, services):
    person = make_user()
    soft = enrol.key(person, kind="passkey")
    token, options = _passkey_page(client)
    answer = soft.get(options)
    assert _answer(client, "/login/passkey", token, answer).status_code == 302
    other = app.test_client()
    token2, _ = _passkey_page(other)
    assert _answer(other, "/login/passkey", token2, answer).status_code == 401
    assert len(services.sessions.list(person.id)) == 1


@pytest.mark.parametrize("standing", ["locked", "disabled"])
def test_a_passkey_signs_a_locked_account_in_but_not_a_disabled_one(make_user, enrol, client, services, standing):
    # Decision 0609: the lock stops the password that was being guessed, not a passkey.
    from tests.standing import put_in
    from tests.standing import works

    person = make_user()
    soft = enrol.key(person, kind="passkey")
    if standing == "locked":
        user = services.users.get(person.id)
        for _ in range(user.lockout_threshold):  # locked the way a guesser locks it
            services.lockout.register_failure(user, user.email, CTX)
        assert services.users.get(person.id).locked_at is not None
    else:
        put_in(services, person.id, standing)
    token, options = _passkey_page(client)
    response = _answer(client, "/login/passkey", token, soft.get(options))
    if works("passkey", standing):
        assert response.status_code == 302 and response.headers["Location"] == "/"
        assert len(services.sessions.list(person.id)) == 1
    else:
        assert response.status_code == 401
        assert "This account cannot sign in." in response.get_data(as_text=True)
        assert services.sessions.list(person.id) == []


def test_the_passkey_page_refuses_a_post_without_csrf(client):
    assert client.post("/login/passkey", data={"credential": "{}"}).status_code == 400


def test_passkey_sign_in_keeps_where_the_person_was_going(make_user, enrol, client, services):
    person = make_user()
    soft = enrol.key(person, kind="passkey")
    assert 'href="/login/passkey?next=/mfa"' in client.get("/login?next=/mfa").get_data(as_text=True)
    html = client.get("/login/passkey?next=/mfa").get_data(as_text=True)
    response = client.post("/login/passkey", data={
        "csrf_token": csrf_of(html), "credential": soft.get(options_of(html)), "next": "/mfa"})
    assert response.headers["Location"] == "/mfa"


def test_passkey_sign_in_refuses_to_go_to_another_site(make_user, enrol, client):
    person = make_user()
    soft = enrol.key(person, kind="passkey")
    html = client.get("/login/passkey").get_data(as_text=True)
    response = client.post("/login/passkey", data={
        "csrf_token": csrf_of(html), "credential": soft.get(options_of(html)), "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(("rp_id", "origin", "usable"), [
    ("localhost", "http://localhost:5000", True),
    ("id.example.com", "https://id.example.com", True),
    ("127.0.0.1", "http://127.0.0.1:5000", False),  # an IP address is no RP id
    ("id.example.com", "http://id.example.com", False),  # not a secure context
    ("::1", "http://[::1]:5000", False),
])
def test_passkeys_are_offered_only_where_a_browser_can_use_them(rp_id, origin, usable):
    from idp.mfa.webauthn import browser_can_use

    assert browser_can_use(rp_id, origin) is usable
