"""The ID token says how the person really signed in: a second factor shows in `amr` and `acr`."""

from __future__ import annotations

from typing import Any

from tests.conftest import csrf_of
from tests.mfa.conftest import Enrol
from tests.oidc.test_tokens import _claims


def test_a_sign_in_with_an_authenticator_code_is_reported_as_mfa(
    flow: Any, rp: Any, person: Any, oidc: Any, services: Any, client: Any, auth: Any, clock: Any
) -> None:
    enrol = Enrol(services, clock)
    secret = enrol.totp(person)
    response = auth.sign_in(person.email, person.password)
    assert response.headers["Location"] == "/login/totp"
    page = client.get("/login/totp")
    client.post("/login/totp", data={"csrf_token": csrf_of(page.get_data(as_text=True)), "code": enrol.code_now(secret)})
    tokens = flow.tokens(rp, person)
    _header, claims = _claims(oidc, tokens["id_token"])
    assert claims["amr"] == ["mfa", "otp", "pwd"]
    assert claims["acr"] == "urn:idp:acr:mfa"
