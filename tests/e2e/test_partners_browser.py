"""Partners in a real browser, on the live server (over https through nginx too, in the
PostgreSQL run): a partner person acts for a client, the banner shows on every page at phone
width, and the request after the client ends the partnership is refused; and the partnership
from both sides, each in a browser of its own, from the "add a client" form and the request
mailed to the client to its end on the client's page."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import Person
from tests.conftest import outbox
from tests.e2e.conftest import new_page
from tests.e2e.conftest import sign_in
from tests.partners.conftest import cast  # noqa: F401 - fixture
from tests.production.servers import wait_until

BANNER = "You are acting for Client Sàrl on behalf of Reseller SA."
PHONE = {"width": 390, "height": 844}
RIGHTS = ("Products", "Billing", "Users", "Activity")


def banner(page: Any) -> Any:
    return page.get_by_role("region", name="Acting for a client")


def assert_banner_in_view(page: Any) -> None:
    """The banner says it, within a phone's width, with the stop button, and nothing overflows."""
    region = banner(page)
    assert region.get_by_role("status").inner_text() == BANNER
    stop = region.get_by_role("button", name="Stop acting for Client Sàrl")
    for box in (region.bounding_box(), stop.bounding_box()):
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def tick_rights(page: Any, rights: list[str]) -> None:
    """Limited access with exactly these rights ticked (whatever the form offered ticked)."""
    page.get_by_label("Limited access").check()
    for right in RIGHTS:
        page.get_by_role("checkbox", name=right, exact=True).set_checked(right in rights)


def add_client(page: Any, email: str, rights: list[str]) -> None:
    """The partner's legal representative asks the client's address for these rights, from the
    organisation page through the client list's "Add a client" form."""
    page.goto("/orgs/reseller")
    page.get_by_role("link", name="Clients of Reseller SA").click()
    page.get_by_role("link", name="Add a client").click()
    assert page.get_by_role("heading", name="Add a client").is_visible()
    page.get_by_label("The client's e-mail address").fill(email)
    tick_rights(page, rights)
    page.get_by_role("radio", name="Ours (the partner's)").check()
    page.get_by_label("Duration in days").fill("90")
    page.get_by_role("button", name="Send the request").click()
    page.wait_for_url("**/orgs/reseller/clients")
    assert page.get_by_text(f"The request is on its way to {email}.").is_visible()
    row = page.get_by_role("row").filter(has_text=email)
    assert row.get_by_role("cell", name="Request pending").is_visible()
    assert row.get_by_role("cell", name="Limited: Products, Billing").is_visible()


def mailed_link(services: Any, email: str) -> str:
    """The link of the request mailed to `email` (queued just after the response: waited for)."""
    def sent() -> list[dict[str, Any]]:
        return [m for m in outbox(services) if m["to"] == email and "/partners/requests/link/" in m["body"]]

    [mail] = wait_until(sent, timeout=10, what="the partner request's mail")
    match = re.search(r"https?://\S+(/partners/requests/link/\S+)", mail["body"])
    assert match, mail["body"]
    return match.group(1)


def review_and_accept(page: Any, link: str, person: Person, rights: list[str]) -> None:
    """The client's legal representative, signed out, opens the mailed link, signs in from it,
    reviews the request and grants `rights` for 30 days."""
    page.goto(link)
    assert page.get_by_role("heading", name="Request of Reseller SA").is_visible()
    page.get_by_role("link", name="Sign in").click()
    assert page.get_by_label("E-mail address").input_value() == person.email
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/partners/requests/*")
    assert page.get_by_role("heading", name="Request of Reseller SA").is_visible()
    facts = page.locator("dl.facts").inner_text()
    assert "Limited: Products, Billing" in facts and "The partner's" in facts and "90 days" in facts
    # What was asked is what the form offers first.
    assert page.get_by_role("checkbox", name="Products", exact=True).is_checked()
    assert not page.get_by_role("checkbox", name="Users", exact=True).is_checked()
    assert page.get_by_label("For which organisation").input_value() == "client"
    tick_rights(page, rights)
    page.get_by_label("Duration in days").fill("30")
    page.get_by_role("button", name="Grant this access").click()
    page.wait_for_url("**/orgs/client/partners")
    assert page.get_by_text("Reseller SA now manages Client Sàrl, with the rights you granted.").is_visible()
    row = page.get_by_role("row").filter(has_text="Reseller SA")
    assert row.get_by_role("cell", name="Limited: Users, Activity").is_visible()
    assert row.get_by_role("cell", name="The partner's").is_visible()


def end_partnership(page: Any) -> None:
    """The client's legal representative (signed in on `page`) ends it on its confirmation page."""
    page.goto("/orgs/client/partners")
    page.get_by_role("link", name="End this partnership").click()
    assert page.get_by_role("heading", name="End the partnership with Reseller SA").is_visible()
    page.get_by_label("I understand: the partner can no longer act for this organisation").check()
    page.get_by_role("button", name="End the partnership").click()
    page.wait_for_url("**/orgs/client/partners")
    assert page.get_by_text("Reseller SA no longer manages this organisation.").is_visible()
    assert page.get_by_text("No partner manages this organisation.").is_visible()


def test_acting_shows_the_banner_everywhere_and_the_end_is_refused_at_the_next_request(
    browser, live_server, cast,  # noqa: F811
):
    cast.manage(rights=["users", "activity"])
    paula, chloe = cast.people["p_lr"], cast.people["c_lr"]
    page = new_page(browser, live_server.url, viewport=PHONE)
    client = new_page(browser, live_server.url)
    try:
        sign_in(page, paula.email, paula.password)
        page.goto("/orgs/reseller/clients/client/act")
        assert banner(page).count() == 0
        page.get_by_role("button", name="Act for Client Sàrl").click()
        page.wait_for_url("**/orgs/client/delegated/")
        assert_banner_in_view(page)
        for path in ("/", "/orgs/client/delegated/members", "/orgs/client/members/activity", "/security/", "/orgs/"):
            page.goto(path)
            assert_banner_in_view(page)
        sign_in(client, chloe.email, chloe.password)
        end_partnership(client)
        page.goto("/orgs/client/delegated/members")
        assert page.get_by_role("heading", name="You no longer act for Client Sàrl").is_visible()
        assert "the partnership ended" in page.locator("main").inner_text()
        assert banner(page).count() == 0
        page.goto("/")
        assert banner(page).count() == 0
    finally:
        page.context.close()
        client.context.close()


def test_stopping_from_the_banner(browser, live_server, cast):  # noqa: F811
    cast.manage(rights=["users"])
    paula = cast.people["p_lr"]
    page = new_page(browser, live_server.url)
    try:
        sign_in(page, paula.email, paula.password)
        page.goto("/orgs/reseller/clients/client/act")
        page.get_by_role("button", name="Act for Client Sàrl").click()
        page.goto("/profile")
        banner(page).get_by_role("button", name="Stop acting for Client Sàrl").click()
        page.wait_for_url("**/orgs/reseller")
        assert page.get_by_text("You no longer act for Client Sàrl.").is_visible()
        assert banner(page).count() == 0
        page.goto("/orgs/client/delegated/")
        assert page.get_by_role("heading", name="Page not found").is_visible()
    finally:
        page.context.close()


def test_the_partnership_from_both_sides(browser, live_server, cast, services):  # noqa: F811
    chloe, paula = cast.people["c_lr"], cast.people["p_lr"]
    page = new_page(browser, live_server.url)
    client = new_page(browser, live_server.url)
    try:
        sign_in(page, paula.email, paula.password)
        add_client(page, chloe.email, ["Products", "Billing"])
        # The client grants other rights than those asked for.
        review_and_accept(client, mailed_link(services, chloe.email), chloe, ["Users", "Activity"])

        page.goto("/orgs/reseller/clients")
        row = page.get_by_role("row").filter(has_text="Client Sàrl")
        assert row.get_by_role("cell", name="Limited: Users, Activity").is_visible()
        assert row.get_by_role("cell", name="Active").is_visible()
        assert row.get_by_role("cell", name="The partner's").is_visible()
        row.get_by_role("link", name="Client Sàrl").click()
        page.wait_for_url("**/orgs/reseller/clients/client")
        assert page.get_by_role("heading", name="Client Sàrl", exact=True).is_visible()
        assert page.get_by_role("heading", name="The rights granted").is_visible()
        granted = page.get_by_role("list").filter(has=page.get_by_text("Users", exact=True))
        assert [t.split(":")[0] for t in granted.get_by_role("listitem").all_inner_texts()] == ["Users", "Activity"]

        page.get_by_role("link", name="Back to the clients of Reseller SA").click()
        row = page.get_by_role("row").filter(has_text="Client Sàrl")
        row.get_by_text("Actions for Client Sàrl").click()
        row.get_by_role("link", name="Reach the client").click()
        page.wait_for_url("**/orgs/reseller/clients/client/act")
        rights = dict(re.findall(r"(Products|Billing|Users|Activity) · (granted|not granted)",
                                 page.locator("ul.rights").inner_text()))
        assert rights == {"Products": "not granted", "Billing": "not granted", "Users": "granted",
                          "Activity": "granted"}
        page.get_by_role("button", name="Act for Client Sàrl").click()
        assert banner(page).get_by_role("status").inner_text() == BANNER
        page.get_by_role("link", name="Users").click()
        page.wait_for_url("**/orgs/client/delegated/members")
        assert page.get_by_role("heading", name="Members of Client Sàrl").is_visible()
        assert page.get_by_role("cell", name="Chloé Client").is_visible()
        assert banner(page).is_visible()

        end_partnership(client)
        page.get_by_role("link", name="What the partnership grants").click()
        assert page.get_by_role("heading", name="You no longer act for Client Sàrl").is_visible()
        assert banner(page).count() == 0
        page.goto("/orgs/reseller/clients/client/act")
        assert page.get_by_role("heading", name="Page not found").is_visible()
    finally:
        page.context.close()
        client.context.close()
