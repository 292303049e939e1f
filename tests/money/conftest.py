"""The money tests' cast: a client organisation (acme) with a member of each role, a partner
organisation (webagency) with a person who acts for acme, doubles of the partners capability's
hooks (the terms acme is managed under, the partner person's delegation), and helpers."""

from __future__ import annotations

import re
from contextlib import nullcontext
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner

from idp.capability import DELEGATED_ACCESS
from idp.capability import PARTNERSHIP_TERMS
from idp.capability import ClientTerms
from idp.capability import CommandServices
from idp.capability import Delegation
from idp.capability import PartnerRight
from idp.model import RequestContext
from idp.model import Role
from idp.money import MONEY
from idp.money.cli import money_group
from idp.money.pricing import Currency
from tests.conftest import AuthActions
from tests.conftest import csrf_of

CTX = RequestContext(ip="203.0.113.50", user_agent="pytest")
D = Decimal
ALL_RIGHTS = frozenset(PartnerRight)


@dataclass
class Partners:
    """Stands in for idp.partners: what a client is managed under, and who acts for it."""

    terms: dict[int, ClientTerms] = field(default_factory=dict)
    delegates: dict[tuple[int, int], Delegation] = field(default_factory=dict)

    def manage(self, client: Any, partner: Any, *, full: bool, payer_is_partner: bool = False,
               rights: frozenset[PartnerRight] = frozenset(), person: Any = None) -> None:
        """`partner` manages `client` under these terms; `person` (of the partner) may act for it."""
        self.terms[client.id] = ClientTerms(partner.id, full, payer_is_partner, rights)
        if person is not None:
            self.delegates[(person.id, client.id)] = Delegation(
                partnership_id=1, partner_org_id=partner.id, client_org_id=client.id, actor_id=person.id,
                full=full, rights=rights,
            )

    def end(self, client: Any) -> None:
        self.terms.pop(client.id, None)
        for key in [k for k in self.delegates if k[1] == client.id]:
            del self.delegates[key]

    def client_terms(self, client_org_id: int, _now: Any) -> ClientTerms | None:
        return self.terms.get(client_org_id)

    def delegated(self, user_id: int, client_org_id: int, right: PartnerRight, _now: Any) -> Delegation | None:
        found = self.delegates.get((user_id, client_org_id))
        return found if found is not None and found.allows(right) else None


@pytest.fixture
def partners(services) -> Partners:
    double = Partners()
    services.slots.override(PARTNERSHIP_TERMS, double.client_terms)
    services.slots.override(DELEGATED_ACCESS, double.delegated)
    return double


@dataclass
class Cast:
    people: dict[str, Any]
    acme: Any
    agency: Any


@pytest.fixture
def cast(services, make_user) -> Cast:
    people = {name: make_user(display_name=name.title()) for name in
              ("legal", "admin", "member", "outsider", "partner", "agency_admin")}
    accounts = services.accounts
    acme = services.organisations.create(accounts.user(people["legal"].id), "acme", "Acme", CTX)
    for name, role in (("admin", Role.ADMIN), ("member", Role.COLLABORATOR)):
        accounts.add_member(acme, accounts.user(people[name].id), role)
    agency = services.organisations.create(accounts.user(people["partner"].id), "webagency", "Web Agency", CTX)
    accounts.add_member(agency, accounts.user(people["agency_admin"].id), Role.ADMIN)
    return Cast(people, acme, agency)


def money(services: Any) -> Any:
    return services.get(MONEY)


def balance(services: Any, org: Any, currency: str = "CHF") -> Decimal:
    return money(services).ledger.ledger.balance(org.id, Currency(currency))


def credit(services: Any, org: Any, amount: str, currency: str = "CHF") -> None:
    money(services).ledger.adjust(org.slug, currency, amount, debit=False, note="opening balance", ctx=CTX)


def sign_in(client: Any, person: Any) -> None:
    AuthActions(client).sign_in(person.email, person.password)


def order_form(client: Any, slug: str = "acme", **fields: str) -> Any:
    """Ask for the price (GET), then confirm it (POST with the page's token and total)."""
    query = {"product": "web_hosting", "quantity": "1", "currency": "CHF", "method": "transfer",
             "kind": "order"} | fields
    page = client.get(f"/orgs/{slug}/billing/orders/new", query_string=query)
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    total = re.search(r'name="total" type="hidden" value="([^"]+)"', html)
    assert total, html
    return client.post(f"/orgs/{slug}/billing/orders/new",
                       data=query | {"csrf_token": csrf_of(html), "total": total.group(1)})


def order_id(response: Any) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


@pytest.fixture
def operator(services) -> Any:
    """Runs `idp money ...` in this process, on the test's services."""
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(money_group, list(args), obj=CommandServices(lambda: nullcontext(services)))

    return run
