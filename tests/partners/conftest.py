"""The cast of the partners tests: a partner organisation (its legal representative, an
administrator, two collaborators), a client organisation (its legal representative, an
administrator), and the actions each side takes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from idp.model import RequestContext
from idp.model import Role
from idp.partners import PARTNERS
from idp.partners.access import parse_access
from idp.partners.requests import Decision
from tests.conftest import AuthActions
from tests.conftest import Person
from tests.conftest import csrf_of

CTX = RequestContext(ip="203.0.113.20", user_agent="pytest")
LINK = re.compile(r"http://localhost:5000(/partners/requests/link/\S+)")


@dataclass
class Cast:
    services: Any
    people: dict[str, Person]

    def user(self, name: str) -> Any:
        return self.services.accounts.user(self.people[name].id)

    @property
    def partners(self) -> Any:
        return self.services.get(PARTNERS)

    def org(self, slug: str) -> Any:
        return self.services.accounts.org(slug)

    def invite(self, email: str | None = None, *, by: str = "p_lr", **access: Any) -> Any:
        values = {"access": "limited", "rights": ["products", "billing"], "payer": "client", "days": "30",
                  "auto_renew": False} | access
        return self.partners.requests.invite(self.user(by), "reseller", email or self.people["c_lr"].email,
                                             parse_access(**values), CTX)

    def accept(self, request: Any, *, by: str = "c_lr", org: str = "client", **access: Any) -> Any:
        values = {"access": "limited", "rights": ["products"], "payer": "client", "days": "30",
                  "auto_renew": False} | access
        return self.partners.requests.accept(self.user(by), request.id,
                                             Decision(parse_access(**values), org_slug=org), CTX)

    def manage(self, **access: Any) -> Any:
        """A live partnership of reseller over client (limited: products)."""
        return self.accept(self.invite(), **access)


@pytest.fixture
def cast(services, make_user) -> Cast:
    names = {
        "p_lr": ("Paula Partner", "partner"), "p_admin": ("Pierre Admin", "partner"),
        "p_collab": ("Pia Collab", "partner"), "p_other": ("Paul Other", "partner"),
        "c_lr": ("Chloé Client", "client"), "c_admin": ("Carl Admin", "client"),
    }
    people = {key: make_user(f"{key.replace('_', '.')}@example.com", display_name=name)
              for key, (name, _side) in names.items()}
    accounts = services.accounts
    reseller = services.organisations.create(accounts.user(people["p_lr"].id), "reseller", "Reseller SA", CTX)
    client = services.organisations.create(accounts.user(people["c_lr"].id), "client", "Client Sàrl", CTX)
    accounts.add_member(reseller, accounts.user(people["p_admin"].id), Role.ADMIN)
    accounts.add_member(reseller, accounts.user(people["p_collab"].id), Role.COLLABORATOR)
    accounts.add_member(reseller, accounts.user(people["p_other"].id), Role.COLLABORATOR)
    accounts.add_member(client, accounts.user(people["c_admin"].id), Role.ADMIN)
    services.get(PARTNERS).lifecycle.set_partner("reseller", True, CTX)
    return Cast(services, people)


class Browser:
    """One person's browser through a test client: signed in, acting for a client, posting the
    pages' forms with their CSRF token."""

    def __init__(self, client: Any, person: Person) -> None:
        self.client, self.person = client, person
        AuthActions(client).sign_in(person.email, person.password)

    def get(self, path: str) -> Any:
        return self.client.get(path)

    def post(self, path: str, data: dict[str, Any] | None = None, *, token_from: str | None = "/") -> Any:
        """POST with the CSRF token of the page at `token_from` (None: no token)."""
        values = dict(data or {})
        if token_from is not None:
            values["csrf_token"] = csrf_of(self.client.get(token_from).get_data(as_text=True))
        return self.client.post(path, data=values)

    def act(self, client_slug: str = "client", partner_slug: str = "reseller") -> Any:
        return self.post(f"/orgs/{partner_slug}/clients/{client_slug}/act")

    def stop(self) -> Any:
        return self.post("/partners/acting/stop")


@pytest.fixture
def browser(app: Any, cast: Cast) -> Any:
    """`browser("p_lr")`: that person signed in, in a browser of their own."""

    def open_for(name: str, client: Any = None) -> Browser:
        return Browser(client or app.test_client(), cast.people[name])

    return open_for
