"""Plain value types of kAuth, shared by its service and its stores."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field
from typing import Any


@dataclass(frozen=True)
class Device:
    """An enrolled device. `public_key` is the base64url DER SubjectPublicKeyInfo of its P-256
    key, None once the device is removed."""

    id: str
    user_id: int
    name: str
    platform: str
    public_key: str | None
    created_at: dt.datetime
    last_seen_at: dt.datetime | None = None
    removed_at: dt.datetime | None = None
    removed_by: str | None = None

    @property
    def active(self) -> bool:
        return self.removed_at is None and self.public_key is not None


@dataclass(frozen=True)
class Challenge:
    """One sign-in approval request. `status`: pending, approved, denied, wrong_number, reported."""

    id: str
    user_id: int
    flow: str
    number: int
    options: list[int]
    created_ms: int
    expires_ms: int
    status: str = "pending"
    device_id: str | None = None
    answered_ms: int | None = None
    context: dict[str, Any] = field(default_factory=dict)

    def expired(self, now_ms: int) -> bool:
        return self.status == "pending" and now_ms >= self.expires_ms


def epoch_ms(when: dt.datetime) -> int:
    """A moment as the milliseconds since the epoch that challenges and enrolments keep."""
    return int(when.timestamp() * 1000)
