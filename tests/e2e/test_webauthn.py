"""Security keys and passkeys in a real headless Chromium with a DevTools virtual authenticator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from idp.mfa import MFA
from tests.e2e.conftest import sign_in
from tests.e2e.conftest import sign_out
from tests.e2e.webauthn_helpers import VirtualAuthenticator
from tests.e2e.webauthn_helpers import relying_party_settings


@pytest.fixture
def settings_overrides(site: Any) -> dict[str, Any]:
    return relying_party_settings(site)


@pytest.fixture
def browser_context(browser: Any, live_server: Any, services: Any) -> Iterator[Any]:
    origin = live_server.localhost_url
    rp = services.get(MFA).rp
    assert (rp.rp_id, rp.origin) == ("localhost", origin)
    context = browser.new_context(base_url=origin, locale="en-GB")
    yield context
    context.close()


@pytest.fixture
def key_page(browser_context: Any) -> Any:
    page = browser_context.new_page()
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def authenticator(browser_context: Any, key_page: Any) -> VirtualAuthenticator:
    return VirtualAuthenticator(browser_context, key_page)


def _add(page: Any, link: str, name: str, button: str) -> None:
    page.goto("/mfa")
    page.get_by_role("link", name=link).click()
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name=button).click()


def test_security_key_and_passkey_from_registration_to_removal(key_page, authenticator, make_user, services):
    page = key_page
    person = make_user(display_name="Ada Lovelace")
    sign_in(page, person.email, person.password)

    # Register a security key: the first factor, so the recovery codes are shown once.
    _add(page, "Add a security key", "Blue key", "Register the key")
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    assert page.locator("#recovery-codes li").count() == 10
    page.get_by_role("button", name="I have saved my codes").click()
    assert page.get_by_role("cell", name="Blue key", exact=True).is_visible()
    assert page.get_by_role("cell", name="Security key", exact=True).is_visible()

    # Sign in with password + key.
    sign_out(page)
    sign_in(page, person.email, person.password)
    page.get_by_role("heading", name="Use your security key or passkey").wait_for()
    page.get_by_role("button", name="Use security key").click()
    page.get_by_role("heading", name="Hello, Ada Lovelace").wait_for()
    assert services.sessions.list(person.id)[0].amr == ["hwk", "mfa", "pwd"]

    # Register a passkey on the laptop itself (the key, already registered, is unplugged).
    authenticator.unplug()
    laptop = VirtualAuthenticator(key_page.context, page, transport="internal")
    _add(page, "Add a passkey", "Laptop passkey", "Create the passkey")
    page.get_by_text("Your passkey was added.").wait_for()
    assert page.get_by_role("cell", name="Laptop passkey", exact=True).is_visible()
    assert any(c["isResidentCredential"] for c in laptop.credentials())

    # Sign in with the passkey alone: no e-mail, no password.
    sign_out(page)
    page.goto("/login")
    page.get_by_role("link", name="Sign in with a passkey").click()
    page.get_by_role("button", name="Use a passkey").click()
    page.get_by_role("heading", name="Hello, Ada Lovelace").wait_for()
    amr = sorted(s.amr for s in services.sessions.list(person.id))[-1]
    assert "user" in amr and "mfa" in amr and "pwd" not in amr

    # Remove the security key (not the last factor: one confirmation).
    page.goto("/mfa")
    page.get_by_role("link", name="Remove Blue key").click()
    page.get_by_role("heading", name="Remove Blue key?").wait_for()
    page.get_by_role("button", name="Remove").click()
    page.get_by_text("“Blue key” was removed.").wait_for()
    assert page.get_by_role("cell", name="Blue key", exact=True).count() == 0

    # Rename the passkey.
    page.get_by_label("New name for Laptop passkey").fill("Work laptop")
    page.get_by_role("button", name="Rename Laptop passkey").click()
    page.get_by_text("The name was changed.").wait_for()
    assert page.get_by_label("New name for Work laptop").input_value() == "Work laptop"
    assert [c.name for c in services.get(MFA).credentials(services.users.get(person.id))] == ["Work laptop"]


def test_a_refused_passkey_shows_a_message_and_can_be_retried(key_page, authenticator, make_user, services):
    page = key_page
    person = make_user(display_name="Grace Hopper")
    sign_in(page, person.email, person.password)
    _add(page, "Add a passkey", "Phone", "Create the passkey")
    page.get_by_role("button", name="I have saved my codes").click()

    # The same authenticator twice: the browser refuses (InvalidStateError), the page says why.
    _add(page, "Add a passkey", "Phone again", "Create the passkey")
    page.locator("[data-webauthn-status]").get_by_text("already registered on your account").wait_for()
    assert page.get_by_role("button", name="Try again").is_visible()
    sign_out(page)

    authenticator.set_user_verified(False)
    page.goto("/login/passkey")
    page.get_by_role("button", name="Use a passkey").click()
    status = page.locator("[data-webauthn-status]")
    status.get_by_text("cancelled or timed out").wait_for()
    assert services.sessions.list(person.id) == []

    authenticator.set_user_verified(True)
    page.get_by_role("button", name="Try again").click()
    page.get_by_role("heading", name="Hello, Grace Hopper").wait_for()
