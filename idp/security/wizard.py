"""The "compromised password?" wizard: replace the password, revoke what it could have opened, review."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from idp.capability import RevokesAll
from idp.clock import Clock
from idp.errors import N_
from idp.errors import StoreUnavailableError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.foundation.breached import BreachedPasswordCheck
from idp.foundation.breached import refuse_breached
from idp.foundation.lockout import LockoutService
from idp.foundation.passwords import Passwords
from idp.foundation.review import ReviewItem
from idp.foundation.sessions import BrowserSession
from idp.foundation.sessions import SessionService
from idp.mail import MailService
from idp.model import RequestContext
from idp.model import User
from idp.security.notifications import SESSIONS_PATH

log = logging.getLogger(__name__)
# Shown (translated) for a review line whose status could not be read.
UNKNOWN_STATUS = N_("Could not be checked")


@dataclass(frozen=True)
class ReviewLine:
    label: str
    endpoint: str
    status: str


class WizardService:
    """Each step is recorded as its own event; the owner is e-mailed when the wizard ends.

    Other capabilities' revocations are optional collaborators: `credentials` (every app
    password and API token, idp.security.credentials) and `grants` (every application's consent
    and refresh token, idp.oidc), None when that capability is not installed. They are
    connected once every capability is built (`idp.security.center.capability`)."""

    def __init__(
        self, *, accounts: Any, passwords: Passwords, breached: BreachedPasswordCheck,
        lockout: LockoutService, sessions: SessionService, events: EventRecorder, mail: MailService,
        clock: Clock, review: list[ReviewItem], base_url: str,
        credentials: RevokesAll | None = None, grants: RevokesAll | None = None,
    ) -> None:
        self.accounts, self.passwords, self.breached = accounts, passwords, breached
        self.lockout, self.sessions, self.events, self.mail = lockout, sessions, events, mail
        self.clock, self.review_items, self.base_url = clock, review, base_url
        self.credentials, self.grants = credentials, grants

    def replace_password(self, user: User, current: str, new: str, ctx: RequestContext) -> User:
        """Step 1. The current password is verified (a wrong one counts toward lockout, as at
        sign-in); the new one must differ, follow the password rules and not be common or
        breached."""
        if not current:
            raise ValidationError(N_("Enter your current password."), field="current_password")
        if not self.passwords.verify(user.password_hash, current).ok:
            self.lockout.register_failure(user, user.email, ctx)
            raise ValidationError(N_("Your current password is wrong."), field="current_password")
        if not new:
            raise ValidationError(N_("Choose a new password."), field="new_password")
        if new == current:
            raise ValidationError(N_("The new password must differ from the current one."), field="new_password")
        try:
            self.passwords.check_new(new, email=user.email)
        except ValidationError as exc:
            exc.field = "new_password"
            raise
        refuse_breached(self.breached, new)
        updated: User = self.accounts.set_password(user, new, ctx=ctx, actor_id=user.id)
        self.events.record_event(EventTag.WIZARD_PASSWORD_REPLACED, ctx=ctx, user_id=user.id)
        return updated

    @property
    def can_revoke_grants(self) -> bool:
        return self.grants is not None

    @property
    def can_revoke_credentials(self) -> bool:
        return self.credentials is not None

    def revoke(
        self, user: User, ctx: RequestContext, *, keep: BrowserSession, end_sessions: bool, revoke_grants: bool,
    ) -> dict[str, int]:
        """Step 2. Always revokes every app password and API token; on request also ends every
        other session (this one stays) and withdraws applications' refresh tokens."""
        summary = {"credentials": 0, "sessions": 0, "grants": 0}
        if self.credentials is not None:
            summary["credentials"] = int(self.credentials(user, ctx) or 0)
        if end_sessions:
            summary["sessions"] = self.sessions.end_all(user.id, ctx, keep=keep, actor_id=user.id, reason="compromised")
        if revoke_grants and self.grants is not None:
            summary["grants"] = int(self.grants(user, ctx) or 0)
        self.events.record_event(
            EventTag.WIZARD_CREDENTIALS_REVOKED, ctx=ctx, user_id=user.id,
            details=summary | {"end_sessions": end_sessions, "revoke_grants": revoke_grants},
        )
        return summary

    def review(self, user: User) -> list[ReviewLine]:
        """Step 3. Every capability's review line with this person's status."""
        lines = []
        for item in self.review_items:
            try:
                status = item.status(user)
            except StoreUnavailableError:
                raise  # the whole page answers 503, as every other page does
            except Exception:
                # One capability's bug must not hide the others' lines; it is logged, and the
                # line says it could not be read rather than showing a wrong status.
                log.exception("a review item failed", extra={"endpoint": item.endpoint})
                status = UNKNOWN_STATUS
            lines.append(ReviewLine(item.label, item.endpoint, status))
        return lines

    def complete(self, user: User, ctx: RequestContext, summary: dict[str, Any]) -> None:
        """The end: recorded, and the owner told by mail what was done and when."""
        self.events.record_event(EventTag.WIZARD_COMPLETED, ctx=ctx, user_id=user.id, details=summary)
        self.mail.queue_for(
            user, "security_wizard_done", when=self.clock.now(),
            password_replaced=bool(summary.get("password")),
            credentials=int(summary.get("credentials", 0)), sessions=int(summary.get("sessions", 0)),
            grants=int(summary.get("grants", 0)), ip=ctx.ip,
            sessions_url=self.base_url + SESSIONS_PATH,
        )
