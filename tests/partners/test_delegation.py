"""DELEGATED_ACCESS and PARTNERSHIP_TERMS, as the other capabilities read them: for every role on
the partner side, for every right, and after the partnership ended, expired or lost its partner."""

from __future__ import annotations

import datetime as dt

import pytest

from idp.capability import DELEGATED_ACCESS
from idp.capability import PARTNERSHIP_TERMS
from idp.capability import PartnerRight
from idp.model import Role
from tests.partners.conftest import CTX

PRODUCTS, BILLING, USERS, ACTIVITY = PartnerRight.PRODUCTS, PartnerRight.BILLING, PartnerRight.USERS, PartnerRight.ACTIVITY


def delegated(cast, clock, who, right=PRODUCTS, org="client", at=None):
    hook = cast.services.get(DELEGATED_ACCESS)
    return hook(cast.people[who].id, cast.org(org).id, right, at or clock.now())


@pytest.mark.parametrize(("who", "reaches"), [
    ("p_lr", True), ("p_admin", True), ("p_collab", False), ("c_lr", False), ("c_admin", False),
])
def test_who_reaches_the_client_without_an_assignment(cast, clock, who, reaches):
    cast.manage()
    assert (delegated(cast, clock, who) is not None) is reaches


def test_a_collaborator_reaches_only_the_clients_assigned_to_them(cast, clock):
    cast.manage()
    lifecycle = cast.partners.lifecycle
    assert lifecycle.assign(cast.user("p_lr"), "reseller", "client", cast.people["p_collab"].id, CTX)
    found = delegated(cast, clock, "p_collab")
    assert found is not None and found.actor_id == cast.people["p_collab"].id
    assert delegated(cast, clock, "p_other") is None  # another collaborator, not assigned
    assert lifecycle.assign(cast.user("p_admin"), "reseller", "client", cast.people["p_collab"].id, CTX, on=False)
    assert delegated(cast, clock, "p_collab") is None


def test_the_delegation_allows_exactly_the_rights_granted(cast, clock):
    p = cast.manage(rights=["products", "activity"])
    found = delegated(cast, clock, "p_admin", ACTIVITY)
    assert found is not None
    assert (found.partnership_id, found.partner_org_id, found.client_org_id) == (p.id, p.partner_org_id, p.client_org_id)
    assert found.rights == {PRODUCTS, ACTIVITY} and not found.full
    assert delegated(cast, clock, "p_admin", BILLING) is None
    assert delegated(cast, clock, "p_admin", USERS) is None


def test_full_access_allows_every_right(cast, clock):
    cast.manage(access="full", rights=[])
    for right in PartnerRight:
        found = delegated(cast, clock, "p_lr", right)
        assert found is not None and found.full and found.allows(right)


def test_nothing_after_the_client_ends_it(cast, clock):
    p = cast.manage()
    cast.partners.lifecycle.end(cast.user("c_lr"), "client", p.id, True, CTX)
    assert delegated(cast, clock, "p_lr") is None
    assert cast.services.get(PARTNERSHIP_TERMS)(cast.org("client").id, clock.now()) is None


def test_nothing_after_expiry_even_before_the_sweep(cast, clock):
    cast.manage(days="3")
    assert delegated(cast, clock, "p_lr", at=clock.now() + dt.timedelta(days=3) - dt.timedelta(seconds=1))
    clock.advance(seconds=3 * 86400)
    assert delegated(cast, clock, "p_lr") is None  # read as expired, the row still says active
    assert cast.services.get(PARTNERSHIP_TERMS)(cast.org("client").id, clock.now()) is None


def test_a_renewing_partnership_stays_live_past_its_term(cast, clock):
    cast.manage(days="3", auto_renew=True)
    clock.advance(seconds=10 * 86400)
    assert delegated(cast, clock, "p_lr") is not None


def test_nothing_once_the_partner_is_no_longer_a_partner_or_the_person_left(cast, clock, services):
    cast.manage()
    services.organisations.remove(cast.user("p_lr"), "reseller", cast.people["p_admin"].id, CTX)
    assert delegated(cast, clock, "p_admin") is None
    _org, changed, ended = cast.partners.lifecycle.set_partner("reseller", False, CTX)
    assert changed and ended == 1
    assert delegated(cast, clock, "p_lr") is None


def test_nothing_for_another_client_or_another_partner(cast, clock, services, make_user):
    cast.manage()
    other = services.accounts.create_org("other", "Other")
    assert cast.services.get(DELEGATED_ACCESS)(cast.people["p_lr"].id, other.id, PRODUCTS, clock.now()) is None
    rival_lr = make_user()
    services.organisations.create(services.accounts.user(rival_lr.id), "rival", "Rival", CTX)
    cast.partners.lifecycle.set_partner("rival", True, CTX)
    hook = cast.services.get(DELEGATED_ACCESS)
    assert hook(rival_lr.id, cast.org("client").id, PRODUCTS, clock.now()) is None


def test_the_terms_orders_are_settled_with(cast, clock):
    client_id = cast.org("client").id
    terms = cast.services.get(PARTNERSHIP_TERMS)
    assert terms(client_id, clock.now()) is None
    cast.manage(payer="partner", rights=["billing"])
    found = terms(client_id, clock.now())
    assert found is not None
    assert (found.partner_org_id, found.full, found.payer_is_partner, found.rights) == (
        cast.org("reseller").id, False, False, {BILLING})  # the payer is the partner's offer: client
    assert not found.manages("web_hosting")


def test_the_payer_is_the_partners_offer(cast, clock):
    request = cast.invite(payer="partner")
    cast.accept(request, payer="client")  # a reviewer cannot change it
    found = cast.services.get(PARTNERSHIP_TERMS)(cast.org("client").id, clock.now())
    assert found is not None and found.payer_is_partner


def test_each_call_reads_sql(cast, clock, services):
    """Ended on another host (straight in SQL here): refused at the very next call."""
    from sqlalchemy import update

    from idp.stores.tables_partners import PartnershipRow

    cast.manage()
    assert delegated(cast, clock, "p_lr") is not None
    with services.db.transaction() as s:
        s.execute(update(PartnershipRow).values(status="ended"))
    assert delegated(cast, clock, "p_lr") is None


def test_members_roles_on_the_partner_side_are_read_live(cast, clock, services):
    cast.manage()
    reseller = cast.org("reseller")
    services.accounts.add_member(reseller, cast.user("p_collab"), Role.ADMIN)
    assert delegated(cast, clock, "p_collab") is not None
