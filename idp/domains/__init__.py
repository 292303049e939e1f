"""Domain transfers an organisation asks for, and relaunching one that failed without a new fee."""

from __future__ import annotations

from typing import TYPE_CHECKING

from idp.capability import Slot

if TYPE_CHECKING:
    from idp.domains.service import DomainService

# The domain-transfer service (declared in idp.domains.capability).
DOMAINS: Slot[DomainService] = Slot("domains")
