"""Where a signed-in person finds things: entries that capabilities add to the top navigation
and to the account home, the second factors they add to the two-step verification page, and the
pages they add to an organisation's page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from idp.model import User

if TYPE_CHECKING:
    from idp.account.org_rules import OrgAct


@dataclass(frozen=True)
class NavEntry:
    """A page a person reaches from the account home (one click), and from the top navigation
    of every signed-in page when `top`. `label` and `description` are marked with N_.
    `visible(user)`, when given, decides whether the account home lists it (it is consulted
    on the home page only, so that ordinary pages cost no query for the navigation)."""

    label: str
    endpoint: str
    description: str = ""
    order: int = 100
    top: bool = False
    # Blueprints whose pages belong to this entry (the top navigation marks it current there);
    # empty: the endpoint's own blueprint.
    sections: tuple[str, ...] = ()
    visible: Callable[[User], bool] | None = None

    def shown_to(self, user: User) -> bool:
        return self.visible is None or self.visible(user)

    def holds(self, blueprint: str | None) -> bool:
        """Whether a page of `blueprint` belongs to this entry."""
        return blueprint is not None and blueprint in (self.sections or (self.endpoint.split(".")[0],))


@dataclass(frozen=True)
class FactorSection:
    """A second factor another capability provides (kAuth...), shown with the others on the
    two-step verification page: a heading, what it is, this person's status ("2 devices",
    "Off"), and the page that manages it."""

    title: str
    description: str
    endpoint: str
    action: str
    status: Callable[[User], str]


@dataclass(frozen=True)
class OrgPage:
    """A page about one organisation that another capability serves (members' locks, members'
    activity, single sign-on), linked from the organisation's page to the members whose role
    has `act` in the permission table (idp.account.org_rules), which the page itself asks again.
    `endpoint` takes the organisation's `slug`; `label` is marked with N_."""

    label: str
    endpoint: str
    act: OrgAct
    order: int = 100
