"""Re-authentication before sensitive changes."""

from __future__ import annotations

from flask import Blueprint

from idp.web.current import recent_auth_required
from tests.conftest import csrf_of
from tests.conftest import events


def _sensitive_page(app):
    bp = Blueprint("sensitive_probe", __name__)

    @bp.get("/probe/sensitive")
    @recent_auth_required
    def sensitive():
        return "sensitive ok"

    app.register_blueprint(bp)


def test_an_old_sign_in_must_enter_the_password_again(app, client, auth, make_user, clock, services):
    _sensitive_page(app)
    person = make_user()
    auth.sign_in(person.email, person.password)
    assert client.get("/probe/sensitive").get_data(as_text=True) == "sensitive ok"
    clock.advance(minutes=11)
    response = client.get("/probe/sensitive")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/reauth?next=/probe/sensitive")
    page = client.get(response.headers["Location"])
    token = csrf_of(page.get_data(as_text=True))
    wrong = client.post("/reauth", data={"csrf_token": token, "password": "nope", "next": "/probe/sensitive"})
    assert wrong.status_code == 401 and "Wrong password." in wrong.get_data(as_text=True)
    ok = client.post("/reauth", data={"csrf_token": token, "password": person.password, "next": "/probe/sensitive"})
    assert ok.headers["Location"] == "/probe/sensitive"
    assert client.get("/probe/sensitive").get_data(as_text=True) == "sensitive ok"
    assert [e["tag"] for e in events(services) if "reauth" in e["tag"]] == [
        "account:reauth:failed", "account:reauth:succeeded"]


def test_reauth_refuses_an_off_site_next(client, auth, make_user):
    person = make_user()
    auth.sign_in(person.email, person.password)
    token = csrf_of(client.get("/reauth").get_data(as_text=True))
    ok = client.post("/reauth", data={"csrf_token": token, "password": person.password, "next": "https://evil.example/"})
    assert ok.headers["Location"] == "/"


def test_reauth_needs_a_session(client):
    assert client.get("/reauth").status_code == 302
