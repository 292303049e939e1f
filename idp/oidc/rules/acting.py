"""Tokens of a partner person acting for a client organisation (decision 0812): what they say
(`act`, RFC 8693 §4.1, and `acting_for`), and whether the delegation they were issued under
still stands. `sub` stays the person who signed in: applications key their accounts on it, and a
partner must never be taken for one of the client's people."""

from __future__ import annotations

from typing import Any

from idp.capability import Delegation
from idp.capability import PartnerRight
from idp.foundation.sessions import Acting

ACT, ACTING_FOR = "act", "acting_for"
CLAIMS = (ACT, ACTING_FOR)


def claims(acting: Acting, subject: str) -> dict[str, Any]:
    """`act`: the actor, the person who signed in (their `sub`) and the partner organisation they
    act for (its short name); `acting_for`: the client organisation (its short name and name),
    the partnership (its number, as both organisations' activity logs name it) and the rights
    in effect when the grant was made."""
    return {
        ACT: {"sub": subject, "org": acting.partner_slug},
        ACTING_FOR: {"org": acting.client_slug, "name": acting.client_name, "partnership": acting.partnership_id,
                     "rights": list(acting.rights)},
    }


def stands(delegation: Delegation | None, partnership_id: int, rights: list[str] | tuple[str, ...]) -> bool:
    """Whether the delegation read now (the `DELEGATED_ACCESS` hook's answer) is the one the grant
    was made under, the same partnership, still holding every right the grant carries. A
    partnership ended, expired or replaced, a right withdrawn, a role that no longer reaches
    the client: no."""
    if delegation is None or delegation.partnership_id != partnership_id:
        return False
    known = {r.value: r for r in PartnerRight}
    return all(r in known and delegation.allows(known[r]) for r in rights)


def first_right(rights: list[str] | tuple[str, ...]) -> PartnerRight | None:
    """The right to ask the hook for (a grant always carries at least one; None: it names none we
    know, and cannot stand)."""
    for r in rights:
        if r in {p.value for p in PartnerRight}:
            return PartnerRight(r)
    return None


def of_token(body: dict[str, Any]) -> tuple[str, int, list[str]] | None:
    """(client organisation's short name, partnership, rights) of an access token issued while
    acting, or None for any other; a malformed `acting_for` reads as one that cannot stand."""
    found = body.get(ACTING_FOR)
    if found is None:
        return None
    if not isinstance(found, dict):
        return "", 0, []
    org, partnership, rights = found.get("org"), found.get("partnership"), found.get("rights")
    if not isinstance(org, str) or not isinstance(partnership, int) or not isinstance(rights, list):
        return "", 0, []
    return org, partnership, [str(r) for r in rights]


def released(body: dict[str, Any]) -> dict[str, Any]:
    """What userinfo repeats of an access token issued while acting: its `act` and `acting_for`."""
    return {name: body[name] for name in CLAIMS if name in body}
