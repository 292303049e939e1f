"""The steps of the authorization request (`idp.oidc.authorize`), each decision tested directly:
prompt, max_age, id_token_hint, consent, request objects, and the order the pipeline runs them in.
The id_token_hint and consent steps ask the real OIDC service; the others need no storage."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from idp.model import RequestContext
from idp.oidc import authorize
from idp.oidc.authorize import PROCEED
from idp.oidc.authorize import AskConsent
from idp.oidc.authorize import AuthorizationContext
from idp.oidc.authorize import ConsentReason
from idp.oidc.authorize import Refuse
from idp.oidc.authorize import SignIn
from idp.oidc.authorize import SignInReason
from idp.oidc.authorize import claims_request
from idp.oidc.authorize import consent
from idp.oidc.authorize import id_token_hint
from idp.oidc.authorize import max_age
from idp.oidc.authorize import prompt
from idp.oidc.authorize import request_object
from idp.oidc.authorize import session
from idp.oidc.models import EndUser
from idp.oidc.records import ClientRecord
from idp.oidc.rules.grant import GrantContext

NOW = 2_000_000_000
SCOPE = "openid profile"
BAD_MAX_AGE = Refuse("invalid_request", "max_age must be a number of seconds")


@dataclass
class Someone:
    subject: str
    id: int = 1


@dataclass
class Rules:
    """The service's two answers, set by each test."""

    hints: dict[str, dict[str, Any]] = field(default_factory=dict)
    consent_needed: bool = False
    asked: list[tuple[Any, str, str]] = field(default_factory=list)

    def check_id_token_hint(self, hint: str | None) -> dict[str, Any] | None:
        return self.hints.get(hint or "")

    def needs_consent(self, user: Any, client: ClientRecord, scope: str) -> bool:
        self.asked.append((user, client.client_id, scope))
        return self.consent_needed


def a_client(**values: Any) -> ClientRecord:
    fields: dict[str, Any] = {
        "client_id": "rp-1", "name": "RP", "kind": "confidential", "secret_hash": None,
        "redirect_uris": ["http://127.0.0.1:9999/callback"], "post_logout_redirect_uris": [],
        "backchannel_logout_uri": None, "scopes": ["openid", "profile"], "grant_types": ["authorization_code"],
        "skip_consent": False, "always_refresh": False, "access_token_lifetime": None,
        "refresh_token_lifetime": None, "id_token_alg": "RS256", "created_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
    }
    return ClientRecord(**(fields | values))


def signed_in(auth_time: int = NOW - 30, subject: str = "sub-ada") -> EndUser:
    return EndUser(Someone(subject), auth_time, ["pwd"], "handle-1")


def ctx(params: dict[str, str] | None = None, *, person: EndUser | None = None, seen: int | None = None,
        rules: Any = None, client: ClientRecord | None = None, scope: str = SCOPE,
        now: int = NOW) -> AuthorizationContext:
    return AuthorizationContext(params=params or {}, client=client or a_client(), scope=scope, person=person,
                                now=now, seen=seen, rules=rules or Rules())


# -- the context ---------------------------------------------------------------------------


def test_the_context_reads_the_language_and_the_login_hint_for_the_pages() -> None:
    assert ctx({"ui_locales": "de FR-ca en"}).ui_locale == "fr"
    assert ctx({"ui_locales": "de ja"}).ui_locale is None
    assert ctx().ui_locale is None
    assert ctx({"login_hint": "a" * 400}).login_hint == "a" * 320
    assert ctx({"login_hint": ""}).login_hint is None
    assert ctx({"prompt": " login  consent "}).prompts == {"login", "consent"}


# -- prompt -------------------------------------------------------------------------------


def test_prompt_none_without_a_session_is_login_required() -> None:
    assert authorize.decide(ctx({"prompt": "none"})) == Refuse("login_required")


def test_prompt_none_without_consent_is_consent_required_and_with_it_proceeds() -> None:
    person = signed_in()
    assert authorize.decide(ctx({"prompt": "none"}, person=person, rules=Rules(consent_needed=True))) \
        == Refuse("consent_required")
    assert authorize.decide(ctx({"prompt": "none"}, person=person)) is PROCEED


def test_prompt_none_with_max_age_exceeded_or_prompt_login_pending_is_login_required() -> None:
    old = signed_in(auth_time=NOW - 120)
    assert authorize.decide(ctx({"prompt": "none", "max_age": "60"}, person=old)) == Refuse("login_required")


def test_prompt_none_leaves_an_error_as_it_is() -> None:
    refusal = Refuse("login_required", "another person is signed in")
    assert prompt.without_pages(ctx({"prompt": "none"}), refusal) is refusal
    assert prompt.without_pages(ctx({"prompt": "none"}), PROCEED) is PROCEED
    # Without prompt=none the pages stay pages.
    assert prompt.without_pages(ctx(), SignIn(SignInReason.NO_SESSION)) == SignIn(SignInReason.NO_SESSION)
    assert prompt.without_pages(ctx({"prompt": "login"}), AskConsent(ConsentReason.NOT_GIVEN)) \
        == AskConsent(ConsentReason.NOT_GIVEN)


def test_prompt_login_asks_a_signed_in_person_to_sign_in_again() -> None:
    assert prompt.login(ctx({"prompt": "login"}, person=signed_in())) == SignIn(SignInReason.PROMPT_LOGIN)
    assert authorize.decide(ctx({"prompt": "login consent"}, person=signed_in())) \
        == SignIn(SignInReason.PROMPT_LOGIN)
    assert prompt.login(ctx({"prompt": "select_account"}, person=signed_in())) is PROCEED


def test_prompt_login_is_satisfied_by_a_sign_in_after_the_request_arrived() -> None:
    seen = NOW - 60
    assert prompt.login(ctx({"prompt": "login"}, person=signed_in(auth_time=seen), seen=seen)) is PROCEED
    assert prompt.login(ctx({"prompt": "login"}, person=signed_in(auth_time=seen - 1), seen=seen)) \
        == SignIn(SignInReason.PROMPT_LOGIN)


def test_nobody_signed_in_is_asked_to_sign_in_whatever_the_prompt() -> None:
    assert session.signed_in(ctx()) == SignIn(SignInReason.NO_SESSION)
    assert session.signed_in(ctx(person=signed_in())) is PROCEED
    assert authorize.decide(ctx({"prompt": "login"})) == SignIn(SignInReason.NO_SESSION)
    assert authorize.decide(ctx({"prompt": "consent"})) == SignIn(SignInReason.NO_SESSION)


# -- max_age ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["soon", "-1", "1.5", "1e3"])
def test_a_max_age_that_is_not_a_number_of_seconds_is_invalid_request(value: str) -> None:
    assert max_age.well_formed(ctx({"max_age": value})) == BAD_MAX_AGE
    assert authorize.decide(ctx({"max_age": value}, person=signed_in())) == BAD_MAX_AGE


def test_an_empty_or_missing_max_age_asks_nothing() -> None:
    assert max_age.well_formed(ctx({"max_age": ""})) is PROCEED
    assert max_age.honoured(ctx({"max_age": ""}, person=signed_in(auth_time=0))) is PROCEED
    assert max_age.honoured(ctx(person=signed_in(auth_time=0))) is PROCEED


def test_max_age_exceeded_asks_to_sign_in_again_and_the_limit_itself_does_not() -> None:
    assert max_age.honoured(ctx({"max_age": "60"}, person=signed_in(auth_time=NOW - 61))) \
        == SignIn(SignInReason.MAX_AGE)
    assert max_age.honoured(ctx({"max_age": "60"}, person=signed_in(auth_time=NOW - 60))) is PROCEED
    assert authorize.decide(ctx({"max_age": "60"}, person=signed_in(auth_time=NOW - 120))) \
        == SignIn(SignInReason.MAX_AGE)


def test_max_age_zero_accepts_only_a_sign_in_of_this_very_second() -> None:
    assert max_age.honoured(ctx({"max_age": "0"}, person=signed_in(auth_time=NOW - 1))) \
        == SignIn(SignInReason.MAX_AGE)
    assert max_age.honoured(ctx({"max_age": "0"}, person=signed_in(auth_time=NOW))) is PROCEED


def test_max_age_is_satisfied_by_a_sign_in_after_the_request_arrived() -> None:
    seen = NOW - 300
    resumed = ctx({"max_age": "0"}, person=signed_in(auth_time=seen + 10), seen=seen)
    assert max_age.honoured(resumed) is PROCEED
    assert max_age.honoured(ctx({"max_age": "0"}, person=signed_in(auth_time=seen - 10), seen=seen)) \
        == SignIn(SignInReason.MAX_AGE)


# -- claims -------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "description"), [
    ("not json", "claims parameter is not valid JSON"),
    ("[1]", "claims parameter must be a JSON object"),
])
def test_a_malformed_claims_parameter_is_invalid_request(value: str, description: str) -> None:
    assert claims_request.well_formed(ctx({"claims": value})) == Refuse("invalid_request", description)


def test_a_claims_parameter_of_objects_proceeds() -> None:
    assert claims_request.well_formed(ctx({"claims": '{"userinfo": {"email": null}}'})) is PROCEED


# -- id_token_hint (signed by the real key service) ---------------------------------------


@pytest.fixture
def ada(make_user: Any, services: Any) -> Any:
    return services.users.get(make_user(display_name="Ada").id)


@pytest.fixture
def record(oidc: Any, rp: Any) -> ClientRecord:
    found: ClientRecord = oidc.clients.get(rp.client_id)
    return found


def id_token_for(oidc: Any, record: ClientRecord, user: Any) -> str:
    return str(oidc.tokens.id_token(GrantContext(client=record, user=user, scope="openid", auth_time=NOW), None))


def person_of(user: Any, auth_time: int = NOW) -> EndUser:
    return EndUser(user, auth_time, ["pwd"], "handle-1")


def test_a_hint_for_the_person_signed_in_proceeds(oidc: Any, record: ClientRecord, ada: Any) -> None:
    hint = id_token_for(oidc, record, ada)
    assert id_token_hint.check(ctx({"id_token_hint": hint}, person=person_of(ada), rules=oidc.service)) is PROCEED


def test_a_hint_for_another_person_is_login_required(
    oidc: Any, record: ClientRecord, ada: Any, make_user: Any, services: Any
) -> None:
    hint = id_token_for(oidc, record, ada)
    grace = services.users.get(make_user().id)
    answer = id_token_hint.check(ctx({"id_token_hint": hint}, person=person_of(grace), rules=oidc.service))
    assert answer == Refuse("login_required", "another person is signed in")
    # Even with prompt=none the answer keeps its description, and it comes before consent.
    assert authorize.decide(ctx({"id_token_hint": hint, "prompt": "none"}, person=person_of(grace),
                                rules=oidc.service)) == answer


def test_a_hint_with_a_bad_signature_or_from_another_key_is_invalid_request(
    oidc: Any, record: ClientRecord, ada: Any
) -> None:
    hint = id_token_for(oidc, record, ada)
    header, body, signature = hint.split(".")
    tampered = f"{header}.{body}.{signature[:-4]}AAAA"
    # The same claims under our key id, signed by a key that is not ours.
    kid = json.loads(base64.urlsafe_b64decode(header + "=="))["kid"]
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    foreign = jwt.encode({"alg": "RS256", "kid": kid}, claims, RSAKey.generate_key(2048))
    for forged in (tampered, foreign, "not a token"):
        assert id_token_hint.check(ctx({"id_token_hint": forged}, person=person_of(ada), rules=oidc.service)) \
            == Refuse("invalid_request", "id_token_hint is not an ID token issued here")


def test_an_access_token_is_no_id_token_hint(oidc: Any, record: ClientRecord, ada: Any) -> None:
    access = oidc.tokens.issue(GrantContext(client=record, user=ada, scope="openid", auth_time=NOW),
                               with_refresh=False).response["access_token"]
    assert id_token_hint.check(ctx({"id_token_hint": access}, person=person_of(ada), rules=oidc.service)) \
        == Refuse("invalid_request", "id_token_hint is not an ID token issued here")


def test_an_expired_hint_signed_here_is_still_a_hint(
    oidc: Any, record: ClientRecord, ada: Any, clock: Any
) -> None:
    hint = id_token_for(oidc, record, ada)
    clock.advance(seconds=oidc.tokens.id_lifetime + 3600)
    assert id_token_hint.check(ctx({"id_token_hint": hint}, person=person_of(ada), rules=oidc.service)) is PROCEED


def test_a_hint_with_nobody_signed_in_leads_to_the_sign_in(oidc: Any, record: ClientRecord, ada: Any) -> None:
    hint = id_token_for(oidc, record, ada)
    assert id_token_hint.check(ctx({"id_token_hint": hint}, rules=oidc.service)) is PROCEED
    assert authorize.decide(ctx({"id_token_hint": hint}, rules=oidc.service)) == SignIn(SignInReason.NO_SESSION)
    # A hint that is not ours is refused before anyone is asked to sign in.
    for params in ({"id_token_hint": hint[:-4] + "AAAA"}, {"id_token_hint": "x", "prompt": "none"}):
        assert authorize.decide(ctx(params, rules=oidc.service)) \
            == Refuse("invalid_request", "id_token_hint is not an ID token issued here")


# -- consent (the real consent store) -----------------------------------------------------


def test_consent_is_asked_until_given_then_remembered(oidc: Any, record: ClientRecord, ada: Any) -> None:
    asking = ctx(person=person_of(ada), client=record, rules=oidc.service)
    assert consent.given(asking) == AskConsent(ConsentReason.NOT_GIVEN)
    oidc.service.give_consent(ada, record, SCOPE, _request_context())
    assert consent.given(asking) is PROCEED
    assert authorize.decide(asking) is PROCEED


def test_a_scope_not_yet_allowed_asks_again(oidc: Any, record: ClientRecord, ada: Any) -> None:
    oidc.service.give_consent(ada, record, "openid", _request_context())
    wider = ctx(person=person_of(ada), client=record, scope="openid email", rules=oidc.service)
    assert consent.given(wider) == AskConsent(ConsentReason.NOT_GIVEN)


def test_prompt_consent_asks_even_when_consent_was_given(oidc: Any, record: ClientRecord, ada: Any) -> None:
    oidc.service.give_consent(ada, record, SCOPE, _request_context())
    again = ctx({"prompt": "consent"}, person=person_of(ada), client=record, rules=oidc.service)
    assert consent.given(again) == AskConsent(ConsentReason.PROMPT_CONSENT)


def test_a_first_party_client_is_never_asked_about(oidc: Any, make_client: Any, ada: Any) -> None:
    first_party = oidc.clients.get(make_client(skip_consent=True).client_id)
    assert consent.given(ctx(person=person_of(ada), client=first_party, rules=oidc.service)) is PROCEED


def test_consent_cannot_be_given_by_nobody() -> None:
    rules = Rules(consent_needed=True)
    assert consent.given(ctx(rules=rules)) == SignIn(SignInReason.NO_SESSION)
    assert rules.asked == []


def _request_context() -> RequestContext:
    return RequestContext(ip="127.0.0.1", user_agent="tests")


# -- request objects ----------------------------------------------------------------------


def test_request_and_request_uri_are_refused() -> None:
    assert request_object.check({"request": ["eyJhbGciOiJub25lIn0.e30."]}) \
        == Refuse("request_not_supported", "Request objects (the request parameter) are not supported.")
    assert request_object.check({"request_uri": ["https://rp.example/requests/1"]}) \
        == Refuse("request_uri_not_supported", "The request_uri parameter is not supported.")
    # Both: the request parameter is named first; an empty value is no request object.
    assert request_object.check({"request": ["x"], "request_uri": ["y"]}).error == "request_not_supported"
    assert request_object.check({"request": [""], "request_uri": ["", "y"]}).error == "request_uri_not_supported"
    assert request_object.check({"request": [""], "scope": ["openid"]}) is PROCEED


# -- the pipeline -------------------------------------------------------------------------


def test_the_parameters_are_checked_before_the_session_and_the_sign_in_before_consent() -> None:
    rules = Rules(consent_needed=True, hints={"someone-else": {"sub": "sub-grace"}})
    person = signed_in(auth_time=NOW - 600)
    every_fault = {"max_age": "soon", "claims": "[1]", "id_token_hint": "unknown", "prompt": "login"}
    expected = [
        BAD_MAX_AGE,
        Refuse("invalid_request", "claims parameter must be a JSON object"),
        Refuse("invalid_request", "id_token_hint is not an ID token issued here"),
        Refuse("login_required", "another person is signed in"),
        SignIn(SignInReason.PROMPT_LOGIN),
        AskConsent(ConsentReason.NOT_GIVEN),
    ]
    params = dict(every_fault)
    for cure, answer in zip(
        ({"max_age": ""}, {"claims": ""}, {"id_token_hint": "someone-else"}, {"id_token_hint": ""},
         {"prompt": ""}, {}), expected, strict=True,
    ):
        assert authorize.decide(ctx(params, person=person, rules=rules)) == answer
        params |= cure
    assert authorize.decide(ctx(params, person=person, rules=Rules())) is PROCEED


def test_a_request_that_asks_nothing_proceeds_and_the_steps_ask_no_more_than_needed() -> None:
    rules = Rules()
    assert authorize.decide(ctx(person=signed_in(), rules=rules)) is PROCEED
    assert rules.asked == [(signed_in().user, "rp-1", SCOPE)]
    nobody = Rules(consent_needed=True)
    assert authorize.decide(ctx(rules=nobody)) == SignIn(SignInReason.NO_SESSION)
    assert nobody.asked == []


def test_a_stale_session_signs_in_again_before_consent_is_asked() -> None:
    rules = Rules(consent_needed=True)
    old = signed_in(auth_time=NOW - 120)
    assert authorize.decide(ctx({"max_age": "60"}, person=old, rules=rules)) == SignIn(SignInReason.MAX_AGE)
    assert authorize.decide(ctx({"max_age": "60", "prompt": "none"}, person=old, rules=rules)) \
        == Refuse("login_required")
    assert authorize.decide(ctx({"max_age": "600", "prompt": "none"}, person=old, rules=rules)) \
        == Refuse("consent_required")
