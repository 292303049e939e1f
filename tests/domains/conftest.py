"""Helpers of the domain-transfer tests: two organisations with their people, a transfer asked
for through the service, a failure reported as the registrar reports it, the mailed link."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from idp.domains import DOMAINS
from idp.domains.model import Reason
from idp.model import RequestContext
from idp.model import Role
from tests.conftest import Person
from tests.conftest import outbox

CTX = RequestContext(ip="203.0.113.7", user_agent="pytest")
LINK = re.compile(r"http://localhost:5000(/domains/relaunch/\S+)")
SECRET = "a shared webhook secret of enough length"
CODE = "Ab3$kL9-pQ"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"domains": {"webhook_secret": SECRET}}


@dataclass
class Cast:
    legal: Person  # legal representative of acme, reads French
    admin: Person  # administrator of acme, reads English
    member: Person  # collaborator of acme
    outsider: Person  # legal representative of globex only


@pytest.fixture
def cast(services: Any, make_user: Any) -> Cast:
    people = Cast(
        legal=make_user(display_name="Léa Legal", locale="fr"),
        admin=make_user(display_name="Adam Admin", locale="en"),
        member=make_user(display_name="Colette Collaborator"),
        outsider=make_user(display_name="Otto Outsider"),
    )
    accounts = services.accounts
    acme = services.organisations.create(accounts.user(people.legal.id), "acme", "Acme", CTX)
    accounts.add_member(acme, accounts.user(people.admin.id), Role.ADMIN)
    accounts.add_member(acme, accounts.user(people.member.id), Role.COLLABORATOR)
    services.organisations.create(accounts.user(people.outsider.id), "globex", "Globex", CTX)
    return people


def domains(services: Any) -> Any:
    return services.get(DOMAINS)


def request(services: Any, person: Person, domain: str = "example.ch", code: str = CODE, slug: str = "acme") -> Any:
    service = domains(services)
    return service.request(service.access(services.accounts.user(person.id), slug), domain, code, CTX)


def fail(services: Any, domain: str = "example.ch", reason: Reason = Reason.DOMAIN_LOCKED,
         detail: str | None = None) -> Any:
    return domains(services).reports.fail(domain, reason, detail, source="registrar", ctx=CTX)


def link_path(services: Any, person: Person) -> str:
    """The path of the relaunch link in the last failure mail to `person`."""
    mails = [m for m in outbox(services) if m["to"] == person.email and "/domains/relaunch/" in (m["body"] or "")]
    assert mails, "no failure mail"
    match = LINK.search(mails[-1]["body"])
    assert match
    return match.group(1)


def transfer(services: Any, transfer_id: int) -> Any:
    return domains(services).store.get(transfer_id)
