"""Every act of the permission table (org_rules.TABLE) allowed to a role that has it and refused to
one that lacks it, through the service that asks `may` and through the page a person uses; then
each rule on the target (org_rules.TARGET_RULES), through both too. The pure table is
tests/account/test_organisations_table.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from idp.account.org_rules import TABLE
from idp.account.org_rules import OrgAct
from idp.account.org_rules import OrgForbiddenError
from idp.domains import DOMAINS
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.federation import FEDERATION
from idp.model import RequestContext
from idp.model import Role
from idp.money import MONEY
from idp.security.center import SECURITY
from tests.account.conftest import post
from tests.conftest import csrf_of
from tests.conftest import events

CTX = RequestContext(ip="203.0.113.10")
LR, ADMIN, COLLAB = Role.LEGAL_REPRESENTATIVE, Role.ADMIN, Role.COLLABORATOR
# Who acts, by role; "outsider" is no member (the refused one of the acts every member has).
ACTORS = {LR: "legal", ADMIN: "admin", COLLAB: "member", None: "outsider"}


@pytest.fixture
def acme(services, make_user):
    people = {name: make_user(display_name=name.title())
              for name in ("legal", "admin", "member", "target", "outsider")}
    org = services.organisations.create(services.accounts.user(people["legal"].id), "acme", "Acme", CTX)
    for name, role in (("admin", ADMIN), ("member", COLLAB), ("target", COLLAB)):
        services.accounts.add_member(org, services.accounts.user(people[name].id), role)
    services.users.lock(people["target"].id, services.clock.now())
    return people


def user(services: Any, people: dict[str, Any], name: str) -> Any:
    return services.accounts.user(people[name].id)


def target_id(people: dict[str, Any]) -> int:
    return int(people["target"].id)


def role_of(services: Any, people: dict[str, Any], name: str) -> Role | None:
    membership = services.organisations.orgs.membership(people[name].id, services.accounts.org("acme").id)
    return membership.role if membership else None


@dataclass(frozen=True)
class Act:
    """How one act is done through the service and through its page, and how to tell it was done."""

    service: Callable[[Any, Any, dict[str, Any]], object]  # (services, actor, people)
    page: Callable[[Any, dict[str, Any]], Any]  # (client, people) -> response
    done: Callable[[Any, dict[str, Any]], bool]  # (services, people)
    refused_status: int = 403


def _page(path: str) -> Callable[[Any, dict[str, Any]], Any]:
    return lambda client, people: client.get(path.format(target=target_id(people)))


def _form(path: str, data: dict[str, str] | None = None) -> Callable[[Any, dict[str, Any]], Any]:
    def send(client: Any, people: dict[str, Any]) -> Any:
        token = csrf_of(client.get("/orgs/").get_data(as_text=True))
        return client.post(path.format(target=target_id(people)), data={"csrf_token": token, **(data or {})})

    return send


def _center(services: Any) -> Any:
    return services.get(SECURITY).center


def _locked_out(services: Any, people: dict[str, Any]) -> bool:
    return services.accounts.user(people["target"].id).locked_at is not None


ACTS: dict[OrgAct, Act] = {
    OrgAct.SEE_MEMBERS: Act(
        lambda s, actor, p: s.organisations.view(actor, "acme"), _page("/orgs/acme"), lambda s, p: True, 404),
    OrgAct.INVITE: Act(
        lambda s, actor, p: s.invitations.invite(actor, "acme", "guest@example.com", COLLAB, CTX),
        _form("/orgs/acme/invite", {"email": "guest@example.com", "role": "collaborator"}),
        lambda s, p: bool(events(s, "account:organisation:invited"))),
    OrgAct.CHANGE_ROLE: Act(
        lambda s, actor, p: s.organisations.change_role(actor, "acme", target_id(p), ADMIN, CTX),
        _form("/orgs/acme/members/{target}/role", {"role": "admin"}),
        lambda s, p: role_of(s, p, "target") is ADMIN),
    OrgAct.REMOVE: Act(
        lambda s, actor, p: s.organisations.remove(actor, "acme", target_id(p), CTX),
        _form("/orgs/acme/members/{target}/remove"), lambda s, p: role_of(s, p, "target") is None),
    OrgAct.UNLOCK: Act(
        lambda s, actor, p: _center(s).unlock_member(actor, s.accounts.org("acme"), target_id(p), CTX),
        _form("/orgs/acme/members/{target}/unlock"), lambda s, p: not _locked_out(s, p), 404),
    OrgAct.MANAGE_SSO: Act(
        lambda s, actor, p: s.get(FEDERATION).require_manager(actor, "acme"), _page("/orgs/acme/sso"),
        lambda s, p: True, 404),
    OrgAct.SEE_ACTIVITY: Act(
        lambda s, actor, p: _center(s).org_for_admin(actor, "acme", OrgAct.SEE_ACTIVITY),
        _page("/orgs/acme/members/activity"), lambda s, p: True, 404),
    OrgAct.SEE_FACTORS: Act(
        lambda s, actor, p: _sees_factors(s.organisations.view(actor, "acme")), _page("/orgs/acme"),
        lambda s, p: True, 200),
    OrgAct.MANAGE_PRODUCTS: Act(
        lambda s, actor, p: s.get(DOMAINS).access(actor, "acme"), _page("/orgs/acme/domains"), lambda s, p: True),
    OrgAct.BILLING: Act(
        lambda s, actor, p: s.get(MONEY).access.billing(actor, "acme"), _page("/orgs/acme/billing"), lambda s, p: True),
    OrgAct.REQUEST_PAYOUT: Act(
        lambda s, actor, p: s.get(MONEY).access.payouts(actor, "acme"), _page("/orgs/acme/billing/payouts"),
        lambda s, p: True),
    OrgAct.REQUIRE_FACTOR: Act(
        lambda s, actor, p: s.organisations.set_require_factor(actor, "acme", True, CTX),
        _form("/orgs/acme/require-factor", {"required": "y"}), lambda s, p: s.accounts.org("acme").require_factor),
    OrgAct.HAND_OVER: Act(
        lambda s, actor, p: s.organisations.hand_over(actor, "acme", target_id(p), CTX),
        _form("/orgs/acme/members/{target}/hand-over"), lambda s, p: role_of(s, p, "target") is LR),
    OrgAct.DELETE_ORG: Act(
        lambda s, actor, p: s.organisations.delete(actor, "acme", True, CTX),
        _form("/orgs/acme/delete", {"confirm": "y"}), lambda s, p: s.accounts.orgs.by_slug("acme") is None),
    OrgAct.LEAVE: Act(
        lambda s, actor, p: s.organisations.leave(actor, "acme", CTX), _form("/orgs/acme/leave"),
        lambda s, p: bool(events(s, "account:organisation:left")), 404),
}


def _sees_factors(view: Any) -> None:
    """The service's answer to see_factors: each member's factor is known (True/False) or hidden (None)."""
    if any(member.has_factor is None for member in view.members):
        raise OrgForbiddenError("hidden")


def _page_shows_factors(response: Any) -> bool:
    return "Second factor" in response.get_data(as_text=True)


# At the table's edge: the least role that has the act, and the greatest that lacks it (a
# non-member for the acts every member has).
ALLOWED = [(act, max(roles, key=list(Role).index)) for act, roles in TABLE.items()]
REFUSED = [(act, next((r for r in (ADMIN, COLLAB) if r not in roles), None)) for act, roles in TABLE.items()]


def test_every_act_of_the_table_is_covered():
    assert set(ACTS) == set(OrgAct) == set(TABLE)


@pytest.mark.parametrize(("act", "role"), ALLOWED, ids=lambda v: str(v))
def test_the_service_allows_the_act_to_a_role_that_has_it(services, acme, act, role):
    ACTS[act].service(services, user(services, acme, ACTORS[role]), acme)
    assert ACTS[act].done(services, acme)


@pytest.mark.parametrize(("act", "role"), REFUSED, ids=lambda v: str(v))
def test_the_service_refuses_the_act_to_a_role_that_lacks_it(services, acme, act, role):
    with pytest.raises((OrgForbiddenError, NotFoundError)):
        ACTS[act].service(services, user(services, acme, ACTORS[role]), acme)
    if act not in (OrgAct.SEE_MEMBERS, OrgAct.MANAGE_SSO, OrgAct.SEE_ACTIVITY, OrgAct.SEE_FACTORS,
                   OrgAct.MANAGE_PRODUCTS, OrgAct.BILLING, OrgAct.REQUEST_PAYOUT):
        assert not ACTS[act].done(services, acme)
    assert _locked_out(services, acme) and role_of(services, acme, "target") is COLLAB


@pytest.mark.parametrize(("act", "role"), ALLOWED, ids=lambda v: str(v))
def test_the_page_allows_the_act_to_a_role_that_has_it(client, auth, services, acme, act, role):
    person = acme[ACTORS[role]]
    auth.sign_in(person.email, person.password)
    response = ACTS[act].page(client, acme)
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:400]
    assert ACTS[act].done(services, acme)
    if act is OrgAct.SEE_FACTORS:
        assert _page_shows_factors(response)


@pytest.mark.parametrize(("act", "role"), REFUSED, ids=lambda v: str(v))
def test_the_page_refuses_the_act_to_a_role_that_lacks_it(client, auth, services, acme, act, role):
    person = acme[ACTORS[role]]
    auth.sign_in(person.email, person.password)
    response = ACTS[act].page(client, acme)
    assert response.status_code == ACTS[act].refused_status, response.get_data(as_text=True)[:400]
    if act is OrgAct.SEE_FACTORS:
        assert not _page_shows_factors(response)
    elif act not in (OrgAct.SEE_MEMBERS, OrgAct.MANAGE_SSO, OrgAct.SEE_ACTIVITY, OrgAct.MANAGE_PRODUCTS,
                     OrgAct.BILLING, OrgAct.REQUEST_PAYOUT):
        assert not ACTS[act].done(services, acme)
    assert _locked_out(services, acme) and role_of(services, acme, "target") is COLLAB


# -- the rules on the target, each through the service and through the page ---------------------


def _service_refuses(services: Any, call: Callable[[], object], error: type[Exception] = OrgForbiddenError) -> None:
    with pytest.raises(error):
        call()


def test_only_a_legal_representative_gives_the_role_or_acts_on_one(client, auth, services, acme):
    admin, legal = user(services, acme, "admin"), acme["legal"].id
    _service_refuses(services, lambda: services.organisations.change_role(admin, "acme", target_id(acme), LR, CTX))
    _service_refuses(services, lambda: services.invitations.invite(admin, "acme", "x@example.com", LR, CTX))
    _service_refuses(services, lambda: services.organisations.remove(admin, "acme", legal, CTX))
    _service_refuses(services, lambda: services.organisations.change_role(admin, "acme", legal, COLLAB, CTX))
    auth.sign_in(acme["admin"].email, acme["admin"].password)
    for path, data in ((f"/orgs/acme/members/{target_id(acme)}/role", {"role": "legal_representative"}),
                       ("/orgs/acme/invite", {"email": "x@example.com", "role": "legal_representative"}),
                       (f"/orgs/acme/members/{legal}/remove", {}),
                       (f"/orgs/acme/members/{legal}/role", {"role": "collaborator"})):
        assert post(client, path, data, page="/orgs/acme").status_code == 403, path
    assert role_of(services, acme, "legal") is LR and role_of(services, acme, "target") is COLLAB
    # The legal representative does all four.
    legal_user = user(services, acme, "legal")
    services.organisations.change_role(legal_user, "acme", target_id(acme), LR, CTX)
    services.organisations.change_role(legal_user, "acme", target_id(acme), COLLAB, CTX)
    assert role_of(services, acme, "target") is COLLAB


def test_acts_on_a_member_never_aim_at_oneself(client, auth, services, acme):
    legal = user(services, acme, "legal")
    for call in (lambda: services.organisations.change_role(legal, "acme", legal.id, ADMIN, CTX),
                 lambda: services.organisations.remove(legal, "acme", legal.id, CTX),
                 lambda: services.organisations.hand_over(legal, "acme", legal.id, CTX)):
        _service_refuses(services, call)
    auth.sign_in(acme["legal"].email, acme["legal"].password)
    for path, data in ((f"/orgs/acme/members/{legal.id}/role", {"role": "admin"}),
                       (f"/orgs/acme/members/{legal.id}/remove", {}), (f"/orgs/acme/members/{legal.id}/hand-over", {})):
        assert post(client, path, data, page="/orgs/acme").status_code == 403, path
    assert role_of(services, acme, "legal") is LR


def test_the_last_legal_representative_stays_until_they_hand_over(client, auth, services, acme):
    legal = user(services, acme, "legal")
    _service_refuses(services, lambda: services.organisations.leave(legal, "acme", CTX))
    auth.sign_in(acme["legal"].email, acme["legal"].password)
    assert post(client, "/orgs/acme/leave", page="/orgs/acme").status_code == 403
    assert role_of(services, acme, "legal") is LR
    # With a second legal representative, either may leave, or remove or demote the other.
    services.organisations.change_role(legal, "acme", acme["admin"].id, LR, CTX)
    assert post(client, f"/orgs/acme/members/{acme['admin'].id}/role", {"role": "admin"}, page="/orgs/acme").status_code == 302
    assert role_of(services, acme, "admin") is ADMIN


def test_hand_over_goes_to_a_member_who_is_not_a_legal_representative_yet(client, auth, services, acme, make_user):
    legal = user(services, acme, "legal")
    outsider = acme["outsider"].id
    _service_refuses(services, lambda: services.organisations.hand_over(legal, "acme", outsider, CTX), NotFoundError)
    services.organisations.change_role(legal, "acme", acme["admin"].id, LR, CTX)
    _service_refuses(services, lambda: services.organisations.hand_over(legal, "acme", acme["admin"].id, CTX))
    auth.sign_in(acme["legal"].email, acme["legal"].password)
    assert post(client, f"/orgs/acme/members/{outsider}/hand-over", page="/orgs/acme").status_code == 404
    assert post(client, f"/orgs/acme/members/{acme['admin'].id}/hand-over", page="/orgs/acme").status_code == 403
    assert role_of(services, acme, "legal") is LR  # the giver was not demoted by a refused hand-over
    assert post(client, f"/orgs/acme/members/{target_id(acme)}/hand-over", page="/orgs/acme").status_code == 302
    assert role_of(services, acme, "target") is LR and role_of(services, acme, "legal") is ADMIN


def test_a_hand_over_whose_receiver_changed_meanwhile_changes_nothing(services, acme, monkeypatch):
    legal = user(services, acme, "legal")
    store = services.organisations.orgs
    real = store.membership

    def stale(user_id: int, org_id: int) -> Any:  # the page read the role before another change
        found = real(user_id, org_id)
        if user_id == target_id(acme) and found is not None:
            store.set_role(user_id, org_id, ADMIN, was=found.role)
        return found

    monkeypatch.setattr(store, "membership", stale)
    with pytest.raises(ValidationError):
        services.organisations.hand_over(legal, "acme", target_id(acme), CTX)
    monkeypatch.undo()
    assert role_of(services, acme, "legal") is LR and role_of(services, acme, "target") is ADMIN
