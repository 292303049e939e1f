"""Signing in through the browser pages: the happy path, every refusal, and bad input."""

from __future__ import annotations

import re
from typing import Any

import pytest

from idp.mfa import MFA
from tests.conftest import csrf_of
from tests.conftest import events


def test_sign_in_lands_on_the_account_page_with_a_server_side_session(client, auth, make_user, services):
    person = make_user(display_name="Ada Lovelace")
    response = auth.sign_in(person.email, person.password)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    cookie = client.get_cookie("idp_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    home = client.get("/")
    assert home.status_code == 200
    assert "Ada Lovelace" in home.get_data(as_text=True)
    sessions = services.sessions.list(person.id)
    assert len(sessions) == 1 and sessions[0].amr == ["pwd"]
    [event] = events(services, "account:signin:succeeded")
    assert event["user_id"] == person.id and event["product"] == "signin"


def test_the_cookie_carries_only_an_opaque_id_that_changes_at_each_sign_in(client, auth, make_user, services):
    person = make_user()
    auth.sign_in(person.email, person.password)
    first = client.get_cookie("idp_session").value
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", first)
    # Redis holds a digest of it, so a copy of Redis hands out no working cookie
    keys = list(services.redis.scan_iter("idp:*"))
    assert keys and not any(first in k for k in keys)
    assert all(services.redis.ttl(k) > 0 for k in keys)
    auth.logout()
    auth.sign_in(person.email, person.password)
    assert client.get_cookie("idp_session").value != first


def test_a_signed_out_visitor_is_sent_to_sign_in_and_back(client, auth, make_user):
    person = make_user()
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    response = auth.sign_in(person.email, person.password, next_url="/?tab=1")
    assert response.headers["Location"] == "/?tab=1"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"])
def test_next_pointing_off_site_is_refused_with_a_message(client, auth, make_user, target):
    person = make_user()
    page = client.get("/login", query_string={"next": target})
    assert page.status_code == 200
    assert "pointed to another site" in page.get_data(as_text=True)
    response = auth.sign_in(person.email, person.password, next_url=target)
    assert response.headers["Location"] == "/"


def _failure_page(auth: Any, email: str, password: str) -> tuple[int, str]:
    auth.identify(email)
    response = auth.password(password)
    body = response.get_data(as_text=True)
    return response.status_code, body


def test_unknown_account_wrong_password_and_disabled_account_get_the_same_answer(auth, make_user, services):
    person = make_user()
    disabled = make_user()
    services.accounts.disable(services.accounts.user(disabled.id))
    wrong = _failure_page(auth, person.email, "not the password")
    unknown = _failure_page(auth, "nobody@example.com", "whatever password")
    off = _failure_page(auth, disabled.email, disabled.password)
    for status, body in (wrong, unknown, off):
        assert status == 401
        assert "Wrong e-mail or password." in body
    reasons = [e["details"]["reason"] for e in events(services, "account:signin:failed")]
    assert reasons == ["password", "unknown_account", "disabled"]
    # the e-mail typed for an unknown account is not kept in the log
    assert "nobody@example.com" not in str(events(services))


def test_password_is_rehashed_when_the_parameters_change(auth, make_user, services):
    person = make_user()
    before = services.accounts.user(person.id).password_hash
    services.passwords.hasher = type(services.passwords.hasher)(time_cost=2, memory_cost=64, parallelism=1)
    auth.sign_in(person.email, person.password)
    after = services.accounts.user(person.id).password_hash
    assert after != before and "t=2" in after
    assert events(services, "account:password:rehashed")


def test_logout_ends_the_server_side_session(client, auth, make_user, services):
    person = make_user()
    auth.sign_in(person.email, person.password)
    response = auth.logout()
    assert response.headers["Location"] == "/logged-out"
    assert services.sessions.list(person.id) == []
    assert client.get("/").status_code == 302
    assert events(services, "account:session:logout")


def test_a_session_ended_in_redis_is_refused_on_the_next_request(client, auth, make_user, services):
    person = make_user()
    auth.sign_in(person.email, person.password)
    assert client.get("/").status_code == 200
    services.redis.flushdb()  # another worker, or its owner elsewhere, ended it
    response = client.get("/")
    assert response.status_code == 302
    assert "idp_session=;" in response.headers.get("Set-Cookie", "")


def test_idle_timeout_ends_the_session(client, auth, make_user, clock):
    person = make_user()
    auth.sign_in(person.email, person.password)
    clock.advance(minutes=29)
    assert client.get("/").status_code == 200
    clock.advance(minutes=31)
    assert client.get("/").status_code == 302


def test_absolute_lifetime_ends_an_active_session(client, auth, make_user, clock):
    person = make_user()
    auth.sign_in(person.email, person.password)
    for _ in range(26):  # active every 28 minutes for 12 hours
        clock.advance(minutes=28)
        client.get("/")
    assert client.get("/").status_code == 302


# -- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("login", "message"),
    [
        ("", "Enter your e-mail address."),
        ("not-an-email", "Enter a valid e-mail address."),
        ("a" * 400 + "@example.com", "This e-mail address is too long."),
    ],
)
def test_identify_refuses_bad_e_mail_with_a_clear_message(client, login, message):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token, "login": login})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert message in body and 'aria-invalid="true"' in body


def test_empty_and_huge_passwords_get_a_message(auth, make_user):
    person = make_user()
    auth.identify(person.email)
    response = auth.password("")
    assert response.status_code == 401 and "Enter your password." in response.get_data(as_text=True)
    response = auth.password("x" * 5000)
    assert response.status_code == 401 and "This password is too long." in response.get_data(as_text=True)


def test_wrong_or_missing_csrf_token_is_refused_with_a_page(client):
    client.get("/login")
    for data in ({"login": "a@example.com"}, {"login": "a@example.com", "csrf_token": "forged"}):
        response = client.post("/login", data=data)
        assert response.status_code == 400
        assert "This form has expired" in response.get_data(as_text=True)


def test_password_step_without_a_flow_starts_again(client):
    response = client.get("/login/password")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login/password", data={"password": "x", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_an_expired_flow_starts_again(client, auth, make_user, services):
    person = make_user()
    auth.identify(person.email)
    token = csrf_of(client.get("/login/password").get_data(as_text=True))
    services.redis.flushdb()  # the flow expired while the page was open
    response = client.post("/login/password", data={"csrf_token": token, "password": person.password})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "has expired" in client.get("/login").get_data(as_text=True)


def test_sign_in_pages_speak_french(client):
    page = client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    body = page.get_data(as_text=True)
    assert '<html lang="fr">' in body and "Se connecter" in body
    page = client.get("/login?lang=en", headers={"Accept-Language": "fr"})
    assert "Sign in" in page.get_data(as_text=True)
    # the choice is remembered
    assert "Sign in" in client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)


def test_security_headers_on_pages(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain http here
    assert response.headers["X-Request-ID"]


def test_a_language_link_while_signed_in_changes_the_page_not_the_account(client, auth, make_user, services):
    person = make_user(locale="en")
    auth.sign_in(person.email, person.password)
    page = client.get("/?lang=fr")
    assert "Bonjour" in page.get_data(as_text=True)
    assert "Bonjour" in client.get("/").get_data(as_text=True)  # kept by the cookie
    # A GET stores nothing: the account (and its mail) keeps its language; the account page's
    # form changes it (tests/account/test_language.py).
    assert services.accounts.user(person.id).locale == "en"


def _statements(services: Any) -> Any:
    """Records the SQL statements run on the app's engine while the block runs."""
    import contextlib

    from sqlalchemy import event

    @contextlib.contextmanager
    def recording() -> Any:
        seen: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            seen.append(" ".join(statement.split()))

        event.listen(services.db.engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(services.db.engine, "before_cursor_execute", record)

    return recording()


def test_the_password_step_reads_each_thing_once(client, auth, make_user, services):
    # The work besides the hash is the sign-in's own cost: the account, its second factors (one
    # question per capability that has some), the event, the notification choice read with
    # whether this device and network are known (one statement, its first FROM is the places'
    # count), and the place recorded (one upsert); the SSO decision was taken at the e-mail step
    # and travels in the flow.
    person = make_user()
    auth.identify(person.email)
    with _statements(services) as seen:
        response = auth.password(person.password)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    tables = [re.search(r"\b(?:FROM|INTO)\s+(\w+)", s).group(1) for s in seen if not s.startswith(("BEGIN", "COMMIT"))]
    assert sorted(tables) == sorted(
        ["users", "mfa_totp", "kauth_devices", "events", "security_known_places", "security_known_places"]
    )
    assert sum("security_notification_prefs" in s for s in seen) == 1


def test_a_second_factor_is_still_asked_when_the_account_has_one(client, auth, make_user, services):
    person = make_user()
    mfa = services.get(MFA)
    mfa.sql.set_totp(person.id, secret_enc=services.secrets.encrypt("JBSWY3DPEHPK3PXP"), step=0,
                     now=services.clock.now())
    response = auth.sign_in(person.email, person.password)
    assert response.status_code == 302 and response.headers["Location"] == "/login/totp"
    assert services.sessions.list(person.id) == []
