"""The one organisation store (idp.stores.orgs) against the database of the run (SQLite or
PostgreSQL, IDP_TEST_DATABASE): organisations, members and roles, the compare-and-set changes,
invitations, and what an organisation's deletion takes with it."""

from __future__ import annotations

import datetime as dt

import pytest

from idp.errors import ConflictError
from idp.model import Role
from idp.stores.orgs import SqlOrganisationStore

LR, ADMIN, COLLAB = Role.LEGAL_REPRESENTATIVE, Role.ADMIN, Role.COLLABORATOR
NOW = dt.datetime(2030, 5, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(services):
    return SqlOrganisationStore(services.db)


@pytest.fixture
def people(make_user):
    return [make_user(f"{name}@example.com", display_name=name.title()).id for name in ("cleo", "ada", "bob")]


def test_create_find_list_and_refuse_a_taken_short_name(store, people):
    bare = store.create(slug="zeta", name="Zeta", now=NOW)
    assert (bare.slug, bare.name, bare.require_factor) == ("zeta", "Zeta", False)
    assert store.members(bare.id) == []
    made = store.create_with(slug="acme", name="Acme", user_id=people[0], role=LR, now=NOW)
    assert store.by_slug("acme") == made and store.get(made.id) == made
    assert store.by_slug("nope") is None and store.get(10**9) is None
    assert [o.slug for o in store.all()] == ["acme", "zeta"]
    for create in (lambda: store.create(slug="acme", name="Again", now=NOW),
                   lambda: store.create_with(slug="acme", name="Again", user_id=people[1], role=LR, now=NOW)):
        with pytest.raises(ConflictError):
            create()
    # The refused create_with left no member behind.
    assert store.memberships_of(people[1]) == []


def test_members_roles_and_memberships(store, people):
    cleo, ada, bob = people
    org = store.create_with(slug="acme", name="Acme", user_id=cleo, role=LR, now=NOW)
    other = store.create(slug="beta", name="Beta", now=NOW)
    assert store.add(user_id=ada, org_id=org.id, role=ADMIN, now=NOW)
    assert not store.add(user_id=ada, org_id=org.id, role=COLLAB, now=NOW)  # a member already: kept
    store.set_membership(user_id=bob, org_id=org.id, role=COLLAB, now=NOW)
    store.set_membership(user_id=cleo, org_id=other.id, role=ADMIN, now=NOW)
    store.set_membership(user_id=cleo, org_id=other.id, role=COLLAB, now=NOW)  # a new role
    assert [(u.email, r) for u, r in store.members(org.id)] == [
        ("ada@example.com", ADMIN), ("bob@example.com", COLLAB), ("cleo@example.com", LR)]
    assert sorted(store.roles_in(org.id)) == sorted([LR, ADMIN, COLLAB])
    assert (store.count_role(org.id, LR), store.count_role(org.id, ADMIN), store.count_role(other.id, LR)) == (1, 1, 0)
    assert store.membership(ada, org.id).role is ADMIN and store.membership(ada, other.id) is None
    # Ordered by the organisation's name, with its slug and name.
    assert [(m.org_slug, m.org_name, m.role) for m in store.memberships_of(cleo)] == [
        ("acme", "Acme", LR), ("beta", "Beta", COLLAB)]


def test_role_changes_are_compare_and_set(store, people):
    cleo, ada, _bob = people
    org = store.create_with(slug="acme", name="Acme", user_id=cleo, role=LR, now=NOW)
    store.add(user_id=ada, org_id=org.id, role=COLLAB, now=NOW)
    assert not store.set_role(ada, org.id, ADMIN, was=ADMIN)  # someone changed it meanwhile
    assert store.set_role(ada, org.id, ADMIN, was=COLLAB)
    assert store.membership(ada, org.id).role is ADMIN
    assert store.remove(ada, org.id) and not store.remove(ada, org.id)
    assert store.membership(ada, org.id) is None


def test_hand_over_changes_both_roles_or_neither(store, people):
    cleo, ada, bob = people
    org = store.create_with(slug="acme", name="Acme", user_id=cleo, role=LR, now=NOW)
    store.add(user_id=ada, org_id=org.id, role=COLLAB, now=NOW)
    store.add(user_id=bob, org_id=org.id, role=ADMIN, now=NOW)
    assert not store.hand_over(org.id, giver=cleo, receiver=ada, receiver_was=ADMIN)  # not what it was
    with pytest.raises(ConflictError):  # the giver is not a legal representative: nothing changes
        store.hand_over(org.id, giver=bob, receiver=ada, receiver_was=COLLAB)
    assert store.membership(ada, org.id).role is COLLAB and store.membership(bob, org.id).role is ADMIN
    assert store.hand_over(org.id, giver=cleo, receiver=ada, receiver_was=COLLAB)
    assert store.membership(ada, org.id).role is LR and store.membership(cleo, org.id).role is ADMIN


def test_the_second_factor_requirement(store, people):
    cleo, ada, _bob = people
    org = store.create_with(slug="acme", name="Acme", user_id=cleo, role=LR, now=NOW)
    store.create_with(slug="beta", name="Beta", user_id=ada, role=LR, now=NOW)
    assert not store.requires_factor(cleo)
    store.set_require_factor(org.id, True)
    assert store.by_slug("acme").require_factor and store.requires_factor(cleo) and not store.requires_factor(ada)
    store.set_require_factor(org.id, False)
    assert not store.requires_factor(cleo)


def test_invitations_pending_expired_closed_once(store, people):
    cleo, _ada, _bob = people
    org = store.create_with(slug="acme", name="Acme", user_id=cleo, role=LR, now=NOW)
    later = NOW + dt.timedelta(days=7)

    def invite(email, at=NOW, expires=later):
        return store.add_invitation(org_id=org.id, email=email, role=ADMIN, nonce_digest="d" * 64,
                                    invited_by=cleo, now=at, expires_at=expires)

    first = invite("Guest@Example.com")
    second = invite("new@example.com", at=NOW + dt.timedelta(minutes=1))
    invite("late@example.com", expires=NOW + dt.timedelta(hours=1))
    assert store.invitation(first.id) == first and store.invitation(10**9) is None
    assert (first.state, first.role, first.email) == ("pending", ADMIN, "Guest@Example.com")
    soon = NOW + dt.timedelta(hours=2)
    assert [i.id for i in store.pending_invitations(org.id, soon)] == [second.id, first.id]  # newest first
    assert store.pending_for(org.id, "guest@EXAMPLE.com", soon) == 1
    assert store.pending_for(org.id, "late@example.com", soon) == 0  # expired
    assert store.close_invitation(first.id, "accepted") and not store.close_invitation(first.id, "revoked")
    assert store.invitation(first.id).state == "accepted"
    assert [i.id for i in store.pending_invitations(org.id, soon)] == [second.id]


def test_deleting_an_organisation_takes_its_members_and_invitations(store, people):
    cleo, ada, _bob = people
    org = store.create_with(slug="acme", name="Acme", user_id=cleo, role=LR, now=NOW)
    kept = store.create_with(slug="beta", name="Beta", user_id=ada, role=LR, now=NOW)
    store.add(user_id=ada, org_id=org.id, role=ADMIN, now=NOW)
    invitation = store.add_invitation(org_id=org.id, email="x@example.com", role=COLLAB, nonce_digest="d" * 64,
                                      invited_by=cleo, now=NOW, expires_at=NOW + dt.timedelta(days=1))
    assert store.delete(org.id) and not store.delete(org.id)
    assert store.by_slug("acme") is None and store.invitation(invitation.id) is None
    assert store.members(org.id) == [] and store.memberships_of(cleo) == []
    assert [m.org_slug for m in store.memberships_of(ada)] == ["beta"] and store.get(kept.id) == kept
