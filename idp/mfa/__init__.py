"""Second factors: TOTP, WebAuthn security keys and passkeys, recovery codes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from idp.capability import Slot

if TYPE_CHECKING:
    from idp.mfa.service import MfaService

# The second-factor service (declared in idp.mfa.capability).
MFA: Slot[MfaService] = Slot("mfa")
