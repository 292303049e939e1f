"""The relaunch link: `<transfer id>-<failure number>.<itsdangerous-signed [org id, expiry]>`.

HMAC-SHA256 under the domain-relaunch key (idp.crypto.Purpose.DOMAIN_RELAUNCH_LINK), salted with
the transfer and the failure number, so a link opens that failure of that transfer and nothing
else. It is not bound to an account: whoever opens it must be signed in with rights on the
organisation, which the service checks. Single use comes from the transfer's state (the failure
must be the last one and still unresolved), so nothing is stored per link (decision 0951)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadData
from itsdangerous import URLSafeSerializer

from idp.clock import Clock

MAX_TOKEN = 300
PREFIX = re.compile(r"^([0-9]{1,12})-([0-9]{1,6})$")


@dataclass(frozen=True)
class LinkClaim:
    transfer_id: int
    failure: int
    org_id: int
    expires: int  # Unix seconds


class RelaunchLinks:
    def __init__(self, key: bytes, clock: Clock, ttl: int) -> None:
        self.clock, self.ttl = clock, ttl
        self._signer = URLSafeSerializer(key, signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256})

    @staticmethod
    def _salt(transfer_id: int, failure: int) -> str:
        return f"idp domain relaunch\x00{transfer_id}\x00{failure}"

    def make(self, transfer_id: int, failure: int, org_id: int) -> str:
        expires = int(self.clock.now().timestamp()) + self.ttl
        signed = self._signer.dumps([org_id, expires], salt=self._salt(transfer_id, failure))
        return f"{transfer_id}-{failure}.{signed}"

    def read(self, token: str) -> LinkClaim | None:
        """What a link we signed says, expired or not; None for anything else (altered, forged,
        truncated, too long). The signature is checked before any of it is believed."""
        prefix, _, signed = token.partition(".")
        match = PREFIX.match(prefix)
        if len(token) > MAX_TOKEN or not signed or match is None:
            return None
        transfer_id, failure = int(match.group(1)), int(match.group(2))
        try:
            payload: Any = self._signer.loads(signed, salt=self._salt(transfer_id, failure))
        except BadData:
            return None
        if not (isinstance(payload, list) and len(payload) == 2 and all(type(v) is int for v in payload)):
            return None
        return LinkClaim(transfer_id, failure, payload[0], payload[1])

    def expired(self, claim: LinkClaim) -> bool:
        return claim.expires <= int(self.clock.now().timestamp())
