"""After "this wasn't me", kAuth hands the phone (and the owner's mail) the address the
compromised-password wizard declares through the container, or the account page when the
capability that owns the wizard is not installed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import idp
from idp import create_app
from idp.capability import COMPROMISED_PASSWORD_URL
from tests.conftest import outbox
from tests.kauth.test_signin import start

WIZARD = "/security/compromised/"


@pytest.fixture(params=[True, False], ids=["with-wizard", "without-wizard"])
def wizard_installed(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def app(settings: Any, clock: Any, clean_stores: None, wizard_installed: bool,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if not wizard_installed:
        monkeypatch.setattr(idp, "CAPABILITIES", tuple(c for c in idp.CAPABILITIES if c != "idp.security.center.capability"))
    application = create_app(settings, clock=clock)
    yield application
    application.extensions["idp"].close()


def _not_me(auth: Any, client: Any, person: Any, phone: Any) -> str:
    start(auth, client, person)
    [challenge] = phone.pending()
    answered = phone.answer(challenge["id"], "deny", reason="not_me")
    assert answered.status_code == 200 and answered.json["status"] == "reported"
    return str(answered.json["wizard_url"])


def test_the_phone_is_sent_to_the_wizard_or_else_the_account_page(
    app, auth, client, make_user, phone_for, services, wizard_installed
):
    assert (services.find(COMPROMISED_PASSWORD_URL) is not None) is wizard_installed
    assert ("wizard.password" in app.view_functions) is wizard_installed
    person = make_user()
    url = _not_me(auth, client, person, phone_for(person))
    base = services.settings.server.base_url
    assert url == base + (WIZARD if wizard_installed else "/")
    mail = outbox(services)[-1]
    assert mail["to"] == person.email and url in mail["body"]


@pytest.mark.parametrize("wizard_installed", [True], ids=["with-wizard"])
def test_kauth_uses_the_address_the_wizard_declares(auth, client, make_user, phone_for, services):
    # The capability that owns the wizard decides where it lives; kAuth does not guess.
    services.slots.override(COMPROMISED_PASSWORD_URL, lambda: "https://id.example.com/help/compromised")
    person = make_user()
    assert _not_me(auth, client, person, phone_for(person)) == "https://id.example.com/help/compromised"
