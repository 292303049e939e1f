"""Deleting an account: the rules that refuse it, and the order in which everything goes.

The order, and why (docs/account.md, "Deleting the account"):

1. The rules (reads only): refused while the person is the only member of an organisation, or
   the only legal representative of one that has other members.
2. Every browser session ends (Redis, shared by every host: each refuses the cookie at its next
   request). Ending a session tells the applications signed in through it (back-channel logout,
   `sessions.on_end`), which needs the account's row: so this comes first. If Redis does not
   answer, nothing has changed yet.
3. One SQL transaction: every capability's eraser (refresh tokens and consents, kAuth devices
   told and removed, app passwords and API tokens, second factors, federated links), the
   person's activity entries stripped of personal data, the last mail rendered and queued, the
   account row deleted (its picture, phones and memberships go with it by foreign key), and
   `account:user:deleted` recorded. All of it commits, or none of it: a store that fails midway
   gives a 503 and leaves an account that is whole (signed out everywhere), never a
   half-deleted one that can still sign in; the same request again finishes the job (each
   eraser does nothing where nothing is left).

Deleted, the account is one that is not there (`idp.standing`): every credential that still
names its id is refused, and its id is never given to another account.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from idp.clock import Clock
from idp.errors import ConflictError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.mail import MailService
from idp.model import Membership
from idp.model import RequestContext
from idp.model import Role
from idp.model import User


@dataclass(frozen=True)
class AccountEraser:
    """What one capability holds for a person, and how it goes. `erase(user, ctx)` removes all
    of it and tells the outside (applications, phones); it runs inside the deletion's SQL
    transaction, and does nothing where nothing is left (a retry runs it again). `what` names
    it on the deletion page (marked with N_, translated when shown)."""

    what: str
    erase: Callable[[User, RequestContext], None]


@dataclass(frozen=True)
class Block:
    """Why one organisation stops the deletion."""

    org_name: str
    org_slug: str
    only_member: bool  # False: the only legal representative, and the organisation has other members

    @property
    def advice(self) -> str:
        """What to do, in English (the command prints it; the page writes its own, translated)."""
        if self.only_member:
            return (f"you are the only member of {self.org_name}: delete the organisation, "
                    "or add someone else to it, first")
        return (f"you are the only legal representative of {self.org_name}, which has other members: "
                "name another legal representative first")


class DeletionRefused(ConflictError):
    """The account cannot be deleted yet; `blocks` says which organisations and what to do."""

    def __init__(self, blocks: list[Block]) -> None:
        super().__init__("the account cannot be deleted yet: " + "; ".join(b.advice for b in blocks))
        self.blocks = blocks


class Deleter(Protocol):
    def delete(self, user_id: int) -> bool: ...


class Roles(Protocol):
    def memberships_of(self, user_id: int) -> list[Membership]: ...
    def roles_in(self, org_id: int) -> list[Role]: ...


class Anonymiser(Protocol):
    def anonymise(self, user_id: int, keep: Iterable[str]) -> int: ...


class SessionEnder(Protocol):
    def end_all(
        self, user_id: int, ctx: RequestContext, *, actor_id: int | None = None, reason: str = ""
    ) -> int: ...


# Details of an activity entry that say what happened, not who or where: kept after deletion.
# Everything else (names, e-mail addresses, device names, IP addresses ...) goes.
KEPT_DETAILS = frozenset({
    "all", "amr", "by", "choice", "count", "delivered", "factor", "kind", "method", "methods", "reason",
    "result", "role", "scope", "status", "step",
})


class DeletionService:
    def __init__(
        self, *, users: Deleter, orgs: Roles, events: EventRecorder, log: Anonymiser,
        sessions: SessionEnder, mail: MailService, clock: Clock, erasers: list[AccountEraser],
        unit: Callable[[], AbstractContextManager[None]],
    ) -> None:
        self.users, self.orgs, self.events, self.log = users, orgs, events, log
        self.sessions, self.mail, self.clock, self.unit = sessions, mail, clock, unit
        # Filled by the capabilities when they are installed (Capability.erase_account).
        self.erasers = erasers

    def blocks(self, user: User) -> list[Block]:
        """The organisations that stop the deletion now (none: it may go ahead)."""
        found = []
        for membership in self.orgs.memberships_of(user.id):
            roles = self.orgs.roles_in(membership.org_id)
            if len(roles) <= 1:
                found.append(Block(membership.org_name, membership.org_slug, only_member=True))
            elif membership.role is Role.LEGAL_REPRESENTATIVE and roles.count(Role.LEGAL_REPRESENTATIVE) == 1:
                found.append(Block(membership.org_name, membership.org_slug, only_member=False))
        return found

    def what_goes(self) -> list[str]:
        """What the installed capabilities erase (N_ labels), for the deletion page."""
        return [eraser.what for eraser in self.erasers]

    def delete(self, user: User, *, ctx: RequestContext, actor_id: int | None = None) -> None:
        """Delete the account now, in the order of the module's docstring. Raises DeletionRefused
        (nothing changed) when an organisation stops it, StoreUnavailableError when Redis or the
        database does not answer (the account stays whole; the same call again finishes)."""
        blocks = self.blocks(user)
        if blocks:
            raise DeletionRefused(blocks)
        by = "owner" if actor_id in (None, user.id) else "admin"
        self.sessions.end_all(user.id, ctx, actor_id=actor_id, reason="deleted")
        orgs: list[int | None] = [m.org_id for m in self.orgs.memberships_of(user.id)]
        with self.unit():
            for eraser in self.erasers:
                eraser.erase(user, ctx)
            # Rendered and queued while the account still has its address, language and name.
            self.mail.queue_for(user, "account_deleted", when=self.clock.now())
            self.users.delete(user.id)
            # One entry in each organisation's log (the person's own log is gone with them).
            for org_id in orgs or [None]:
                self.events.record_event(
                    EventTag.USER_DELETED, ctx=ctx, user_id=user.id, org_id=org_id,
                    actor_id=None if by == "owner" else actor_id, product=Product.ADMIN, details={"by": by},
                )
            # Last, so that it also strips what the erasers and this step recorded.
            self.log.anonymise(user.id, KEPT_DETAILS)
