"""The shape of app passwords and API tokens: made with `secrets`, read back from what people paste,
recognised offline (prefix, alphabet, checksum) before any lookup."""

from __future__ import annotations

import hmac
import re
import secrets
import string
import zlib

TOKEN_PREFIX = "idp_pat_"  # noqa: S105 - the public, scannable prefix of every API token
BASE62 = string.digits + string.ascii_letters
TOKEN_BODY = 32  # base62 characters: about 190 bits
TOKEN_CHECKSUM = 6  # base62 CRC32 of the body, so scanners and we can reject typos offline
TOKEN_LENGTH = len(TOKEN_PREFIX) + TOKEN_BODY + TOKEN_CHECKSUM
APP_PASSWORD_CHARS = 24  # base32: 120 bits
APP_PASSWORD_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # noqa: S105 - base32 letters, not a secret


def _base62(number: int, width: int) -> str:
    out = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        out.append(BASE62[digit])
    return "".join(reversed(out))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), TOKEN_CHECKSUM)


def new_api_token() -> str:
    body = "".join(secrets.choice(BASE62) for _ in range(TOKEN_BODY))
    return TOKEN_PREFIX + body + _checksum(body)


def well_formed_token(token: str) -> bool:
    """Prefix, length, alphabet and checksum: rejects typos and junk without touching the database."""
    if len(token) != TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
        return False
    rest = token[len(TOKEN_PREFIX):]
    if any(c not in BASE62 for c in rest):
        return False
    body, check = rest[:TOKEN_BODY], rest[TOKEN_BODY:]
    return hmac.compare_digest(_checksum(body), check)


def new_app_password() -> str:
    raw = "".join(secrets.choice(APP_PASSWORD_ALPHABET) for _ in range(APP_PASSWORD_CHARS))
    return "-".join(raw[i:i + 4] for i in range(0, APP_PASSWORD_CHARS, 4))


_SEPARATORS = re.compile(r"[\s-]+")


def normalise_app_password(secret: str) -> str | None:
    """Accepts what people paste (any case, spaces or dashes); None when it cannot be one."""
    value = _SEPARATORS.sub("", secret[:200]).lower()
    if len(value) != APP_PASSWORD_CHARS or any(c not in APP_PASSWORD_ALPHABET for c in value):
        return None
    return value

