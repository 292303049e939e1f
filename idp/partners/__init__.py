"""Partners: organisations that manage client organisations under a partnership the client grants."""

from __future__ import annotations

from typing import TYPE_CHECKING

from idp.capability import Slot

if TYPE_CHECKING:
    from idp.partners.delegated import DelegatedSide
    from idp.partners.service import PartnerService

# The partners capability's services (declared in idp.partners.capability).
PARTNERS: Slot[PartnerService] = Slot("partners")
# What a partner person acting for a client uses: acting itself, and the client's pages.
DELEGATED: Slot[DelegatedSide] = Slot("partners acting for clients")
