"""The activity log as people read it: one person's or one organisation's events, filtered, paged, exported."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Collection
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import Protocol

from idp.clock import Clock
from idp.errors import N_
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.model import Event
from idp.model import RequestContext

MAX_TEXT = 200
MAX_PER_PAGE = 500
# A regular-expression class of the characters a search text may not hold: the C0 controls
# (NUL among them, which PostgreSQL refuses in a text parameter) and DEL.
CONTROL_CHARACTERS = r"\x00-\x1f\x7f"
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")

# Human wording of the actions a person meets in their log (translated where shown).
ACTION_LABELS: dict[str, str] = {
    EventTag.SIGNIN_SUCCEEDED: N_("Signed in"),
    EventTag.SIGNIN_FAILED: N_("Failed sign-in"),
    EventTag.SIGNIN_RATE_LIMITED: N_("Sign-in rate limited"),
    EventTag.LOCKOUT_LOCKED: N_("Account locked"),
    EventTag.LOCKOUT_UNLOCKED: N_("Account unlocked"),
    EventTag.SESSION_LOGOUT: N_("Signed out"),
    EventTag.SESSION_ENDED: N_("Session ended"),
    EventTag.PASSWORD_CHANGED: N_("Password changed"),
    EventTag.PASSWORD_REHASHED: N_("Password storage upgraded"),
    EventTag.PASSWORD_CHANGE_FAILED: N_("Password change refused (wrong current password)"),
    EventTag.PASSWORD_RESET_REQUESTED: N_("Password reset requested"),
    EventTag.PASSWORD_RESET: N_("Password reset by e-mail link"),
    EventTag.PASSWORD_RESET_LINK_REFUSED: N_("Password reset link refused"),
    EventTag.USER_CREATED: N_("Account created"),
    EventTag.USER_DISABLED: N_("Account disabled"),
    EventTag.USER_DELETED: N_("Account deleted"),
    EventTag.USER_ENABLED: N_("Account enabled"),
    EventTag.USER_SIGNED_UP: N_("Signed up"),
    EventTag.USER_VERIFIED: N_("E-mail address confirmed, account activated"),
    EventTag.ORG_CREATED: N_("Organisation created"),
    EventTag.ORG_MEMBER_SET: N_("Organisation role set"),
    EventTag.ORG_MEMBER_INVITED: N_("Invited to the organisation"),
    EventTag.ORG_INVITATION_REVOKED: N_("Invitation withdrawn"),
    EventTag.ORG_INVITATION_ACCEPTED: N_("Joined the organisation"),
    EventTag.ORG_ROLE_CHANGED: N_("Role in the organisation changed"),
    EventTag.ORG_MEMBER_REMOVED: N_("Removed from the organisation"),
    EventTag.ORG_MEMBER_LEFT: N_("Left the organisation"),
    EventTag.ORG_HANDED_OVER: N_("Legal representation handed over"),
    EventTag.ORG_FACTOR_REQUIRED: N_("Second-factor requirement changed"),
    EventTag.ORG_DELETED: N_("Organisation deleted"),
    EventTag.REAUTH_SUCCEEDED: N_("Identity confirmed"),
    EventTag.REAUTH_FAILED: N_("Identity confirmation failed"),
    EventTag.PROFILE_UPDATED: N_("Name changed"),
    EventTag.AVATAR_CHANGED: N_("Picture changed"),
    EventTag.AVATAR_REMOVED: N_("Picture removed"),
    EventTag.PHONE_CONFIRMED: N_("Phone number confirmed"),
    EventTag.EMAIL_CHANGED: N_("Login e-mail changed"),
    EventTag.PHONE_REMOVED: N_("Phone number removed"),
    EventTag.NOTIFICATIONS_CHANGED: N_("Notification settings changed"),
    EventTag.NOTIFY_ADDRESS_ADDED: N_("Notification address added, waiting for confirmation"),
    EventTag.NOTIFY_ADDRESS_CONFIRMED: N_("Notification address confirmed"),
    EventTag.NOTIFY_ADDRESS_REMOVED: N_("Notification address removed"),
    EventTag.LOCKOUT_THRESHOLD_CHANGED: N_("Lockout threshold changed"),
    EventTag.UNLOCK_LINK_REFUSED: N_("Unlock link refused"),
    EventTag.ACTIVITY_EXPORTED: N_("Activity log exported"),
    EventTag.WIZARD_PASSWORD_REPLACED: N_("Compromised password replaced"),
    EventTag.WIZARD_CREDENTIALS_REVOKED: N_("Credentials revoked after a compromise"),
    EventTag.WIZARD_COMPLETED: N_("Security check-up completed"),
    EventTag.MFA_TOTP_ADDED: N_("Authenticator app added"),
    EventTag.MFA_TOTP_REMOVED: N_("Authenticator app removed"),
    EventTag.MFA_WEBAUTHN_ADDED: N_("Security key or passkey added"),
    EventTag.MFA_WEBAUTHN_REMOVED: N_("Security key or passkey removed"),
    EventTag.MFA_WEBAUTHN_RENAMED: N_("Security key or passkey renamed"),
    EventTag.MFA_RECOVERY_GENERATED: N_("New recovery codes created"),
    EventTag.MFA_RECOVERY_USED: N_("Recovery code used"),
    EventTag.MFA_PASSKEY_FAILED: N_("Passkey sign-in failed"),
    EventTag.APP_PASSWORD_CREATED: N_("App password created"),
    EventTag.APP_PASSWORD_REVOKED: N_("App password revoked"),
    EventTag.APP_PASSWORD_REFUSED: N_("App password refused"),
    EventTag.API_TOKEN_CREATED: N_("API token created"),
    EventTag.API_TOKEN_REVOKED: N_("API token revoked"),
    EventTag.API_TOKEN_REFUSED: N_("API token refused"),
    EventTag.OIDC_TOKEN_ISSUED: N_("Signed in to an application"),
    EventTag.OIDC_TOKEN_REFRESHED: N_("Application access renewed"),
    EventTag.OIDC_TOKEN_REVOKED: N_("Application access revoked"),
    EventTag.OIDC_TOKEN_REUSED: N_("Reuse of an application token blocked"),
    EventTag.OIDC_CONSENT_GIVEN: N_("Application allowed"),
    EventTag.OIDC_CONSENT_WITHDRAWN: N_("Application access withdrawn"),
    EventTag.OIDC_CLIENT_CREATED: N_("Application registered"),
    EventTag.OIDC_CLIENT_SECRET_ROTATED: N_("Application secret replaced"),
    EventTag.OIDC_CLIENT_DELETED: N_("Application deleted"),
    EventTag.OIDC_KEYS_ROTATED: N_("Signing keys rotated"),
    EventTag.OIDC_LOGOUT_SENT: N_("Application told of sign-out"),
    EventTag.KAUTH_DEVICE_ENROLLED: N_("kAuth device added"),
    EventTag.KAUTH_DEVICE_REMOVED: N_("kAuth device removed"),
    EventTag.KAUTH_CHALLENGE_SENT: N_("kAuth approval requested"),
    EventTag.KAUTH_CHALLENGE_CAPPED: N_("kAuth requests limited"),
    EventTag.KAUTH_CHALLENGE_APPROVED: N_("Sign-in approved with kAuth"),
    EventTag.KAUTH_CHALLENGE_DENIED: N_("Sign-in denied with kAuth"),
    EventTag.KAUTH_CHALLENGE_WRONG_NUMBER: N_("Wrong number chosen in kAuth"),
    EventTag.KAUTH_CHALLENGE_REPORTED: N_("Sign-in reported as not you in kAuth"),
    EventTag.KAUTH_REQUEST_REFUSED: N_("kAuth request refused"),
    EventTag.FED_SIGNIN_SUCCEEDED: N_("Signed in with single sign-on"),
    EventTag.FED_CALLBACK_REFUSED: N_("Single sign-on refused"),
    EventTag.FED_LINK_CREATED: N_("Directory account linked"),
    EventTag.FED_LINK_REMOVED: N_("Directory account unlinked"),
    EventTag.FED_LINK_CODE_SENT: N_("Link code sent by e-mail"),
    EventTag.FED_USER_CREATED: N_("Account created by single sign-on"),
    EventTag.FED_PASSWORD_REFUSED: N_("Password sign-in refused (single sign-on required)"),
    EventTag.FED_CONNECTION_SAVED: N_("Single sign-on connection saved"),
    EventTag.FED_CONNECTION_DISABLED: N_("Single sign-on connection disabled"),
    EventTag.FED_CONNECTION_TESTED: N_("Single sign-on connection tested"),
    EventTag.DOMAIN_TRANSFER_REQUESTED: N_("Domain transfer requested"),
    EventTag.DOMAIN_TRANSFER_FAILED: N_("Domain transfer failed"),
    EventTag.DOMAIN_TRANSFER_RELAUNCHED: N_("Domain transfer relaunched"),
    EventTag.DOMAIN_TRANSFER_COMPLETED: N_("Domain transfer completed"),
    EventTag.MONEY_ORDER_PLACED: N_("Order placed"),
    EventTag.MONEY_ORDER_PAID: N_("Order paid"),
    EventTag.MONEY_ORDER_CANCELLED: N_("Order cancelled"),
    EventTag.MONEY_ORDER_CREDITED: N_("Cancelled order's transfer credited to the balance"),
    EventTag.MONEY_CASHBACK_CREDITED: N_("Cashback credited"),
    EventTag.MONEY_BALANCE_ADJUSTED: N_("Prepaid balance adjusted by an operator"),
    EventTag.MONEY_LEDGER_EXPORTED: N_("Prepaid ledger exported"),
    EventTag.MONEY_PAYOUT_REQUESTED: N_("Payout requested"),
    EventTag.MONEY_PAYOUT_WITHDRAWN: N_("Payout request withdrawn"),
    EventTag.MONEY_PAYOUT_APPROVED: N_("Payout approved"),
    EventTag.MONEY_PAYOUT_REJECTED: N_("Payout rejected"),
    EventTag.MONEY_PAYOUT_PAID: N_("Payout paid"),
    EventTag.PARTNER_MARKED: N_("Made a partner organisation"),
    EventTag.PARTNER_UNMARKED: N_("No longer a partner organisation"),
    EventTag.PARTNER_INVITED: N_("Partner request sent to a client"),
    EventTag.PARTNER_REQUEST_CANCELLED: N_("Partner request withdrawn"),
    EventTag.PARTNER_ACCEPTED: N_("Partnership granted"),
    EventTag.PARTNER_DECLINED: N_("Partner request declined"),
    EventTag.PARTNER_CHANGED: N_("Partner's rights changed"),
    EventTag.PARTNER_ENDED: N_("Partnership ended"),
    EventTag.PARTNER_EXPIRED: N_("Partnership expired"),
    EventTag.PARTNER_RENEWED: N_("Partnership renewed"),
    EventTag.PARTNER_ASSIGNED: N_("Collaborator assigned to a client"),
    EventTag.PARTNER_UNASSIGNED: N_("Collaborator unassigned from a client"),
    EventTag.PARTNER_ACTING_STARTED: N_("Began acting for a client"),
    EventTag.PARTNER_ACTING_STOPPED: N_("Stopped acting for a client"),
}

PRODUCT_LABELS: dict[str, str] = {
    "account": N_("Account"),
    "signin": N_("Sign-in"),
    "kauth": N_("kAuth"),
    "api": N_("API"),
    "admin": N_("Administration"),
    "domains": N_("Domains"),
    "billing": N_("Billing"),
    "partners": N_("Partners"),
}


def action_label(tag: str) -> str:
    """The N_-marked wording of an event tag (every EventTag has one), or the tag itself."""
    return ACTION_LABELS.get(tag, tag)


def product_label(product: str) -> str:
    """The N_-marked wording of a product; any other product is an application's client id
    (OpenID events), shown by the application's name where `Names` knows it."""
    return PRODUCT_LABELS.get(product, product)


@dataclass(frozen=True)
class Person:
    """An account a log entry speaks of. `email` only where the reader may see it: in an
    organisation's log, for the organisation's members."""

    name: str
    email: str | None = None


@dataclass(frozen=True)
class Names:
    """Who and what a page of the log speaks of, read at once for the whole page: the accounts
    (acting administrators; in an organisation's log, the members too) and the applications.
    A deleted account is absent; a deleted application is absent (its client id is shown)."""

    people: dict[int, Person] = field(default_factory=dict)
    apps: dict[str, str] = field(default_factory=dict)

    def person(self, user_id: int | None) -> Person | None:
        return self.people.get(user_id) if user_id is not None else None

    def application(self, product: str) -> str | None:
        """The application's name when `product` is a client id ("" never): the registered name,
        the client id itself once the application is deleted, None for the products of the service."""
        if product in PRODUCT_LABELS or not product:
            return None
        return self.apps.get(product, product)


class ActivityStore(Protocol):
    def search(
        self, *, user_id: int | None, org_id: int | None, date_from: dt.datetime | None,
        date_to: dt.datetime | None, product: str | None, tag: str | None, text: str | None,
        offset: int, limit: int,
    ) -> tuple[list[Event], int]: ...
    def distinct_values(self, column: str, *, user_id: int | None, org_id: int | None) -> list[str]: ...
    def names(
        self, user_ids: Collection[int], client_ids: Collection[str], *, org_id: int | None
    ) -> tuple[dict[int, tuple[str, str | None]], dict[str, str]]: ...


def _start(value: dt.date | dt.datetime | None) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)


def _end(value: dt.date | dt.datetime | None) -> dt.datetime | None:
    # A date given as the end of a range includes that whole day; a datetime is exclusive.
    if value is None or isinstance(value, dt.datetime):
        return value
    if value == dt.date.max:
        return None  # the last day there is: no day after it to stop before
    return dt.datetime.combine(value + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def _cell(value: str) -> str:
    # A spreadsheet runs a cell starting with = + - @ as a formula: the log holds text that
    # others chose (user agents, names), so such cells are quoted.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _who(names: Names, user_id: int | None) -> str:
    """An account as the CSV export writes it: "Name (e-mail)", "Name", or "deleted account"."""
    if user_id is None:
        return ""
    person = names.person(user_id)
    if person is None:
        return "deleted account"
    return f"{person.name} ({person.email})" if person.email else person.name


class ActivityService:
    """Framework-free reads of the activity log. Callers decide who may read which scope:
    `user_id` is one person's own history, `org_id` the history of an organisation's members."""

    def __init__(
        self, store: ActivityStore, events: EventRecorder, clock: Clock, *, page_size: int = 50,
        export_limit: int = 10_000,
    ) -> None:
        self.store, self.events, self.clock = store, events, clock
        self.page_size, self.export_limit = page_size, export_limit

    def search(
        self,
        user_id: int | None = None,
        org_id: int | None = None,
        date_from: dt.date | dt.datetime | None = None,
        date_to: dt.date | dt.datetime | None = None,
        product: str | None = None,
        action: str | None = None,
        text: str | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> tuple[list[Event], int]:
        """One page of events, newest first, and how many match in all.

        Raises ValidationError for a page below 1, a page size outside 1..500, a search text
        over 200 characters or holding a control character (the database would refuse a NUL
        byte) or a range that ends before it starts. Without `user_id` or
        `org_id` it reads the whole log: only operator tools may call it so.
        """
        if page < 1:
            raise ValidationError(N_("The page number must be 1 or more."), field="page")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValidationError(
                N_("A page shows 1 to %(count)s entries."), field="per_page", count=MAX_PER_PAGE
            )
        text = (text or "").strip()
        if len(text) > MAX_TEXT:
            raise ValidationError(
                N_("The search text can have at most %(count)s characters."), field="q", count=MAX_TEXT
            )
        if _CONTROL.search(text):
            raise ValidationError(N_("The search text cannot contain control characters."), field="q")
        start, end = _start(date_from), _end(date_to)
        if start is not None and end is not None and end <= start:
            raise ValidationError(N_("The end date must not be before the start date."), field="date_to")
        return self.store.search(
            user_id=user_id, org_id=org_id, date_from=start, date_to=end, product=product or None,
            tag=action or None, text=text or None, offset=(page - 1) * per_page, limit=per_page,
        )

    def products(self, *, user_id: int | None = None, org_id: int | None = None) -> list[str]:
        return self.store.distinct_values("product", user_id=user_id, org_id=org_id)

    def actions(self, *, user_id: int | None = None, org_id: int | None = None) -> list[str]:
        return self.store.distinct_values("tag", user_id=user_id, org_id=org_id)

    def names(self, events: Iterable[Event], *, org_id: int | None = None, products: Iterable[str] = ()) -> Names:
        """The names the events speak of (and those of `products`, e.g. a filter's choices), in
        one query however many events there are: the actors, in an organisation's log
        (`org_id`) the accounts too with the members' e-mails, and the applications."""
        people: set[int] = set()
        apps = {p for p in products if p and p not in PRODUCT_LABELS}
        for e in events:
            if e.actor_id is not None:
                people.add(e.actor_id)
            if org_id is not None and e.user_id is not None:
                people.add(e.user_id)
            if e.product and e.product not in PRODUCT_LABELS:
                apps.add(e.product)
        if not people and not apps:
            return Names()
        found, names = self.store.names(people, apps, org_id=org_id)
        return Names({i: Person(name, email) for i, (name, email) in found.items()}, names)

    def export_csv(
        self, ctx: RequestContext, *, actor_id: int, user_id: int | None = None, org_id: int | None = None,
        date_from: dt.date | dt.datetime | None = None, date_to: dt.date | dt.datetime | None = None,
        product: str | None = None, action: str | None = None, text: str | None = None,
    ) -> str:
        """The matching events (at most `export_limit`) as CSV; recorded as an export by `actor_id`."""
        events, _total = self.search(
            user_id=user_id, org_id=org_id, date_from=date_from, date_to=date_to, product=product,
            action=action, text=text, page=1, per_page=MAX_PER_PAGE,
        )
        rows = list(events)
        page = 2
        while len(events) == MAX_PER_PAGE and len(rows) < self.export_limit:
            events, _total = self.search(
                user_id=user_id, org_id=org_id, date_from=date_from, date_to=date_to, product=product,
                action=action, text=text, page=page, per_page=MAX_PER_PAGE,
            )
            rows.extend(events)
            page += 1
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([
            "time_utc", "action", "product", "user_id", "actor_id", "ip", "device", "details", "actor", "application",
        ])
        rows = rows[: self.export_limit]
        for start in range(0, len(rows), MAX_PER_PAGE):
            chunk = rows[start:start + MAX_PER_PAGE]
            names = self.names(chunk, org_id=org_id)
            for e in chunk:
                writer.writerow([
                    e.created_at.astimezone(dt.UTC).isoformat(timespec="seconds"), e.tag, _cell(e.product),
                    e.user_id or "", e.actor_id or "", _cell(e.ip or ""), _cell(e.device or ""),
                    _cell(json.dumps(e.details, sort_keys=True)) if e.details else "",
                    _cell(_who(names, e.actor_id)), _cell(names.application(e.product) or ""),
                ])
        self.events.record_event(
            EventTag.ACTIVITY_EXPORTED, ctx=ctx, user_id=user_id if user_id is not None else actor_id,
            org_id=org_id, actor_id=actor_id, details={"rows": len(rows)},
        )
        return out.getvalue()
