"""Browser helpers for WebAuthn: a Chromium virtual authenticator over the DevTools protocol, and a
page on http://localhost (a secure context and a valid relying-party id, unlike 127.0.0.1)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def localhost_url(live_server: Any) -> str:
    return f"http://localhost:{urlsplit(live_server.url).port}"


def point_relying_party_at(services: Any, origin: str) -> None:
    """The app was built before the server had a port: aim the relying party at it now."""
    rp = services.ext["mfa"].rp
    rp.rp_id, rp.origin = "localhost", origin


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
