"""Whether a presented refresh token still stands: issued to this client, not spent (a spent
one presented again is reuse), not revoked, not expired, for an account that may still act
(idp.standing), and asked for no scope beyond the grant."""

from __future__ import annotations

import datetime as dt
import enum

from idp.model import User
from idp.oidc.records import RefreshRecord
from idp.standing import Act
from idp.standing import may


class Refusal(enum.Enum):
    """Why a refresh is refused; every refusal is `invalid_grant` but SCOPE (`invalid_scope`)."""

    UNKNOWN = "unknown"  # no such token, or another client's (which must not learn it exists)
    REUSED = "reused"  # spent and presented again: theft, the family is revoked
    DEAD = "dead"  # revoked or expired
    SCOPE = "scope"  # a scope the grant does not hold: nothing is spent
    ACCOUNT = "account"  # the account may not act (disabled, deleted): as good as revoked


def is_live(record: RefreshRecord, now: dt.datetime) -> bool:
    return record.revoked_at is None and record.used_at is None and record.expires_at > now


def presented(record: RefreshRecord | None, client_id: str, now: dt.datetime) -> Refusal | None:
    """The token itself: None when it stands. A spent token of a family not revoked is REUSED
    (the caller revokes the family); one of a revoked family is only DEAD."""
    if record is None or record.client_id != client_id:
        return Refusal.UNKNOWN
    if record.used_at is not None and record.revoked_at is None:
        return Refusal.REUSED
    return None if is_live(record, now) else Refusal.DEAD


def narrowed_scope(granted: str, requested: str | None) -> str | None:
    """The scope of an access token issued on refresh (RFC 6749 §6): the scopes asked for, in
    the grant's order, when every one of them was granted; the whole grant when none is asked
    for; None when one of them was not granted (`invalid_scope`). The refresh token itself
    keeps the grant's scope."""
    asked = set((requested or "").split())
    if not asked:
        return granted
    kept = [s for s in granted.split() if s in asked]
    return " ".join(kept) if asked <= set(kept) else None


def account(user: User | None) -> Refusal | None:
    """The person the token speaks for (None: deleted)."""
    return None if may(user, Act.REFRESH_TOKEN) else Refusal.ACCOUNT


def check(record: RefreshRecord | None, client_id: str, user: User | None, requested: str | None,
          now: dt.datetime) -> str | Refusal:
    """Every rule above, in the order the token endpoint applies them (token, scope, account):
    the access token's scope when the refresh stands, else why not."""
    refusal = presented(record, client_id, now)
    if refusal is not None:
        return refusal
    assert record is not None  # noqa: S101 - presented() refuses a missing token
    scope = narrowed_scope(record.scope, requested)
    if scope is None:
        return Refusal.SCOPE
    return account(user) or scope
