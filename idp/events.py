"""The activity log's one door: EventTag names what happened, record_event() writes it and tells subscribers."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from typing import Any
from typing import Protocol

from idp.clock import Clock
from idp.model import Event
from idp.model import RequestContext
from idp.useragent import describe

log = logging.getLogger(__name__)


class EventTag(enum.StrEnum):
    """Every security-relevant action, as `source:subject:action`."""

    SIGNIN_SUCCEEDED = "account:signin:succeeded"
    SIGNIN_FAILED = "account:signin:failed"
    SIGNIN_RATE_LIMITED = "account:signin:rate_limited"
    LOCKOUT_LOCKED = "account:lockout:locked"
    LOCKOUT_UNLOCKED = "account:lockout:unlocked"
    SESSION_LOGOUT = "account:session:logout"
    SESSION_ENDED = "account:session:ended"
    PASSWORD_CHANGED = "account:password:changed"  # noqa: S105 - an event name
    PASSWORD_REHASHED = "account:password:rehashed"  # noqa: S105
    USER_CREATED = "account:user:created"
    USER_DISABLED = "account:user:disabled"
    USER_ENABLED = "account:user:enabled"
    ORG_CREATED = "account:organisation:created"
    ORG_MEMBER_SET = "account:organisation:member_set"
    REAUTH_SUCCEEDED = "account:reauth:succeeded"
    REAUTH_FAILED = "account:reauth:failed"

    # -- second factors (idp.mfa) ----------------------------------------------------

    # -- security center (idp.security) ----------------------------------------------

    # -- OpenID Provider (idp.oidc); product = the client id --------------------------

    # -- kAuth (idp.kauth) -------------------------------------------------------------

    # -- federation (idp.federation) ---------------------------------------------------


class Product(enum.StrEnum):
    """Where an action happened; applications use their client id instead."""

    ACCOUNT = "account"
    SIGNIN = "signin"
    KAUTH = "kauth"
    API = "api"
    ADMIN = "admin"


class EventStore(Protocol):
    def add(self, **values: Any) -> Event: ...


Subscriber = Callable[[Event], None]


class EventRecorder:
    """Writes the event first, then calls each subscriber; a failing subscriber is logged and
    never undoes the record or the action."""

    def __init__(self, store: EventStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def record_event(
        self,
        tag: EventTag,
        *,
        ctx: RequestContext | None = None,
        user_id: int | None = None,
        product: str = Product.ACCOUNT,
        org_id: int | None = None,
        actor_id: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> Event:
        ctx = ctx or RequestContext(ip="local", user_agent="")
        event = self.store.add(
            created_at=self.clock.now(),
            tag=str(tag),
            product=str(product),
            user_id=user_id,
            org_id=org_id,
            actor_id=actor_id,
            ip=ctx.ip,
            user_agent=ctx.user_agent[:512] or None,
            device=describe(ctx.user_agent) if ctx.user_agent else None,
            details=details or {},
        )
        log.info("event", extra={"event_tag": event.tag, "user_id": user_id, "product": event.product})
        for subscriber in self._subscribers:
            try:
                subscriber(event)
            except Exception:
                log.exception("event subscriber failed", extra={"event_tag": event.tag})
        return event
