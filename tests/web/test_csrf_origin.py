"""The CSRF defence behind a TLS proxy: token, then the browser's Origin (or Referer) must be ours."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_of

BASE = "https://id.example.test"


@pytest.fixture
def settings_overrides():
    return {"server": {"base_url": BASE, "trusted_proxies": 1}}


def _form(client):
    page = client.get("/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "id.example.test"})
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "same-origin"
    return csrf_of(page.get_data(as_text=True))


def _post(client, token, **headers):
    return client.post(
        "/login", data={"csrf_token": token, "login": "someone@example.com"},
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "id.example.test", **headers},
    )


def test_a_form_posted_over_https_without_a_referer_is_accepted_on_its_token(client):
    # A browser behind the proxy that sends neither Origin nor Referer (strict privacy settings).
    answer = _post(client, _form(client))
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/login/password")


def test_a_form_posted_from_our_own_origin_is_accepted(client):
    answer = _post(client, _form(client), Origin=BASE, Referer=f"{BASE}/login")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/login/password")


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "http://id.example.test"},  # the same host over plain http is another origin
    {"Origin": "null"},
    {"Referer": "https://evil.example/page"},
])
def test_a_form_posted_from_another_site_is_refused_even_with_a_valid_token(client, headers):
    answer = _post(client, _form(client), **headers)
    assert answer.status_code == 400
    assert "This form has expired" in answer.get_data(as_text=True)


def test_a_form_without_its_token_is_refused_even_from_our_origin(client):
    _form(client)
    answer = _post(client, "", Origin=BASE)
    assert answer.status_code == 400
