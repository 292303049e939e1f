"""The OpenID Provider's rules outside Authlib: codes, parked authorization requests, consent,
the Applications page, revocation of grants, and which clients a browser session reached."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

from idp.capability import DelegatedAccess
from idp.clock import Clock
from idp.events import EventRecorder
from idp.events import EventTag
from idp.foundation.sessions import Acting
from idp.model import Organisation
from idp.model import RequestContext
from idp.model import User
from idp.oidc.clients import ClientService
from idp.oidc.keys import InvalidSignature
from idp.oidc.keys import KeyService
from idp.oidc.models import AuthorizationCode
from idp.oidc.records import ClientRecord
from idp.oidc.records import RefreshRecord
from idp.oidc.rules import acting as acting_rules
from idp.oidc.tokens import Issued
from idp.oidc.tokens import TokenService

if TYPE_CHECKING:
    from idp.stores.oidc import RedisOidcStore
    from idp.stores.oidc import SqlConsentStore


log = logging.getLogger(__name__)

# How long a redeemed code is remembered, to revoke what it produced if it comes back.
SPENT_CODE_MEMORY = 86400


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class Application:
    """A line of the Applications page: a client the person consented to or holds tokens for."""

    client_id: str
    name: str
    scopes: list[str]
    since: dt.datetime | None
    active_tokens: int


class OidcService:
    def __init__(
        self, *, issuer: str, clients: ClientService, keys: KeyService, tokens: TokenService,
        consents: SqlConsentStore, redis: RedisOidcStore, events: EventRecorder, clock: Clock,
        users: Any, code_lifetime: int, request_ttl: int, session_lifetime: int,
        unit: Callable[[], AbstractContextManager[None]] = nullcontext, subjects: Any = None,
    ) -> None:
        # The accounts by id, and by the subject that tokens carry (`by_subject`, never cached).
        self.users, self.subjects = users, subjects
        # One SQL transaction for every store call of a token or endpoint request (the
        # database's `unit()`): one commit, and no token without its event row.
        self.unit = unit
        self.issuer, self.clients, self.keys, self.tokens = issuer, clients, keys, tokens
        self.consents, self.redis, self.events, self.clock = consents, redis, events, clock
        self.code_lifetime, self.request_ttl, self.session_lifetime = code_lifetime, request_ttl, session_lifetime
        # The partners capability's `DELEGATED_ACCESS` hook, and organisations by short name
        # (set once every capability is built; None: partners is not installed, so no grant
        # made while acting for a client stands).
        self.delegated_access: DelegatedAccess | None = None
        self.org_by_slug: Callable[[str], Organisation | None] | None = None

    def _now(self) -> int:
        return int(self.clock.now().timestamp())

    # -- authorization codes ------------------------------------------------------------

    def save_code(self, code: str, record: AuthorizationCode) -> None:
        self.redis.put("code", _hash(code), record.as_dict(), self.code_lifetime)

    def redeem_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        """The code's record, once. A second redemption gets None and revokes every token the
        first one produced (RFC 6749 §4.1.2), found through the spent-code marker."""
        if not code or len(code) > 200:
            return None
        code_hash = _hash(code)
        data = self.redis.take("code", code_hash)
        if data is None:
            spent = self.redis.get("spent", code_hash)
            if spent is not None:
                self.redis.put("spent", code_hash, spent | {"reused": True}, SPENT_CODE_MEMORY)
                self._revoke_spent(spent, client_id)
            return None
        self.redis.put("spent", code_hash, {"client_id": data["client_id"]}, SPENT_CODE_MEMORY)
        if data["client_id"] != client_id:
            return None
        return AuthorizationCode(code_hash=code_hash, **data)

    def code_redeemed(self, code: AuthorizationCode, issued: Issued) -> None:
        """Remember what the code produced; revoke it at once if a reuse raced the redemption."""
        marker = {"client_id": code.client_id, "family": issued.family, "jti": issued.jti, "exp": issued.exp}
        previous = self.redis.get("spent", code.code_hash) or {}
        self.redis.put("spent", code.code_hash, marker | {"reused": previous.get("reused", False)},
                       SPENT_CODE_MEMORY)
        if previous.get("reused"):
            self._revoke_spent(marker, code.client_id)

    def _revoke_spent(self, spent: dict[str, Any], client_id: str) -> None:
        self.tokens.deny(spent.get("jti"), spent.get("exp"))
        count = self.tokens.revoke_family(spent["family"]) if spent.get("family") else 0
        self.events.record_event(
            EventTag.OIDC_TOKEN_REUSED, product=spent.get("client_id", client_id),
            details={"what": "authorization_code", "revoked_refresh_tokens": count},
        )

    def refresh_reused(self, record: RefreshRecord) -> None:
        """A spent refresh token came back: someone holds a copy. Revoke its whole family."""
        count = self.tokens.revoke_family(record.family)
        self.events.record_event(
            EventTag.OIDC_TOKEN_REUSED, user_id=record.user_id, product=record.client_id,
            details={"what": "refresh_token", "revoked_refresh_tokens": count},
        )

    # -- grants made while acting for a client (decision 0812) ---------------------------

    def _stands(self, user_id: int, client_org_id: int, partnership_id: int,
                rights: list[str] | tuple[str, ...]) -> bool:
        right = acting_rules.first_right(rights)
        if self.delegated_access is None or right is None:
            return False
        found = self.delegated_access(user_id, client_org_id, right, self.clock.now())
        return acting_rules.stands(found, partnership_id, rights)

    def delegation_stands(self, user_id: int, acting: Acting | None) -> bool:
        """Whether the delegation a code or refresh token was issued under still stands (read
        from SQL: one query); a stored acting state that cannot be read does not."""
        if acting is None:
            return False
        return self._stands(user_id, acting.client_org_id, acting.partnership_id, acting.rights)

    def token_delegation_stands(self, user_id: int, body: dict[str, Any]) -> bool:
        """For an access token's claims (userinfo, introspection): True for a token not issued
        while acting; otherwise whether its delegation still stands (two queries)."""
        found = acting_rules.of_token(body)
        if found is None:
            return True
        slug, partnership_id, rights = found
        org = self.org_by_slug(slug) if self.org_by_slug is not None and slug else None
        return org is not None and self._stands(user_id, org.id, partnership_id, rights)

    def delegation_ended(self, record: RefreshRecord) -> None:
        """A refresh of a grant whose delegation is gone: the whole grant is revoked (its
        access token too), as it can never stand again."""
        count = self.tokens.revoke_family(record.family)
        self.events.record_event(
            EventTag.OIDC_TOKEN_REVOKED, user_id=record.user_id, product=record.client_id,
            details={"what": "grant", "reason": "delegation_ended", "count": count},
        )

    # -- authorization requests waiting for sign-in or consent --------------------------

    def park_request(self, params: dict[str, str], *, seen: int | None = None) -> str:
        """Keep an authorization request while the person signs in or consents; `seen` is when it
        first arrived, so a session authenticated after it satisfies prompt=login / max_age."""
        request_id = secrets.token_urlsafe(18)
        self.redis.put("authreq", _hash(request_id), {"params": params, "seen": seen or self._now()},
                       self.request_ttl)
        return request_id

    def parked(self, request_id: str | None) -> dict[str, Any] | None:
        if not request_id or len(request_id) > 64:
            return None
        return self.redis.get("authreq", _hash(request_id))

    def unpark(self, request_id: str | None) -> None:
        if request_id and len(request_id) <= 64:
            self.redis.drop("authreq", _hash(request_id))

    # -- consent ------------------------------------------------------------------------

    def needs_consent(self, user: User, client: ClientRecord, scope: str) -> bool:
        if client.skip_consent:
            return False
        consent = self.consents.get(user.id, client.client_id)
        return consent is None or not set(scope.split()) <= set(consent.scopes)

    def give_consent(self, user: User, client: ClientRecord, scope: str, ctx: RequestContext) -> None:
        existing = self.consents.get(user.id, client.client_id)
        scopes = sorted(set(scope.split()) | set(existing.scopes if existing else []))
        self.consents.put(user.id, client.client_id, scopes, self.clock.now())
        self.events.record_event(EventTag.OIDC_CONSENT_GIVEN, ctx=ctx, user_id=user.id,
                                 product=client.client_id, details={"scopes": scopes})

    def withdraw(self, user: User, client_id: str, ctx: RequestContext) -> bool:
        """Withdraw consent and revoke the refresh tokens (and their access tokens) of one client."""
        removed = self.consents.delete(user.id, client_id)
        rows = self.tokens.revoke_user(user.id, client_id)
        if not removed and not rows:
            return False
        self.events.record_event(EventTag.OIDC_CONSENT_WITHDRAWN, ctx=ctx, user_id=user.id, product=client_id,
                                 details={"revoked_refresh_tokens": len(rows)})
        if rows:
            self.events.record_event(EventTag.OIDC_TOKEN_REVOKED, ctx=ctx, user_id=user.id, product=client_id,
                                     details={"what": "grant", "count": len(rows)})
        return True

    def applications(self, user: User) -> list[Application]:
        consents = {c.client_id: c for c in self.consents.for_user(user.id)}
        live = self.tokens.refresh_tokens.live_clients(user.id, self.clock.now())
        apps = []
        for client_id in list(dict.fromkeys([*consents, *live])):
            client = self.clients.get(client_id)
            if client is None:
                continue
            consent = consents.get(client_id)
            apps.append(Application(client_id, client.name, consent.scopes if consent else [],
                                    consent.updated_at if consent else None, live.get(client_id, 0)))
        return apps

    def revoke_all_grants(self, user: User, ctx: RequestContext) -> int:
        """Withdraw every consent and revoke every refresh token of the person; the number of
        applications affected. Used when the account may be compromised."""
        return sum(1 for app in self.applications(user) if self.withdraw(user, app.client_id, ctx))

    # -- sessions -----------------------------------------------------------------------

    def link_session(self, user_id: int, sid: str | None, client_id: str) -> None:
        if sid:
            self.redis.link_session(user_id, sid, client_id, self.session_lifetime)

    def check_id_token_hint(self, hint: str | None) -> dict[str, Any] | None:
        """The claims of an ID token we signed (expired ones included, as the spec allows)."""
        if not hint:
            return None
        try:
            _header, body = self.keys.verify(hint, typ="jwt")
        except InvalidSignature:
            return None
        if body.get("iss") != self.issuer or not isinstance(body.get("sub"), str) or "aud" not in body:
            return None
        return body
