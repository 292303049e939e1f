"""Organisations, their members, roles, settings and invitations in SQL: the one organisation
store, for the organisation pages, the operator's commands, the security center, single sign-on
and account deletion."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from idp.errors import ConflictError
from idp.model import Invitation
from idp.model import Membership
from idp.model import Organisation
from idp.model import Role
from idp.model import User
from idp.stores.db import Database
from idp.stores.models import InvitationRow
from idp.stores.models import MembershipRow
from idp.stores.models import OrganisationRow
from idp.stores.models import UserRow
from idp.stores.users import _user
from idp.stores.users import email_key


def _org(row: OrganisationRow) -> Organisation:
    return Organisation(
        id=row.id, slug=row.slug, name=row.name, created_at=row.created_at, require_factor=bool(row.require_factor)
    )


def _invitation(row: InvitationRow) -> Invitation:
    return Invitation(
        id=row.id, org_id=row.org_id, email=row.email, role=Role(row.role), nonce_digest=row.nonce_digest,
        invited_by=row.invited_by, state=row.state, created_at=row.created_at, expires_at=row.expires_at,
    )


class SqlOrganisationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- organisations ------------------------------------------------------------------------

    def create(self, *, slug: str, name: str, now: dt.datetime) -> Organisation:
        """An organisation without members (the operator's `idp org create`); ConflictError
        when the short name is taken."""
        row = OrganisationRow(slug=slug, name=name, created_at=now, require_factor=False)
        try:
            with self.db.transaction() as s:
                s.add(row)
                s.flush()
                return _org(row)
        except IntegrityError as exc:
            raise ConflictError(f"an organisation named {slug!r} already exists") from exc

    def create_with(self, *, slug: str, name: str, user_id: int, role: Role, now: dt.datetime) -> Organisation:
        """The organisation and its first member, in one transaction."""
        row = OrganisationRow(slug=slug, name=name, created_at=now, require_factor=False)
        try:
            with self.db.transaction() as s:
                s.add(row)
                s.flush()
                s.add(MembershipRow(user_id=user_id, org_id=row.id, role=role.value, created_at=now))
                s.flush()
                return _org(row)
        except IntegrityError as exc:
            raise ConflictError(f"an organisation named {slug!r} already exists") from exc

    def by_slug(self, slug: str) -> Organisation | None:
        with self.db.transaction() as s:
            row = s.scalar(select(OrganisationRow).where(OrganisationRow.slug == slug))
            return _org(row) if row else None

    def all(self) -> list[Organisation]:
        with self.db.transaction() as s:
            return [_org(r) for r in s.scalars(select(OrganisationRow).order_by(OrganisationRow.slug))]

    def get(self, org_id: int) -> Organisation | None:
        with self.db.transaction() as s:
            row = s.get(OrganisationRow, org_id)
            return _org(row) if row else None

    def delete(self, org_id: int) -> bool:
        """The organisation; its memberships, invitations and SSO connections go with it (foreign
        keys, ON DELETE CASCADE)."""
        with self.db.transaction() as s:
            s.execute(delete(InvitationRow).where(InvitationRow.org_id == org_id))
            s.execute(delete(MembershipRow).where(MembershipRow.org_id == org_id))
            result = s.execute(delete(OrganisationRow).where(OrganisationRow.id == org_id))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def set_require_factor(self, org_id: int, required: bool) -> None:
        with self.db.transaction() as s:
            s.execute(update(OrganisationRow).where(OrganisationRow.id == org_id).values(require_factor=required))

    def requires_factor(self, user_id: int) -> bool:
        """Whether any organisation of this account requires a second factor (one indexed query)."""
        with self.db.transaction() as s:
            query = select(
                exists().where(
                    MembershipRow.user_id == user_id, MembershipRow.org_id == OrganisationRow.id,
                    OrganisationRow.require_factor.is_(True),
                )
            )
            return bool(s.scalar(query))

    # -- members ------------------------------------------------------------------------------

    def membership(self, user_id: int, org_id: int) -> Membership | None:
        with self.db.transaction() as s:
            row = s.get(MembershipRow, (user_id, org_id))
            return Membership(row.user_id, row.org_id, Role(row.role)) if row else None

    def memberships_of(self, user_id: int) -> list[Membership]:
        with self.db.transaction() as s:
            rows = s.execute(
                select(MembershipRow, OrganisationRow)
                .join(OrganisationRow, OrganisationRow.id == MembershipRow.org_id)
                .where(MembershipRow.user_id == user_id)
                .order_by(OrganisationRow.name)
            )
            return [Membership(m.user_id, m.org_id, Role(m.role), o.slug, o.name) for m, o in rows]

    def members(self, org_id: int) -> list[tuple[User, Role]]:
        with self.db.transaction() as s:
            rows = s.execute(
                select(UserRow, MembershipRow.role)
                .join(MembershipRow, MembershipRow.user_id == UserRow.id)
                .where(MembershipRow.org_id == org_id)
                .order_by(UserRow.email_key)
            )
            return [(_user(u), Role(role)) for u, role in rows]

    def roles_in(self, org_id: int) -> list[Role]:
        """The role of each member of the organisation."""
        with self.db.transaction() as s:
            return [Role(r) for r in s.scalars(select(MembershipRow.role).where(MembershipRow.org_id == org_id))]

    def count_role(self, org_id: int, role: Role) -> int:
        with self.db.transaction() as s:
            query = select(func.count()).where(MembershipRow.org_id == org_id, MembershipRow.role == role.value)
            return int(s.scalar(query) or 0)

    def add(self, *, user_id: int, org_id: int, role: Role, now: dt.datetime) -> bool:
        """A new member; False when the account is a member already (its role is kept)."""
        with self.db.transaction() as s:
            if s.get(MembershipRow, (user_id, org_id)) is not None:
                return False
            s.add(MembershipRow(user_id=user_id, org_id=org_id, role=role.value, created_at=now))
            return True

    def set_membership(self, *, user_id: int, org_id: int, role: Role, now: dt.datetime) -> Membership:
        """The account's role in the organisation, whatever it had (the operator's
        `idp org add-member`): a new member, or a new role for a member."""
        with self.db.transaction() as s:
            row = s.get(MembershipRow, (user_id, org_id))
            if row is None:
                s.add(MembershipRow(user_id=user_id, org_id=org_id, role=role.value, created_at=now))
            else:
                row.role = role.value
        return Membership(user_id=user_id, org_id=org_id, role=role)

    def set_role(self, user_id: int, org_id: int, role: Role, *, was: Role) -> bool:
        """Compare-and-set: changes the role only if it is still `was`."""
        with self.db.transaction() as s:
            result = s.execute(
                update(MembershipRow)
                .where(MembershipRow.user_id == user_id, MembershipRow.org_id == org_id,
                       MembershipRow.role == was.value)
                .values(role=role.value)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def remove(self, user_id: int, org_id: int) -> bool:
        with self.db.transaction() as s:
            result = s.execute(
                delete(MembershipRow).where(MembershipRow.user_id == user_id, MembershipRow.org_id == org_id)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def hand_over(self, org_id: int, *, giver: int, receiver: int, receiver_was: Role) -> bool:
        """The receiver becomes legal representative and the giver administrator, both or neither:
        False (nothing changed) when the receiver's role is no longer `receiver_was`."""
        with self.db.transaction() as s:
            first = s.execute(
                update(MembershipRow)
                .where(MembershipRow.user_id == receiver, MembershipRow.org_id == org_id,
                       MembershipRow.role == receiver_was.value)
                .values(role=Role.LEGAL_REPRESENTATIVE.value)
            )
            if not first.rowcount:  # type: ignore[attr-defined]
                return False  # before the giver's change: a refused hand-over demotes nobody
            second = s.execute(
                update(MembershipRow)
                .where(MembershipRow.user_id == giver, MembershipRow.org_id == org_id,
                       MembershipRow.role == Role.LEGAL_REPRESENTATIVE.value)
                .values(role=Role.ADMIN.value)
            )
            if not second.rowcount:  # type: ignore[attr-defined]
                # Raised to roll the first change back: the giver is no longer a legal representative.
                raise ConflictError("the giver is no longer a legal representative")
            return True

    # -- invitations --------------------------------------------------------------------------

    def add_invitation(
        self, *, org_id: int, email: str, role: Role, nonce_digest: str, invited_by: int, now: dt.datetime,
        expires_at: dt.datetime,
    ) -> Invitation:
        with self.db.transaction() as s:
            row = InvitationRow(
                org_id=org_id, email=email, role=role.value, nonce_digest=nonce_digest, invited_by=invited_by,
                state="pending", created_at=now, expires_at=expires_at,
            )
            s.add(row)
            s.flush()
            return _invitation(row)

    def invitation(self, invitation_id: int) -> Invitation | None:
        with self.db.transaction() as s:
            row = s.get(InvitationRow, invitation_id)
            return _invitation(row) if row else None

    def pending_invitations(self, org_id: int, now: dt.datetime) -> list[Invitation]:
        with self.db.transaction() as s:
            rows = s.scalars(
                select(InvitationRow)
                .where(InvitationRow.org_id == org_id, InvitationRow.state == "pending",
                       InvitationRow.expires_at > now)
                .order_by(InvitationRow.created_at.desc(), InvitationRow.id.desc())
            )
            return [_invitation(r) for r in rows]

    def pending_for(self, org_id: int, email: str, now: dt.datetime) -> int:
        """How many pending invitations this organisation has for this address (any case)."""
        with self.db.transaction() as s:
            query = select(func.count()).where(
                InvitationRow.org_id == org_id, InvitationRow.state == "pending", InvitationRow.expires_at > now,
                func.lower(InvitationRow.email) == email_key(email),
            )
            return int(s.scalar(query) or 0)

    def close_invitation(self, invitation_id: int, state: str) -> bool:
        """Compare-and-set pending -> `state` (accepted, revoked): of two submissions one wins."""
        with self.db.transaction() as s:
            result = s.execute(
                update(InvitationRow)
                .where(InvitationRow.id == invitation_id, InvitationRow.state == "pending")
                .values(state=state)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]
