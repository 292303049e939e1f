"""Deleting the account in a real browser: a picture uploaded on the profile (and seen in the
header), then the bin, the page that lists what goes, the confirmation, and the page a deleted
account lands on."""

from __future__ import annotations

from tests.conftest import outbox
from tests.e2e.audit_cast import portrait
from tests.e2e.conftest import sign_in

# The header's picture, loaded and decoded by the browser (an image that failed has no width).
LOADED = "() => { const i = document.querySelector('header a.me img'); return !!i && i.complete && i.naturalWidth > 0 }"


def test_a_person_uploads_a_picture_then_deletes_the_account(page, make_user, services, tmp_path):
    person = make_user(display_name="Grace Hopper")
    sign_in(page, person.email, person.password)
    page.goto("/profile")
    header = page.locator("header a.me")
    assert header.locator(".initials").inner_text() == "GH" and header.locator("img").count() == 0
    picture = tmp_path / "me.png"
    picture.write_bytes(portrait())
    page.get_by_label("Picture", exact=True).set_input_files(str(picture))
    page.get_by_role("button", name="Upload the picture").click()
    assert page.get_by_text("Your picture is saved.").is_visible()
    user = services.users.get(person.id)
    assert user.avatar_version is not None
    # The header shows the picture at once, as the browser really loaded it (not the initials).
    image = header.locator("img")
    assert image.get_attribute("src") == f"/avatars/{user.subject}/{user.avatar_version}/small.jpg"
    page.wait_for_function(LOADED)  # fails after the timeout if the image never decodes
    assert header.locator(".initials").count() == 0
    page.goto("/")  # and on every page after
    page.wait_for_function(LOADED)
    page.goto("/profile")

    page.get_by_role("link", name="Delete your account").click()
    assert page.get_by_role("heading", name="Delete your account").is_visible()
    assert page.get_by_text("Your picture, your phone numbers").is_visible()
    # Without the box ticked, nothing happens but a message.
    page.get_by_role("button", name="Delete my account").click()
    assert page.get_by_text("Tick the box to say you understand this cannot be undone.").first.is_visible()
    assert services.users.get(person.id) is not None

    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Delete my account").click()
    page.wait_for_url("**/profile/deleted")
    assert page.get_by_role("heading", name="Your account is deleted").is_visible()
    assert services.users.get(person.id) is None
    assert outbox(services)[-1]["to"] == person.email
    # The browser is signed out: the account pages send it to the sign-in page.
    page.goto("/profile")
    assert "/login" in page.url
