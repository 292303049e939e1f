""""Signed in with" names each way of signing in apart, on the account home, the sessions list
and the sign-in mail (a recovery code is not an authenticator code, a security key not a passkey)."""

from __future__ import annotations

import re

import pytest

from idp.kauth import KAUTH
from idp.model import RequestContext
from idp.security.center import SECURITY
from tests.conftest import csrf_of
from tests.conftest import outbox
from tests.mfa.conftest import options_of

CTX = RequestContext(ip="127.0.0.1", user_agent="pytest")


def _post_code(client, url, code):
    page = client.get(url)
    return client.post(url, data={"csrf_token": csrf_of(page.get_data(as_text=True)), "code": code})


def _signed_in_with(page: str) -> str:
    found = re.search(r"<dt>(?:Signed in with|Connecté avec)</dt><dd>([^<]*)</dd>", page)
    assert found, "the account home names how this session signed in"
    return found.group(1)


@pytest.fixture
def mailed_on_success(services):
    def choose(person):
        user = services.users.get(person.id)
        services.get(SECURITY).notifications.set(user, "both", CTX)

    return choose


def test_a_recovery_code_is_named_a_recovery_code(make_user, auth, enrol, client, mfa, services, mailed_on_success):
    person = make_user()
    enrol.totp(person)
    mailed_on_success(person)
    code = mfa.shown_codes(enrol.user(person))[0]
    auth.sign_in(person.email, person.password)
    assert _post_code(client, "/login/recovery-code", code).status_code == 302
    assert _signed_in_with(client.get("/?lang=en").get_data(as_text=True)) == "password, recovery code"
    assert _signed_in_with(client.get("/?lang=fr").get_data(as_text=True)) == "mot de passe, code de récupération"
    sessions = client.get("/security/sessions?lang=en").get_data(as_text=True)
    assert "password, recovery code" in sessions and "authenticator" not in sessions
    [mail] = [m for m in outbox(services) if m["subject"].startswith("New sign-in")]
    assert "Signed in with: password, recovery code" in mail["body"]


def test_an_authenticator_code_is_named_an_authenticator_app_code(make_user, auth, enrol, client):
    person = make_user()
    secret = enrol.totp(person)
    auth.sign_in(person.email, person.password)
    assert _post_code(client, "/login/totp", enrol.code_now(secret)).status_code == 302
    assert _signed_in_with(client.get("/?lang=en").get_data(as_text=True)) == "password, authenticator app code"


@pytest.mark.parametrize(("kind", "words"), [("security_key", "password, security key"), ("passkey", "password, passkey")])
def test_a_security_key_and_a_passkey_are_named_apart(make_user, auth, enrol, client, kind, words):
    person = make_user()
    soft = enrol.key(person, kind=kind, name="Key", backup=kind == "passkey")
    auth.sign_in(person.email, person.password)
    page = client.get("/login/security-key").get_data(as_text=True)
    response = client.post("/login/security-key", data={"csrf_token": csrf_of(page), "credential": soft.get(options_of(page))})
    assert response.status_code == 302
    assert _signed_in_with(client.get("/?lang=en").get_data(as_text=True)) == words


def test_kauth_is_named_kauth(make_user, auth, client, services, clock):
    from tests.kauth.conftest import Phone
    from tests.kauth.conftest import waiting_number

    person = make_user()
    user = services.users.get(person.id)
    kauth = services.get(KAUTH)
    phone = Phone(client, clock)
    assert phone.enrol(kauth.start_enrolment(user).token, name="Pixel").status_code == 201
    auth.sign_in(person.email, person.password)
    page = client.get("/login/kauth").get_data(as_text=True)
    [challenge] = phone.pending()
    assert phone.answer(challenge["id"], "approve", waiting_number(page)).status_code == 200
    done = client.post("/login/kauth", data={"csrf_token": csrf_of(page), "action": "check"})
    assert done.status_code == 302
    assert _signed_in_with(client.get("/?lang=en").get_data(as_text=True)) == "password, kAuth approval on a phone"


def test_a_session_from_before_the_methods_were_kept_reads_its_amr(app):
    from idp.foundation.sessions import BrowserSession
    from idp.web.i18n import signin_words

    old = BrowserSession(digest="d", user_id=1, created=0, last_seen=0, auth_time=0, expires=1, ip="", user_agent="",
                         amr=["mfa", "otp", "pwd"])
    with app.test_request_context("/?lang=en"):
        assert signin_words(old) == "password, authenticator code"


def test_the_activity_log_says_how_each_sign_in_was_proven_and_when_for_its_reader(
    make_user, auth, enrol, client, mfa, services,
):
    person = make_user()
    enrol.totp(person)
    code = mfa.shown_codes(enrol.user(person))[0]
    auth.sign_in(person.email, person.password)
    assert _post_code(client, "/login/recovery-code", code).status_code == 302
    page = client.get("/security/activity/?lang=en").get_data(as_text=True)
    assert "Signed in<span class=\"hint\"> · password, recovery code</span>" in page
    assert "When (UTC)" not in page and not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", page)
    services.accounts.set_timezone(services.users.get(person.id), "Asia/Tokyo")
    assert "JST" in client.get("/security/activity/?lang=en").get_data(as_text=True)
