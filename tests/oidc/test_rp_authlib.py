"""Authlib's own client (requests integration) against the real service over HTTP."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from tests.oidc.conftest import LOGOUT_TARGET
from tests.oidc.conftest import REDIRECT
from tests.oidc.conftest import browser_authorize


@pytest.fixture
def settings_overrides(port: int) -> dict[str, Any]:
    return {"oidc": {"issuer": f"http://127.0.0.1:{port}"}}


def _validated(token: str, jwks: KeySet, issuer: str, audience: str, nonce: str | None) -> dict[str, Any]:
    decoded = jwt.decode(token, jwks, algorithms=["RS256", "ES256"])
    claims_options: dict[str, Any] = {"iss": {"essential": True, "value": issuer},
                                      "aud": {"essential": True, "value": audience},
                                      "exp": {"essential": True}, "sub": {"essential": True}}
    if nonce:
        claims_options["nonce"] = {"essential": True, "value": nonce}
    JWTClaimsRegistry(**claims_options).validate(decoded.claims)
    return dict(decoded.claims)


def test_authlib_client_full_cycle(live: Any, make_client: Any, person: Any) -> None:
    rp = make_client(id_token_alg="ES256")
    plain = requests.Session()
    plain.trust_env = False
    meta = plain.get(f"{live.url}/.well-known/openid-configuration").json()
    jwks = KeySet.import_key_set(plain.get(meta["jwks_uri"]).json())
    session = OAuth2Session(rp.client_id, rp.secret, scope="openid email offline_access", redirect_uri=REDIRECT,
                            code_challenge_method="S256", token_endpoint_auth_method="client_secret_basic")
    session.trust_env = False
    verifier = generate_token(48)
    nonce = secrets.token_urlsafe(12)
    url, state = session.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    browser = requests.Session()
    browser.trust_env = False
    callback = browser_authorize(browser, live.url, url, person, REDIRECT)
    token = session.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=verifier,
                                state=state)
    claims = _validated(token["id_token"], jwks, live.url, rp.client_id, nonce)
    assert claims["amr"] == ["pwd"]
    info = session.get(meta["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"] and info["email"] == person.email
    refreshed = session.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    again = _validated(refreshed["id_token"], jwks, live.url, rp.client_id, None)
    assert again["auth_time"] == claims["auth_time"]
    introspected = session.introspect_token(meta["introspection_endpoint"], token=refreshed["access_token"]).json()
    assert introspected["active"] is True
    assert session.revoke_token(meta["revocation_endpoint"], token=refreshed["refresh_token"],
                                token_type_hint="refresh_token").status_code == 200
    gone = session.introspect_token(meta["introspection_endpoint"], token=refreshed["refresh_token"]).json()
    assert gone == {"active": False}
    logout = browser.get(meta["end_session_endpoint"], params={
        "id_token_hint": refreshed["id_token"], "post_logout_redirect_uri": LOGOUT_TARGET, "state": "z",
    }, allow_redirects=False)
    assert logout.headers["Location"] == f"{LOGOUT_TARGET}?state=z"


def test_client_credentials_with_authlib(live: Any, make_client: Any) -> None:
    service = make_client("service", scopes=["reports"])
    session = OAuth2Session(service.client_id, service.secret, scope="reports")
    session.trust_env = False
    token = session.fetch_token(f"{live.url}/oauth/token", grant_type="client_credentials")
    assert token["scope"] == "reports" and "refresh_token" not in token
