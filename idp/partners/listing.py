"""The partner's client list: its rows (partnerships and pending requests), search, sort, and the
CSV export (RFC 4180, UTF-8, every cell safe to open in a spreadsheet). Pure: no I/O."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from idp.capability import PartnerRight
from idp.errors import N_
from idp.errors import ValidationError
from idp.partners.model import PartnerRequest
from idp.partners.model import Partnership

MAX_QUERY = 200
SORTS = ("name", "since", "expiry")
ORDERS = ("asc", "desc")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A spreadsheet runs a cell that starts with one of these as a formula (or as the start of one).
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ClientQuery:
    q: str = ""
    sort: str = "name"
    order: str = "asc"


def parse_query(q: str | None, sort: str | None, order: str | None) -> ClientQuery:
    """The list's search and sort as given, or ValidationError naming the parameter."""
    text = (q or "").strip()
    if len(text) > MAX_QUERY:
        raise ValidationError(N_("The search text can have at most %(count)s characters."), field="q", count=MAX_QUERY)
    if _CONTROL.search(text):
        raise ValidationError(N_("The search text cannot contain control characters."), field="q")
    sort = (sort or "name").strip()
    if sort not in SORTS:
        raise ValidationError(N_("Sort by name, since or expiry."), field="sort")
    order = (order or "asc").strip()
    if order not in ORDERS:
        raise ValidationError(N_("Sort in ascending or descending order."), field="order")
    return ClientQuery(text, sort, order)


@dataclass(frozen=True)
class ClientRow:
    """One line of the list: a partnership (live or past), or a request still pending."""

    name: str  # the client organisation's name; a pending request's: the address it went to
    email: str
    status: str  # active, ended, expired, pending
    full: bool
    rights: frozenset[PartnerRight]
    payer_is_partner: bool
    since: dt.datetime  # granted, or requested
    expiry: dt.datetime  # the partnership's end as things stand, or the request's expiry
    auto_renew: bool
    partnership: Partnership | None = None
    request: PartnerRequest | None = None

    @property
    def slug(self) -> str:
        return self.partnership.client_slug if self.partnership else ""


def rows_of(partnerships: Iterable[Partnership], requests: Iterable[PartnerRequest],
            now: dt.datetime) -> list[ClientRow]:
    rows = [
        ClientRow(name=p.client_name, email=p.contact_email, status=p.status_at(now).value, full=p.full,
                  rights=p.granted_rights, payer_is_partner=p.payer_is_partner, since=p.starts_at,
                  expiry=p.ended_at if p.ended_at and not p.live_at(now) else p.current_end(now),
                  auto_renew=p.auto_renew, partnership=p)
        for p in partnerships
    ]
    rows += [
        ClientRow(name=r.email, email=r.email, status="pending", full=r.access.full, rights=r.access.granted_rights,
                  payer_is_partner=r.access.payer_is_partner, since=r.created_at, expiry=r.expires_at,
                  auto_renew=r.access.auto_renew, request=r)
        for r in requests
    ]
    return rows


def select_rows(rows: Iterable[ClientRow], query: ClientQuery) -> list[ClientRow]:
    """The rows whose name or e-mail holds the search text (any case), in the order asked."""
    needle = query.q.casefold()
    found = [r for r in rows if not needle or needle in r.name.casefold() or needle in r.email.casefold()]

    def key(row: ClientRow) -> tuple[object, ...]:
        name = row.name.casefold()
        if query.sort == "since":
            return (row.since, name)
        if query.sort == "expiry":
            return (row.expiry, name)
        return (name, row.since)

    return sorted(found, key=key, reverse=query.order == "desc")


def safe_cell(value: object) -> str:
    """The text of a cell, quoted with a leading ' when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


HEADER = ("client", "short_name", "email", "status", "access", "rights", "payment_means", "since_utc",
          "expiry_utc", "renews")


def to_csv(rows: Iterable[ClientRow]) -> bytes:
    """The rows as RFC 4180 CSV in UTF-8: CRLF line ends, every field quoted, every cell that
    begins with = + - @ TAB or CR prefixed with a single quote (formula injection)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(HEADER)
    for r in rows:
        writer.writerow([safe_cell(v) for v in (
            r.name, r.slug, r.email, r.status, "full" if r.full else "limited",
            " ".join(sorted(x.value for x in r.rights)), "partner" if r.payer_is_partner else "client",
            _moment(r.since), _moment(r.expiry), "yes" if r.auto_renew else "no",
        )])
    return out.getvalue().encode("utf-8")


def _moment(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")
