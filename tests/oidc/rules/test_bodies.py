"""rules.bodies: the claims of access and ID tokens, and the token response."""

from __future__ import annotations

import base64
import hashlib

import pytest

from idp.oidc.rules import bodies
from idp.oidc.rules.grant import GrantContext
from tests.oidc.rules.records import EPOCH
from tests.oidc.rules.records import client
from tests.oidc.rules.records import person
from tests.oidc.rules.records import service


def _person_ctx(**values: object) -> GrantContext:
    base: dict[str, object] = {"client": client(), "user": person(), "scope": "openid profile", "auth_time": EPOCH,
                               "acr": "urn:idp:acr:mfa", "amr": ["pwd", "otp"], "sid": "sid-1"}
    return GrantContext(**(base | values))  # type: ignore[arg-type]


@pytest.mark.parametrize(("grant_types", "always", "scope", "expected"), [
    (["authorization_code", "refresh_token"], False, "openid offline_access", True),
    (["authorization_code", "refresh_token"], False, "openid", False),
    (["authorization_code", "refresh_token"], True, "openid", True),
    (["authorization_code"], True, "openid offline_access", False),
])
def test_a_refresh_token_needs_the_grant_and_offline_access_or_always(
        grant_types: list[str], always: bool, scope: str, expected: bool) -> None:
    assert bodies.wants_refresh(client(grant_types=grant_types, always_refresh=always), scope) is expected


def test_an_id_token_goes_with_a_persons_openid_grant_only() -> None:
    assert bodies.wants_id_token(_person_ctx())
    assert not bodies.wants_id_token(_person_ctx(scope="profile offline_access"))
    assert not bodies.wants_id_token(GrantContext(client=service(), user=None, scope="openid"))


def test_a_persons_access_token() -> None:
    body = bodies.access_token_claims(_person_ctx(claims={"userinfo": ["email"]}), issuer="https://id",
                                      now=EPOCH, lifetime=600, jti="j")
    assert body == {"iss": "https://id", "sub": "sub-7", "aud": "rp", "client_id": "rp", "iat": EPOCH,
                    "exp": EPOCH + 600, "jti": "j", "scope": "openid profile", "auth_time": EPOCH,
                    "acr": "urn:idp:acr:mfa", "amr": ["pwd", "otp"], "userinfo_claims": ["email"]}


def test_a_services_access_token_speaks_for_the_client() -> None:
    body = bodies.access_token_claims(GrantContext(client=service(), user=None, scope="reports"),
                                      issuer="https://id", now=EPOCH, lifetime=60, jti="j")
    assert body["sub"] == "rs" and "auth_time" not in body and "acr" not in body


def test_an_id_token_with_an_access_token_leaves_scope_claims_to_userinfo() -> None:
    ctx = _person_ctx(nonce="n-1", claims={"id_token": ["email"]})
    body = bodies.id_token_claims(ctx, issuer="https://id", now=EPOCH, lifetime=300, access_token="at")
    digest = hashlib.sha256(b"at").digest()[:16]
    assert body == {"iss": "https://id", "sub": "sub-7", "aud": "rp", "azp": "rp", "iat": EPOCH,
                    "exp": EPOCH + 300, "auth_time": EPOCH, "nonce": "n-1", "acr": "urn:idp:acr:mfa",
                    "amr": ["pwd", "otp"], "sid": "sid-1",
                    "at_hash": base64.urlsafe_b64encode(digest).rstrip(b"=").decode(), "email": "ada@example.com"}


def test_an_id_token_alone_carries_its_scopes_claims_and_no_empty_facts() -> None:
    ctx = _person_ctx(acr=None, amr=[], sid=None)
    body = bodies.id_token_claims(ctx, issuer="https://id", now=EPOCH, lifetime=300, access_token=None)
    assert body["name"] == "Ada Lovelace" and "at_hash" not in body
    assert not {"nonce", "acr", "amr", "sid"} & set(body)


def test_the_token_response() -> None:
    ctx = _person_ctx()
    assert bodies.token_response(ctx, access_token="a", expires_in=600, refresh_token=None, id_token=None) == {
        "access_token": "a", "token_type": "Bearer", "expires_in": 600, "scope": "openid profile"}
    full = bodies.token_response(ctx, access_token="a", expires_in=600, refresh_token="r", id_token="i")
    assert list(full) == ["access_token", "token_type", "expires_in", "scope", "refresh_token", "id_token"]
