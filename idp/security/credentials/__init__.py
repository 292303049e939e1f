"""App passwords, personal API tokens, forward authentication for reverse proxies, the JSON account API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from idp.capability import Slot

if TYPE_CHECKING:
    from idp.security.credentials.service import CredentialService

# App passwords and API tokens (declared in idp.security.credentials.capability).
CREDENTIALS: Slot[CredentialService] = Slot("credentials")
