"""Who and what a token speaks for: the grant context, built from an authorization code, a
refresh token or a service client."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from idp.foundation.sessions import Acting
from idp.model import User
from idp.oidc import claims as claims_mod
from idp.oidc.records import ClientRecord
from idp.oidc.records import RefreshRecord


@dataclass
class GrantContext:
    """Who and what a token speaks for; built from an authorization code, a refresh token, or a client."""

    client: ClientRecord
    user: User | None
    scope: str
    auth_time: int | None = None
    acr: str | None = None
    amr: list[str] = field(default_factory=list)
    sid: str | None = None
    claims: dict[str, list[str]] = field(default_factory=dict)
    nonce: str | None = None
    family: str | None = None
    # The scope the person granted, which refresh tokens keep when a refresh narrows `scope`
    # (that of the access and ID tokens); None: the same as `scope`.
    granted: str | None = None
    # A grant made while the person acted for a client organisation (the `act` claim).
    acting: Acting | None = None

    @property
    def grant_scope(self) -> str:
        return self.scope if self.granted is None else self.granted


def refreshed(client: ClientRecord, user: User, record: RefreshRecord, scope: str) -> GrantContext:
    """The context of the tokens a refresh issues: the original sign-in's facts (auth_time, acr,
    amr, sid, claims request; no nonce), in the token's family. `scope` (possibly narrower, see
    `refresh.narrowed_scope`) is for the access and ID tokens; the successor keeps the grant's
    (RFC 6749 §6), so a refresh without offline_access still gets one."""
    return GrantContext(
        client=client, user=user, scope=scope, auth_time=record.auth_time, acr=record.acr, amr=record.amr,
        sid=record.sid, claims=record.claims, family=record.family, granted=record.scope,
        acting=Acting.from_dict(record.acting),
    )


def allowed_scope(client: ClientRecord, scope: str | None) -> str:
    """What the client may have of the scope asked for, in the order asked, each once."""
    if not scope:
        return ""
    allowed = set(client.scopes)
    return " ".join(s for s in dict.fromkeys(scope.split()) if s in allowed)


def service_scope(client: ClientRecord, scope: str | None) -> str:
    """The scope a client credentials token gets: what the client may have of what it asked
    for, without identity scopes (there is no person)."""
    return " ".join(s for s in allowed_scope(client, scope).split() if s not in claims_mod.SCOPES)


def for_service(client: ClientRecord, requested: str | None) -> GrantContext:
    """The context of a client credentials token: no person, `sub` is the client."""
    return GrantContext(client=client, user=None, scope=service_scope(client, requested))


def client_may_use(client: ClientRecord, grant_type: str) -> bool:
    """Whether the client is (still) registered for this grant type."""
    return grant_type in client.grant_types
