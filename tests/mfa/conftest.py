"""Helpers of the second-factor tests: enrol factors through the service, read pages' options."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from idp.mfa import MFA
from idp.mfa import totp as totp_rules
from idp.model import RequestContext
from tests.conftest import csrf_of
from tests.mfa.softauthn import SoftAuthenticator

CTX = RequestContext(ip="192.0.2.7", user_agent="pytest")
OPTIONS = re.compile(r'data-options="([^"]*)"')
ORIGIN = "http://localhost:5000"


def options_of(page: str) -> str:
    match = OPTIONS.search(page)
    assert match, "the page carries no WebAuthn options"
    return html.unescape(match.group(1))


@pytest.fixture
def mfa(services: Any) -> Any:
    return services.get(MFA)


class Enrol:
    """Second factors set up directly through the service, as if done on the pages."""

    def __init__(self, services: Any, clock: Any) -> None:
        self.services, self.clock = services, clock
        self.mfa = services.get(MFA)

    def user(self, person: Any) -> Any:
        return self.services.users.get(person.id)

    def totp(self, person: Any) -> str:
        """Enrols an authenticator app; returns its secret. The clock moves one step on, so the
        next code is not the (used) confirming one."""
        user = self.user(person)
        setup = self.mfa.begin_totp(user)
        step = totp_rules.step_of(self.clock.now())
        self.mfa.confirm_totp(user, totp_rules.code_at(setup.secret, step), CTX)
        self.clock.advance(seconds=30)
        return str(setup.secret)

    def key(self, person: Any, kind: str = "security_key", name: str = "Blue key", **options: Any) -> SoftAuthenticator:
        user = self.user(person)
        soft = SoftAuthenticator(ORIGIN, **options)
        self.mfa.finish_registration(user, soft.create(self.mfa.begin_registration(user, kind)), name, CTX)
        return soft

    def code_now(self, secret: str) -> str:
        return totp_rules.code_at(secret, totp_rules.step_of(self.clock.now()))


@pytest.fixture
def enrol(services: Any, clock: Any) -> Enrol:
    return Enrol(services, clock)


def post_form(client: Any, url: str, data: dict[str, Any], *, page_url: str | None = None) -> Any:
    page = client.get(page_url or url)
    return client.post(url, data={"csrf_token": csrf_of(page.get_data(as_text=True)), **data})


@pytest.fixture
def outbox_messages(services: Any) -> Any:
    from tests.conftest import outbox

    return lambda: outbox(services)
