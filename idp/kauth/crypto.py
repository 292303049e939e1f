"""kAuth signatures: P-256 ECDSA over canonical strings (device requests, answers, server notices).

Framework-free. A device signs every API request with the key it enrolled; the canonical string
binds the method, the path, a timestamp, a nonce and the SHA-256 of the body, so a captured request
cannot be replayed elsewhere, later, or with another body. The server signs what it tells a device
(the "removed" notice) with a P-256 key derived from the instance secret, whose public half the
device receives at enrolment.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from idp.crypto import Purpose
from idp.crypto import derive

REQUEST_PREFIX = "KAUTH-REQUEST-V1"
ANSWER_PREFIX = "KAUTH-ANSWER-V1"
NOTICE_PREFIX = "KAUTH-NOTICE-V1"

# Order of the P-256 group.
_P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class BadKeyError(ValueError):
    """A public key that is not a valid P-256 SubjectPublicKeyInfo."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    """Decode base64url with or without padding; ValueError on anything else."""
    if not isinstance(text, str) or len(text) > 4096:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError("not base64url") from exc


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def request_string(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """What a device signs for one API request."""
    return "\n".join([REQUEST_PREFIX, method.upper(), path, timestamp, nonce, body_digest(body)]).encode()


def answer_string(challenge_id: str, decision: str, number: int | None) -> bytes:
    """What a device signs to answer a challenge: the challenge, the decision and the number picked."""
    return "\n".join([ANSWER_PREFIX, challenge_id, decision, "" if number is None else str(number)]).encode()


def notice_string(notice: dict[str, Any]) -> bytes:
    """Canonical JSON of a server notice (sorted keys, no spaces), without its signature."""
    fields = {k: v for k, v in notice.items() if k != "signature"}
    return NOTICE_PREFIX.encode() + b"\n" + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def load_public_key(encoded: str) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from base64url DER SubjectPublicKeyInfo; BadKeyError otherwise."""
    try:
        key = serialization.load_der_public_key(unb64url(encoded))
    except (ValueError, TypeError) as exc:
        raise BadKeyError("not a public key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise BadKeyError("not a P-256 key")
    return key


def encode_public_key(key: ec.EllipticCurvePublicKey) -> str:
    return b64url(key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def verify(public_key: str | ec.EllipticCurvePublicKey, signature: str, message: bytes) -> bool:
    """True when `signature` (base64url DER ECDSA-SHA256) is valid for `message`; never raises."""
    try:
        key = load_public_key(public_key) if isinstance(public_key, str) else public_key
        key.verify(unb64url(signature), message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def sign(private_key: ec.EllipticCurvePrivateKey, message: bytes) -> str:
    return b64url(private_key.sign(message, ec.ECDSA(hashes.SHA256())))


def generate_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def server_key(secret: str) -> ec.EllipticCurvePrivateKey:
    """The server's notice-signing key, derived from the instance secret (the same on every
    worker and machine, nothing to store; rotating the secret rotates it)."""
    material = derive(secret, Purpose.KAUTH_NOTICE, length=48)
    value = int.from_bytes(material, "big") % (_P256_N - 1) + 1
    return ec.derive_private_key(value, ec.SECP256R1())


def sign_notice(private_key: ec.EllipticCurvePrivateKey, notice: dict[str, Any]) -> dict[str, Any]:
    return {**notice, "signature": sign(private_key, notice_string(notice))}


def verify_notice(public_key: str, notice: dict[str, Any]) -> bool:
    signature = notice.get("signature")
    return isinstance(signature, str) and verify(public_key, signature, notice_string(notice))
