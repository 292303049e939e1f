"""The token endpoint, refresh tokens, RFC 9068 access tokens, userinfo, revocation, introspection."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any
from urllib.parse import quote
from urllib.parse import urlencode

import pytest

from tests.conftest import events
from tests.oidc.conftest import query_of


def _claims(oidc: Any, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, claims = oidc.keys.verify(token)
    return header, claims


def test_id_token_and_access_token_are_signed_with_an_explicit_kid(flow: Any, rp: Any, person: Any, oidc: Any,
                                                                   services: Any) -> None:
    tokens = flow.tokens(rp, person, nonce="abc")
    header, claims = _claims(oidc, tokens["id_token"])
    published = {k["kid"] for k in oidc.keys.jwks()["keys"]}
    assert header["kid"] in published and header["alg"] == "RS256"
    user = services.users.get(person.id)
    assert claims["sub"] == user.subject and claims["aud"] == rp.client_id and claims["azp"] == rp.client_id
    assert claims["iss"] == oidc.issuer and claims["nonce"] == "abc"
    assert claims["amr"] == ["pwd"] and claims["acr"] == "urn:idp:acr:pwd"
    assert isinstance(claims["auth_time"], int) and claims["sid"]
    assert claims["at_hash"]
    # Scope claims go to userinfo, not the ID token, when an access token is issued.
    assert "email" not in claims and "name" not in claims
    at_header, at = _claims(oidc, tokens["access_token"])
    assert at_header["typ"] == "at+jwt" and at_header["kid"] in published
    assert {"iss", "exp", "aud", "sub", "client_id", "iat", "jti", "scope"} <= set(at)
    assert tokens["token_type"] == "Bearer" and "refresh_token" not in tokens
    assert events(services, "oidc:token:issued")[-1]["product"] == rp.client_id


def test_no_nonce_claim_when_none_was_sent(flow: Any, rp: Any, person: Any, oidc: Any) -> None:
    claims = _claims(oidc, flow.tokens(rp, person)["id_token"])[1]
    assert "nonce" not in claims


def test_es256_client_gets_es256_id_tokens(flow: Any, make_client: Any, person: Any, oidc: Any) -> None:
    es = make_client(id_token_alg="ES256")
    header, _ = _claims(oidc, flow.tokens(es, person)["id_token"])
    assert header["alg"] == "ES256" and header["kid"].endswith(tuple("0123456789abcdef"))


def test_a_code_works_once_and_reuse_revokes_what_it_produced(
    flow: Any, rp: Any, person: Any, client: Any, services: Any
) -> None:
    _params, answer = flow.code_for(rp, person, scope="openid offline_access")
    first = flow.redeem(rp, answer["code"])
    assert first.status_code == 200
    tokens = first.get_json()
    second = flow.redeem(rp, answer["code"])
    assert second.status_code == 400
    assert second.get_json()["error"] == "invalid_grant"
    assert second.headers["Cache-Control"] == "no-store"
    info = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 401
    refreshed = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                            auth=(rp.client_id, rp.secret))
    assert refreshed.get_json()["error"] == "invalid_grant"
    assert events(services, "oidc:token:reused")


def test_wrong_pkce_verifier_is_invalid_grant(flow: Any, rp: Any, person: Any) -> None:
    _params, answer = flow.code_for(rp, person)
    response = flow.redeem(rp, answer["code"], verifier="x" * 50)
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_grant")


def test_code_of_another_client_is_invalid_grant(flow: Any, rp: Any, make_client: Any, person: Any) -> None:
    other = make_client()
    _params, answer = flow.code_for(rp, person)
    response = flow.redeem(other, answer["code"])
    assert response.get_json()["error"] == "invalid_grant"


@pytest.mark.parametrize(("data", "error"), [
    ({"grant_type": "password", "username": "a", "password": "b"}, "unsupported_grant_type"),
    ({"grant_type": "authorization_code"}, "invalid_request"),
    ({"grant_type": "authorization_code", "code": "nope", "redirect_uri": "http://127.0.0.1:9999/callback"}, "invalid_grant"),
    ({"grant_type": "refresh_token"}, "invalid_request"),
    ({"grant_type": "refresh_token", "refresh_token": "nope"}, "invalid_grant"),
])
def test_token_endpoint_errors_are_json_400_no_store(client: Any, rp: Any, data: dict[str, str], error: str) -> None:
    response = client.post("/oauth/token", data=data, auth=(rp.client_id, rp.secret))
    assert response.status_code == 400
    assert response.get_json()["error"] == error
    assert response.headers["Cache-Control"] == "no-store"


def test_bad_client_credentials_are_invalid_client(client: Any, rp: Any) -> None:
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(rp.client_id, "wrong"))
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["Cache-Control"] == "no-store"


def test_refresh_rotates_keeps_identity_and_detects_reuse(
    flow: Any, rp: Any, person: Any, client: Any, oidc: Any, clock: Any, services: Any
) -> None:
    tokens = flow.tokens(rp, person, scope="openid email offline_access", nonce="n")
    original = _claims(oidc, tokens["id_token"])[1]
    clock.advance(seconds=30)
    refreshed = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                            auth=(rp.client_id, rp.secret))
    assert refreshed.status_code == 200, refreshed.get_data(as_text=True)
    new = refreshed.get_json()
    assert new["refresh_token"] != tokens["refresh_token"]
    claims = _claims(oidc, new["id_token"])[1]
    for name in ("auth_time", "sub", "aud", "azp", "sid"):
        assert claims[name] == original[name]
    assert claims["iat"] > original["iat"] and "nonce" not in claims
    assert events(services, "oidc:token:refreshed")[-1]["product"] == rp.client_id
    # The spent token comes back: the whole family, including the new token, is revoked.
    reuse = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                        auth=(rp.client_id, rp.secret))
    assert reuse.get_json()["error"] == "invalid_grant"
    later = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": new["refresh_token"]},
                        auth=(rp.client_id, rp.secret))
    assert later.get_json()["error"] == "invalid_grant"
    assert client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {new['access_token']}"}).status_code == 401
    assert events(services, "oidc:token:reused")[-1]["details"]["what"] == "refresh_token"


def test_refresh_token_of_one_client_is_refused_for_another(flow: Any, rp: Any, make_client: Any, person: Any,
                                                            client: Any) -> None:
    other = make_client()
    tokens = flow.tokens(rp, person, scope="openid offline_access")
    response = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                           auth=(other.client_id, other.secret))
    assert response.get_json()["error"] == "invalid_grant"


def test_refresh_cannot_widen_the_scope(flow: Any, rp: Any, person: Any, client: Any) -> None:
    tokens = flow.tokens(rp, person, scope="openid offline_access")
    response = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                                 "scope": "openid email"}, auth=(rp.client_id, rp.secret))
    assert response.get_json()["error"] == "invalid_scope"


def test_always_refresh_client_gets_refresh_tokens_without_offline_access(flow: Any, make_client: Any,
                                                                          person: Any) -> None:
    always = make_client(always_refresh=True)
    assert "refresh_token" in flow.tokens(always, person)


def test_public_client_flow_with_pkce(flow: Any, make_client: Any, person: Any) -> None:
    public = make_client("public")
    tokens = flow.tokens(public, person, scope="openid offline_access")
    assert tokens["id_token"] and tokens["refresh_token"]


def test_userinfo_by_get_and_post_header_or_body(flow: Any, rp: Any, person: Any, client: Any) -> None:
    token = flow.tokens(rp, person, scope="openid email profile")["access_token"]
    header = {"Authorization": f"Bearer {token}"}
    got = client.get("/oauth/userinfo", headers=header).get_json()
    assert got["email"] == person.email and got["name"] == "Ada Lovelace"
    assert client.post("/oauth/userinfo", headers=header).get_json() == got
    assert client.post("/oauth/userinfo", data={"access_token": token}).get_json() == got
    both = client.post("/oauth/userinfo", headers=header, data={"access_token": token})
    assert both.status_code == 400
    none = client.get("/oauth/userinfo")
    assert none.status_code == 401 and none.headers["WWW-Authenticate"].startswith("Bearer")
    bad = client.get("/oauth/userinfo", headers={"Authorization": "Bearer not.a.token"})
    assert bad.status_code == 401 and 'error="invalid_token"' in bad.headers["WWW-Authenticate"]


def test_userinfo_releases_only_granted_scopes(flow: Any, rp: Any, person: Any, client: Any) -> None:
    token = flow.tokens(rp, person, scope="openid")["access_token"]
    got = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert set(got) == {"sub"}


def test_claims_parameter_names_claims_for_the_id_token_and_userinfo(
    flow: Any, rp: Any, person: Any, client: Any, oidc: Any
) -> None:
    request = {"id_token": {"email": {"essential": True}}, "userinfo": {"name": {"essential": True}}}
    tokens = flow.tokens(rp, person, scope="openid", claims=json.dumps(request))
    assert _claims(oidc, tokens["id_token"])[1]["email"] == person.email
    got = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).get_json()
    assert got["name"] == "Ada Lovelace" and "email" not in got


def test_client_credentials_for_a_service_client(make_client: Any, client: Any, oidc: Any, services: Any) -> None:
    service = make_client("service", scopes=["reports"])
    response = client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "reports"},
                           auth=(service.client_id, service.secret))
    assert response.status_code == 200
    body = response.get_json()
    assert "refresh_token" not in body and "id_token" not in body
    claims = _claims(oidc, body["access_token"])[1]
    assert claims["sub"] == service.client_id and claims["scope"] == "reports"
    assert events(services, "oidc:token:issued")[-1]["product"] == service.client_id


def test_basic_credentials_are_form_decoded_after_base64(make_client: Any, client: Any) -> None:
    """RFC 6749 §2.3.1: the client id and secret are form-encoded, then Base64; a client may
    percent-encode any character, and a wrong secret stays wrong once decoded."""
    service = make_client("service", scopes=["reports"])

    def encoded(value: str) -> str:
        return "".join(f"%{b:02X}" for b in value.encode())

    def basic(secret: str) -> dict[str, str]:
        raw = f"{encoded(service.client_id)}:{secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    data = {"grant_type": "client_credentials", "scope": "reports"}
    assert client.post("/oauth/token", data=data, headers=basic(encoded(service.secret))).status_code == 200
    wrong = client.post("/oauth/token", data=data, headers=basic(encoded(service.secret + "x")))
    assert (wrong.status_code, wrong.get_json()["error"]) == (401, "invalid_client")


def test_a_browser_client_cannot_use_client_credentials(rp: Any, client: Any) -> None:
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(rp.client_id, rp.secret))
    assert response.get_json()["error"] == "unauthorized_client"


def test_revocation_of_access_and_refresh_tokens(flow: Any, rp: Any, person: Any, client: Any, services: Any) -> None:
    tokens = flow.tokens(rp, person, scope="openid offline_access")
    auth = (rp.client_id, rp.secret)
    assert client.post("/oauth/revoke", data={"token": tokens["access_token"]}, auth=auth).status_code == 200
    assert client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code == 401
    assert client.post("/oauth/revoke", data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
                       auth=auth).status_code == 200
    again = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                        auth=auth)
    assert again.get_json()["error"] == "invalid_grant"
    assert client.post("/oauth/revoke", data={"token": "unknown"}, auth=auth).status_code == 200
    assert client.post("/oauth/revoke", data={}, auth=auth).get_json()["error"] == "invalid_request"
    assert [e["details"]["what"] for e in events(services, "oidc:token:revoked")] == ["access_token", "refresh_token"]


def test_a_client_cannot_revoke_another_clients_token(flow: Any, rp: Any, make_client: Any, person: Any,
                                                      client: Any) -> None:
    other = make_client()
    tokens = flow.tokens(rp, person)
    response = client.post("/oauth/revoke", data={"token": tokens["access_token"]}, auth=(other.client_id, other.secret))
    assert response.status_code == 400
    assert client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code == 200


def test_introspection(flow: Any, rp: Any, make_client: Any, person: Any, client: Any) -> None:
    tokens = flow.tokens(rp, person, scope="openid offline_access")
    auth = (rp.client_id, rp.secret)
    active = client.post("/oauth/introspect", data={"token": tokens["access_token"]}, auth=auth).get_json()
    assert active["active"] is True and active["client_id"] == rp.client_id and active["scope"] == "openid offline_access"
    refresh = client.post("/oauth/introspect", data={"token": tokens["refresh_token"]}, auth=auth).get_json()
    assert refresh["active"] is True and refresh["token_type"] == "refresh_token"
    other = make_client()
    hidden = client.post("/oauth/introspect", data={"token": tokens["access_token"]},
                         auth=(other.client_id, other.secret)).get_json()
    assert hidden == {"active": False}
    resource = make_client("service")
    assert client.post("/oauth/introspect", data={"token": tokens["access_token"]},
                       auth=(resource.client_id, resource.secret)).get_json()["active"] is True
    client.post("/oauth/revoke", data={"token": tokens["access_token"]}, auth=auth)
    assert client.post("/oauth/introspect", data={"token": tokens["access_token"]}, auth=auth).get_json() == {"active": False}
    assert client.post("/oauth/introspect", data={"token": "garbage"}, auth=auth).get_json() == {"active": False}
    assert client.post("/oauth/introspect", data={}, auth=auth).status_code == 400
    assert client.post("/oauth/introspect", data={"token": "x"}).status_code == 401


def test_an_expired_access_token_is_refused(flow: Any, rp: Any, person: Any, client: Any, clock: Any) -> None:
    token = flow.tokens(rp, person)["access_token"]
    clock.advance(seconds=601)
    assert client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_client_secret_post_is_accepted_and_a_public_client_revokes_with_its_id(
    flow: Any, rp: Any, make_client: Any, person: Any, client: Any
) -> None:
    _params, answer = flow.code_for(rp, person)
    response = client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": answer["code"], "redirect_uri": rp.redirect_uri,
        "code_verifier": flow.verifier, "client_id": rp.client_id, "client_secret": rp.secret,
    })
    assert response.status_code == 200
    public = make_client("public")
    tokens = flow.tokens(public, person, scope="openid offline_access")
    revoked = client.post("/oauth/revoke", data={"token": tokens["refresh_token"], "client_id": public.client_id})
    assert revoked.status_code == 200
    again = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                              "client_id": public.client_id})
    assert again.get_json()["error"] == "invalid_grant"


def test_a_public_client_cannot_pretend_to_be_confidential(make_client: Any, client: Any) -> None:
    public = make_client("public")
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(public.client_id, "anything"))
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


# -- refresh with a narrower scope (RFC 6749 §6) ------------------------------------------------


def _refresh(client: Any, rp: Any, token: str, **extra: str) -> Any:
    return client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token, **extra},
                       auth=(rp.client_id, rp.secret))


def test_a_narrower_refresh_narrows_the_tokens_issued_not_the_grant(
    flow: Any, rp: Any, person: Any, client: Any, oidc: Any, services: Any
) -> None:
    tokens = flow.tokens(rp, person, scope="openid email offline_access")
    narrowed = _refresh(client, rp, tokens["refresh_token"], scope="email openid")
    assert narrowed.status_code == 200, narrowed.get_data(as_text=True)
    body = narrowed.get_json()
    assert body["scope"] == "openid email"  # in the grant's order
    assert _claims(oidc, body["access_token"])[1]["scope"] == "openid email"
    assert body["id_token"] and body["refresh_token"]
    assert events(services, "oidc:token:refreshed")[-1]["details"] == {
        "grant_type": "refresh_token", "scope": "openid email", "refresh_token": True}
    # The successor keeps the grant's scope: introspected, and refreshed without a scope.
    introspected = client.post("/oauth/introspect", data={"token": body["refresh_token"]},
                               auth=(rp.client_id, rp.secret)).get_json()
    assert introspected["active"] is True and introspected["scope"] == "openid email offline_access"
    whole = _refresh(client, rp, body["refresh_token"])
    assert whole.status_code == 200 and whole.get_json()["scope"] == "openid email offline_access"
    # Without openid, no ID token; the grant is still whole.
    no_openid = _refresh(client, rp, whole.get_json()["refresh_token"], scope="email")
    assert no_openid.status_code == 200
    assert no_openid.get_json()["scope"] == "email" and "id_token" not in no_openid.get_json()
    assert _refresh(client, rp, no_openid.get_json()["refresh_token"]).get_json()["scope"] == \
        "openid email offline_access"


def test_a_refresh_without_offline_access_still_gets_a_successor_and_is_not_reuse(
    flow: Any, rp: Any, person: Any, client: Any, services: Any
) -> None:
    tokens = flow.tokens(rp, person, scope="openid email offline_access")
    first = _refresh(client, rp, tokens["refresh_token"], scope="openid email")
    assert first.status_code == 200
    assert first.get_json()["scope"] == "openid email" and first.get_json()["refresh_token"]
    second = _refresh(client, rp, first.get_json()["refresh_token"])
    assert second.status_code == 200, second.get_data(as_text=True)
    assert second.get_json()["scope"] == "openid email offline_access"
    assert events(services, "oidc:token:reused") == []
    info = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {first.get_json()['access_token']}"})
    assert info.status_code == 200 and info.get_json()["email"] == person.email


def test_a_refresh_asking_for_a_scope_not_granted_spends_nothing(flow: Any, rp: Any, person: Any,
                                                                 client: Any) -> None:
    tokens = flow.tokens(rp, person, scope="openid offline_access")
    refused = _refresh(client, rp, tokens["refresh_token"], scope="openid profile")
    assert (refused.status_code, refused.get_json()["error"]) == (400, "invalid_scope")
    assert _refresh(client, rp, tokens["refresh_token"]).status_code == 200


# -- transport, client authentication ------------------------------------------------------------

ENDPOINTS = [
    ("/oauth/token", {"grant_type": "client_credentials"}),
    ("/oauth/token", {"grant_type": "refresh_token", "refresh_token": "x"}),
    ("/oauth/introspect", {"token": "x"}),
    ("/oauth/revoke", {"token": "x"}),
]


@pytest.mark.parametrize(("path", "data"), ENDPOINTS)
def test_plain_http_to_a_real_host_is_invalid_request(client: Any, make_client: Any, path: str,
                                                      data: dict[str, str]) -> None:
    service = make_client("service")
    response = client.post(path, data=data, auth=(service.client_id, service.secret),
                           base_url="http://id.example.com")
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "invalid_request",
        "error_description": "https is required: OAuth 2.0 refuses plain http except to a loopback address",
    }
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("settings_overrides", [{"server": {"base_url": "https://id.example.com",
                                                           "trusted_proxies": 1}}])
def test_behind_a_tls_proxy_the_token_endpoint_sees_https(client: Any, make_client: Any,
                                                          settings_overrides: Any) -> None:
    service = make_client("service", scopes=["reports"])
    auth = (service.client_id, service.secret)
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "id.example.com", "X-Forwarded-For": "198.51.100.7"}
    through_proxy = client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "reports"},
                                auth=auth, base_url="http://10.0.0.5:8000", headers=forwarded)
    assert through_proxy.status_code == 200 and through_proxy.get_json()["scope"] == "reports"
    plain = client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=auth,
                        base_url="http://10.0.0.5:8000", headers=forwarded | {"X-Forwarded-Proto": "http"})
    assert (plain.status_code, plain.get_json()["error"]) == (400, "invalid_request")


def test_the_authorization_endpoint_over_plain_http_shows_the_error_page(flow: Any, rp: Any, person: Any,
                                                                         auth: Any, client: Any) -> None:
    params = flow.params(rp)
    first = client.get("/oauth/authorize?" + urlencode(params), base_url="http://id.example.com")
    assert first.status_code == 400 and "Location" not in first.headers
    assert "needs a secure (https) connection" in first.get_data(as_text=True)
    french = client.get("/oauth/authorize?" + urlencode(params), base_url="http://id.example.com",
                        headers={"Accept-Language": "fr"})
    assert "exige un accès sécurisé (https)" in french.get_data(as_text=True)
    # A request parked over a loopback address and resumed over plain http: the same page.
    parked = flow.authorize(params)
    resume = query_of(parked.headers["Location"])["next"]
    auth.sign_in(person.email, person.password)
    resumed = client.get(resume, base_url="http://id.example.com")
    assert resumed.status_code == 400 and "needs a secure (https) connection" in resumed.get_data(as_text=True)


@pytest.mark.parametrize(("base_url", "setting"), [
    ("http://id.example.com", "server.base_url"), ("http://192.0.2.10:5000", "server.base_url"),
    ("http://localhost:5000", None), ("http://127.0.0.1:8000", None), ("http://[::1]:8000", None),
    ("https://id.example.com", None),
])
def test_start_up_warns_when_no_token_endpoint_can_work(
    tmp_path: Any, database_url: str, redis_url: str, clean_stores: None, caplog: Any, base_url: str,
    setting: str | None,
) -> None:
    from idp import create_app
    from tests.conftest import make_settings

    with caplog.at_level(logging.WARNING, logger="idp.oidc.server"):
        app = create_app(make_settings(tmp_path, database_url, redis_url, server={"base_url": base_url}))
    app.extensions["idp"].close()
    warnings = [r.getMessage() for r in caplog.records if r.name == "idp.oidc.server"]
    if setting is None:
        assert warnings == []
    else:
        assert len(warnings) == 1
        assert warnings[0].startswith(f"{setting} is {base_url}: plain http on a host that is not a loopback")


@pytest.mark.parametrize(("path", "data"), ENDPOINTS)
@pytest.mark.parametrize("header", [
    "Basic //46/w==", "Basic " + base64.b64encode("caf\xe9:secret".encode("latin-1")).decode(),
    "garbage", "Basic", "Basic !!!not-base64!!!",  # one word, no credentials, bad base64
])
def test_malformed_basic_credentials_are_invalid_client(client: Any, path: str, data: dict[str, str],
                                                        header: str) -> None:
    response = client.post(path, data=data, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith('Basic error="invalid_client"')
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(("path", "data"), ENDPOINTS)
@pytest.mark.parametrize("client_id", ["a\x00b", "\x00", "caf\u00e9", "x" * 65])
def test_a_malformed_client_id_is_invalid_client_never_a_database_error(
    client: Any, rp: Any, path: str, data: dict[str, str], client_id: str
) -> None:
    basic = base64.b64encode(f"{quote(client_id)}:{rp.secret}".encode()).decode()
    in_header = client.post(path, data=data, headers={"Authorization": f"Basic {basic}"})
    assert (in_header.status_code, in_header.get_json()["error"]) == (401, "invalid_client")
    assert in_header.headers["WWW-Authenticate"].startswith("Basic")
    in_body = client.post(path, data=data | {"client_id": client_id, "client_secret": rp.secret or ""})
    assert (in_body.status_code, in_body.get_json()["error"]) == (400, "invalid_client")
