"""The partners' permission table: each act allowed to the roles that have it and refused to the
others and to non-members, and docs/partners.md showing the same table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from idp.model import Membership
from idp.model import Role
from idp.partners.rules import SIDES
from idp.partners.rules import TABLE
from idp.partners.rules import PartnerAct
from idp.partners.rules import PartnerForbiddenError
from idp.partners.rules import may
from idp.partners.rules import require

DOC = Path(__file__).resolve().parents[2] / "docs" / "partners.md"
COLUMNS = (Role.LEGAL_REPRESENTATIVE, Role.ADMIN, Role.COLLABORATOR)


@pytest.mark.parametrize(("act", "role"), [(a, r) for a, roles in TABLE.items() for r in roles])
def test_allowed(act, role):
    assert may(Membership(1, 2, role), act)
    assert require(Membership(1, 2, role), act).role is role


@pytest.mark.parametrize(("act", "role"), [(a, r) for a, roles in TABLE.items() for r in Role if r not in roles])
def test_refused(act, role):
    assert not may(Membership(1, 2, role), act)
    with pytest.raises(PartnerForbiddenError):
        require(Membership(1, 2, role), act)


@pytest.mark.parametrize("act", list(PartnerAct))
def test_a_non_member_may_nothing(act):
    assert not may(None, act)


def test_the_document_shows_the_table():
    rows = {}
    for line in DOC.read_text().splitlines():
        found = re.match(r"\| `([a-z_]+)` \| (partner|client) \| (yes|no) \| (yes|no) \| (yes|no) \|$", line)
        if found:
            rows[found.group(1)] = (found.group(2), [found.group(i) == "yes" for i in (3, 4, 5)])
    assert set(rows) == {a.value for a in PartnerAct}
    for act in PartnerAct:
        side, cells = rows[act.value]
        assert side == SIDES[act].value, act
        assert cells == [role in TABLE[act] for role in COLUMNS], act


def test_only_legal_representatives_add_clients_and_decide():
    assert TABLE[PartnerAct.ADD_CLIENT] == {Role.LEGAL_REPRESENTATIVE}
    assert TABLE[PartnerAct.DECIDE] == {Role.LEGAL_REPRESENTATIVE}
