"""Browser helpers for WebAuthn: a Chromium virtual authenticator over the DevTools protocol, and
the relying party a page on `localhost` needs."""

from __future__ import annotations

from typing import Any


def relying_party_settings(site: Any) -> dict[str, Any]:
    """Over https the app's public URL is https://localhost:<port>: the relying party comes from
    it. Over plain http the app is at 127.0.0.1, not a valid relying-party id: the relying party
    is configured as http://localhost:<port> (a secure context too), where the browser goes."""
    return {} if site.https else {"mfa": {"rp_id": "localhost", "origin": site.localhost_url}}


class VirtualAuthenticator:
    """A CTAP2 authenticator inside Chromium that answers without any prompt: a USB security
    key, or (transport "internal") the platform authenticator of a phone or laptop, which keeps
    discoverable credentials and verifies the user."""

    def __init__(self, context: Any, page: Any, *, transport: str = "usb") -> None:
        self.cdp = context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable", {"enableUI": False})
        self.id = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "ctap2Version": "ctap2_1", "transport": transport,
            "hasResidentKey": True, "hasUserVerification": True, "isUserVerified": True,
            "automaticPresenceSimulation": True,
        }})["authenticatorId"]

    def unplug(self) -> None:
        self.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.id})

    def credentials(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})["credentials"]
        return result

    def set_user_verified(self, verified: bool) -> None:
        self.cdp.send("WebAuthn.setUserVerified", {"authenticatorId": self.id, "isUserVerified": verified})
