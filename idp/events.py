"""The activity log's one door: EventTag names what happened, record_event() writes it and tells subscribers."""

from __future__ import annotations

import dataclasses
import enum
import functools
import logging
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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
    PASSWORD_CHANGE_FAILED = "account:password:change_failed"  # noqa: S105 - wrong current password
    PASSWORD_RESET_REQUESTED = "account:password:reset_requested"  # noqa: S105
    PASSWORD_RESET = "account:password:reset"  # noqa: S105
    PASSWORD_RESET_LINK_REFUSED = "account:password:reset_link_refused"  # noqa: S105
    USER_CREATED = "account:user:created"
    USER_DISABLED = "account:user:disabled"
    USER_ENABLED = "account:user:enabled"
    USER_SIGNED_UP = "account:user:signed_up"
    USER_VERIFIED = "account:user:verified"
    USER_DELETED = "account:user:deleted"
    ORG_CREATED = "account:organisation:created"
    ORG_MEMBER_SET = "account:organisation:member_set"
    ORG_MEMBER_INVITED = "account:organisation:invited"
    ORG_INVITATION_REVOKED = "account:organisation:invitation_revoked"
    ORG_INVITATION_ACCEPTED = "account:organisation:joined"
    ORG_ROLE_CHANGED = "account:organisation:role_changed"
    ORG_MEMBER_REMOVED = "account:organisation:member_removed"
    ORG_MEMBER_LEFT = "account:organisation:left"
    ORG_HANDED_OVER = "account:organisation:handed_over"
    ORG_FACTOR_REQUIRED = "account:organisation:factor_required"
    ORG_DELETED = "account:organisation:deleted"
    REAUTH_SUCCEEDED = "account:reauth:succeeded"
    REAUTH_FAILED = "account:reauth:failed"
    PROFILE_UPDATED = "account:profile:updated"
    AVATAR_CHANGED = "account:avatar:changed"
    AVATAR_REMOVED = "account:avatar:removed"
    PHONE_CONFIRMED = "account:phone:confirmed"
    EMAIL_CHANGED = "account:email:changed"
    PHONE_REMOVED = "account:phone:removed"

    # -- second factors (idp.mfa) ----------------------------------------------------
    MFA_TOTP_ADDED = "mfa:totp:added"
    MFA_TOTP_REMOVED = "mfa:totp:removed"
    MFA_WEBAUTHN_ADDED = "mfa:webauthn:added"
    MFA_WEBAUTHN_REMOVED = "mfa:webauthn:removed"
    MFA_WEBAUTHN_RENAMED = "mfa:webauthn:renamed"
    MFA_RECOVERY_GENERATED = "mfa:recovery_codes:generated"
    MFA_RECOVERY_USED = "mfa:recovery_code:used"
    MFA_PASSKEY_FAILED = "mfa:passkey:failed"

    # -- security center (idp.security) ----------------------------------------------
    NOTIFICATIONS_CHANGED = "account:notifications:changed"
    NOTIFY_ADDRESS_ADDED = "account:notification_address:added"  # pending, its link sent
    NOTIFY_ADDRESS_CONFIRMED = "account:notification_address:confirmed"
    NOTIFY_ADDRESS_REMOVED = "account:notification_address:removed"
    LOCKOUT_THRESHOLD_CHANGED = "account:lockout:threshold_changed"
    UNLOCK_LINK_REFUSED = "account:lockout:unlock_link_refused"
    ACTIVITY_EXPORTED = "account:activity:exported"
    WIZARD_PASSWORD_REPLACED = "account:wizard:password_replaced"  # noqa: S105 - an event name
    WIZARD_CREDENTIALS_REVOKED = "account:wizard:credentials_revoked"
    WIZARD_COMPLETED = "account:wizard:completed"

    # app passwords and API tokens (idp.security.credentials)
    APP_PASSWORD_CREATED = "account:app_password:created"  # noqa: S105 - an event name
    APP_PASSWORD_REVOKED = "account:app_password:revoked"  # noqa: S105
    APP_PASSWORD_REFUSED = "account:app_password:refused"  # noqa: S105
    API_TOKEN_CREATED = "account:api_token:created"  # noqa: S105
    API_TOKEN_REVOKED = "account:api_token:revoked"  # noqa: S105
    API_TOKEN_REFUSED = "account:api_token:refused"  # noqa: S105

    # -- OpenID Provider (idp.oidc); product = the client id --------------------------
    OIDC_TOKEN_ISSUED = "oidc:token:issued"  # noqa: S105 - an event name
    OIDC_TOKEN_REFRESHED = "oidc:token:refreshed"  # noqa: S105 - an event name
    OIDC_TOKEN_REVOKED = "oidc:token:revoked"  # noqa: S105 - an event name
    OIDC_TOKEN_REUSED = "oidc:token:reused"  # noqa: S105 - an event name
    OIDC_CONSENT_GIVEN = "oidc:consent:given"
    OIDC_CONSENT_WITHDRAWN = "oidc:consent:withdrawn"
    OIDC_CLIENT_CREATED = "oidc:client:created"
    OIDC_CLIENT_SECRET_ROTATED = "oidc:client:secret_rotated"  # noqa: S105 - an event name
    OIDC_CLIENT_DELETED = "oidc:client:deleted"
    OIDC_KEYS_ROTATED = "oidc:keys:rotated"
    OIDC_LOGOUT_SENT = "oidc:logout:sent"

    # -- kAuth (idp.kauth) -------------------------------------------------------------
    KAUTH_DEVICE_ENROLLED = "kauth:device:enrolled"
    KAUTH_DEVICE_REMOVED = "kauth:device:removed"
    KAUTH_CHALLENGE_SENT = "kauth:challenge:sent"
    KAUTH_CHALLENGE_CAPPED = "kauth:challenge:capped"
    KAUTH_CHALLENGE_APPROVED = "kauth:challenge:approved"
    KAUTH_CHALLENGE_DENIED = "kauth:challenge:denied"
    KAUTH_CHALLENGE_WRONG_NUMBER = "kauth:challenge:wrong_number"
    KAUTH_CHALLENGE_REPORTED = "kauth:challenge:reported"
    KAUTH_REQUEST_REFUSED = "kauth:request:refused"

    # -- federation (idp.federation) ---------------------------------------------------
    FED_SIGNIN_SUCCEEDED = "federation:signin:succeeded"
    FED_CALLBACK_REFUSED = "federation:callback:refused"
    FED_LINK_CREATED = "federation:link:created"
    FED_LINK_REMOVED = "federation:link:removed"
    FED_LINK_CODE_SENT = "federation:link:code_sent"
    FED_USER_CREATED = "federation:user:created"
    FED_PASSWORD_REFUSED = "federation:password:refused"  # noqa: S105 - an event name
    FED_CONNECTION_SAVED = "federation:connection:saved"
    FED_CONNECTION_DISABLED = "federation:connection:disabled"
    FED_CONNECTION_TESTED = "federation:connection:tested"

    # -- domain transfers (idp.domains); product = "domains" ----------------------------
    DOMAIN_TRANSFER_REQUESTED = "domains:transfer:requested"
    DOMAIN_TRANSFER_FAILED = "domains:transfer:failed"
    DOMAIN_TRANSFER_RELAUNCHED = "domains:transfer:relaunched"
    DOMAIN_TRANSFER_COMPLETED = "domains:transfer:completed"
    # -- money (idp.money); product = billing ------------------------------------------
    MONEY_ORDER_PLACED = "money:order:placed"
    MONEY_ORDER_PAID = "money:order:paid"
    MONEY_ORDER_CANCELLED = "money:order:cancelled"
    MONEY_ORDER_CREDITED = "money:order:credited"  # a cancelled order's transfer kept as balance
    MONEY_CASHBACK_CREDITED = "money:cashback:credited"
    MONEY_BALANCE_ADJUSTED = "money:balance:adjusted"
    MONEY_LEDGER_EXPORTED = "money:ledger:exported"
    MONEY_PAYOUT_REQUESTED = "money:payout:requested"
    MONEY_PAYOUT_WITHDRAWN = "money:payout:withdrawn"
    MONEY_PAYOUT_APPROVED = "money:payout:approved"
    MONEY_PAYOUT_REJECTED = "money:payout:rejected"
    MONEY_PAYOUT_PAID = "money:payout:paid"
    # -- partners (idp.partners); each act is recorded in both organisations' logs ----------
    PARTNER_MARKED = "partners:organisation:marked"
    PARTNER_UNMARKED = "partners:organisation:unmarked"
    PARTNER_INVITED = "partners:client:invited"
    PARTNER_REQUEST_CANCELLED = "partners:client:request_cancelled"
    PARTNER_ACCEPTED = "partners:partnership:granted"
    PARTNER_DECLINED = "partners:partnership:declined"
    PARTNER_CHANGED = "partners:partnership:changed"
    PARTNER_ENDED = "partners:partnership:ended"
    PARTNER_EXPIRED = "partners:partnership:expired"
    PARTNER_RENEWED = "partners:partnership:renewed"
    PARTNER_ASSIGNED = "partners:assignment:added"
    PARTNER_UNASSIGNED = "partners:assignment:removed"
    # A partner person acts for a client (the banner shows it), then no longer: stopped by
    # them, or at the request that found the delegation gone.
    PARTNER_ACTING_STARTED = "partners:acting:started"
    PARTNER_ACTING_STOPPED = "partners:acting:stopped"


class Product(enum.StrEnum):
    """Where an action happened; applications use their client id instead."""

    ACCOUNT = "account"
    SIGNIN = "signin"
    KAUTH = "kauth"
    API = "api"
    ADMIN = "admin"
    DOMAINS = "domains"
    BILLING = "billing"
    PARTNERS = "partners"


class EventStore(Protocol):
    def add(self, **values: Any) -> Event: ...


Subscriber = Callable[[Event], None]

# Work for after the answer: while the ASGI bridge runs a request (`answering`), subscribers
# marked `after_answer` are queued here, and the bridge runs them once the response is sent.
_LATER: ContextVar[list[Callable[[], None]] | None] = ContextVar("idp_after_answer", default=None)


def after_answer(subscriber: Callable[..., None]) -> Callable[..., None]:
    """Mark a subscriber whose work nobody waits for (a notification: its mail, the places it
    records), so that under the ASGI bridge it runs once the response has been sent instead of
    before it. Elsewhere (the test client, `idp serve`, commands) it runs at once, as any other."""
    subscriber.after_answer = True  # type: ignore[attr-defined]
    return subscriber


@contextmanager
def answering() -> Iterator[list[Callable[[], None]]]:
    """Queue the `after_answer` subscribers of the events recorded inside; the caller runs the
    queued calls (`run_later`) after sending the response."""
    later: list[Callable[[], None]] = []
    token = _LATER.set(later)
    try:
        yield later
    finally:
        _LATER.reset(token)


def run_later(later: list[Callable[[], None]]) -> None:
    """Run what `answering` queued, in order; a failure is logged and the rest still runs."""
    for call in later:
        call()


class EventRecorder:
    """Writes the event first, then calls each subscriber; a failing subscriber is logged and
    never undoes the record or the action."""

    def __init__(self, store: EventStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._subscribers: list[tuple[Subscriber, frozenset[str] | None]] = []

    def subscribe(self, subscriber: Subscriber, tags: Iterable[EventTag] | None = None) -> None:
        """Call `subscriber` with every recorded event, or only with those of `tags` (after the
        answer when it is marked `after_answer`)."""
        self._subscribers.append((subscriber, frozenset(map(str, tags)) if tags is not None else None))

    def wants(self, tag: str) -> bool:
        """Whether any subscriber listens to `tag` (the OIDC fast lane notifies only then)."""
        return any(tags is None or str(tag) in tags for _subscriber, tags in self._subscribers)

    def values(
        self,
        tag: EventTag,
        *,
        ctx: RequestContext | None = None,
        user_id: int | None = None,
        product: str = Product.ACCOUNT,
        org_id: int | None = None,
        actor_id: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The columns of one event row (what `record_event` stores)."""
        ctx = ctx or RequestContext(ip="local", user_agent="")
        return {
            "created_at": self.clock.now(),
            "tag": str(tag),
            "product": str(product),
            "user_id": user_id,
            "org_id": org_id,
            "actor_id": actor_id,
            "ip": ctx.ip,
            "user_agent": ctx.user_agent[:512] or None,
            "device": describe(ctx.user_agent) if ctx.user_agent else None,
            "details": details or {},
        }

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
        event = self.store.add(**self.values(tag, ctx=ctx, user_id=user_id, product=product, org_id=org_id,
                                             actor_id=actor_id, details=details))
        if ctx is not None and ctx.device_key:
            event = dataclasses.replace(event, device_key=ctx.device_key)
        self.notify(event)
        return event

    def notify(self, event: Event) -> None:
        """Log a stored event and call the subscribers that listen to its tag."""
        log.info("event", extra={"event_tag": event.tag, "user_id": event.user_id, "product": event.product})
        later = _LATER.get()
        for subscriber, tags in self._subscribers:
            if tags is not None and event.tag not in tags:
                continue
            if later is not None and getattr(subscriber, "after_answer", False):
                later.append(functools.partial(self._call, subscriber, event))
            else:
                self._call(subscriber, event)

    @staticmethod
    def _call(subscriber: Subscriber, event: Event) -> None:
        try:
            subscriber(event)
        except Exception:
            log.exception("event subscriber failed", extra={"event_tag": event.tag})
