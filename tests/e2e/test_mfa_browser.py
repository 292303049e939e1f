"""The authenticator app and recovery codes in a real browser: set up, sign in with each, make new
codes, and remove the app after confirming it is you again."""

from __future__ import annotations

from typing import Any

from idp.mfa.totp import code_at
from idp.mfa.totp import step_of
from tests.e2e.conftest import sign_in
from tests.e2e.conftest import sign_out


def _code(services: Any, secret: str, steps_ahead: int = 0) -> str:
    """What the app on the phone shows, on the service's clock (one step ahead: the next code)."""
    return code_at(secret, step_of(services.clock.now()) + steps_ahead)


def test_authenticator_app_and_recovery_codes(page, make_user, services):
    person = make_user(display_name="Ada Lovelace")
    sign_in(page, person.email, person.password)

    # Set up the app: the key typed by hand, a wrong code first, then the right one.
    page.goto("/mfa")
    assert page.get_by_text("Two-step verification is off").is_visible()
    page.get_by_role("link", name="Set up an authenticator app").click()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert page.get_by_role("figure", name="QR code of your authenticator key").locator("svg").count() == 1
    wrong = "000000" if _code(services, secret) != "000000" else "111111"
    page.get_by_label("6-digit code").fill(wrong)
    page.get_by_role("button", name="Confirm").click()
    assert page.get_by_label("6-digit code").get_attribute("aria-invalid") == "true"
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("6-digit code").fill(_code(services, secret))
    page.get_by_role("button", name="Confirm").click()

    # The first second step: the recovery codes, shown once.
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("button", name="I have saved my codes").click()
    assert page.get_by_text("Two-step verification is on").is_visible()
    assert page.locator("#codes-left").inner_text() == "10 recovery codes left."

    # Sign in with the password and the app's next code.
    sign_out(page)
    sign_in(page, person.email, person.password)
    page.get_by_role("heading", name="Enter the code from your authenticator app").wait_for()
    page.get_by_label("6-digit code").fill(_code(services, secret))  # already used to set it up
    page.get_by_role("button", name="Verify").click()
    assert page.locator("#code-error").inner_text() == "This code was already used. Wait for the next one."
    page.get_by_label("6-digit code").fill(_code(services, secret, steps_ahead=1))
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("heading", name="Hello, Ada Lovelace").wait_for()
    page.goto("/security/sessions")
    assert page.get_by_role("cell", name="password, authenticator app code", exact=True).is_visible()

    # Phone lost: sign in with a recovery code instead, which works once.
    sign_out(page)
    sign_in(page, person.email, person.password)
    page.get_by_role("link", name="Try another way").click()
    page.get_by_role("link", name="Recovery code").click()
    page.get_by_label("Recovery code").fill(codes[0].lower())
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("heading", name="Hello, Ada Lovelace").wait_for()
    page.goto("/mfa")
    assert page.locator("#codes-left").inner_text() == "9 recovery codes left."
    sign_out(page)
    sign_in(page, person.email, person.password)
    page.get_by_role("link", name="Try another way").click()
    page.get_by_role("link", name="Recovery code").click()
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    assert page.get_by_label("Recovery code").get_attribute("aria-invalid") == "true"
    page.get_by_label("Recovery code").fill(codes[1])
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("heading", name="Hello, Ada Lovelace").wait_for()

    # A new set of codes replaces the old one.
    page.goto("/mfa")
    page.get_by_role("link", name="Make new recovery codes").click()
    page.get_by_role("button", name="Make new codes").click()
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    fresh = page.locator("#recovery-codes li").all_inner_texts()
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    page.get_by_role("button", name="I have saved my codes").click()
    assert page.locator("#codes-left").inner_text() == "10 recovery codes left."

    # Later: removing the app asks to confirm it is you, then warns it is the last second step.
    services.clock.advance(seconds=services.settings.security.recent_auth_max_age + 60)
    page.get_by_role("link", name="Remove the authenticator app").click()
    page.get_by_role("heading", name="Confirm it is you").wait_for()
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_label("Password").get_attribute("aria-invalid") == "true"
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Remove your authenticator app?").wait_for()
    page.get_by_role("button", name="Remove").click()
    assert page.get_by_label("I understand that my account will be protected by my password only.") \
        .get_attribute("aria-invalid") == "true"
    page.get_by_label("I understand that my account will be protected by my password only.").check()
    page.get_by_role("button", name="Remove").click()
    assert page.get_by_text("Your authenticator app was removed.").is_visible()
    assert page.get_by_text("Two-step verification is off").is_visible()
    sign_out(page)
    sign_in(page, person.email, person.password)
    page.get_by_role("heading", name="Hello, Ada Lovelace").wait_for()
