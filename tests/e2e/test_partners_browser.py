"""Partners in a real browser, on the live server (over https through nginx too, in the
PostgreSQL run): a partner person acts for a client, the banner shows on every page at phone
width, and the request after the client ends the partnership is refused; and the partnership
from both sides, from the request mailed to the client to its end.

The steps that pages of the partner's client list and of the client's review do elsewhere go
through the services here, each in a function of its own (`add_client`, `review_and_accept`,
`end_partnership`), so that a page can take each one's place."""

from __future__ import annotations

import re
from typing import Any

from idp.partners.access import parse_access
from idp.partners.requests import Decision
from tests.conftest import outbox
from tests.e2e.conftest import new_page
from tests.e2e.conftest import sign_in
from tests.partners.conftest import CTX
from tests.partners.conftest import cast  # noqa: F401 - fixture

BANNER = "You are acting for Client Sàrl on behalf of Reseller SA."
PHONE = {"width": 390, "height": 844}


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


def add_client(cast: Any, email: str, rights: list[str]) -> Any:  # noqa: F811
    """The partner's legal representative asks the client's address for these rights."""
    return cast.invite(email, rights=rights)


def mailed_link(services: Any, email: str) -> str:
    [mail] = [m for m in outbox(services) if m["to"] == email and "/partners/requests/link/" in m["body"]]
    match = re.search(r"https?://\S+(/partners/requests/link/\S+)", mail["body"])
    assert match, mail["body"]
    return match.group(1)


def review_and_accept(cast: Any, link: str, rights: list[str]) -> Any:  # noqa: F811
    """The client's legal representative opens the link, reviews the request and grants `rights`."""
    opened = cast.partners.requests.open(link.rsplit("/", 1)[1])
    user = cast.user("c_lr")
    review = cast.partners.requests.review(user, opened.request.id)
    assert [m.org_slug for m in review.eligible] == ["client"]
    access = parse_access(access="limited", rights=rights, payer="client", days="30", auto_renew=False)
    return cast.partners.requests.accept(user, opened.request.id, Decision(access, org_slug="client"), CTX)


def end_partnership(cast: Any, partnership: Any) -> None:  # noqa: F811
    """The client's legal representative ends it."""
    cast.partners.lifecycle.end(cast.user("c_lr"), "client", partnership.id, True, CTX)


def test_acting_shows_the_banner_everywhere_and_the_end_is_refused_at_the_next_request(
    browser, live_server, cast,  # noqa: F811
):
    p = cast.manage(rights=["users", "activity"])
    paula = cast.people["p_lr"]
    page = new_page(browser, live_server.url, viewport=PHONE)
    try:
        sign_in(page, paula.email, paula.password)
        page.goto("/orgs/reseller/clients/client/act")
        assert banner(page).count() == 0
        page.get_by_role("button", name="Act for Client Sàrl").click()
        page.wait_for_url("**/orgs/client/delegated/")
        assert_banner_in_view(page)
        for path in ("/", "/orgs/client/delegated/members", "/org/client/activity", "/security/", "/orgs/"):
            page.goto(path)
            assert_banner_in_view(page)
        end_partnership(cast, p)
        page.goto("/orgs/client/delegated/members")
        assert page.get_by_role("heading", name="You no longer act for Client Sàrl").is_visible()
        assert "the partnership ended" in page.locator("main").inner_text()
        assert banner(page).count() == 0
        page.goto("/")
        assert banner(page).count() == 0
    finally:
        page.context.close()


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
    add_client(cast, chloe.email, ["products", "billing"])
    link = mailed_link(services, chloe.email)
    # The client grants other rights than those asked for.
    partnership = review_and_accept(cast, link, ["users", "activity"])
    page = new_page(browser, live_server.url)
    try:
        sign_in(page, paula.email, paula.password)
        page.goto("/orgs/reseller/clients/client/act")
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

        end_partnership(cast, partnership)
        page.get_by_role("link", name="What the partnership grants").click()
        assert page.get_by_role("heading", name="You no longer act for Client Sàrl").is_visible()
        assert banner(page).count() == 0
        page.goto("/orgs/reseller/clients/client/act")
        assert page.get_by_role("heading", name="Page not found").is_visible()
    finally:
        page.context.close()
