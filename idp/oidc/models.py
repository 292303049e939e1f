"""Authlib's model mixins over our records: the client and the authorization code."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oidc.core import AuthorizationCodeMixin

from idp.foundation.sessions import Acting
from idp.oidc.clients import secret_matches
from idp.oidc.records import ClientRecord
from idp.oidc.rules import grant as grant_rules


class Client(ClientMixin):  # type: ignore[misc]
    """A registered relying party as Authlib sees it. Redirect URIs match exactly; there is no
    default redirect URI, so a request without one gets the error page, never a redirect."""

    def __init__(self, record: ClientRecord) -> None:
        self.record = record
        self.client_id = record.client_id
        self.client_metadata: dict[str, Any] = {}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        return grant_rules.allowed_scope(self.record, scope)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.record.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_matches(self.record.secret_hash, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.record.kind == "public":
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.record.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_rules.client_may_use(self.record, grant_type)

    @property
    def is_public(self) -> bool:
        return self.record.kind == "public"


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):  # type: ignore[misc]
    """What a code stands for, as stored in Redis until it is redeemed (once)."""

    code_hash: str
    client_id: str
    redirect_uri: str
    scope: str
    user_id: int
    auth_time: int
    sid: str | None = None
    nonce: str | None = None
    acr: str | None = None
    amr: list[str] = field(default_factory=list)
    claims: dict[str, list[str]] = field(default_factory=dict)
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    # What the person acted for when they authorized (idp.foundation.sessions.Acting.as_dict).
    acting: dict[str, Any] | None = None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return self.acr

    def get_amr(self) -> list[str]:
        return self.amr

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "code_hash"}


@dataclass(frozen=True)
class EndUser:
    """The signed-in person at the authorization endpoint, with the session they signed in with."""

    user: Any
    auth_time: int
    amr: list[str]
    sid: str
    # The client organisation the session acts for, as checked at this request (None: itself).
    acting: Acting | None = None
