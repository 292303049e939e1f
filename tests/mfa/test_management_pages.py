"""The security pages: enrol an app, add/rename/remove keys, recovery codes, confirmation of the last factor."""

from __future__ import annotations

import re

import pytest

from idp.mfa import totp as totp_rules
from tests.conftest import csrf_of
from tests.conftest import events
from tests.mfa.conftest import ORIGIN
from tests.mfa.conftest import options_of
from tests.mfa.softauthn import SoftAuthenticator

SECRET = re.compile(r'<code id="totp-secret" class="secret">([A-Z2-7 ]+)</code>')


@pytest.fixture
def signed_in(make_user, auth):
    person = make_user()
    auth.sign_in(person.email, person.password)
    return person


def _post(client, url, data, page_url=None):
    page = client.get(page_url or url)
    return client.post(url, data={"csrf_token": csrf_of(page.get_data(as_text=True)), **data})


def test_the_overview_needs_a_signed_in_person(client):
    response = client.get("/mfa")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_overview_says_it_is_off_and_the_nav_links_it(signed_in, client):
    page = client.get("/mfa").get_data(as_text=True)
    assert "Two-step verification is off" in page
    assert 'href="/mfa" aria-current="page">Two-step verification</a>' in page  # the nav links it, marked current


def test_enrolling_the_app_shows_a_qr_code_and_the_secret_then_the_codes(signed_in, client, clock, services, outbox_messages):
    page = client.get("/mfa/totp")
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "<svg" in html
    secret = SECRET.search(html).group(1).replace(" ", "")
    code = totp_rules.code_at(secret, totp_rules.step_of(clock.now()))
    response = client.post("/mfa/totp", data={"csrf_token": csrf_of(html), "code": code})
    assert response.status_code == 302 and response.headers["Location"] == "/mfa/recovery-codes"
    codes_page = client.get("/mfa/recovery-codes").get_data(as_text=True)
    codes = re.findall(r"<li><code>([A-Z0-9-]{14})</code></li>", codes_page)
    assert len(codes) == 10
    download = client.get("/mfa/recovery-codes.txt")
    assert download.headers["Content-Disposition"] == 'attachment; filename="recovery-codes.txt"'
    assert all(c in download.get_data(as_text=True) for c in codes)
    client.post("/mfa/recovery-codes/done", data={"csrf_token": csrf_of(codes_page)})
    assert client.get("/mfa/recovery-codes").status_code == 302  # shown once
    overview = client.get("/mfa").get_data(as_text=True)
    assert "Two-step verification is on" in overview and "10 recovery codes left." in overview
    assert events(services, "mfa:totp:added")[0]["user_id"] == signed_in.id
    assert "second step was added" in outbox_messages()[-1]["subject"]


@pytest.mark.parametrize(("code", "message"), [
    ("000000", "This code is not valid"),
    ("abc", "Enter the 6-digit code from your app."),
    ("9" * 10_000, "Enter the 6-digit code from your app."),
    ("", "Enter the 6-digit code from your app."),
])
def test_a_bad_confirmation_code_keeps_the_app_off(signed_in, client, mfa, services, code, message):
    response = _post(client, "/mfa/totp", {"code": code})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert mfa.has_totp(services.users.get(signed_in.id)) is False


def test_forms_without_csrf_are_refused(signed_in, client):
    for url in ("/mfa/totp", "/mfa/keys/add?kind=security_key", "/mfa/recovery-codes/new", "/mfa/keys/1/rename"):
        assert client.post(url, data={"code": "123456", "name": "x"}).status_code == 400


def test_enrolment_needs_a_recent_sign_in(signed_in, client, clock):
    clock.advance(minutes=11)
    response = client.get("/mfa/totp")
    assert response.status_code == 302 and response.headers["Location"].startswith("/reauth?next=/mfa/totp")


def test_an_unknown_kind_of_key_is_not_found(signed_in, client):
    assert client.get("/mfa/keys/add?kind=toaster").status_code == 404


def test_adding_a_key_through_the_page(signed_in, client, mfa, services):
    html = client.get("/mfa/keys/add?kind=passkey").get_data(as_text=True)
    soft = SoftAuthenticator(ORIGIN)
    response = client.post("/mfa/keys/add?kind=passkey", data={
        "csrf_token": csrf_of(html), "name": "Work laptop", "credential": soft.create(options_of(html))})
    assert response.status_code == 302 and response.headers["Location"] == "/mfa/recovery-codes"
    overview = client.get("/mfa").get_data(as_text=True)
    assert "Work laptop" in overview and "Passkey" in overview and "Never" in overview


@pytest.mark.parametrize(("name", "credential", "message"), [
    ("", "{}", "Give it a name"),
    ("x" * 65, "{}", "at most 64 characters"),
    ("Key", "not json", "could not be verified"),
])
def test_bad_input_on_the_add_key_page(signed_in, client, name, credential, message):
    response = _post(client, "/mfa/keys/add?kind=security_key", {"name": name, "credential": credential})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_rename_a_key(signed_in, client, enrol, mfa, services):
    enrol.key(signed_in, name="Old")
    [cred] = mfa.credentials(enrol.user(signed_in))
    response = _post(client, f"/mfa/keys/{cred.id}/rename", {"name": "  New   name "}, page_url="/mfa")
    assert response.status_code == 302
    assert mfa.credentials(enrol.user(signed_in))[0].name == "New name"
    assert events(services, "mfa:webauthn:renamed")[0]["details"]["name"] == "New name"
    _post(client, f"/mfa/keys/{cred.id}/rename", {"name": "y" * 200}, page_url="/mfa")
    assert mfa.credentials(enrol.user(signed_in))[0].name == "New name"


def test_someone_elses_key_is_not_found(signed_in, client, enrol, make_user, mfa):
    other = make_user()
    enrol.key(other)
    [cred] = mfa.credentials(enrol.user(other))
    assert client.get(f"/mfa/keys/{cred.id}/remove").status_code == 404
    assert _post(client, f"/mfa/keys/{cred.id}/rename", {"name": "Mine"}, page_url="/mfa/totp").status_code == 404


def test_removing_one_of_two_factors_asks_once(signed_in, client, enrol, mfa, services, outbox_messages):
    enrol.totp(signed_in)
    enrol.key(signed_in, name="Blue key")
    [cred] = mfa.credentials(enrol.user(signed_in))
    page = client.get(f"/mfa/keys/{cred.id}/remove").get_data(as_text=True)
    assert "Remove Blue key?" in page and "last second step" not in page
    response = client.post(f"/mfa/keys/{cred.id}/remove", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 302
    assert mfa.credentials(enrol.user(signed_in)) == []
    assert events(services, "mfa:webauthn:removed")[0]["details"]["name"] == "Blue key"
    assert "second step was removed" in outbox_messages()[-1]["subject"]


def test_removing_the_last_factor_needs_an_explicit_confirmation(signed_in, client, enrol, mfa, services):
    enrol.totp(signed_in)
    page = client.get("/mfa/totp/remove").get_data(as_text=True)
    assert "This is your last second step" in page
    response = client.post("/mfa/totp/remove", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 400
    assert "Tick the box" in response.get_data(as_text=True)
    assert mfa.has_totp(enrol.user(signed_in))
    response = client.post("/mfa/totp/remove", data={"csrf_token": csrf_of(page), "understood": "y"})
    assert response.status_code == 302
    assert not mfa.has_totp(enrol.user(signed_in))
    assert events(services, "mfa:totp:removed")
    assert "Two-step verification is off" in client.get("/mfa").get_data(as_text=True)


def test_regenerating_codes_shows_a_new_set_and_warns_when_few_are_left(signed_in, client, enrol, mfa, services):
    from tests.mfa.conftest import CTX

    enrol.totp(signed_in)
    user = enrol.user(signed_in)
    for code in mfa.shown_codes(user)[:8]:
        mfa.use_recovery_code(user, code, CTX)
    overview = client.get("/mfa").get_data(as_text=True)
    assert "2 recovery codes left." in overview and "You have few recovery codes left" in overview
    response = _post(client, "/mfa/recovery-codes/new", {})
    assert response.headers["Location"] == "/mfa/recovery-codes"
    assert mfa.codes_left(user) == 10
    assert len(events(services, "mfa:recovery_codes:generated")) == 2


def test_the_review_lists_each_method(signed_in, enrol, services, app):
    enrol.totp(signed_in)
    enrol.key(signed_in)
    enrol.key(signed_in, kind="passkey", name="Phone")
    user = enrol.user(signed_in)
    with app.test_request_context("/"):
        statuses = {item.label: item.status(user) for item in services.review if item.endpoint == "mfa.overview"}
    assert statuses == {
        "Authenticator app": "On",
        "Security keys and passkeys": "1 security key, 1 passkey",
        "Recovery codes": "10 recovery codes left",
    }


def test_the_overview_is_in_french(signed_in, client):
    page = client.get("/mfa?lang=fr").get_data(as_text=True)
    assert "Vérification en deux étapes" in page


def test_a_second_factor_can_confirm_a_sensitive_change(signed_in, client, enrol, clock, services):
    secret = enrol.totp(signed_in)
    clock.advance(minutes=11)
    response = client.get("/mfa/totp/remove")
    assert response.headers["Location"] == "/reauth?next=/mfa/totp/remove"
    reauth_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'href="/mfa/reauth?next=/mfa/totp/remove"' in reauth_page
    page = client.get("/mfa/reauth?next=/mfa/totp/remove").get_data(as_text=True)
    wrong = client.post("/mfa/reauth", data={"csrf_token": csrf_of(page), "code": "000000", "next": "/mfa/totp/remove"})
    assert wrong.status_code == 401
    assert events(services, "account:reauth:failed")[-1]["details"] == {"method": "totp"}
    response = client.post("/mfa/reauth", data={
        "csrf_token": csrf_of(page), "code": enrol.code_now(secret), "next": "/mfa/totp/remove"})
    assert response.status_code == 302 and response.headers["Location"] == "/mfa/totp/remove"
    assert client.get("/mfa/totp/remove").status_code == 200
    assert events(services, "account:reauth:succeeded")[-1]["details"] == {"method": "totp"}
    assert "otp" in services.sessions.list(signed_in.id)[0].amr


def test_a_security_key_can_confirm_a_sensitive_change(signed_in, client, enrol, clock, services):
    soft = enrol.key(signed_in)
    clock.advance(minutes=11)
    page = client.get("/mfa/reauth?next=/mfa/recovery-codes/new").get_data(as_text=True)
    response = client.post("/mfa/reauth", data={
        "csrf_token": csrf_of(page), "credential": soft.get(options_of(page)), "next": "/mfa/recovery-codes/new"})
    assert response.headers["Location"] == "/mfa/recovery-codes/new"
    assert client.get("/mfa/recovery-codes/new").status_code == 200


def test_without_a_second_factor_reauth_asks_for_the_password(signed_in, client):
    assert "Or confirm another way" not in client.get("/reauth?next=/mfa").get_data(as_text=True)
    assert client.get("/mfa/reauth?next=/mfa").headers["Location"] == "/reauth?next=/mfa"


def test_an_expired_app_set_up_asks_to_start_again(signed_in, client, mfa, services, clock):
    html = client.get("/mfa/totp").get_data(as_text=True)
    secret = SECRET.search(html).group(1).replace(" ", "")
    key = mfa.cache.user_key(signed_in.id, "totp:pending")
    assert 0 < services.redis.ttl(key) <= 3 * services.settings.mfa.challenge_ttl
    assert services.secrets.decrypt_str(services.redis.get(key)) == secret  # encrypted while pending
    services.redis.delete(key)  # what its TTL does
    code = totp_rules.code_at(secret, totp_rules.step_of(clock.now()))
    response = client.post("/mfa/totp", data={"csrf_token": csrf_of(html), "code": code})
    assert response.status_code == 400
    assert "This set-up has expired" in response.get_data(as_text=True)
    assert not mfa.has_totp(services.users.get(signed_in.id))
