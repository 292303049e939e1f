"""Acting for a client: the page that offers it, the banner on every page, stopping, signing out,
and the check at every request that drops the acting state the moment the delegation is gone."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from idp import create_app
from idp.model import Role
from idp.partners import PARTNERS
from idp.partners.access import parse_access
from idp.partners.requests import Decision
from tests.conftest import events
from tests.partners.conftest import CTX
from tests.partners.conftest import Browser

BANNER = "You are acting for Client Sàrl on behalf of Reseller SA."
ENDED = "You no longer act for Client Sàrl on behalf of Reseller SA"


def text(response: Any) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def test_the_act_page_shows_the_granted_rights_and_acting_shows_the_banner_everywhere(cast, browser):
    cast.manage(rights=["users", "activity"])
    paula = browser("p_lr")
    page = paula.get("/orgs/reseller/clients/client/act")
    assert page.status_code == 200
    body = text(page)
    assert "Act for Client Sàrl" in body and BANNER not in body
    granted = dict(re.findall(r"<strong>(\w+)</strong> · (granted|not granted)", body))
    assert granted == {"Products": "not granted", "Billing": "not granted", "Users": "granted", "Activity": "granted"}

    acted = paula.act()
    assert acted.status_code == 302 and acted.headers["Location"].endswith("/orgs/client/delegated/")
    for path in ("/orgs/client/delegated/", "/", "/orgs/", "/security/", "/profile", "/orgs/no-such-org"):
        response = paula.get(path)
        assert BANNER in text(response), path
        assert 'aria-labelledby="acting-banner-title"' in text(response) and 'role="status"' in text(response)
    started = events(cast.services, "partners:acting:started")
    assert {e["org_id"] for e in started} == {cast.org("client").id, cast.org("reseller").id}
    assert all(e["actor_id"] == cast.people["p_lr"].id for e in started)
    behalf = started[0]["details"]["on_behalf_of"]
    assert behalf == {"partner": "reseller", "partner_name": "Reseller SA", "partnership": behalf["partnership"],
                      "client": "client", "client_name": "Client Sàrl"}
    assert started[0]["details"]["rights"] == ["users", "activity"]


def test_stop_acting_ends_it_and_so_does_signing_out(cast, browser, app):
    cast.manage(rights=["users"])
    paula = browser("p_lr")
    paula.act()
    stopped = paula.stop()
    assert stopped.status_code == 302 and stopped.headers["Location"].endswith("/orgs/reseller")
    assert BANNER not in text(paula.get("/"))
    assert paula.get("/orgs/client/delegated/members").status_code == 404
    assert [e["details"]["reason"] for e in events(cast.services, "partners:acting:stopped")] == ["stopped"] * 2
    # Not acting: stopping says so and changes nothing.
    again = paula.stop()
    assert again.status_code == 302 and "You were not acting for a client." in text(paula.get("/"))

    paula.act()
    assert BANNER in text(paula.get("/"))
    paula.post("/logout")
    back = Browser(paula.client, cast.people["p_lr"])
    assert BANNER not in text(back.get("/"))
    assert back.get("/orgs/client/delegated/").status_code == 404


def test_the_act_form_refuses_a_bad_token_and_whoever_does_not_reach_the_client(cast, browser, make_user):
    cast.manage()
    paula = browser("p_lr")
    page = "/orgs/reseller/clients/client/act"
    assert paula.post(page, token_from=None).status_code == 400
    assert paula.post(page, {"csrf_token": "forged"}, token_from=None).status_code == 400
    assert BANNER not in text(paula.get("/"))
    # Another partner's client, an organisation that is no client, an unknown one: not found.
    other = make_user("olga@example.com", display_name="Olga Other")
    services = cast.services
    services.organisations.create(services.accounts.user(other.id), "elsewhere", "Elsewhere SA", CTX)
    assert paula.act("elsewhere").status_code == 404
    assert paula.act("no-such-org").status_code == 404
    assert paula.act("reseller").status_code == 404
    assert paula.act("x" * 5000).status_code == 404
    # The client's own people are no partner's members: not found; a non-partner organisation: 403.
    chloe = browser("c_lr")
    assert chloe.get(page).status_code == 404
    assert chloe.get("/orgs/client/clients/client/act").status_code == 403
    # A collaborator reaches only the clients they are assigned to.
    pia = browser("p_collab")
    assert pia.get(page).status_code == 404 and pia.act().status_code == 404
    cast.partners.lifecycle.assign(cast.user("p_lr"), "reseller", "client", cast.people["p_collab"].id, CTX)
    assert pia.act().status_code == 302 and BANNER in text(pia.get("/"))


def test_the_request_after_the_partnership_ends_is_refused(cast, browser):
    p = cast.manage(rights=["users"])
    paula = browser("p_lr")
    paula.act()
    assert paula.get("/orgs/client/delegated/members").status_code == 200
    cast.partners.lifecycle.end(cast.user("c_lr"), "client", p.id, True, CTX)
    refused = paula.get("/orgs/client/delegated/members")
    assert refused.status_code == 403
    body = text(refused)
    assert ENDED in body and "You no longer act for Client Sàrl" in body and BANNER not in body
    assert BANNER not in text(paula.get("/"))
    assert paula.get("/orgs/client/delegated/members").status_code == 404
    [dropped] = [e for e in events(cast.services, "partners:acting:stopped") if e["org_id"] == cast.org("client").id]
    assert dropped["details"]["reason"] == "no_longer_allowed" and dropped["actor_id"] == cast.people["p_lr"].id
    # Acting again after the end: not found.
    assert paula.act().status_code == 404


def test_a_second_app_instance_refuses_the_next_request(cast, browser, settings, clock, app):
    """Two workers sharing the database and Redis: the partnership is ended through one, the
    partner's next request through the other is refused, and through the first as well."""
    p = cast.manage(rights=["users"])
    paula = browser("p_lr")
    paula.act()
    other = create_app(settings, clock=clock)
    try:
        second = other.test_client()
        cookie = app.extensions["idp"].settings.session_cookie
        second.set_cookie(cookie, paula.client.get_cookie(cookie).value)
        assert BANNER in text(second.get("/")), "the second worker sees the session acting"
        other.extensions["idp"].get(PARTNERS).lifecycle.end(cast.user("c_lr"), "client", p.id, True, CTX)
        refused = second.get("/orgs/client/delegated/members")
        assert refused.status_code == 403 and ENDED in text(refused)
        assert paula.get("/orgs/client/delegated/members").status_code == 404
        assert BANNER not in text(paula.get("/"))
    finally:
        other.extensions["idp"].close()


@pytest.mark.parametrize("how", ["expired", "demoted", "removed", "no longer a partner", "replaced"])
def test_the_acting_state_is_dropped_whenever_the_delegation_goes(cast, browser, clock, how):
    p = cast.manage(rights=["users"])
    pierre = browser("p_admin")
    pierre.act()
    assert BANNER in text(pierre.get("/"))
    services, reseller = cast.services, cast.org("reseller")
    if how == "expired":
        # Its end passes (a day would end the browser session too): as the term's last second goes.
        access = parse_access(access="limited", rights=["users"], payer="client", days="1", auto_renew=False)
        cast.partners.ports.partners.set_access(p.id, access, ends_at=clock.now() - dt.timedelta(seconds=1))
    elif how == "demoted":
        services.accounts.add_member(reseller, cast.user("p_admin"), Role.COLLABORATOR)
    elif how == "removed":
        services.organisations.remove(cast.user("p_lr"), "reseller", cast.people["p_admin"].id, CTX)
    elif how == "no longer a partner":
        cast.partners.lifecycle.set_partner("reseller", False, CTX)
    else:  # ended, and granted again: another partnership, not the one acted under
        cast.partners.lifecycle.end(cast.user("c_lr"), "client", p.id, True, CTX)
        cast.manage(rights=["users"])
    home = pierre.get("/")
    assert BANNER not in text(home) and ENDED in text(home)
    assert pierre.get("/orgs/client/delegated/").status_code == 404


def test_acting_for_another_client_ends_the_first(cast, browser, make_user):
    cast.manage(rights=["users"])
    second = make_user("dora@example.com", display_name="Dora Second")
    services = cast.services
    services.organisations.create(services.accounts.user(second.id), "second", "Second SA", CTX)
    full = parse_access(access="full", rights=[], payer="client", days="30", auto_renew=False)
    cast.partners.requests.accept(services.accounts.user(second.id), cast.invite(second.email).id,
                                  Decision(full, org_slug="second"), CTX)
    paula = browser("p_lr")
    paula.act()
    page = paula.get("/orgs/reseller/clients/second/act")
    assert "You act for Client Sàrl now" in text(page)
    paula.act("second")
    home = text(paula.get("/"))
    assert "You are acting for Second SA on behalf of Reseller SA." in home and BANNER not in home
    assert [e["details"]["reason"] for e in events(services, "partners:acting:stopped")] == ["switched"] * 2
    assert paula.get("/orgs/client/delegated/").status_code == 404
    assert paula.get("/orgs/second/delegated/").status_code == 200
