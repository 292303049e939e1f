"""Plain value types of the second factors, shared by the service and its stores."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field


@dataclass(frozen=True)
class TotpRecord:
    user_id: int
    secret_enc: str
    last_step: int
    created_at: dt.datetime
    last_used_at: dt.datetime | None


@dataclass(frozen=True)
class Credential:
    id: int
    user_id: int
    credential_id: str
    public_key: bytes
    sign_count: int
    kind: str
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    aaguid: str = ""
    backup_eligible: bool = False
    transports: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Enrolment:
    """What second factors of this capability an account has, read in one query."""

    totp: bool = False
    totp_last_used: dt.datetime | None = None
    keys: int = 0  # WebAuthn credentials (security keys and passkeys)
    keys_last_used: dt.datetime | None = None
    codes_left: int = 0
