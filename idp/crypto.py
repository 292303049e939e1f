"""Secrets at rest (TOTP seeds, upstream client secrets, private keys) encrypted with Fernet keys from settings."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken
from cryptography.fernet import MultiFernet

from idp.errors import IdpError


class DecryptionError(IdpError):
    """A stored secret cannot be decrypted with any configured key."""

    status = 500
    code = "server_error"


def derive_key(secret: str, purpose: str = "idp-at-rest-v1") -> bytes:
    """A Fernet key derived from the instance secret, for instances that set no explicit keys."""
    digest = hashlib.sha256(f"{purpose}\x00{secret}".encode()).digest()
    return base64.urlsafe_b64encode(digest)


class SecretBox:
    """Encrypts with the first key; decrypts with any, so keys can be rotated: put the new key
    first, keep the old ones until `idp` re-encrypts (or the secrets are replaced)."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def encrypt(self, plaintext: str | bytes) -> str:
        data = plaintext.encode() if isinstance(plaintext, str) else plaintext
        return self._fernet.encrypt(data).decode()

    def decrypt(self, token: str) -> bytes:
        try:
            return self._fernet.decrypt(token.encode())
        except InvalidToken:
            raise DecryptionError("a stored secret cannot be decrypted with the configured keys") from None

    def decrypt_str(self, token: str) -> str:
        return self.decrypt(token).decode()

    def rotate(self, token: str) -> str:
        return self._fernet.rotate(token.encode()).decode()
