"""Sign-in in a real browser: the pages work without any script, and signing out ends the session."""

from __future__ import annotations

from tests.e2e.conftest import sign_in


def test_sign_in_and_out_in_chromium(page, make_user, services):
    person = make_user(display_name="Grace Hopper")
    sign_in(page, person.email, person.password)
    assert page.get_by_role("heading", name="Hello, Grace Hopper").is_visible()
    page.get_by_role("button", name="Sign out").click()
    assert page.get_by_role("heading", name="You are signed out").is_visible()
    assert services.sessions.list(person.id) == []


def test_wrong_password_shows_the_error_next_to_the_field(page, make_user):
    person = make_user()
    sign_in(page, person.email, "wrong password")
    field = page.get_by_label("Password")
    assert field.get_attribute("aria-invalid") == "true"
    assert page.locator("#password-error").inner_text() == "Wrong e-mail or password."
