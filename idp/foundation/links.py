"""E-mailed links: bound to one account (`AccountLinks`), or to a stored row (`RowLinks`).

Bound to an account: `<account id>.<itsdangerous-signed [state, expiry]>`.

The signature (HMAC-SHA256, checked in constant time before any of the payload is believed) is
salted with the link's purpose, the account id and its lower-cased e-mail, so a link made for
one purpose, account or address opens nothing else. `state` is what the link is bound to (the
lock's time, a fingerprint of the password): the service compares it with the account's
current state, which makes the link single-use without storing anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from typing import TypeVar

from itsdangerous import BadData
from itsdangerous import URLSafeSerializer

from idp.clock import Clock
from idp.model import User

MAX_TOKEN = 300
S = TypeVar("S", str, int)


class AccountLinks:
    def __init__(self, key: bytes, purpose: str, clock: Clock, ttl: int) -> None:
        self.purpose, self.clock, self.ttl = purpose, clock, ttl
        self._signer = URLSafeSerializer(
            key, signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
        )

    def _salt(self, user: User) -> str:
        return f"{self.purpose}\x00{user.id}\x00{user.email.strip().lower()}"

    def make(self, user: User, state: str | int) -> str:
        expires = int(self.clock.now().timestamp()) + self.ttl
        return f"{user.id}.{self._signer.dumps([state, expires], salt=self._salt(user))}"

    def read(self, token: str, account: Callable[[int], User | None], kind: type[S]) -> tuple[User, S, int] | None:
        """(account, state, expiry in s) of a link we signed; None for anything else."""
        user_id, _, signed = token.partition(".")
        if len(token) > MAX_TOKEN or not signed or not user_id.isdigit() or len(user_id) > 12:
            return None
        user = account(int(user_id))
        if user is None:
            return None
        try:
            payload: Any = self._signer.loads(signed, salt=self._salt(user))
        except BadData:
            return None
        if not (isinstance(payload, list) and len(payload) == 2 and type(payload[0]) is kind
                and type(payload[1]) is int):
            return None
        return user, payload[0], payload[1]


class RowLinks:
    """Links bound to a stored row (an invitation, a request) rather than to an account:
    `<row id>.<itsdangerous-signed nonce>`, the signature salted with the purpose and the row id.
    The row keeps only the nonce's SHA-256 digest (`digest`), so a database reader cannot make a
    link, and the row's state makes it single-use."""

    def __init__(self, key: bytes, purpose: str) -> None:
        self.purpose = purpose
        self._signer = URLSafeSerializer(
            key, signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
        )

    @staticmethod
    def digest(nonce: str) -> str:
        return hashlib.sha256(nonce.encode()).hexdigest()

    def _salt(self, row_id: int) -> str:
        return f"{self.purpose}\x00{row_id}"

    def make(self, row_id: int, nonce: str) -> str:
        return f"{row_id}.{self._signer.dumps(nonce, salt=self._salt(row_id))}"

    def read(self, token: str) -> tuple[int, str] | None:
        """(row id, nonce) of a link we signed; None for anything else. The caller compares the
        nonce's digest with the row's in constant time (hmac.compare_digest)."""
        number, _, signed = token.partition(".")
        if len(token) > MAX_TOKEN or not signed or not number.isascii() or not number.isdigit() or len(number) > 12:
            return None
        try:
            nonce: Any = self._signer.loads(signed, salt=self._salt(int(number)))
        except BadData:
            return None
        return (int(number), nonce) if isinstance(nonce, str) else None
