"""Single sign-on: organisations' Entra ID tenants (msal) and generic OpenID Connect directories
(Authlib's client), linked identities, and the "Sign in with SSO" button."""

from __future__ import annotations

from typing import TYPE_CHECKING

from idp.capability import Slot

if TYPE_CHECKING:
    from idp.federation.service import FederationService

# Single sign-on (declared in idp.federation.capability).
FEDERATION: Slot[FederationService] = Slot("federation")
