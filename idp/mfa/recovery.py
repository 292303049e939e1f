"""Recovery codes: one-time codes for when no other second factor is at hand."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from idp.errors import N_
from idp.errors import ValidationError

# Crockford-like alphabet without look-alikes (no 0/O, 1/I/L): 31 symbols, 12 of them = 59 bits.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 12
MAX_INPUT = 64


class RecoveryCodeError(ValidationError):
    """A recovery code was refused; the message is safe to show."""


class MalformedRecoveryCodeError(RecoveryCodeError):
    def __init__(self) -> None:
        super().__init__(N_("A recovery code has 12 letters and digits, like ABCD-EFGH-JKMN."), field="code")


class WrongRecoveryCodeError(RecoveryCodeError):
    """Unknown or already used: the two are not told apart."""

    def __init__(self) -> None:
        super().__init__(N_("This recovery code is not valid or was already used."), field="code")


def generate(count: int) -> list[str]:
    """`count` fresh codes, formatted XXXX-XXXX-XXXX."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        codes.append(f"{raw[0:4]}-{raw[4:8]}-{raw[8:12]}")
    return codes


def normalise(code: str | None) -> str:
    """Upper-case symbols without separators, or MalformedRecoveryCodeError."""
    if code is None or len(code) > MAX_INPUT:
        raise MalformedRecoveryCodeError()
    cleaned = code.upper().replace("-", "").replace(" ", "")
    if len(cleaned) != LENGTH or any(c not in ALPHABET for c in cleaned):
        raise MalformedRecoveryCodeError()
    return cleaned


def digest(code: str, key: bytes) -> str:
    """What is stored: HMAC-SHA256 under a server-side key, so a copy of the database alone
    does not allow guessing codes offline (they have 59 bits; a plain hash would not need the key)."""
    return hmac.new(key, normalise(code).encode(), hashlib.sha256).hexdigest()
