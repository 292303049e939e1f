"""Invitations to join an organisation: a signed link e-mailed to the address, single use,
expiring, revocable; an account with that address joins, a new person signs up through it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any
from typing import Protocol

from itsdangerous import BadData
from itsdangerous import URLSafeSerializer

from idp.account.org_rules import INVITED_AS
from idp.account.org_rules import OrgAct
from idp.account.org_rules import Target
from idp.account.org_rules import require
from idp.account.organisations import OrganisationStore
from idp.account.signup import SignupRequest
from idp.account.signup import SignupService
from idp.auth.service import normalise_login
from idp.clock import Clock
from idp.crypto import Purpose
from idp.crypto import derive
from idp.errors import N_
from idp.errors import ConflictError
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.foundation.ratelimit import RateLimiter
from idp.mail import MailService
from idp.model import Invitation
from idp.model import Organisation
from idp.model import RequestContext
from idp.model import Role
from idp.model import User

ACCEPT_PATH = "/orgs/invitations/"
MAX_TOKEN = 300
NOT_VALID = N_("This invitation link is not valid. Ask the organisation for a new invitation.")
EXPIRED = N_("This invitation has expired. Ask the organisation for a new one.")
USED = N_("This invitation was already accepted. Sign in to reach the organisation.")
REVOKED = N_("The organisation withdrew this invitation.")
WRONG_ACCOUNT = N_(
    "This invitation is for another e-mail address. Sign out, then open the link again and sign in"
    " with the invited address."
)


class InvitationStore(OrganisationStore, Protocol):
    def get(self, org_id: int) -> Organisation | None: ...
    def add_invitation(
        self, *, org_id: int, email: str, role: Role, nonce_digest: str, invited_by: int, now: dt.datetime,
        expires_at: dt.datetime,
    ) -> Invitation: ...
    def invitation(self, invitation_id: int) -> Invitation | None: ...
    def pending_invitations(self, org_id: int, now: dt.datetime) -> list[Invitation]: ...
    def pending_for(self, org_id: int, email: str, now: dt.datetime) -> int: ...
    def close_invitation(self, invitation_id: int, state: str) -> bool: ...


class AccountLookup(Protocol):
    def by_email(self, email: str) -> User | None: ...


@dataclass(frozen=True)
class Opened:
    """A valid invitation, as its page shows it."""

    invitation: Invitation
    org: Organisation
    has_account: bool


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


class InvitationService:
    """A link is `<invitation id>.<signed nonce>` (itsdangerous, HMAC-SHA256, the invitation key
    with a salt naming the invitation). The row keeps the nonce's digest, the address, the role
    and a state: the link works while the row is pending and unexpired, once (accepting is a
    compare-and-set), and the organisation can withdraw it."""

    def __init__(
        self, *, orgs: InvitationStore, users: AccountLookup, signup: SignupService, mail: MailService,
        events: EventRecorder, ratelimit: RateLimiter, clock: Clock, secret: str, base_url: str, ttl: int,
        unit: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        self.orgs, self.users, self.signup, self.mail, self.events = orgs, users, signup, mail, events
        self.ratelimit, self.clock, self.ttl, self.unit = ratelimit, clock, ttl, unit
        self.base_url = base_url.rstrip("/")
        self._links = URLSafeSerializer(
            derive(secret, Purpose.ORG_INVITATION),
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
        )

    # -- the organisation's side ----------------------------------------------------------------

    def _org_of(self, actor: User, slug: str, act: OrgAct, role: Role | None = None) -> Organisation:
        org = self.orgs.by_slug(slug.strip().lower()[:64])
        me = self.orgs.membership(actor.id, org.id) if org is not None else None
        if org is None or me is None:
            raise NotFoundError("no such organisation")
        require(me, act, Target(new_role=role) if act is OrgAct.INVITE else None)
        return org

    def invite(self, actor: User, slug: str, email: str, role: Role, ctx: RequestContext) -> Invitation:
        """Mail an invitation to `email` with `role` (`account:organisation:invited`). Refused for
        a member's address and while an invitation to it is pending; at most 50 per hour per inviter."""
        return self.send(self._org_of(actor, slug, OrgAct.INVITE, role), actor, email, role, ctx)

    def send(self, org: Organisation, actor: User, email: str, role: Role, ctx: RequestContext, *,
             on_behalf: dict[str, Any] | None = None) -> Invitation:
        """`invite` to an organisation whose permission the caller checked (a partner acting for
        it, idp.partners); `on_behalf` joins the event's details."""
        try:
            email = normalise_login(email)
        except ValidationError as exc:
            exc.field = "email"
            raise
        existing = self.users.by_email(email)
        if existing is not None and self.orgs.membership(existing.id, org.id) is not None:
            raise ValidationError(N_("This person is already a member."), field="email")
        now = self.clock.now()
        if self.orgs.pending_for(org.id, email, now):
            raise ValidationError(N_("An invitation to this address is pending: withdraw it to send another."),
                                  field="email")
        self.ratelimit.check("org_invite", str(actor.id), limit=50, window=3600)
        nonce = secrets.token_urlsafe(24)
        invitation = self.orgs.add_invitation(
            org_id=org.id, email=email, role=role, nonce_digest=_digest(nonce), invited_by=actor.id, now=now,
            expires_at=now + dt.timedelta(seconds=self.ttl),
        )
        token = f"{invitation.id}.{self._links.dumps(nonce, salt=self._salt(invitation.id))}"
        locale = existing.locale if existing is not None else actor.locale
        self.mail.queue(
            email, "org_invitation", locale=locale, timezone=existing.timezone if existing else actor.timezone,
            org_name=org.name, inviter=actor.display_name, invited_as=INVITED_AS[role],
            link=f"{self.base_url}{ACCEPT_PATH}{token}", days=max(1, self.ttl // 86400),
        )
        self._record(EventTag.ORG_MEMBER_INVITED, ctx, org, actor.id, existing.id if existing else None,
                     {"role": role.value, "invitation": invitation.id, **(on_behalf or {})})
        return invitation

    def pending(self, actor: User, slug: str) -> list[Invitation]:
        return self.pending_of(self._org_of(actor, slug, OrgAct.INVITE))

    def pending_of(self, org: Organisation) -> list[Invitation]:
        return self.orgs.pending_invitations(org.id, self.clock.now())

    def revoke(self, actor: User, slug: str, invitation_id: int, ctx: RequestContext) -> Invitation:
        """Withdraw a pending invitation of this organisation (`account:organisation:invitation_revoked`)."""
        return self.withdraw(self._org_of(actor, slug, OrgAct.INVITE), actor, invitation_id, ctx)

    def withdraw(self, org: Organisation, actor: User, invitation_id: int, ctx: RequestContext, *,
                 on_behalf: dict[str, Any] | None = None) -> Invitation:
        """`revoke` for an organisation whose permission the caller checked (as `send`)."""
        invitation = self.orgs.invitation(invitation_id)
        if invitation is None or invitation.org_id != org.id:
            raise NotFoundError("no such invitation")
        if not self.orgs.close_invitation(invitation.id, "revoked"):
            raise ValidationError(N_("This invitation is no longer pending."))
        self._record(EventTag.ORG_INVITATION_REVOKED, ctx, org, actor.id, None,
                     {"invitation": invitation.id, **(on_behalf or {})})
        return invitation

    # -- the invited person's side -------------------------------------------------------------

    @staticmethod
    def _salt(invitation_id: int) -> str:
        return f"idp organisation invitation\x00{invitation_id}"

    def open(self, token: str) -> Opened:
        """The pending invitation this link carries, or ValidationError saying why not: altered,
        forged or of a deleted organisation (not valid), expired, accepted, withdrawn. The
        signature is checked, then the nonce against its digest in constant time."""
        number, _, signed = token.partition(".")
        if len(token) > MAX_TOKEN or not signed or not number.isdigit() or len(number) > 12:
            raise ValidationError(NOT_VALID)
        try:
            nonce: Any = self._links.loads(signed, salt=self._salt(int(number)))
        except BadData as exc:
            raise ValidationError(NOT_VALID) from exc
        invitation = self.orgs.invitation(int(number))
        if invitation is None or not isinstance(nonce, str) or not hmac.compare_digest(
            _digest(nonce), invitation.nonce_digest
        ):
            raise ValidationError(NOT_VALID)
        org = self.orgs.get(invitation.org_id)
        if org is None:
            raise ValidationError(NOT_VALID)
        if invitation.state == "accepted":
            raise ValidationError(USED)
        if invitation.state == "revoked":
            raise ValidationError(REVOKED)
        if invitation.expires_at <= self.clock.now():
            raise ValidationError(EXPIRED)
        return Opened(invitation, org, self.users.by_email(invitation.email) is not None)

    def accept(self, user: User, token: str, ctx: RequestContext) -> Organisation:
        """The signed-in account joins with the invitation's role, if its login e-mail is the
        invited address (any case); another account is refused (WRONG_ACCOUNT)."""
        opened = self.open(token)
        invitation = opened.invitation
        if user.email.strip().lower() != invitation.email.strip().lower():
            raise ValidationError(WRONG_ACCOUNT)
        with self.unit():
            if not self.orgs.close_invitation(invitation.id, "accepted"):
                raise ValidationError(USED)
            self.orgs.add(user_id=user.id, org_id=opened.org.id, role=invitation.role, now=self.clock.now())
        self._joined(ctx, opened, user)
        return opened.org

    def sign_up(self, token: str, request: SignupRequest, ctx: RequestContext) -> User:
        """A new account for the invited address (active at once: the link proves the mailbox),
        which joins the organisation. ValidationError names the field; the address cannot be
        chosen (the invitation's is used)."""
        opened = self.open(token)
        invitation = opened.invitation
        if opened.has_account:
            raise ValidationError(N_("An account has this address already: sign in to accept the invitation."))
        candidate = self.signup.validate(dataclasses.replace(request, email=invitation.email))
        try:
            with self.unit():
                if not self.orgs.close_invitation(invitation.id, "accepted"):
                    raise ValidationError(USED)
                user = self.signup.open_account(candidate, ctx, proven=True, how="invitation")
                self.orgs.add(user_id=user.id, org_id=opened.org.id, role=invitation.role, now=self.clock.now())
        except ConflictError as exc:
            raise ValidationError(N_("An account has this address already: sign in to accept the invitation.")) from exc
        self._joined(ctx, opened, user)
        return user

    def _joined(self, ctx: RequestContext, opened: Opened, user: User) -> None:
        self._record(EventTag.ORG_INVITATION_ACCEPTED, ctx, opened.org, user.id, user.id,
                     {"role": opened.invitation.role.value, "invitation": opened.invitation.id})

    def _record(
        self, tag: EventTag, ctx: RequestContext, org: Organisation, actor_id: int, user_id: int | None,
        details: dict[str, object],
    ) -> None:
        self.events.record_event(tag, ctx=ctx, user_id=user_id, actor_id=actor_id, org_id=org.id,
                                 product=Product.ACCOUNT, details=details)
