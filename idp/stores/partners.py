"""Partner organisations, requests, partnerships and assignments in SQL (the partners capability)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm import aliased

from idp.capability import PartnerRight
from idp.errors import ConflictError
from idp.model import Role
from idp.partners.model import Access
from idp.partners.model import PartnerRequest
from idp.partners.model import Partnership
from idp.partners.model import Reach
from idp.partners.model import RequestState
from idp.partners.model import Status
from idp.stores.db import Database
from idp.stores.models import MembershipRow
from idp.stores.models import OrganisationRow
from idp.stores.tables_partners import PartnerAssignmentRow
from idp.stores.tables_partners import PartnerOrgRow
from idp.stores.tables_partners import PartnerRequestRow
from idp.stores.tables_partners import PartnershipRow

ACTIVE = Status.ACTIVE.value
PENDING = RequestState.PENDING.value
_PARTNER = aliased(OrganisationRow, name="partner_org")
_CLIENT = aliased(OrganisationRow, name="client_org")


def _rights(values: Iterable[str]) -> frozenset[PartnerRight]:
    # A right a later version removed is ignored rather than refused: the rest still holds.
    known = {r.value for r in PartnerRight}
    return frozenset(PartnerRight(v) for v in values if v in known)


def _request(row: PartnerRequestRow, partner: OrganisationRow) -> PartnerRequest:
    return PartnerRequest(
        id=row.id, partner_org_id=row.partner_org_id, partner_name=partner.name, partner_slug=partner.slug,
        email=row.email, access=Access(full=row.full, rights=_rights(row.rights), payer_is_partner=row.payer_is_partner,
                                       days=row.days, auto_renew=row.auto_renew),
        nonce_digest=row.nonce_digest, invited_by=row.invited_by, state=RequestState(row.state),
        created_at=row.created_at, expires_at=row.expires_at, decided_at=row.decided_at,
        client_org_id=row.client_org_id,
    )


def _partnership(row: PartnershipRow, partner: OrganisationRow, client: OrganisationRow,
                 assigned: Collection[int] = ()) -> Partnership:
    return Partnership(
        id=row.id, partner_org_id=row.partner_org_id, partner_slug=partner.slug, partner_name=partner.name,
        client_org_id=row.client_org_id, client_slug=client.slug, client_name=client.name,
        contact_email=row.contact_email, full=row.full, rights=_rights(row.rights),
        payer_is_partner=row.payer_is_partner, term_days=row.term_days, auto_renew=row.auto_renew,
        starts_at=row.starts_at, ends_at=row.ends_at, status=Status(row.status), granted_by=row.granted_by,
        ended_at=row.ended_at, assigned=frozenset(assigned),
    )


def _stored_rights(access: Access) -> list[str]:
    return sorted(r.value for r in access.granted_rights)


# Each partnership with both organisations (their names and short names).
_WITH_ORGS: Any = (
    select(PartnershipRow, _PARTNER, _CLIENT)
    .join(_PARTNER, _PARTNER.id == PartnershipRow.partner_org_id)
    .join(_CLIENT, _CLIENT.id == PartnershipRow.client_org_id)
)


class SqlPartnerStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- partner organisations ------------------------------------------------------------------

    def is_partner(self, org_id: int) -> bool:
        with self.db.read() as s:
            return s.get(PartnerOrgRow, org_id) is not None

    def set_partner(self, org_id: int, now: dt.datetime) -> bool:
        """Mark the organisation a partner; False when it is one already."""
        with self.db.transaction() as s:
            if s.get(PartnerOrgRow, org_id) is not None:
                return False
            s.add(PartnerOrgRow(org_id=org_id, since=now))
            return True

    def unset_partner(self, org_id: int) -> bool:
        with self.db.transaction() as s:
            result = s.execute(delete(PartnerOrgRow).where(PartnerOrgRow.org_id == org_id))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- requests -------------------------------------------------------------------------------

    def add_request(
        self, *, partner_org_id: int, email: str, access: Access, nonce_digest: str, invited_by: int,
        now: dt.datetime, expires_at: dt.datetime,
    ) -> PartnerRequest:
        with self.db.transaction() as s:
            row = PartnerRequestRow(
                partner_org_id=partner_org_id, email=email.strip().lower(), full=access.full,
                rights=_stored_rights(access), payer_is_partner=access.payer_is_partner, days=access.days,
                auto_renew=access.auto_renew, nonce_digest=nonce_digest, invited_by=invited_by, state=PENDING,
                created_at=now, expires_at=expires_at,
            )
            s.add(row)
            s.flush()
            partner = s.get(OrganisationRow, partner_org_id)
            assert partner is not None  # noqa: S101 - the foreign key holds
            return _request(row, partner)

    def request(self, request_id: int) -> PartnerRequest | None:
        with self.db.transaction() as s:
            found = s.execute(
                select(PartnerRequestRow, OrganisationRow)
                .join(OrganisationRow, OrganisationRow.id == PartnerRequestRow.partner_org_id)
                .where(PartnerRequestRow.id == request_id)
            ).first()
            return _request(*found) if found else None

    def _requests(self, s: Session, *where: object) -> list[PartnerRequest]:
        rows = s.execute(
            select(PartnerRequestRow, OrganisationRow)
            .join(OrganisationRow, OrganisationRow.id == PartnerRequestRow.partner_org_id)
            .where(*where)  # type: ignore[arg-type]
            .order_by(PartnerRequestRow.created_at.desc(), PartnerRequestRow.id.desc())
        )
        return [_request(r, o) for r, o in rows]

    def pending_to(self, email: str, now: dt.datetime) -> list[PartnerRequest]:
        """The pending, unexpired requests sent to this address (any case), newest first."""
        with self.db.transaction() as s:
            return self._requests(s, PartnerRequestRow.email == email.strip().lower(),
                                  PartnerRequestRow.state == PENDING, PartnerRequestRow.expires_at > now)

    def pending_of(self, partner_org_id: int, now: dt.datetime) -> list[PartnerRequest]:
        with self.db.transaction() as s:
            return self._requests(s, PartnerRequestRow.partner_org_id == partner_org_id,
                                  PartnerRequestRow.state == PENDING, PartnerRequestRow.expires_at > now)

    def close_request(self, request_id: int, state: RequestState, now: dt.datetime,
                      client_org_id: int | None = None) -> bool:
        """Compare-and-set pending -> `state`: of two submissions one wins."""
        with self.db.transaction() as s:
            result = s.execute(
                update(PartnerRequestRow)
                .where(PartnerRequestRow.id == request_id, PartnerRequestRow.state == PENDING)
                .values(state=state.value, decided_at=now, client_org_id=client_org_id)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def cancel_requests_of(self, partner_org_id: int, now: dt.datetime) -> int:
        with self.db.transaction() as s:
            result = s.execute(
                update(PartnerRequestRow)
                .where(PartnerRequestRow.partner_org_id == partner_org_id, PartnerRequestRow.state == PENDING)
                .values(state=RequestState.CANCELLED.value, decided_at=now)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def cancel_requests_to(self, email: str, now: dt.datetime) -> int:
        with self.db.transaction() as s:
            result = s.execute(
                update(PartnerRequestRow)
                .where(PartnerRequestRow.email == email.strip().lower(), PartnerRequestRow.state == PENDING)
                .values(state=RequestState.CANCELLED.value, decided_at=now)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    # -- partnerships ---------------------------------------------------------------------------

    def add_partnership(
        self, *, partner_org_id: int, client_org_id: int, request_id: int | None, contact_email: str,
        access: Access, granted_by: int, now: dt.datetime,
    ) -> Partnership:
        """A live partnership; ConflictError when the client has one already (with any partner)."""
        try:
            with self.db.transaction() as s:
                live = s.scalar(select(exists().where(
                    PartnershipRow.client_org_id == client_org_id, PartnershipRow.status == ACTIVE)))
                if live:
                    raise ConflictError("the client organisation has a live partnership")
                row = PartnershipRow(
                    partner_org_id=partner_org_id, client_org_id=client_org_id, request_id=request_id,
                    contact_email=contact_email.strip().lower(), full=access.full, rights=_stored_rights(access),
                    payer_is_partner=access.payer_is_partner, term_days=access.days, auto_renew=access.auto_renew,
                    starts_at=now, ends_at=now + dt.timedelta(days=access.days), status=ACTIVE,
                    granted_by=granted_by,
                )
                s.add(row)
                s.flush()
                partner, client = s.get(OrganisationRow, partner_org_id), s.get(OrganisationRow, client_org_id)
                assert partner is not None  # noqa: S101 - the foreign keys hold
                assert client is not None  # noqa: S101
                return _partnership(row, partner, client)
        except IntegrityError as exc:  # a parallel acceptance won the unique index
            raise ConflictError("the client organisation has a live partnership") from exc

    def _assigned(self, s: Session, ids: Collection[int]) -> dict[int, set[int]]:
        found: dict[int, set[int]] = {i: set() for i in ids}
        if ids:
            rows = s.execute(select(PartnerAssignmentRow.partnership_id, PartnerAssignmentRow.user_id)
                             .where(PartnerAssignmentRow.partnership_id.in_(list(ids))))
            for partnership_id, user_id in rows:
                found[partnership_id].add(user_id)
        return found

    def _partnerships(self, s: Session, query: Any) -> list[Partnership]:
        rows = list(s.execute(query))
        assigned = self._assigned(s, [r.id for r, _p, _c in rows])
        return [_partnership(r, p, c, assigned[r.id]) for r, p, c in rows]

    def partnership(self, partnership_id: int) -> Partnership | None:
        with self.db.transaction() as s:
            found = self._partnerships(s, _WITH_ORGS.where(PartnershipRow.id == partnership_id))
            return found[0] if found else None

    def of_partner(self, partner_org_id: int, *, assigned_to: int | None = None) -> list[Partnership]:
        """Every partnership of the partner, newest first; only those `assigned_to` this person when given."""
        query = _WITH_ORGS.where(PartnershipRow.partner_org_id == partner_org_id)
        if assigned_to is not None:
            query = query.where(exists().where(PartnerAssignmentRow.partnership_id == PartnershipRow.id,
                                               PartnerAssignmentRow.user_id == assigned_to))
        with self.db.transaction() as s:
            return self._partnerships(s, query.order_by(PartnershipRow.starts_at.desc(), PartnershipRow.id.desc()))

    def of_client(self, client_org_id: int) -> list[Partnership]:
        with self.db.transaction() as s:
            return self._partnerships(s, _WITH_ORGS.where(PartnershipRow.client_org_id == client_org_id)
                                      .order_by(PartnershipRow.starts_at.desc(), PartnershipRow.id.desc()))

    def live_of(self, org_id: int) -> list[Partnership]:
        """The active partnerships the organisation is on either side of."""
        with self.db.transaction() as s:
            return self._partnerships(s, _WITH_ORGS.where(
                PartnershipRow.status == ACTIVE,
                (PartnershipRow.partner_org_id == org_id) | (PartnershipRow.client_org_id == org_id),
            ).order_by(PartnershipRow.id))

    def managed_among(self, partner_org_id: int, org_ids: Collection[int], now: dt.datetime) -> set[int]:
        """Which of these organisations the partner manages at `now` (an active partnership not
        past its end, or renewing)."""
        if not org_ids:
            return set()
        with self.db.transaction() as s:
            return set(s.scalars(select(PartnershipRow.client_org_id).where(
                PartnershipRow.partner_org_id == partner_org_id, PartnershipRow.status == ACTIVE,
                (PartnershipRow.ends_at > now) | PartnershipRow.auto_renew.is_(True),
                PartnershipRow.client_org_id.in_(list(org_ids)))))

    def due(self, now: dt.datetime, limit: int = 100) -> list[Partnership]:
        """Active partnerships whose term is over (renewing or not), oldest end first."""
        with self.db.transaction() as s:
            query = _WITH_ORGS.where(PartnershipRow.status == ACTIVE, PartnershipRow.ends_at <= now)
            return self._partnerships(s, query.order_by(PartnershipRow.ends_at, PartnershipRow.id).limit(limit))

    def set_access(self, partnership_id: int, access: Access, *, ends_at: dt.datetime) -> bool:
        """New rights, term and renewal of an active partnership (compare-and-set on its status)."""
        with self.db.transaction() as s:
            result = s.execute(
                update(PartnershipRow)
                .where(PartnershipRow.id == partnership_id, PartnershipRow.status == ACTIVE)
                .values(full=access.full, rights=_stored_rights(access), term_days=access.days,
                        auto_renew=access.auto_renew, ends_at=ends_at)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def close(self, partnership_id: int, status: Status, now: dt.datetime, by: int | None) -> bool:
        """Compare-and-set active -> ended or expired: exactly one caller wins."""
        with self.db.transaction() as s:
            result = s.execute(
                update(PartnershipRow)
                .where(PartnershipRow.id == partnership_id, PartnershipRow.status == ACTIVE)
                .values(status=status.value, ended_at=now, ended_by=by)
            )
            if result.rowcount:  # type: ignore[attr-defined]
                s.execute(delete(PartnerAssignmentRow).where(PartnerAssignmentRow.partnership_id == partnership_id))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def renew(self, partnership_id: int, *, was: dt.datetime, ends_at: dt.datetime) -> bool:
        """Move an active partnership's end from `was` to `ends_at` (compare-and-set on both)."""
        with self.db.transaction() as s:
            result = s.execute(
                update(PartnershipRow)
                .where(PartnershipRow.id == partnership_id, PartnershipRow.status == ACTIVE,
                       PartnershipRow.ends_at == was)
                .values(ends_at=ends_at)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- delegation -----------------------------------------------------------------------------

    def reach(self, user_id: int, client_org_id: int) -> Reach | None:
        """The client's active partnership with a partner organisation the person is a member of
        (still a partner), their role there and whether they are assigned: one indexed query."""
        assigned = exists().where(PartnerAssignmentRow.partnership_id == PartnershipRow.id,
                                  PartnerAssignmentRow.user_id == user_id)
        query = (
            select(PartnershipRow.id, PartnershipRow.partner_org_id, PartnershipRow.full, PartnershipRow.rights,
                   PartnershipRow.ends_at, PartnershipRow.auto_renew, MembershipRow.role, assigned.label("assigned"))
            .join(MembershipRow, (MembershipRow.org_id == PartnershipRow.partner_org_id)
                  & (MembershipRow.user_id == user_id))
            .join(PartnerOrgRow, PartnerOrgRow.org_id == PartnershipRow.partner_org_id)
            .where(PartnershipRow.client_org_id == client_org_id, PartnershipRow.status == ACTIVE)
        )
        with self.db.read() as s:
            row = s.execute(query).first()
        if row is None:
            return None
        return Reach(partnership_id=row[0], partner_org_id=row[1], client_org_id=client_org_id, full=bool(row[2]),
                     rights=_rights(row[3] or []), ends_at=row[4], auto_renew=bool(row[5]), role=row[6],
                     assigned=bool(row[7]))

    # -- assignments ----------------------------------------------------------------------------

    def assign(self, partnership_id: int, user_id: int, *, by: int, now: dt.datetime) -> bool:
        """False when the person is assigned already."""
        with self.db.transaction() as s:
            if s.get(PartnerAssignmentRow, (partnership_id, user_id)) is not None:
                return False
            s.add(PartnerAssignmentRow(partnership_id=partnership_id, user_id=user_id, assigned_by=by,
                                       assigned_at=now))
            return True

    def unassign(self, partnership_id: int, user_id: int) -> bool:
        with self.db.transaction() as s:
            result = s.execute(delete(PartnerAssignmentRow).where(
                PartnerAssignmentRow.partnership_id == partnership_id, PartnerAssignmentRow.user_id == user_id))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def count_live(self, partner_org_id: int) -> int:
        with self.db.transaction() as s:
            return int(s.scalar(select(func.count()).where(
                PartnershipRow.partner_org_id == partner_org_id, PartnershipRow.status == ACTIVE)) or 0)

    def roles_in(self, org_id: int, roles: Collection[Role]) -> list[int]:
        """The ids of the organisation's members with one of these roles."""
        with self.db.transaction() as s:
            return list(s.scalars(select(MembershipRow.user_id).where(
                MembershipRow.org_id == org_id, MembershipRow.role.in_([r.value for r in roles]))
                .order_by(MembershipRow.user_id)))
