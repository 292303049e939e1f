"""Finding things: every everyday task of an account is at most two clicks from the account
home, the top navigation carries the main sections, and what a person cannot use is not shown."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urlsplit

import pytest

from idp.model import Role

# The everyday tasks (their pages), each to be reached from the account home in two clicks.
TASKS = {
    "account access (sessions)": "/security/sessions",
    "sign-in notifications": "/security/notifications",
    "lockout": "/security/lockout",
    "activity": "/security/activity/",
    "two-step verification": "/mfa",
    "kAuth devices": "/security/kauth",
    "app passwords and API tokens": "/security/credentials",
    "applications": "/applications",
    "organisations": "/orgs/",
    "an organisation's page": "/orgs/acme",
    "its locked accounts": "/orgs/acme/members/locks",
    "its members' activity": "/orgs/acme/members/activity",
    "profile (name, e-mail, language, time zone)": "/",
}
TOP = ("/", "/security/", "/mfa", "/security/credentials", "/applications")


def _links(page: str) -> list[str]:
    found = []
    for href in re.findall(r'<a [^>]*href="([^"#]*)"', page):
        parts = urlsplit(href.replace("&amp;", "&"))
        if not parts.netloc and parts.path.startswith("/") and not parts.path.startswith("/static/"):
            found.append(parts.path)
    return found


def _clicks_from_home(client, depth: int = 2) -> dict[str, int]:
    """Each page reachable from the home page by following links (GET), with its fewest clicks."""
    seen = {"/": 0}
    queue = deque(["/"])
    while queue:
        path = queue.popleft()
        if seen[path] == depth:
            continue
        response = client.get(path)
        if response.status_code != 200:
            continue
        for target in _links(response.get_data(as_text=True)):
            if target not in seen and target not in ("/logged-out",):
                seen[target] = seen[path] + 1
                queue.append(target)
    return seen


@pytest.fixture
def administrator(make_user, services, auth):
    person = make_user()
    org = services.accounts.create_org("acme", "Acme")
    services.accounts.add_member(org, services.accounts.user(person.id), Role.ADMIN)
    auth.sign_in(person.email, person.password)
    return person


def test_every_everyday_task_is_at_most_two_clicks_from_home(client, administrator):
    clicks = _clicks_from_home(client)
    missing = {task: path for task, path in TASKS.items() if clicks.get(path, 99) > 2}
    assert missing == {}


def test_the_top_navigation_holds_the_main_sections_and_marks_the_current_one(client, administrator):
    page = client.get("/security/sessions").get_data(as_text=True)
    nav = page.split('class="mainnav"', 1)[1].split("</nav>", 1)[0]
    assert _links(nav) == list(TOP)
    current = re.findall(r'href="([^"]*)" aria-current="page"', nav)
    assert current == ["/security/"]
    kauth = client.get("/security/kauth").get_data(as_text=True).split('class="mainnav"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'href="([^"]*)" aria-current="page"', kauth) == ["/mfa"]


def test_the_home_lists_each_task_with_what_it_is_for_in_both_languages(client, administrator):
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "Sessions and devices" in english and "Where your account is signed in" in english
    assert "The organisations you belong to" in english
    french = client.get("/?lang=fr").get_data(as_text=True)
    assert "Gérer votre compte" in french and "Où votre compte est connecté" in french


def test_the_home_has_one_organisations_entry_and_links_each_organisation(client, administrator):
    home = client.get("/").get_data(as_text=True)
    tasks = home.split('class="tasks"', 1)[1].split("</ul>", 1)[0]
    assert _links(tasks).count("/orgs/") == 1
    assert "Organisations you administer" not in home and 'href="/org/' not in home
    assert 'href="/orgs/acme"' in home


def test_what_a_person_cannot_use_is_not_listed(client, make_user, auth):
    person = make_user()
    auth.sign_in(person.email, person.password)
    home = client.get("/").get_data(as_text=True)
    # No linked directory accounts when there is no directory to link.
    assert 'href="/sso/links"' not in home


def test_the_two_step_page_names_kauth_among_the_factors(client, administrator):
    page = client.get("/mfa?lang=en").get_data(as_text=True)
    assert "kAuth on your phone" in page and 'href="/security/kauth"' in page
