"""The registrar's webhook signature: HMAC-SHA256 over "<timestamp>.<body>" with the shared
secret, sent as `X-Registrar-Signature: sha256=<hex>` with `X-Registrar-Timestamp: <unix s>`.
Pure: the view reads the headers and the clock, the store remembers what was seen."""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Registrar-Timestamp"
SIGNATURE_HEADER = "X-Registrar-Signature"
MAX_BODY = 16 * 1024


class SignatureError(ValueError):
    """The request is not the registrar's, or not a fresh one; the message says which check failed."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def verify(secret: str, timestamp: str | None, sent: str | None, body: bytes, *, now: float,
           tolerance: int) -> str:
    """The replay key of a genuine, fresh request (a digest of its timestamp and body), or
    SignatureError. The timestamp is checked first (it is what the MAC covers), the signature
    in constant time; a request older or newer than `tolerance` seconds is refused even when
    well signed, so a replay store needs to remember keys only that long."""
    if not timestamp or not sent:
        raise SignatureError("missing signature headers")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureError("malformed timestamp")
    if abs(now - int(timestamp)) > tolerance:
        raise SignatureError("timestamp outside the accepted window")
    expected = signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), sent.strip().encode("utf-8", "replace")):
        raise SignatureError("bad signature")
    return hashlib.sha256(timestamp.encode() + b"." + body).hexdigest()
