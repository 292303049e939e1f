"""WebAuthn around py_webauthn: options to send to the browser, and verification of its answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from webauthn import generate_authentication_options
from webauthn import generate_registration_options
from webauthn import options_to_json
from webauthn import verify_authentication_response
from webauthn import verify_registration_response
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import AuthenticatorSelectionCriteria
from webauthn.helpers.structs import AuthenticatorTransport
from webauthn.helpers.structs import PublicKeyCredentialDescriptor
from webauthn.helpers.structs import ResidentKeyRequirement
from webauthn.helpers.structs import UserVerificationRequirement

from idp.errors import N_
from idp.errors import ValidationError

MAX_RESPONSE = 64 * 1024
TRANSPORTS = {t.value for t in AuthenticatorTransport}


class WebAuthnError(ValidationError):
    """The browser's answer was refused (wrong origin, challenge, signature, counter...)."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(
            N_("Your security key or passkey could not be verified. Please try again."), field="credential"
        )
        self.reason = reason


@dataclass(frozen=True)
class Registered:
    credential_id: str
    public_key: bytes
    sign_count: int
    aaguid: str
    backup_eligible: bool
    user_verified: bool
    transports: list[str]


@dataclass(frozen=True)
class Asserted:
    new_sign_count: int
    user_verified: bool


def derive(base_url: str, rp_id: str, origin: str) -> tuple[str, str]:
    """The RP id and origin from settings, defaulting to the host and origin of base_url."""
    parts = urlsplit(base_url)
    return rp_id or (parts.hostname or "localhost"), (origin or f"{parts.scheme}://{parts.netloc}").rstrip("/")


def browser_can_use(rp_id: str, origin: str) -> bool:
    """Whether a browser can run WebAuthn ceremonies for this relying party at all: the RP id must
    be a domain (browsers refuse an IP address) and the origin a secure context (https, or plain
    http on localhost)."""
    import ipaddress

    try:
        ipaddress.ip_address(rp_id.strip("[]"))
    except ValueError:
        pass
    else:
        return False
    parts = urlsplit(origin)
    host = parts.hostname or ""
    return parts.scheme == "https" or (parts.scheme == "http" and (host == "localhost" or host.endswith(".localhost")))


def parse_response(raw: str | None) -> dict[str, Any]:
    """The JSON a browser's `credential.toJSON()` produced, checked for shape and size."""
    if not raw or len(raw) > MAX_RESPONSE:
        raise WebAuthnError("missing or too large")
    try:
        data = json.loads(raw)
    except ValueError:
        raise WebAuthnError("not JSON") from None
    if not isinstance(data, dict):
        raise WebAuthnError("not a credential")
    if not isinstance(data.get("rawId"), str) or not isinstance(data.get("response"), dict):
        raise WebAuthnError("not a credential")
    try:
        base64url_to_bytes(data["rawId"])
    except ValueError:
        raise WebAuthnError("bad id") from None
    return data


class RelyingParty:
    """One relying party (rp_id, origin). Challenges are returned to the caller, which keeps them
    server-side, single use and expiring; nothing here remembers anything."""

    def __init__(self, *, rp_id: str, rp_name: str, origin: str, timeout_ms: int = 120_000) -> None:
        self.rp_id, self.rp_name, self.origin, self.timeout_ms = rp_id, rp_name, origin, timeout_ms

    def registration_options(
        self, *, user_handle: str, user_name: str, display_name: str, exclude: list[str], passkey: bool
    ) -> tuple[str, str]:
        """(options JSON for the browser, challenge). A passkey must be discoverable and verify the
        user; a security key only needs to be present (it comes after the password)."""
        options = generate_registration_options(
            rp_id=self.rp_id, rp_name=self.rp_name, user_name=user_name, user_display_name=display_name,
            user_id=base64url_to_bytes(user_handle), timeout=self.timeout_ms,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED if passkey else ResidentKeyRequirement.DISCOURAGED,
                user_verification=(
                    UserVerificationRequirement.REQUIRED if passkey else UserVerificationRequirement.DISCOURAGED
                ),
            ),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in exclude],
        )
        return options_to_json(options), bytes_to_base64url(options.challenge)

    def verify_registration(self, response: dict[str, Any], *, challenge: str, passkey: bool) -> Registered:
        try:
            verified = verify_registration_response(
                credential=response, expected_challenge=base64url_to_bytes(challenge), expected_rp_id=self.rp_id,
                expected_origin=self.origin, require_user_verification=passkey,
            )
        except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
            raise WebAuthnError(str(exc)) from None
        raw_transports = response["response"].get("transports") or []
        transports = [t for t in raw_transports if isinstance(t, str) and t in TRANSPORTS][:8]
        return Registered(
            credential_id=bytes_to_base64url(verified.credential_id),
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            aaguid=str(verified.aaguid),
            backup_eligible=verified.credential_device_type == "multi_device",
            user_verified=verified.user_verified,
            transports=transports,
        )

    def authentication_options(self, *, allow: list[tuple[str, list[str]]] | None, passkey: bool) -> tuple[str, str]:
        """(options JSON, challenge). `allow` None: any discoverable credential (passkey sign-in)."""
        descriptors = [
            PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(cid), transports=[AuthenticatorTransport(t) for t in ts if t in TRANSPORTS]
            )
            for cid, ts in (allow or [])
        ]
        options = generate_authentication_options(
            rp_id=self.rp_id, timeout=self.timeout_ms, allow_credentials=descriptors,
            user_verification=(
                UserVerificationRequirement.REQUIRED if passkey else UserVerificationRequirement.DISCOURAGED
            ),
        )
        return options_to_json(options), bytes_to_base64url(options.challenge)

    def verify_authentication(
        self, response: dict[str, Any], *, challenge: str, public_key: bytes, sign_count: int, passkey: bool
    ) -> Asserted:
        """Checks origin, RP id, challenge, signature, user presence (and verification for a
        passkey) and that the sign counter went forward when the authenticator keeps one."""
        try:
            verified = verify_authentication_response(
                credential=response, expected_challenge=base64url_to_bytes(challenge), expected_rp_id=self.rp_id,
                expected_origin=self.origin, credential_public_key=public_key,
                credential_current_sign_count=sign_count, require_user_verification=passkey,
            )
        except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
            raise WebAuthnError(str(exc)) from None
        return Asserted(new_sign_count=verified.new_sign_count, user_verified=verified.user_verified)


def user_handle_of(response: dict[str, Any]) -> str | None:
    handle = response["response"].get("userHandle")
    return handle if isinstance(handle, str) and handle else None
