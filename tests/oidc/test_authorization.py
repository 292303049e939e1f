"""The authorization endpoint: error page vs. redirect, PKCE, prompt, max_age, hints, consent."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import events
from tests.oidc.conftest import REDIRECT
from tests.oidc.conftest import query_of


def test_discovery_describes_a_strict_provider(client: Any, oidc: Any) -> None:
    meta = client.get("/.well-known/openid-configuration").get_json()
    assert meta["issuer"] == oidc.issuer
    assert meta["authorization_endpoint"] == f"{oidc.issuer}/oauth/authorize"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert {"RS256", "ES256"} <= set(meta["id_token_signing_alg_values_supported"])
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["backchannel_logout_session_supported"] is True
    assert set(meta["scopes_supported"]) == {"openid", "profile", "email", "phone", "offline_access"}
    assert meta["request_parameter_supported"] is False
    assert meta["request_uri_parameter_supported"] is False


def test_jwks_publishes_distinct_keys_for_rs256_and_es256(client: Any) -> None:
    keys = client.get("/oauth/jwks").get_json()["keys"]
    assert {k["alg"] for k in keys} == {"RS256", "ES256"}
    assert len({k["kid"] for k in keys}) == len(keys)
    assert all("d" not in k and "p" not in k for k in keys)  # public parts only


@pytest.mark.parametrize(("change", "message"), [
    ({"client_id": "nobody"}, "not known"),
    ({"redirect_uri": "http://127.0.0.1:9999/elsewhere"}, "invalid sign-in request"),
    ({"redirect_uri": "http://127.0.0.1:9999/callback/"}, "invalid sign-in request"),
    ({"redirect_uri": None}, "invalid sign-in request"),
    ({"client_id": None}, "not known"),
])
def test_untrusted_requests_get_an_error_page_never_a_redirect(
    flow: Any, rp: Any, change: dict[str, Any], message: str
) -> None:
    response = flow.authorize(flow.params(rp, **change))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert message in response.get_data(as_text=True)


def test_unsupported_response_type_goes_back_with_error_state_and_iss(flow: Any, rp: Any, oidc: Any) -> None:
    params = flow.params(rp, response_type="token")
    response = flow.authorize(params)
    answer = query_of(response.headers["Location"])
    assert answer["error"] == "unsupported_response_type"
    assert answer["state"] == params["state"]
    assert answer["iss"] == oidc.issuer


def test_public_client_without_pkce_is_refused_at_the_authorization_endpoint(
    flow: Any, make_client: Any, person: Any
) -> None:
    public = make_client("public")
    params = flow.params(public, code_challenge=None, code_challenge_method=None)
    answer = query_of(flow.authorize(params).headers["Location"])
    assert answer["error"] == "invalid_request"
    assert "PKCE" in answer["error_description"]
    assert answer["state"] == params["state"]


@pytest.mark.parametrize("method", ["plain", None, "S512"])
def test_only_s256_is_accepted(flow: Any, rp: Any, method: str | None) -> None:
    answer = query_of(flow.authorize(flow.params(rp, code_challenge_method=method)).headers["Location"])
    assert answer["error"] == "invalid_request"


def test_state_and_iss_come_back_with_the_code_and_post_works_too(
    flow: Any, rp: Any, person: Any, auth: Any, oidc: Any
) -> None:
    auth.sign_in(person.email, person.password)
    params = flow.params(rp, unknown_parameter="ignored")
    page = flow.authorize(params, method="POST")
    answer = flow.follow_to_client(flow.consent(page))
    assert answer["state"] == params["state"]
    assert answer["iss"] == oidc.issuer
    assert answer["code"]


def test_not_signed_in_goes_to_the_sign_in_page_with_hint_and_comes_back(
    flow: Any, rp: Any, person: Any, client: Any
) -> None:
    params = flow.params(rp, login_hint=person.email, ui_locales="fr-CA en")
    response = flow.authorize(params)
    target = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith("/login?")
    assert target["next"].startswith("/oauth/authorize?resume=")
    assert target["login_hint"] == person.email
    assert target["lang"] == "fr"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'value="{person.email}"' in page
    flow.auth.sign_in(person.email, person.password, target["next"])
    consent = client.get(target["next"])
    assert consent.status_code == 200
    html = consent.get_data(as_text=True)
    assert '<html lang="fr">' in html and "Autoriser" in html  # ui_locales=fr
    answer = flow.follow_to_client(flow.consent(consent))
    assert answer["state"] == params["state"]


def test_prompt_none_without_a_session_answers_login_required(flow: Any, rp: Any, oidc: Any) -> None:
    params = flow.params(rp, prompt="none")
    answer = query_of(flow.authorize(params).headers["Location"])
    assert (answer["error"], answer["state"], answer["iss"]) == ("login_required", params["state"], oidc.issuer)


def test_prompt_none_without_consent_answers_consent_required(flow: Any, rp: Any, person: Any, auth: Any) -> None:
    auth.sign_in(person.email, person.password)
    answer = query_of(flow.authorize(flow.params(rp, prompt="none")).headers["Location"])
    assert answer["error"] == "consent_required"


def test_prompt_none_with_consent_and_session_returns_a_code(flow: Any, rp: Any, person: Any) -> None:
    flow.code_for(rp, person)
    answer = query_of(flow.authorize(flow.params(rp, prompt="none")).headers["Location"])
    assert "code" in answer


def test_prompt_none_combined_with_another_value_is_invalid(flow: Any, rp: Any, person: Any, auth: Any) -> None:
    auth.sign_in(person.email, person.password)
    answer = query_of(flow.authorize(flow.params(rp, prompt="none login")).headers["Location"])
    assert answer["error"] == "invalid_request"


def test_consent_is_remembered_and_prompt_consent_asks_again(flow: Any, rp: Any, person: Any, services: Any) -> None:
    flow.code_for(rp, person)
    assert len(events(services, "oidc:consent:given")) == 1
    again = flow.authorize(flow.params(rp))
    assert again.status_code == 302 and "code=" in again.headers["Location"]
    asked = flow.authorize(flow.params(rp, prompt="consent"))
    assert asked.status_code == 200 and b'name="request_id"' in asked.data


def test_more_scopes_than_consented_ask_again(flow: Any, rp: Any, person: Any) -> None:
    flow.code_for(rp, person, scope="openid")
    asked = flow.authorize(flow.params(rp, scope="openid email"))
    assert asked.status_code == 200 and b'name="request_id"' in asked.data


def test_first_party_client_skips_consent(flow: Any, make_client: Any, person: Any, auth: Any) -> None:
    first_party = make_client(skip_consent=True)
    auth.sign_in(person.email, person.password)
    response = flow.authorize(flow.params(first_party))
    assert response.status_code == 302 and "code=" in response.headers["Location"]


def test_denied_consent_goes_back_with_access_denied(flow: Any, rp: Any, person: Any, auth: Any) -> None:
    auth.sign_in(person.email, person.password)
    params = flow.params(rp)
    answer = query_of(flow.consent(flow.authorize(params), decision="deny").headers["Location"])
    assert (answer["error"], answer["state"]) == ("access_denied", params["state"])


def test_consent_form_without_csrf_or_with_unknown_request_is_refused(client: Any, person: Any, auth: Any) -> None:
    auth.sign_in(person.email, person.password)
    assert client.post("/oauth/consent", data={"request_id": "x", "decision": "allow"}).status_code == 400
    assert client.get("/oauth/authorize?resume=unknown").status_code == 400


def test_prompt_login_asks_again_once_and_does_not_loop(
    flow: Any, rp: Any, person: Any, client: Any, clock: Any
) -> None:
    flow.code_for(rp, person)
    clock.advance(seconds=5)
    response = flow.authorize(flow.params(rp, prompt="login"))
    assert response.headers["Location"].startswith("/reauth?")
    next_url = query_of(response.headers["Location"])["next"]
    # Coming back without signing in again still asks.
    assert client.get(next_url).headers["Location"].startswith("/reauth?")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    from tests.conftest import csrf_of

    client.post("/reauth", data={"csrf_token": csrf_of(page), "password": person.password, "next": next_url})
    back = client.get(next_url)
    assert back.status_code == 302 and "code=" in back.headers["Location"]


def test_max_age_exceeded_asks_to_sign_in_again(flow: Any, rp: Any, person: Any, clock: Any) -> None:
    flow.code_for(rp, person)
    clock.advance(seconds=120)
    assert flow.authorize(flow.params(rp, max_age="600")).headers["Location"].find("code=") > 0
    assert flow.authorize(flow.params(rp, max_age="60")).headers["Location"].startswith("/reauth?")
    answer = query_of(flow.authorize(flow.params(rp, max_age="60", prompt="none")).headers["Location"])
    assert answer["error"] == "login_required"


@pytest.mark.parametrize("value", ["soon", "-1", "1.5"])
def test_bad_max_age_is_invalid_request(flow: Any, rp: Any, person: Any, auth: Any, value: str) -> None:
    auth.sign_in(person.email, person.password)
    answer = query_of(flow.authorize(flow.params(rp, max_age=value)).headers["Location"])
    assert answer["error"] == "invalid_request"


@pytest.mark.parametrize("value", ["not json", "[1]", '{"userinfo": 3}'])
def test_bad_claims_parameter_is_invalid_request(flow: Any, rp: Any, person: Any, auth: Any, value: str) -> None:
    auth.sign_in(person.email, person.password)
    answer = query_of(flow.authorize(flow.params(rp, claims=value)).headers["Location"])
    assert answer["error"] == "invalid_request"


def test_id_token_hint_must_be_ours_and_name_the_signed_in_person(
    flow: Any, rp: Any, person: Any, make_user: Any, client: Any, auth: Any
) -> None:
    tokens = flow.tokens(rp, person)
    ok = flow.authorize(flow.params(rp, id_token_hint=tokens["id_token"], prompt="none"))
    assert "code=" in ok.headers["Location"]
    forged = tokens["id_token"][:-4] + "AAAA"
    answer = query_of(flow.authorize(flow.params(rp, id_token_hint=forged)).headers["Location"])
    assert answer["error"] == "invalid_request"
    auth.logout()
    other = make_user()
    auth.sign_in(other.email, other.password)
    answer = query_of(flow.authorize(flow.params(rp, id_token_hint=tokens["id_token"])).headers["Location"])
    assert answer["error"] == "login_required"


def test_a_service_client_cannot_use_the_authorization_endpoint(flow: Any, make_client: Any) -> None:
    service = make_client("service")
    response = flow.client.get("/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": service.client_id, "redirect_uri": REDIRECT, "scope": "openid",
    }))
    assert response.status_code == 400
    assert "Location" not in response.headers


# -- what the authorization request must not carry ----------------------------------------------


@pytest.mark.parametrize("client_id", ["\x00", "demo\x00rp", "tab\tid", "caf\u00e9", "x" * 65])
def test_a_malformed_client_id_gets_the_error_page_never_a_database_error(flow: Any, rp: Any,
                                                                         client_id: str) -> None:
    response = flow.authorize(flow.params(rp, client_id=client_id))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "This application is not known here." in response.get_data(as_text=True)


def test_the_registered_client_id_with_a_nul_byte_is_not_that_client(flow: Any, rp: Any) -> None:
    response = flow.authorize(flow.params(rp, client_id=rp.client_id + "\x00"))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "This application is not known here." in response.get_data(as_text=True)


@pytest.mark.parametrize("suffix", ["\x00", "\r\nX-Injected: 1", '"quoted"', "\\", "/caf\u00e9"])
def test_an_unregistered_redirect_uri_with_odd_characters_gets_the_error_page(flow: Any, rp: Any,
                                                                             suffix: str) -> None:
    response = flow.authorize(flow.params(rp, redirect_uri=REDIRECT + suffix))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "The redirect_uri is not registered for this client." in response.get_data(as_text=True)


@pytest.mark.parametrize("response_type", ["code\x00", 'co"de', "c\u00f6de", "code\\"])
def test_a_response_type_with_odd_characters_is_unsupported_back_to_the_client(
    flow: Any, rp: Any, oidc: Any, response_type: str
) -> None:
    params = flow.params(rp, response_type=response_type)
    response = flow.authorize(params)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(REDIRECT + "?")
    answer = query_of(response.headers["Location"])
    assert (answer["error"], answer["state"], answer["iss"]) == ("unsupported_response_type", params["state"],
                                                                 oidc.issuer)
    unknown = flow.authorize(flow.params(rp, response_type=response_type, client_id="nobody"))
    assert unknown.status_code == 400 and "Location" not in unknown.headers
    assert "The response type is not supported by the server." in unknown.get_data(as_text=True)


CHECKED = ["scope", "nonce", "login_hint", "prompt", "ui_locales", "code_challenge", "claims", "response_mode",
           "acr_values"]


# Tab, line feed and carriage return are JSON whitespace, so `claims` may hold them (next test).
@pytest.mark.parametrize(("name", "character"), [
    (name, character) for name in CHECKED for character in ("\x00", "\x1b", "\n", "\x7f", "\x85")
    if not (name == "claims" and character == "\n")
])
def test_control_characters_in_a_parameter_go_back_as_invalid_request(
    flow: Any, rp: Any, oidc: Any, name: str, character: str
) -> None:
    params = flow.params(rp)
    value = params.get(name) or {"claims": '{"userinfo": {"name": null}}'}.get(name, "value")
    params[name] = value[:3] + character + value[3:]
    response = flow.authorize(params)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(REDIRECT + "?")
    answer = query_of(response.headers["Location"])
    assert (answer["error"], answer["state"], answer["iss"]) == ("invalid_request", params["state"], oidc.issuer)
    assert answer["error_description"] == f"The {name} parameter contains control characters."


def test_a_pretty_printed_claims_parameter_and_unknown_parameters_are_accepted(flow: Any, rp: Any, person: Any,
                                                                              client: Any) -> None:
    claims = json.dumps({"userinfo": {"email": {"essential": True}}}, indent=2)
    assert "\n" in claims
    _params, answer = flow.code_for(rp, person, scope="openid", claims=claims, unknown="with\x00nul")
    response = flow.redeem(rp, answer["code"])
    assert response.status_code == 200
    token = response.get_json()["access_token"]
    got = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert got["email"] == person.email


def test_a_state_with_a_control_character_comes_back_exactly(flow: Any, rp: Any) -> None:
    params = flow.params(rp, state="abc\x00def", nonce="n\x00")
    answer = query_of(flow.authorize(params).headers["Location"])
    assert (answer["error"], answer["state"]) == ("invalid_request", "abc\x00def")


@pytest.mark.parametrize(("name", "value", "error"), [
    ("request", "eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9.", "request_not_supported"),
    ("request_uri", "https://rp.example/requests/1", "request_uri_not_supported"),
    ("request_uri", "urn:ietf:params:oauth:request_uri:abc", "request_uri_not_supported"),
])
def test_request_objects_are_refused_back_to_the_client(
    flow: Any, rp: Any, oidc: Any, name: str, value: str, error: str
) -> None:
    params = flow.params(rp, **{name: value})
    response = flow.authorize(params)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(REDIRECT + "?")
    answer = query_of(response.headers["Location"])
    assert (answer["error"], answer["state"], answer["iss"]) == (error, params["state"], oidc.issuer)


def test_a_request_object_is_refused_to_a_signed_in_person_with_prompt_none_too(
    flow: Any, rp: Any, person: Any
) -> None:
    flow.code_for(rp, person)
    params = flow.params(rp, prompt="none", request="eyJhbGciOiJub25lIn0.e30.")
    answer = query_of(flow.authorize(params).headers["Location"])
    assert (answer["error"], answer["state"]) == ("request_not_supported", params["state"])
    assert "code" not in answer


def test_a_request_object_for_an_unknown_client_or_redirect_uri_gets_the_error_page(flow: Any, rp: Any) -> None:
    for change, message in (({"client_id": "nobody"}, "This application is not known here."),
                            ({"redirect_uri": "http://127.0.0.1:9999/elsewhere"},
                             "The redirect_uri is not registered for this client.")):
        response = flow.authorize(flow.params(rp, request="eyJhbGciOiJub25lIn0.e30.", **change))
        assert response.status_code == 400
        assert "Location" not in response.headers
        assert message in response.get_data(as_text=True)
