"""Authlib endpoint subclasses: revocation (RFC 7009) and introspection (RFC 7662), for JWT
access tokens and opaque refresh tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from typing import ClassVar

from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from idp.foundation.sessions import Acting
from idp.model import User
from idp.oidc.records import RefreshRecord
from idp.oidc.rules import introspection
from idp.oidc.rules.events import revoked_event

AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


@dataclass
class FoundToken:
    """An access token's claims or a refresh token's record, as the endpoints see it."""

    kind: str  # access_token | refresh_token
    client_id: str
    claims: dict[str, Any] | None = None
    record: RefreshRecord | None = None
    live: bool = True
    user: User | None = None  # a refresh token's person, once read

    def check_client(self, client: Any) -> bool:
        return bool(self.client_id == client.client_id)

    def is_expired(self) -> bool:
        return not self.live

    def is_revoked(self) -> bool:
        return not self.live


def _find(server: Any, token: str, hint: str | None) -> FoundToken | None:
    service = server.oidc
    order = ["refresh_token", "access_token"] if hint == "refresh_token" else ["access_token", "refresh_token"]
    for kind in order:
        if kind == "access_token" and token.count(".") == 2:
            claims = service.tokens.verify_access_token(token)
            if claims is not None:
                return FoundToken("access_token", str(claims.get("client_id")), claims=claims)
        if kind == "refresh_token" and token.count(".") == 0:
            record = service.tokens.find_refresh(token)
            if record is not None:
                return FoundToken("refresh_token", record.client_id, record=record,
                                  live=service.tokens.is_live(record))
    return None


class IdpRevocationEndpoint(RevocationEndpoint):  # type: ignore[misc]
    """Revoking a refresh token revokes its family (and their access tokens); revoking an access
    token denies it until it expires. Public clients revoke with their client_id alone."""

    CLIENT_AUTH_METHODS: ClassVar[list[str]] = [*AUTH_METHODS, "none"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> FoundToken | None:
        return _find(self.server, token_string, token_type_hint)

    def revoke_token(self, token: FoundToken, request: Any) -> None:
        service = self.server.oidc
        user_id = None
        if token.kind == "access_token" and token.claims is not None:
            service.tokens.deny(token.claims.get("jti"), token.claims.get("exp"))
        elif token.record is not None:
            service.tokens.revoke_family(token.record.family)
            user_id = token.record.user_id
        event = revoked_event(token.kind, token.client_id, user_id)
        service.events.record_event(event.tag, ctx=self.server.request_context(), **event.fields())


class IdpIntrospectionEndpoint(IntrospectionEndpoint):  # type: ignore[misc]
    """The rules of `rules.introspection`: a client may introspect the tokens issued to it; a
    service client (a resource server) may introspect any access token; a token is active while
    its account may act."""

    CLIENT_AUTH_METHODS: ClassVar[list[str]] = AUTH_METHODS
    SUPPORTED_TOKEN_TYPES: ClassVar[tuple[str, ...]] = introspection.TOKEN_TYPE_HINTS

    def query_token(self, token_string: str, token_type_hint: str | None) -> FoundToken | None:
        found = _find(self.server, token_string, token_type_hint)
        if found is None or not self._active(found):
            return None  # inactive
        return found

    def _active(self, token: FoundToken) -> bool:
        service = self.server.oidc
        if token.claims is not None:
            person = introspection.speaks_for_a_person(token.claims)
            user = service.subjects.by_subject(str(token.claims.get("sub"))) if person else None
            if not introspection.access_token_active(token.claims, user):
                return False
            # A token issued while acting for a client is active while its delegation stands.
            return user is None or bool(service.token_delegation_stands(user.id, token.claims))
        assert token.record is not None  # noqa: S101 - a FoundToken has claims or a record
        token.user = service.users.get(token.record.user_id)
        if not introspection.refresh_token_active(token.record, token.user, service.clock.now()):
            return False
        acting = token.record.acting
        return acting is None or bool(service.delegation_stands(token.record.user_id, Acting.from_dict(acting)))

    def authenticate_token(self, request: Any, client: Any) -> FoundToken | None:
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        if token is not None and self.check_permission(token, client, request):
            return token
        return None

    def check_permission(self, token: FoundToken, client: Any, request: Any) -> bool:
        return introspection.may_introspect(token.kind, token.client_id, client.record)

    def introspect_token(self, token: FoundToken) -> dict[str, Any]:
        if token.claims is not None:
            return introspection.access_token_answer(token.claims)
        assert token.record is not None  # noqa: S101 - a FoundToken has claims or a record
        return introspection.refresh_token_answer(token.record, token.user, self.server.oidc.issuer)
