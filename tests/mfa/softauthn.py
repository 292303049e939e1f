"""A software WebAuthn authenticator (ES256, "none" attestation) that answers py_webauthn's
options exactly as a browser's `credential.toJSON()` would, for server-side tests."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import bytes_to_base64url

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


class SoftAuthenticator:
    def __init__(self, origin: str, *, user_verification: bool = True, backup: bool = False, counter: bool = True):
        self.origin = origin
        self.uv, self.backup, self.counter = user_verification, backup, counter
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.rp_id = ""
        self.user_handle: str | None = None
        self.count = 0

    @property
    def id(self) -> str:
        return bytes_to_base64url(self.credential_id)

    def _flags(self, extra: int = 0) -> int:
        flags = UP | extra
        if self.uv:
            flags |= UV
        if self.backup:
            flags |= BE | BS
        return flags

    def create(self, options: str | dict[str, Any], *, origin: str | None = None) -> str:
        opts = json.loads(options) if isinstance(options, str) else options
        self.rp_id = opts["rp"]["id"]
        self.user_handle = opts["user"]["id"]
        numbers = self.key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        auth_data = (
            _sha256(self.rp_id.encode()) + bytes([self._flags(AT)]) + struct.pack(">I", self.count) + b"\0" * 16
            + struct.pack(">H", len(self.credential_id)) + self.credential_id + cose
        )
        client_data = json.dumps(
            {"type": "webauthn.create", "challenge": opts["challenge"], "origin": origin or self.origin}
        ).encode()
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps({
            "id": self.id, "rawId": self.id, "type": "public-key", "authenticatorAttachment": "cross-platform",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "attestationObject": bytes_to_base64url(attestation),
                "transports": ["usb"],
            },
            "clientExtensionResults": {},
        })

    def get(self, options: str | dict[str, Any], *, origin: str | None = None, count: int | None = None,
            credential_id: bytes | None = None) -> str:
        opts = json.loads(options) if isinstance(options, str) else options
        if count is None:
            if self.counter:
                self.count += 1
            count = self.count if self.counter else 0
        auth_data = _sha256(self.rp_id.encode()) + bytes([self._flags()]) + struct.pack(">I", count)
        client_data = json.dumps(
            {"type": "webauthn.get", "challenge": opts["challenge"], "origin": origin or self.origin}
        ).encode()
        signature = self.key.sign(auth_data + _sha256(client_data), ec.ECDSA(hashes.SHA256()))
        cid = bytes_to_base64url(credential_id) if credential_id else self.id
        return json.dumps({
            "id": cid, "rawId": cid, "type": "public-key",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "authenticatorData": bytes_to_base64url(auth_data),
                "signature": bytes_to_base64url(signature),
                "userHandle": self.user_handle,
            },
            "clientExtensionResults": {},
        })
