"""The client organisation as the partner person acting for it sees it: exactly the rights granted
(each allowed and refused), the members page and its forms (with bad input), the audit in both
logs, and every one of the client's own security settings refused."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import g
from flask import render_template_string
from flask_login import current_user

from idp.capability import DELEGATED_ACCESS
from idp.capability import DELEGATED_PAGE
from idp.capability import PartnerRight
from idp.model import Role
from idp.partners.access import parse_access
from idp.partners.delegation import require
from idp.web.current import services as current_services
from tests.conftest import csrf_of
from tests.conftest import events
from tests.conftest import outbox
from tests.partners.conftest import CTX
from tests.partners.test_acting import BANNER
from tests.partners.test_acting import text

MEMBERS = "/orgs/client/delegated/members"


@pytest.fixture
def extra_pages(app: Any) -> None:
    """Two pages as other capabilities (billing, products) write them: one through the
    `DELEGATED_PAGE` hook, one asking `DELEGATED_ACCESS` itself and setting `g.delegation`."""

    def through_the_hook(right: str, slug: str) -> str:
        org, delegation = current_services().get(DELEGATED_PAGE)(current_user, slug, PartnerRight(right))
        return render_template_string('{% extends "base.html" %}{% block content %}<h1>{{ name }} {{ p }}</h1>'
                                      "{% endblock %}", name=org.name, p=delegation.partnership_id)

    def by_itself(slug: str) -> tuple[str, int]:
        container = current_services()
        org = container.organisations.orgs.by_slug(slug)
        hook = container.get(DELEGATED_ACCESS)
        found = hook(current_user.user.id, org.id, PartnerRight.PRODUCTS, container.clock.now()) if org else None
        if found is None:
            return "no", 404
        g.delegation = found
        return render_template_string('{% extends "base.html" %}{% block content %}<h1>Products</h1>{% endblock %}'), 200

    def through_require(slug: str) -> tuple[str, int]:
        container = current_services()
        org = container.organisations.orgs.by_slug(slug)
        if org is None:
            return "no", 404
        delegation = require(container, current_user, org, PartnerRight.USERS)
        return f"users of {org.name} under {delegation.partnership_id}", 200

    app.add_url_rule("/test/<right>/<slug>", "test_hook", through_the_hook)
    app.add_url_rule("/test-require/<slug>", "test_require", through_require)
    app.add_url_rule("/test-products/<slug>", "test_products", by_itself)


def test_each_right_is_allowed_when_granted_and_refused_when_not(cast, browser, extra_pages):
    p = cast.manage(rights=["users"])
    paula = browser("p_lr")
    paula.act()
    assert paula.get(MEMBERS).status_code == 200
    refused = paula.get("/orgs/client/members/activity")
    assert refused.status_code == 403 and "does not include this: Activity" in text(refused)
    for right in ("billing", "products"):
        answer = paula.get(f"/test/{right}/client")
        assert answer.status_code == 403, right
        assert f"does not include this: {right.title()}" in text(answer)
    assert paula.get("/test/users/client").status_code == 200

    access = {"access": "limited", "rights": ["activity", "billing"], "payer": "client", "days": "30", "auto_renew": False}
    cast.partners.lifecycle.change(cast.user("c_lr"), "client", p.id, parse_access(**access), CTX)
    assert paula.get(MEMBERS).status_code == 403, "the right is gone at the next request"
    assert BANNER in text(paula.get("/")), "acting goes on under the rights that remain"
    activity = paula.get("/orgs/client/members/activity")
    assert activity.status_code == 200 and BANNER in text(activity)
    assert "Download CSV" not in text(activity) and "Members and locked accounts" not in text(activity)
    billing = paula.get("/test/billing/client")
    assert billing.status_code == 200 and f"Client Sàrl {p.id}" in text(billing)
    assert paula.get("/test/products/client").status_code == 403
    # The organisation's administrators keep their own page, the export with it.
    carl = browser("c_admin")
    assert "Download CSV" in text(carl.get("/orgs/client/members/activity")) and BANNER not in text(carl.get("/"))


def test_require_lets_in_only_the_organisation_acted_for_with_the_right(cast, browser, extra_pages, make_user):
    p = cast.manage(rights=["users"])
    services = cast.services
    other = make_user("olga@example.com", display_name="Olga Other")
    services.organisations.create(services.accounts.user(other.id), "elsewhere", "Elsewhere SA", CTX)
    paula = browser("p_lr")
    assert paula.get("/test-require/client").status_code == 404, "a delegation alone opens nothing"
    paula.act()
    answer = paula.get("/test-require/client")
    assert answer.status_code == 200 and text(answer) == f"users of Client Sàrl under {p.id}"
    assert paula.get("/test-require/elsewhere").status_code == 404
    assert paula.get("/test-require/reseller").status_code == 404
    cast.partners.lifecycle.change(cast.user("c_lr"), "client", p.id, parse_access(
        access="limited", rights=["billing"], payer="client", days="30", auto_renew=False), CTX)
    assert paula.get("/test-require/client").status_code == 403


def test_a_page_under_a_delegation_shows_the_banner_without_acting(cast, browser, extra_pages):
    cast.manage(access="full")
    paula = browser("p_lr")
    page = paula.get("/test-products/client")
    assert page.status_code == 200
    assert BANNER in text(page) and "Stop acting" not in text(page)
    assert BANNER not in text(paula.get("/"))
    # The hook lets in only a session that acts for the organisation.
    assert paula.get("/test/products/client").status_code == 404


def test_the_hook_refuses_other_organisations_and_the_acting_state_once_dropped(cast, browser, extra_pages):
    p = cast.manage(access="full")
    paula = browser("p_lr")
    paula.act()
    for slug in ("reseller", "no-such-org", "CLIENT", "x" * 300):
        expected = 200 if slug == "CLIENT" else 404
        assert paula.get(f"/test/products/{slug}").status_code == expected, slug
    cast.partners.lifecycle.end(cast.user("c_lr"), "client", p.id, True, CTX)
    refused = paula.get("/test/products/client")
    assert refused.status_code == 403 and "You no longer act for Client Sàrl" in text(refused)
    assert paula.get("/test/products/client").status_code == 404


def test_the_members_page_lists_members_and_invitations_and_offers_no_security_setting(cast, browser):
    cast.manage(rights=["users"])
    cast.services.invitations.invite(cast.user("c_lr"), "client", "new.person@example.org", Role.COLLABORATOR, CTX)
    paula = browser("p_lr")
    paula.act()
    body = text(paula.get(MEMBERS))
    assert "Chloé Client" in body and "Carl Admin" in body and "new.person@example.org" in body
    # Remove: the administrator, never the legal representative; nothing else on a member.
    assert "Remove Carl Admin" in body and "Remove Chloé Client" not in body
    for absent in ("/role", "/hand-over", "/unlock", "Second factor", "require-factor", "legal_representative"):
        assert absent not in body, absent
    overview = text(paula.get("/orgs/client/delegated/"))
    assert 'href="/orgs/client/delegated/members"' in overview and 'href="/orgs/client/members/activity"' not in overview


def _invite(paula: Any, email: str, role: str = "collaborator", **extra: Any) -> Any:
    return paula.post("/orgs/client/delegated/invite", {"email": email, "role": role, **extra}, token_from=MEMBERS)


def test_inviting_a_member_for_the_client_is_recorded_in_both_logs(cast, browser):
    p = cast.manage(rights=["users", "activity"])
    paula = browser("p_lr")
    paula.act()
    sent = _invite(paula, "New.Person@Example.org", "admin")
    assert sent.status_code == 302 and sent.headers["Location"].endswith(MEMBERS)
    [mail] = [m for m in outbox(cast.services) if m["to"].lower() == "new.person@example.org"]
    assert "Client Sàrl" in mail["subject"] + mail["body"] and "Paula Partner" in mail["body"]
    invited = events(cast.services, "account:organisation:invited")
    assert {e["org_id"] for e in invited} == {cast.org("client").id, cast.org("reseller").id}
    for e in invited:
        assert e["actor_id"] == cast.people["p_lr"].id and e["details"]["role"] == "admin"
        assert e["details"]["on_behalf_of"]["partner"] == "reseller"
        assert e["details"]["on_behalf_of"]["partnership"] == p.id
    # The client's log shows who did it, for whom; the partner's log also which client.
    client_log = text(paula.get("/orgs/client/members/activity"))
    assert "Invited to the organisation" in client_log and "Paula Partner for Reseller SA" in client_log
    partner_log = text(paula.get("/orgs/reseller/members/activity"))
    assert "Paula Partner" in partner_log and "Reseller SA" in partner_log and "· Client Sàrl" in partner_log
    carl_sees = text(browser("c_admin").get("/orgs/client/members/activity"))
    assert "Paula Partner for Reseller SA" in carl_sees


@pytest.mark.parametrize(("values", "status", "message"), [
    ({"email": "someone@example.org", "role": "legal_representative"}, 400,
     "A partner invites members with a role below legal representative."),
    ({"email": "someone@example.org", "role": "owner"}, 400, "Choose a role from the list."),
    ({"email": "not an address", "role": "collaborator"}, 400, "e-mail"),
    ({"email": "x" * 400 + "@example.org", "role": "collaborator"}, 400, "This e-mail address is too long."),
    ({"email": "c.admin@example.com", "role": "collaborator"}, 400, "This person is already a member."),
    ({"email": "", "role": "collaborator"}, 400, ""),
])
def test_the_invite_form_refuses_bad_input(cast, browser, values, status, message):
    cast.manage(rights=["users"])
    paula = browser("p_lr")
    paula.act()
    answer = _invite(paula, **values)
    assert answer.status_code == status and message in text(answer)
    assert not events(cast.services, "account:organisation:invited")


def test_every_form_refuses_a_missing_or_forged_token(cast, browser):
    cast.manage(rights=["users"])
    cast.services.invitations.invite(cast.user("c_lr"), "client", "new.person@example.org", Role.COLLABORATOR, CTX)
    [invitation] = cast.services.invitations.pending(cast.user("c_lr"), "client")
    paula = browser("p_lr")
    paula.act()
    for path, data in (("/orgs/client/delegated/invite", {"email": "a@example.org", "role": "collaborator"}),
                       (f"/orgs/client/delegated/invitations/{invitation.id}/withdraw", {}),
                       (f"/orgs/client/delegated/members/{cast.people['c_admin'].id}/remove", {}),
                       ("/partners/acting/stop", {})):
        for token in (None, "forged"):
            values = data if token is None else {**data, "csrf_token": token}
            assert paula.post(path, values, token_from=None).status_code == 400, (path, token)
    assert cast.services.invitations.pending(cast.user("c_lr"), "client")
    assert {m.user.display_name for m in cast.services.organisations.view(cast.user("c_lr"), "client").members} == {
        "Chloé Client", "Carl Admin"}
    assert BANNER in text(paula.get("/"))


def test_withdrawing_and_removing_for_the_client(cast, browser, make_user):
    p = cast.manage(rights=["users"])
    services = cast.services
    services.invitations.invite(cast.user("c_lr"), "client", "new.person@example.org", Role.COLLABORATOR, CTX)
    [invitation] = services.invitations.pending(cast.user("c_lr"), "client")
    # Another organisation's invitation and member: the ids exist, not in this client.
    stranger = make_user("sam@example.com", display_name="Sam Stranger")
    services.organisations.create(services.accounts.user(stranger.id), "elsewhere", "Elsewhere SA", CTX)
    services.invitations.invite(services.accounts.user(stranger.id), "elsewhere", "far@example.org", Role.ADMIN, CTX)
    [foreign] = services.invitations.pending(services.accounts.user(stranger.id), "elsewhere")
    paula = browser("p_lr")
    paula.act()
    base = "/orgs/client/delegated"
    assert paula.post(f"{base}/invitations/{foreign.id}/withdraw", token_from=MEMBERS).status_code == 404
    assert paula.post(f"{base}/invitations/999999/withdraw", token_from=MEMBERS).status_code == 404
    assert paula.post(f"{base}/members/{stranger.id}/remove", token_from=MEMBERS).status_code == 404
    assert paula.post(f"{base}/members/{cast.people['p_lr'].id}/remove", token_from=MEMBERS).status_code == 404
    assert paula.post(f"{base}/members/99999999999/remove", token_from=MEMBERS).status_code == 400
    assert paula.post(f"{base}/invitations/{2**31}/withdraw", token_from=MEMBERS).status_code == 400
    assert paula.post(f"{base}/members/-1/remove", token_from=MEMBERS).status_code == 404
    lr = paula.post(f"{base}/members/{cast.people['c_lr'].id}/remove", token_from=MEMBERS)
    assert lr.status_code == 403 and "never a legal representative" in text(lr)
    # Another client's pages, through this client's acting state: not found.
    assert paula.post(f"/orgs/elsewhere/delegated/invitations/{foreign.id}/withdraw",
                      token_from=MEMBERS).status_code == 404
    assert paula.get("/orgs/reseller/delegated/members").status_code == 404

    withdrawn = paula.post(f"{base}/invitations/{invitation.id}/withdraw", token_from=MEMBERS)
    assert withdrawn.status_code == 302 and not services.invitations.pending(cast.user("c_lr"), "client")
    again = paula.post(f"{base}/invitations/{invitation.id}/withdraw", token_from=MEMBERS)
    assert again.status_code == 400 and "no longer pending" in text(again)
    removed = paula.post(f"{base}/members/{cast.people['c_admin'].id}/remove", token_from=MEMBERS)
    assert removed.status_code == 302
    assert [m.user.display_name for m in services.organisations.view(cast.user("c_lr"), "client").members] == [
        "Chloé Client"]
    for tag in ("account:organisation:invitation_revoked", "account:organisation:member_removed"):
        found = events(services, tag)
        assert {e["org_id"] for e in found} == {cast.org("client").id, cast.org("reseller").id}, tag
        assert all(e["actor_id"] == cast.people["p_lr"].id for e in found)
        assert all(e["details"]["on_behalf_of"]["partnership"] == p.id for e in found)
    [client_side] = [e for e in events(services, "account:organisation:member_removed")
                     if e["org_id"] == cast.org("client").id]
    assert client_side["user_id"] == cast.people["c_admin"].id
    [partner_side] = [e for e in events(services, "account:organisation:member_removed")
                      if e["org_id"] == cast.org("reseller").id]
    assert partner_side["user_id"] is None and partner_side["details"]["member_name"] == "Carl Admin"


def test_the_clients_own_security_settings_are_never_reached_while_acting(cast, browser):
    p = cast.manage(access="full")
    paula = browser("p_lr")
    paula.act()
    assert BANNER in text(paula.get("/"))
    carl = cast.people["c_admin"].id
    token = csrf_of(paula.get(MEMBERS).get_data(as_text=True))
    pages = [
        "/orgs/client", "/orgs/client/delete", "/orgs/client/members/locks", "/orgs/client/sso", "/orgs/client/sso/new",
        "/orgs/client/members/activity/export.csv", "/orgs/client/partners",
    ]
    for path in pages:
        assert paula.get(path).status_code == 404, path
    forms = [
        f"/orgs/client/members/{carl}/role", f"/orgs/client/members/{carl}/remove",
        f"/orgs/client/members/{carl}/hand-over", "/orgs/client/invite", "/orgs/client/leave",
        "/orgs/client/require-factor", "/orgs/client/delete", f"/orgs/client/members/{carl}/unlock",
        "/orgs/client/sso/new",
    ]
    for path in forms:
        answer = paula.client.post(path, data={"csrf_token": token, "role": "collaborator", "confirm": "y",
                                               "email": "x@example.org"})
        assert answer.status_code in (403, 404), path
    # The delegated pages hold nothing of a member's own security settings either.
    for setting in ("password", "mfa", "sessions", "unlock", "role", "hand-over", "factors", "lock"):
        path = f"/orgs/client/delegated/members/{carl}/{setting}"
        assert paula.get(path).status_code in (404, 405) and paula.client.post(
            path, data={"csrf_token": token}).status_code == 404, path
    services = cast.services
    view = services.organisations.view(cast.user("c_lr"), "client")
    assert {(m.user.display_name, m.role) for m in view.members} == {
        ("Chloé Client", Role.LEGAL_REPRESENTATIVE), ("Carl Admin", Role.ADMIN)}
    # The partnerships: only the client's own legal representatives see, change or end them.
    from idp.errors import NotFoundError

    with pytest.raises(NotFoundError):
        cast.partners.partnerships_of_client(cast.user("p_lr"), "client")
    with pytest.raises(NotFoundError):
        cast.partners.lifecycle.end(cast.user("p_lr"), "client", p.id, True, CTX)
    with pytest.raises(NotFoundError):
        cast.partners.lifecycle.change(cast.user("p_lr"), "client", p.id, parse_access(
            access="full", rights=[], payer="client", days="30", auto_renew=False), CTX)
    # Nothing of the client's was changed by any of it.
    assert not [e for e in events(services) if e["org_id"] == cast.org("client").id
                and e["tag"].startswith(("account:organisation:", "federation:", "account:lockout"))
                and e["actor_id"] == cast.people["p_lr"].id]


def test_a_collaborator_acting_stands_below_the_clients_people(cast, browser):
    cast.manage(rights=["users"])
    cast.partners.lifecycle.assign(cast.user("p_lr"), "reseller", "client", cast.people["p_collab"].id, CTX)
    pia = browser("p_collab")
    pia.act()
    body = text(pia.get(MEMBERS))
    assert re.search(r"Remove Carl Admin", body)
    cast.partners.lifecycle.assign(cast.user("p_lr"), "reseller", "client", cast.people["p_collab"].id, CTX, on=False)
    assert pia.get(MEMBERS).status_code == 403  # dropped at this request: the ended page
    assert pia.get(MEMBERS).status_code == 404
