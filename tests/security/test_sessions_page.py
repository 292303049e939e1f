"""The sessions page: every live session with its device, IP, times and methods; end one or all others."""

from __future__ import annotations

from idp.foundation.sessions import digest_of
from idp.model import RequestContext
from tests.conftest import AuthActions
from tests.conftest import csrf_of
from tests.conftest import events
from tests.security.conftest import UA_CHROME_WIN
from tests.security.conftest import UA_FIREFOX
from tests.security.conftest import post_form


def test_the_page_lists_each_session_with_its_device_and_marks_this_one(app, client, auth, make_user, services):
    person = make_user()
    services.sessions.create(person.id, RequestContext(ip="198.51.100.7", user_agent=UA_CHROME_WIN), amr=["pwd", "otp"])
    client.environ_base["HTTP_USER_AGENT"] = UA_FIREFOX
    auth.sign_in(person.email, person.password)
    html = client.get("/security/sessions").get_data(as_text=True)
    assert "Chrome 120 on Windows 10" in html and "198.51.100.7" in html and "password, authenticator code" in html
    assert "Firefox 120 on Linux" in html
    assert html.count("(this device)") == 1
    assert html.count("End this session") == 1  # not offered for the session in use


def _digest_of_cookie(client) -> str:
    return digest_of(client.get_cookie("idp_session").value)


def test_ending_another_session_signs_that_browser_out_on_its_next_request(app, make_user, services):
    person = make_user()
    mine, theirs = app.test_client(), app.test_client()
    AuthActions(theirs).sign_in(person.email, person.password)
    assert theirs.get("/").status_code == 200
    AuthActions(mine).sign_in(person.email, person.password)
    [other] = [s for s in services.sessions.list(person.id) if s.digest == _digest_of_cookie(theirs)]
    response = post_form(mine, f"/security/sessions/{other.handle}/end", form_page="/security/sessions")
    assert response.status_code == 302
    assert "signed out" in mine.get("/security/sessions").get_data(as_text=True)
    assert theirs.get("/").status_code == 302  # back to the sign-in page
    [ended] = events(services, "account:session:ended")
    assert ended["user_id"] == person.id and ended["actor_id"] == person.id
    assert ended["details"]["session"] == other.handle


def test_end_all_others_keeps_this_session(app, make_user, services):
    person = make_user()
    others = [app.test_client() for _ in range(2)]
    for c in others:
        AuthActions(c).sign_in(person.email, person.password)
    mine = app.test_client()
    AuthActions(mine).sign_in(person.email, person.password)
    response = post_form(mine, "/security/sessions/end-others", form_page="/security/sessions")
    assert response.status_code == 302
    assert "2 other session(s) ended" in mine.get("/security/sessions").get_data(as_text=True)
    assert all(c.get("/").status_code == 302 for c in others)
    assert mine.get("/").status_code == 200
    assert len(services.sessions.list(person.id)) == 1
    [ended] = events(services, "account:session:ended")
    assert ended["details"] == {"count": 2, "reason": "owner"}


def test_expired_sessions_drop_out_of_the_list(client, auth, make_user, services, clock):
    person = make_user()
    services.sessions.create(person.id, RequestContext(ip="198.51.100.7", user_agent=UA_CHROME_WIN), amr=["pwd"])
    clock.advance(seconds=services.settings.session.idle_timeout + 1)
    auth.sign_in(person.email, person.password)
    html = client.get("/security/sessions").get_data(as_text=True)
    assert "198.51.100.7" not in html


def test_bad_requests_are_refused_cleanly(client, auth, make_user, services):
    person = make_user()
    auth.sign_in(person.email, person.password)
    page = client.get("/").get_data(as_text=True)  # the sign-out form holds the session's CSRF token
    assert client.post("/security/sessions/abc/end").status_code == 400  # no CSRF token
    assert client.post("/security/sessions/end-others", data={"csrf_token": "forged"}).status_code == 400
    response = client.post("/security/sessions/" + "x" * 300 + "/end", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 302
    assert "already ended" in client.get("/security/sessions").get_data(as_text=True)
    this = services.sessions.list(person.id)[0]
    client.post(f"/security/sessions/{this.handle}/end", data={"csrf_token": csrf_of(page)})
    assert "To end this session, sign out." in client.get("/security/sessions").get_data(as_text=True)
    assert client.get("/").status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert client.get("/security/sessions").status_code == 302
    assert client.get("/security/").status_code == 302


def test_the_overview_lists_review_items_in_french(client, auth, make_user):
    person = make_user()
    auth.sign_in(person.email, person.password)
    html = client.get("/security/?lang=fr").get_data(as_text=True)
    assert "Sessions actives" in html and "Notifications de connexion" in html
    html = client.get("/security/sessions?lang=fr").get_data(as_text=True)
    assert "(cet appareil)" in html
