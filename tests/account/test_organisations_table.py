"""The permission table: each act allowed to the roles that have it and refused to one that does
not, the rules on the target, and docs/account.md showing the same table."""

from __future__ import annotations

from pathlib import Path

import pytest

from idp.account.org_rules import TABLE
from idp.account.org_rules import OrgAct
from idp.account.org_rules import Target
from idp.account.org_rules import may
from idp.model import Membership
from idp.model import Role

LR, ADMIN, COLLAB = Role.LEGAL_REPRESENTATIVE, Role.ADMIN, Role.COLLABORATOR
ORG = 7


def member(user_id: int, role: Role, org: int = ORG) -> Membership:
    return Membership(user_id, org, role)


def target_for(act: OrgAct) -> Target | None:
    """A target every role that has the act may aim at (a collaborator; leave: two LRs)."""
    if act in (OrgAct.CHANGE_ROLE, OrgAct.REMOVE):
        return Target(member(2, COLLAB), ADMIN if act is OrgAct.CHANGE_ROLE else None, 1)
    if act is OrgAct.HAND_OVER:
        return Target(member(2, COLLAB), LR, 1)
    if act is OrgAct.INVITE:
        return Target(None, COLLAB, 1)
    if act is OrgAct.LEAVE:
        return Target(legal_representatives=2)
    return None


ALLOWED = [(act, role) for act, roles in TABLE.items() for role in roles]
REFUSED = [(act, role) for act, roles in TABLE.items() for role in Role if role not in roles]


@pytest.mark.parametrize(("act", "role"), ALLOWED)
def test_the_table_allows_an_act_to_the_roles_that_have_it(act, role):
    assert may(member(1, role), act, target_for(act))


@pytest.mark.parametrize(("act", "role"), REFUSED)
def test_the_table_refuses_an_act_to_the_roles_that_lack_it(act, role):
    assert not may(member(1, role), act, target_for(act))


def test_every_act_is_refused_to_non_members():
    # Seeing the members and leaving are every member's: for them a non-member is the refused one.
    for act in OrgAct:
        assert not may(None, act, target_for(act))
    assert {act for act in OrgAct if all(a != act for a, _r in REFUSED)} == {OrgAct.SEE_MEMBERS, OrgAct.LEAVE}


def test_an_administrator_may_not_remove_or_demote_a_legal_representative():
    admin, lr = member(1, ADMIN), member(2, LR)
    assert not may(admin, OrgAct.REMOVE, Target(lr, None, 2))
    assert not may(admin, OrgAct.CHANGE_ROLE, Target(lr, ADMIN, 2))
    assert may(member(3, LR), OrgAct.REMOVE, Target(lr, None, 2))


def test_only_a_legal_representative_gives_the_legal_representative_role():
    assert not may(member(1, ADMIN), OrgAct.INVITE, Target(None, LR, 1))
    assert not may(member(1, ADMIN), OrgAct.CHANGE_ROLE, Target(member(2, COLLAB), LR, 1))
    assert may(member(1, LR), OrgAct.INVITE, Target(None, LR, 1))
    assert may(member(1, LR), OrgAct.CHANGE_ROLE, Target(member(2, COLLAB), LR, 1))


def test_the_last_legal_representative_is_protected():
    lr = member(1, LR)
    assert not may(lr, OrgAct.LEAVE, Target(legal_representatives=1))
    assert may(lr, OrgAct.LEAVE, Target(legal_representatives=2))
    # Another legal representative can neither remove nor demote the last one (there are two
    # only if the actor is one: the count protects the organisation whatever the caller passes).
    assert not may(member(3, LR), OrgAct.REMOVE, Target(member(2, LR), None, 1))
    assert not may(member(3, LR), OrgAct.CHANGE_ROLE, Target(member(2, LR), ADMIN, 1))


def test_acts_on_a_member_aim_at_another_member_of_the_same_organisation():
    lr = member(1, LR)
    for act in (OrgAct.CHANGE_ROLE, OrgAct.REMOVE, OrgAct.HAND_OVER):
        assert not may(lr, act, Target(member(1, LR), ADMIN, 2))  # oneself
        assert not may(lr, act, Target(member(2, COLLAB, org=ORG + 1), ADMIN, 1))  # elsewhere


DOC = Path(__file__).parents[2] / "docs" / "account.md"
NAMES = {LR: "legal representative", ADMIN: "administrator", COLLAB: "collaborator"}


def test_docs_show_the_table_of_the_code():
    text = DOC.read_text()
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 4:
            rows[cells[0].strip("`")] = {role for role, cell in zip((LR, ADMIN, COLLAB), cells[1:], strict=True)
                                         if cell == "yes"}
    assert rows == {act.value: set(roles) for act, roles in TABLE.items()}
    from idp.account.org_rules import TARGET_RULES

    for rule in TARGET_RULES:
        assert rule in " ".join(text.split()), rule


def test_the_legal_representation_is_handed_to_someone_who_lacks_it():
    lr = member(1, LR)
    assert may(lr, OrgAct.HAND_OVER, Target(member(2, ADMIN), LR, 1))
    assert not may(lr, OrgAct.HAND_OVER, Target(member(2, LR), LR, 2))
