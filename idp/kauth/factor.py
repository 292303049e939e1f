"""kAuth as a second factor of the sign-in flow."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

from idp.auth.factors import FactorRegistry
from idp.errors import N_
from idp.kauth.service import KauthService
from idp.model import User

# Set while the factor asks the other factors whether they are enrolled (see KauthFactor).
_asking_others: contextvars.ContextVar[bool] = contextvars.ContextVar("kauth_asking_others", default=False)


@dataclass
class KauthFactor:
    """kAuth as a second factor of the sign-in flow.

    Offered when the account has an active device, and while the account is under its hourly
    cap of approval requests. Past the cap it is still offered when it is the account's only
    second factor, so the cap never lets a sign-in skip the second factor; its page then says
    to wait.
    """

    service: KauthService
    registry: FactorRegistry
    name: str = "kauth"
    label: str = N_("Approve on your phone (kAuth)")
    endpoint: str = "kauth.signin"

    def enrolled(self, user: User) -> bool:
        if _asking_others.get() or not self.service.has_devices(user):
            return False
        if self.service.under_cap(user):
            return True
        token = _asking_others.set(True)
        try:
            others = [f for f in self.registry.for_user(user) if f.name != self.name]
        finally:
            _asking_others.reset(token)
        return not others
