"""A member's linked directory accounts: listed, used to confirm it is them, unlinked while
another way in remains (a mixin of FederationService)."""

from __future__ import annotations

from idp.account.service import AccountService
from idp.errors import N_
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.federation.model import Connection
from idp.federation.model import Link
from idp.federation.ports import ConnectionStore
from idp.federation.ports import UserStore
from idp.model import RequestContext
from idp.model import User


class LinkOwner:
    """The owner's view of their links (it reads the attributes below)."""

    sql: ConnectionStore
    users: UserStore
    accounts: AccountService
    events: EventRecorder

    def links(self, user: User) -> list[tuple[Link, Connection | None]]:
        return [
            (link, self.sql.get(link.connection_id) if link.connection_id else None)
            for link in self.sql.links_of(user.id)
        ]

    def reauth_connection(self, user: User) -> Connection | None:
        """The enabled directory through which `user` can confirm it is them (a linked one)."""
        for _link, connection in self.links(user):
            if connection is not None and connection.enabled:
                return connection
        return None

    def linkable(self, user: User) -> list[Connection]:
        """Enabled connections of the person's organisations, to link from the security pages."""
        found: list[Connection] = []
        for m in self.accounts.memberships(user):
            found.extend(c for c in self.sql.of_org(m.org_id) if c.enabled)
        return found

    def unlink(self, user: User, link_id: int, ctx: RequestContext) -> None:
        """Remove a link, unless it is the person's last way in (no password, no other link)."""
        links = self.sql.links_of(user.id)
        target = next((link for link in links if link.id == link_id), None)
        if target is None:
            raise NotFoundError("no such linked identity")
        fresh = self.users.get(user.id) or user
        if not fresh.password_hash and len(links) < 2:
            raise ValidationError(
                N_("This is your only way to sign in. Set a password or link another directory first."), field="link"
            )
        self.sql.remove_link(user.id, link_id)
        self.events.record_event(
            EventTag.FED_LINK_REMOVED, ctx=ctx, user_id=user.id, actor_id=user.id,
            details={"link": link_id, "namespace": target.namespace[:200]},
        )
