"""The security center in a real browser: ending another browser's session, and the compromised-password wizard."""

from __future__ import annotations

import re

from tests.e2e.conftest import sign_in


def test_ending_another_session_signs_that_browser_out(browser, live_server, make_user, services):
    person = make_user()
    contexts = [browser.new_context(base_url=live_server.url, locale="en-GB") for _ in range(2)]
    try:
        mine, theirs = (c.new_page() for c in contexts)
        for p in (mine, theirs):
            p.set_default_timeout(10_000)
        sign_in(theirs, person.email, person.password)
        sign_in(mine, person.email, person.password)
        mine.goto("/security/sessions")
        rows = mine.locator("table.sessions tbody tr")
        assert rows.count() == 2
        assert mine.locator(".this-device").count() == 1
        mine.get_by_role("button", name="End this session").click()
        assert mine.get_by_text("The session has been ended").is_visible()
        assert rows.count() == 1
        theirs.goto("/security/sessions")
        assert theirs.url.startswith(live_server.url + "/login")  # signed out on its very next request
        assert len(services.sessions.list(person.id)) == 1
    finally:
        for c in contexts:
            c.close()


def test_the_compromised_password_wizard(page, make_user, services):
    person = make_user()
    sign_in(page, person.email, person.password)
    page.goto("/security/")
    page.get_by_role("link", name="Secure your account step by step").click()
    page.get_by_label("Current password").fill(person.password)
    page.get_by_label("New password", exact=True).fill("password123")
    page.get_by_label("New password again").fill("password123")
    page.get_by_role("button", name="Change the password and continue").click()
    assert page.locator("#new_password-error").inner_text().startswith("This password is too common")
    page.get_by_label("Current password").fill(person.password)
    page.get_by_label("New password", exact=True).fill("a brand new passphrase")
    page.get_by_label("New password again").fill("a brand new passphrase")
    page.get_by_role("button", name="Change the password and continue").click()
    assert page.get_by_role("heading", name="Step 2: revoke access").is_visible()
    assert page.get_by_label("Sign out every other device").is_checked()
    page.get_by_role("button", name="Revoke and continue").click()
    assert page.get_by_role("heading", name="Step 3: review your security settings").is_visible()
    assert page.get_by_role("cell", name="Active sessions", exact=True).is_visible()
    # every "Manage" link names its setting for screen-reader users listing links
    assert page.get_by_role("link", name=re.compile(r"^Manage\W+Active sessions$")).is_visible()
    page.get_by_role("button", name="Finish").click()
    assert page.get_by_text("Done. We sent you an e-mail").is_visible()
    user = services.accounts.user(person.id)
    assert services.passwords.verify(user.password_hash, "a brand new passphrase").ok
