"""Keys derived from the instance secret (HKDF, one per purpose), keyed hashes, and secrets at rest (Fernet)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from enum import StrEnum

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken
from cryptography.fernet import MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from idp.errors import IdpError

# HKDF's salt (RFC 5869 §3.1: optional, not secret) for every purpose but kAuth's, whose key
# was derived with its own salt before the others joined this function.
SALT = b"idp key derivation"


class Purpose(StrEnum):
    """Every use of the instance secret as a key, each with its own HKDF `info` label (decision
    0610). A label is never reused for another use, and never changed: changing one changes the
    key, and what was stored under it (encrypted seeds, keyed hashes, device-held public keys)
    stops opening. A purpose that needs a new key gets a new label and reads the old one as legacy."""

    AT_REST = "idp at-rest encryption key v2"  # SecretBox, when no encryption_keys are set
    CREDENTIALS = "idp credential hash key v2"  # HMAC of app passwords and API tokens
    RECOVERY_CODES = "idp recovery code hash key v2"  # HMAC of recovery codes
    UNLOCK_LINK = "idp unlock link key v2"  # itsdangerous signer of the e-mailed unlock link
    PASSWORD_RESET_LINK = "idp password reset link key v1"  # noqa: S105 - signer of the e-mailed reset link
    KAUTH_NOTICE = "server notice key v1"  # the P-256 key signing what kAuth devices are told
    DEMO_RP = "idp demo relying party key v1"  # itsdangerous signer of the demo client's state cookie
    PHONE_CODES = "idp phone confirmation code key v1"  # HMAC of the codes texted to confirm a number
    EMAIL_CHANGE = "idp e-mail change link key v1"  # itsdangerous signer of the new address's link
    SIGNIN_DEVICE = "idp sign-in device cookie key v1"  # HMAC of the device cookie of known sign-in places
    NOTIFY_ADDRESS_LINK = "idp notification address link key v1"  # signer of the second address's link
    SIGNUP_LINK = "idp sign-up verification link key v1"  # itsdangerous signer of the sign-up's link
    ORG_INVITATION = "idp organisation invitation link key v1"  # signer of the invitation's link
    DOMAIN_RELAUNCH_LINK = "idp domain transfer relaunch link key v1"  # signer of the relaunch link
    PARTNER_REQUEST = "idp partner request link key v1"  # signer of a partner's request to a client


_SALTS = {Purpose.KAUTH_NOTICE: b"idp-kauth"}


def derive(secret: str, purpose: Purpose, length: int = 32) -> bytes:
    """`length` bytes of key for `purpose`: HKDF-SHA256(secret, salt, info=purpose label).

    The same secret gives the same key on every host (nothing to store), and keys of two
    purposes are independent: knowing one says nothing about another or about the secret."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALTS.get(purpose, SALT), info=purpose.value.encode())
    return hkdf.derive(secret.encode())


def legacy_key(secret: str, purpose: Purpose) -> bytes | None:
    """The key `purpose` had before decision 0610, kept only to read what was stored under it;
    None when there is nothing stored to read (the unlock link expires; kAuth's is unchanged)."""
    if purpose is Purpose.AT_REST:
        return hashlib.sha256(f"idp-at-rest-v1\x00{secret}".encode()).digest()
    if purpose is Purpose.CREDENTIALS:
        return hmac.new(secret.encode(), b"idp-credentials-v1", hashlib.sha256).digest()
    if purpose is Purpose.RECOVERY_CODES:
        return hashlib.sha256(f"idp-mfa-recovery-v1\x00{secret}".encode()).digest()
    return None


def keys_for(secret: str, purpose: Purpose) -> list[bytes]:
    """The current key first, then the legacy one if the purpose has one."""
    legacy = legacy_key(secret, purpose)
    return [derive(secret, purpose), *([legacy] if legacy is not None else [])]


def fernet_key(raw: bytes) -> bytes:
    """A 32-byte key in the form Fernet takes (URL-safe Base64)."""
    return base64.urlsafe_b64encode(raw)


class KeyedHash:
    """HMAC-SHA256 of a server-made secret (hex), under the current key, with the earlier keys a
    stored value may still be under. A lookup tries `candidates()`; a value found under an older
    key is written again under `digest()` when the row can be rewritten (decision 0610)."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._keys = list(keys)

    def digest(self, message: str) -> str:
        return hmac.new(self._keys[0], message.encode(), hashlib.sha256).hexdigest()

    def candidates(self, message: str) -> list[str]:
        """The current digest first, then one per older key."""
        return [hmac.new(k, message.encode(), hashlib.sha256).hexdigest() for k in self._keys]


class DecryptionError(IdpError):
    """A stored secret cannot be decrypted with any configured key."""

    status = 500
    code = "server_error"


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
