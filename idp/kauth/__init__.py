"""kAuth: sign-in approval on an enrolled device, with number matching."""

from __future__ import annotations

from typing import TYPE_CHECKING

from idp.capability import Slot

if TYPE_CHECKING:
    from idp.auth.factors import RecoveryCodes
    from idp.kauth.service import KauthService
    from idp.model import RequestContext
    from idp.model import User

# The kAuth service (declared in idp.kauth.capability).
KAUTH: Slot[KauthService] = Slot("kauth")


def first_recovery_codes(codes: RecoveryCodes | None, user: User, ctx: RequestContext) -> None:
    """With the first kAuth device, a first set of recovery codes when the second-factor
    capability offers them and the account has none: a lost phone must not lock anyone out."""
    if codes is not None and codes.codes_left(user) == 0:
        codes.regenerate_codes(user, ctx)


def forget_recovery_codes(codes: RecoveryCodes | None, user: User) -> None:
    """With the last kAuth device gone and no other second factor, the recovery codes go too,
    as when the last factor of the second-factor capability is removed."""
    if codes is not None:
        codes.forget_codes_when_unprotected(user)


def fresh_recovery_codes(codes: RecoveryCodes | None, user: User) -> str | None:
    """The page that shows this person the recovery codes just generated for them, while they
    wait to be shown; None otherwise (or without the second-factor capability)."""
    return codes.endpoint if codes is not None and codes.shown_codes(user) is not None else None
