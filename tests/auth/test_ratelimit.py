"""Per-IP rate limit on the sign-in endpoints."""

from __future__ import annotations

import pytest


@pytest.fixture
def settings_overrides():
    return {"ratelimit": {"signin_per_ip": 3, "signin_window": 60}}


def test_per_ip_rate_limit_answers_429_with_a_page(auth, make_user, clock):
    person = make_user()
    for _ in range(3):
        auth.identify(person.email)
        assert auth.password("wrong password").status_code == 401
    auth.identify(person.email)
    response = auth.password(person.password)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many attempts" in response.get_data(as_text=True)
    clock.advance(seconds=61)
    assert auth.password(person.password).status_code == 302
