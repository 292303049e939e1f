"""Authlib grant subclasses (the authorization code, refresh token and client credentials grants,
the OpenID Connect extensions, PKCE S256-only, and the checks of the authorization request
Authlib leaves to us). Storage goes through the OIDC service."""

from __future__ import annotations

import re
from typing import Any
from typing import ClassVar

from authlib.oauth2.rfc6749 import InvalidGrantError
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6749 import InvalidScopeError
from authlib.oauth2.rfc6749 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode

from idp.foundation.sessions import Acting
from idp.oidc import claims as claims_mod
from idp.oidc.authorize import request_object
from idp.oidc.authorize.decisions import Refuse
from idp.oidc.models import AuthorizationCode
from idp.oidc.models import Client
from idp.oidc.models import EndUser
from idp.oidc.records import RefreshRecord
from idp.oidc.rules import grant as grant_rules
from idp.oidc.rules import refresh as refresh_rules
from idp.oidc.rules.bodies import wants_refresh
from idp.oidc.rules.grant import GrantContext
from idp.oidc.tokens import Issued
from idp.standing import Act
from idp.standing import may

AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
DELEGATION_ENDED = "the delegation this grant was made under has ended"


def _oidc(grant: Any) -> Any:
    return grant.server.oidc


class S256Only(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 only, required for public clients and checked at the authorization
    endpoint (so a public client's request without a challenge never gets a code)."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge") and grant.request.client.is_public:
            raise InvalidRequestError("PKCE (code_challenge with S256) is required for this client.")
        if data.get("code_challenge") and not data.get("code_challenge_method"):
            # RFC 7636 defaults to plain, which we refuse: say so instead of guessing.
            raise InvalidRequestError("code_challenge_method must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


# The authorization request parameters this provider reads (RFC 6749 §4.1.1, OpenID Connect
# Core 3.1.2.1, RFC 7636); any other parameter is ignored, as RFC 6749 §3.1 requires.
AUTHORIZATION_PARAMETERS = (
    "response_type", "client_id", "redirect_uri", "scope", "state", "response_mode", "nonce", "display",
    "prompt", "max_age", "ui_locales", "claims_locales", "id_token_hint", "login_hint", "acr_values",
    "claims", "code_challenge", "code_challenge_method", "request", "request_uri",
)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# `claims` is JSON, where tab, line feed and carriage return are whitespace.
JSON_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class AuthorizationRequestChecks:
    """What the authorization request must not carry, checked once the client and its
    redirect_uri are known good, so that the error goes back to the client with its state
    (an unknown or malformed client_id, or an unregistered redirect_uri, never gets that far:
    it gets the error page). Runs before the scope, PKCE and OpenID checks: request objects
    (the `authorize.request_object` step), then control characters."""

    def __call__(self, grant: Any) -> None:
        grant.register_hook("before_validate_authorization_request_payload", self.validate)

    @staticmethod
    def validate(grant: Any, redirect_uri: str) -> None:
        datalist = grant.request.payload.datalist
        refusal = request_object.check(datalist)
        if isinstance(refusal, Refuse):
            raise OAuth2Error(refusal.description, error=refusal.error)
        for name in AUTHORIZATION_PARAMETERS:
            pattern = JSON_CONTROL_CHARACTERS if name == "claims" else CONTROL_CHARACTERS
            if any(pattern.search(value) for value in datalist.get(name) or ()):
                raise InvalidRequestError(f"The {name} parameter contains control characters.")


class IdpOpenIDCode(OpenIDCode):  # type: ignore[misc]
    """The OpenID checks of the authorization request (prompt, nonce). Nonces are the relying
    party's to check: none is required. The ID token is already in the token response, built
    by `TokenService.issue` as the fast lane builds it (`rules.bodies`), so Authlib adds none."""

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return False

    def process_token(self, grant: Any, response: Any) -> Any:
        return response[1]


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = AUTH_METHODS

    @staticmethod
    def validate_authorization_redirect_uri(request: Any, client: Client) -> str:
        """The redirect_uri, required and matched exactly. Authlib's own names the refused URI
        in the error description, which raises ValueError (a 500) when the URI holds a character
        an error description may not (a control character, a quote, a backslash, non-ASCII)."""
        redirect_uri: str | None = request.payload.redirect_uri
        if not redirect_uri:
            raise InvalidRequestError("Missing 'redirect_uri' in request.", state=request.payload.state)
        if not client.check_redirect_uri(redirect_uri):
            raise InvalidRequestError("The redirect_uri is not registered for this client.")
        return redirect_uri

    def save_authorization_code(self, code: str, request: Any) -> None:
        end_user: EndUser = request.user
        data = request.payload.data
        client: Client = request.client
        _oidc(self).save_code(code, AuthorizationCode(
            code_hash="", client_id=client.client_id, redirect_uri=request.payload.redirect_uri,
            scope=request.scope or "", user_id=end_user.user.id, auth_time=end_user.auth_time,
            sid=end_user.sid, nonce=data.get("nonce") or None, acr=claims_mod.acr_for(end_user.amr),
            amr=end_user.amr, claims=claims_mod.parse_claims_request(data.get("claims")),
            code_challenge=data.get("code_challenge") or None,
            code_challenge_method=data.get("code_challenge_method") or None,
            acting=end_user.acting.as_dict() if end_user.acting is not None else None,
        ))

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        return _oidc(self).redeem_code(code, client.client_id)  # type: ignore[no-any-return]

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Already gone: redeem_code took it atomically."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Any:
        # The code was issued to a signed-in browser moments ago: the same rule as its session.
        user = _oidc(self).users.get(authorization_code.user_id)
        if not may(user, Act.BROWSER_SESSION):
            raise InvalidGrantError("the account of this code cannot act")
        acting = Acting.from_dict(authorization_code.acting)
        if authorization_code.acting is not None and not _oidc(self).delegation_stands(user.id, acting):
            raise InvalidGrantError(DELEGATION_ENDED)
        return user

    def generate_token(self, user: Any = None, scope: str | None = None, grant_type: str | None = None,
                       expires_in: int | None = None, include_refresh_token: bool = True) -> dict[str, Any]:
        code: AuthorizationCode = self.request.authorization_code
        client: Client = self.request.client
        ctx = GrantContext(
            client=client.record, user=user, scope=code.scope, auth_time=code.auth_time, acr=code.acr,
            amr=code.amr, sid=code.sid, claims=code.claims, nonce=code.nonce, acting=Acting.from_dict(code.acting),
        )
        return _issue(self, ctx)


def _issue(grant: Any, ctx: GrantContext) -> dict[str, Any]:
    service = _oidc(grant)
    issued: Issued = service.tokens.issue(ctx, with_refresh=wants_refresh(ctx.client, ctx.grant_scope))
    grant.request.grant_context = ctx
    grant.request.issued = issued
    return issued.response


class RefreshCredential:
    """A live refresh token as Authlib's refresh grant sees it."""

    def __init__(self, record: RefreshRecord) -> None:
        self.record = record

    def check_client(self, client: Client) -> bool:
        return bool(self.record.client_id == client.client_id)

    def get_scope(self) -> str:
        return self.record.scope


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    """Rotation at every use; a spent token presented again revokes its whole family; a token
    is accepted only from the client it was issued to."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    # The rules of `rules.refresh`, in its order (token, scope, account), each at the Authlib
    # hook that asks it; any refusal but the scope's is invalid_grant.

    def authenticate_refresh_token(self, refresh_token: str) -> Any:
        service = _oidc(self)
        record = service.tokens.find_refresh(refresh_token)
        refusal = refresh_rules.presented(record, self.request.client.client_id, service.clock.now())
        if refusal is refresh_rules.Refusal.REUSED:
            service.refresh_reused(record)
        return RefreshCredential(record) if refusal is None else None

    def _validate_token_scope(self, token: Any) -> None:
        if refresh_rules.narrowed_scope(token.record.scope, self.request.payload.scope) is None:
            raise InvalidScopeError()

    def authenticate_user(self, refresh_token: Any) -> Any:
        service = _oidc(self)
        record: RefreshRecord = refresh_token.record
        user = service.users.get(record.user_id)
        if refresh_rules.account(user) is not None:
            # As good as revoked, so invalid_grant (Authlib would answer invalid_request for a missing user).
            raise InvalidGrantError("the account of this token cannot act")
        if record.acting is not None and not service.delegation_stands(user.id, Acting.from_dict(record.acting)):
            # Never a token that drops or keeps a dead delegation: the grant ends with it.
            service.delegation_ended(record)
            raise InvalidGrantError(DELEGATION_ENDED)
        return user

    def generate_token(self, user: Any = None, scope: str | None = None, grant_type: str | None = None,
                       expires_in: int | None = None, include_refresh_token: bool = True) -> dict[str, Any]:
        record = self.request.refresh_token.record
        service = _oidc(self)
        if not service.tokens.spend(record):
            # Lost a race with another use of the same token: that is reuse too.
            service.refresh_reused(record)
            raise InvalidGrantError("The refresh token was already used.")
        client: Client = self.request.client
        scope = refresh_rules.narrowed_scope(record.scope, self.request.payload.scope) or ""
        return _issue(self, grant_rules.refreshed(client.record, user, record, scope))

    def revoke_old_credential(self, refresh_token: Any) -> None:
        """Spent in generate_token, before the new token was issued."""


class ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

    def generate_token(self, user: Any = None, scope: str | None = None, grant_type: str | None = None,
                       expires_in: int | None = None, include_refresh_token: bool = True) -> dict[str, Any]:
        client: Client = self.request.client
        return _issue(self, grant_rules.for_service(client.record, scope))
