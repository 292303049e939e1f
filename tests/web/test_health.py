"""Operational endpoints and the behaviour when a store does not answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from idp import create_app
from tests.conftest import csrf_of
from tests.conftest import make_settings


def test_healthz_and_readyz_answer_json(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ready", "checks": {"database": True, "redis": True}}


def test_metrics_count_requests_and_sign_ins(client, auth, make_user):
    person = make_user()
    auth.sign_in(person.email, "wrong password")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'idp_signins_total{outcome="failure"}' in text
    assert "idp_http_requests_total" in text


@pytest.fixture
def app_without_redis(tmp_path: Path, database_url: str, clean_stores):
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    settings = make_settings(tmp_path, database_url, "redis://127.0.0.1:1/0")
    app = create_app(settings)
    yield app
    app.extensions["idp"].close()


def test_redis_down_means_a_clear_503_page_and_json(app_without_redis):
    client = app_without_redis.test_client()
    page = client.get("/login")
    token = csrf_of(page.get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token, "login": "a@example.com"})
    assert response.status_code == 503
    assert "temporarily unavailable" in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "30"
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"] == {"database": True, "redis": False}
    # a signed-in page asked for while Redis is down: 503, not a traceback
    client.set_cookie("idp_session", "x" * 43)
    assert client.get("/", headers={"Accept": "application/json"}).get_json()["error"] == "temporarily_unavailable"


def test_unknown_page_and_wrong_method_get_pages_not_tracebacks(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "Page not found" in response.get_data(as_text=True)
    response = client.delete("/login")
    assert response.status_code == 405
    assert client.get("/no-such-page", headers={"Accept": "application/json"}).get_json()["error"] == "not_found"


def test_oversized_body_is_refused_with_413(client):
    response = client.post("/login", data={"login": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def test_request_id_is_taken_from_the_proxy_when_well_formed(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc12345-req"}).headers["X-Request-ID"] == "abc12345-req"
    assert client.get("/healthz", headers={"X-Request-ID": "bad id <script>"}).headers["X-Request-ID"] != "bad id <script>"
