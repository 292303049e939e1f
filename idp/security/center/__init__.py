"""The security center: sessions, sign-in notifications, lockout and unlock, activity log, the
compromised-password wizard, and organisation admins' security pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from idp.capability import Slot

if TYPE_CHECKING:
    from idp.foundation.breached import BreachedPasswordCheck
    from idp.security.activity import ActivityService
    from idp.security.center.service import SecurityCenterService
    from idp.security.notifications import NotificationService
    from idp.security.notify_address import NotificationAddressService
    from idp.security.unlock import UnlockService
    from idp.security.wizard import WizardService


@dataclass(frozen=True)
class SecurityServices:
    """The security center's services (built in idp.security.center.capability)."""

    activity: ActivityService
    notifications: NotificationService
    unlock: UnlockService
    center: SecurityCenterService
    wizard: WizardService
    breached: BreachedPasswordCheck
    notify_address: NotificationAddressService


SECURITY: Slot[SecurityServices] = Slot("security center")
