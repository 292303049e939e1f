"""The security center in a real browser: sessions, sign-in notifications, the lockout threshold and
unlocking (by the e-mailed link, by an organisation admin), and the compromised-password wizard."""

from __future__ import annotations

import re

from idp.model import Role
from tests.conftest import outbox
from tests.e2e.conftest import new_page
from tests.e2e.conftest import sign_in
from tests.production.servers import wait_until


def test_ending_another_session_signs_that_browser_out(browser, live_server, make_user, services):
    person = make_user()
    mine, theirs = (new_page(browser, live_server.url) for _ in range(2))
    try:
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

        # Signed in there again, and ended with every other session at once.
        sign_in(theirs, person.email, person.password)
        theirs.get_by_role("button", name="Sign out").wait_for()
        mine.reload()
        assert rows.count() == 2
        mine.get_by_role("button", name="Sign out every other session").click()
        assert mine.get_by_text("1 other session(s) ended.").is_visible()
        assert rows.count() == 1
        theirs.goto("/security/sessions")
        assert theirs.url.startswith(live_server.url + "/login")
    finally:
        for p in (mine, theirs):
            p.context.close()


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


def _mail(services, to: str, subject: str) -> dict:
    # Sign-in notifications are written once the response is sent (idp.events.after_answer).
    found = wait_until(lambda: [m for m in outbox(services) if m["to"] == to and subject in m["subject"]],
                       timeout=5, what=f"the mail {subject!r}")
    [message] = found
    return message


def _fail_sign_in(page, email: str, times: int) -> None:
    for _ in range(times):
        sign_in(page, email, "not the password")
        assert page.locator("#password-error").inner_text() == "Wrong e-mail or password."


def test_sign_in_notifications_are_sent_as_chosen(page, browser, live_server, make_user, services):
    person = make_user()
    sign_in(page, person.email, person.password)
    page.goto("/security/")
    page.get_by_role("link", name=re.compile(r"^Manage\W+Sign-in notifications$")).click()
    assert page.get_by_label("When a sign-in fails (recommended)").is_checked()
    page.get_by_label("Both").check()
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("Your notification settings are saved.").is_visible()
    assert page.get_by_label("Both").is_checked()

    other = new_page(browser, live_server.url)
    try:
        _fail_sign_in(other, person.email, 1)
        sign_in(other, person.email, person.password)
        other.get_by_role("button", name="Sign out").wait_for()
    finally:
        other.context.close()
    failed = _mail(services, person.email, "Failed sign-in to your")
    succeeded = _mail(services, person.email, "New sign-in to your")
    for message in (failed, succeeded):
        assert f"{live_server.url}/security/sessions" in message["body"]  # links to the public URL

    page.get_by_label("Never").check()
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("Your notification settings are saved.").is_visible()
    assert page.get_by_label("Never").is_checked()


def test_lockout_threshold_and_the_e_mailed_unlock_link(page, browser, live_server, make_user, services):
    person = make_user(display_name="Ada Lovelace")
    sign_in(page, person.email, person.password)
    page.goto("/security/")
    page.get_by_role("link", name="Lockout").click()
    threshold = page.get_by_label("Failed attempts before the account locks")
    threshold.fill("2")
    page.get_by_role("button", name="Save").click()
    assert threshold.get_attribute("aria-invalid") == "true"
    assert page.get_by_text("Choose a number from 3 to 100.").first.is_visible()
    threshold.fill("3")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("Your account now locks after 3 failed attempts.").is_visible()
    assert threshold.input_value() == "3"

    # Someone guesses three times: locked, and even the right password gets the same answer.
    guesser = new_page(browser, live_server.url)
    try:
        _fail_sign_in(guesser, person.email, 3)
        sign_in(guesser, person.email, person.password)
        assert guesser.locator("#password-error").inner_text() == "Wrong e-mail or password."
    finally:
        guesser.context.close()

    # The e-mailed link, on the public URL, unlocks it with a new password.
    body = _mail(services, person.email, "has been locked")["body"]
    link = re.search(r"\S+/unlock/\S+", body)
    assert link and link.group(0).startswith(live_server.url + "/unlock/")
    page.goto(link.group(0))
    page.get_by_role("heading", name="Unlock your account").wait_for()
    page.get_by_label("New password", exact=True).fill("a fresh passphrase for me")
    page.get_by_label("New password again").fill("a fresh passphrase for me")
    page.get_by_role("button", name="Unlock my account").click()
    page.get_by_role("heading", name="Your account is unlocked").wait_for()
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("E-mail address").fill(person.email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill("a fresh passphrase for me")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Hello, Ada Lovelace").wait_for()


def test_an_organisation_admin_unlocks_a_member(page, browser, live_server, make_user, services):
    admin = make_user(display_name="Olga Admin")
    member = make_user(display_name="Grace Member")
    org = services.accounts.create_org("acme", "Acme")
    services.accounts.add_member(org, services.accounts.user(admin.id), Role.ADMIN)
    services.accounts.add_member(org, services.accounts.user(member.id), Role.COLLABORATOR)
    locked_out = new_page(browser, live_server.url)
    try:
        _fail_sign_in(locked_out, member.email, services.accounts.user(member.id).lockout_threshold)

        sign_in(page, admin.email, admin.password)
        page.goto("/orgs/acme")
        page.get_by_role("link", name="Locked accounts").click()
        row = page.locator("table.locked tbody tr")
        assert row.count() == 1 and member.email in row.inner_text()
        page.get_by_role("button", name="Unlock Grace Member").click()
        assert page.get_by_text("Grace Member can sign in again.").is_visible()
        assert page.get_by_text("No member is locked out.").is_visible()

        sign_in(locked_out, member.email, member.password)
        locked_out.get_by_role("heading", name="Hello, Grace Member").wait_for()
    finally:
        locked_out.context.close()
