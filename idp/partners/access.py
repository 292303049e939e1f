"""Reading the access a partner asks for, or a client grants, from what a form sent: every value
checked exactly, a clear error naming the field for anything else."""

from __future__ import annotations

from collections.abc import Iterable

from idp.capability import PartnerRight
from idp.errors import N_
from idp.errors import ValidationError
from idp.partners.model import MAX_DAYS
from idp.partners.model import MIN_DAYS
from idp.partners.model import Access

FULL, LIMITED = "full", "limited"
CLIENT_PAYS, PARTNER_PAYS = "client", "partner"
DAYS_MESSAGE = N_("The duration is a whole number of days, from 1 to 730 (two years).")


def parse_rights(values: Iterable[str]) -> frozenset[PartnerRight]:
    rights = set()
    for value in values:
        try:
            rights.add(PartnerRight(value.strip()))
        except ValueError as exc:
            raise ValidationError(N_("Choose rights from the list."), field="rights") from exc
    return frozenset(rights)


def parse_days(value: str | int | None) -> int:
    text = str(value if value is not None else "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 4:
        raise ValidationError(DAYS_MESSAGE, field="days")
    days = int(text)
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise ValidationError(DAYS_MESSAGE, field="days")
    return days


def parse_access(
    *, access: str | None, rights: Iterable[str], payer: str | None, days: str | int | None, auto_renew: bool,
) -> Access:
    """The access asked or granted. Full access holds every right; limited access at least one."""
    kind = (access or "").strip()
    if kind not in (FULL, LIMITED):
        raise ValidationError(N_("Choose full or limited access."), field="access")
    chosen = parse_rights(list(rights))
    if kind == LIMITED and not chosen:
        raise ValidationError(N_("Limited access needs at least one right: choose them."), field="rights")
    who = (payer or "").strip()
    if who not in (CLIENT_PAYS, PARTNER_PAYS):
        raise ValidationError(N_("Choose whose payment means the partnership uses."), field="payer")
    return Access(full=kind == FULL, rights=frozenset(PartnerRight) if kind == FULL else chosen,
                  payer_is_partner=who == PARTNER_PAYS, days=parse_days(days), auto_renew=bool(auto_renew))
