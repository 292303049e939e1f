"""Password hashing (argon2id) with a constant-work path for unknown accounts, and the rules for new passwords."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError

from idp.errors import N_
from idp.errors import ValidationError

MAX_PASSWORD_LENGTH = 1024


@dataclass(frozen=True)
class Verification:
    ok: bool
    needs_rehash: bool = False


class Passwords:
    def __init__(self, *, time_cost: int, memory_cost: int, parallelism: int, min_length: int = 8) -> None:
        self.hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism
        )
        self.min_length = min_length
        # Verified in place of a real hash when there is no account, with the same
        # parameters, so an unknown e-mail costs the same time as a wrong password.
        self._dummy = self.hasher.hash("timing-equaliser-not-a-password")

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> Verification:
        """Always does one argon2 verification, whether or not there is a hash to check."""
        candidate = password[:MAX_PASSWORD_LENGTH]
        try:
            self.hasher.verify(password_hash or self._dummy, candidate)
        except (VerificationError, InvalidHashError):
            return Verification(ok=False)
        if password_hash is None or len(password) > MAX_PASSWORD_LENGTH:
            return Verification(ok=False)
        return Verification(ok=True, needs_rehash=self.hasher.check_needs_rehash(password_hash))

    def check_new(self, password: str, *, email: str = "") -> None:
        """Rules for a password being set (NIST 800-63B: length, not the e-mail; no composition rules)."""
        if len(password) < self.min_length:
            raise ValidationError(
                N_("The password needs at least %(count)s characters."), field="password",
                count=self.min_length,
            )
        if len(password) > MAX_PASSWORD_LENGTH:
            raise ValidationError(
                N_("The password can have at most %(count)s characters."), field="password",
                count=MAX_PASSWORD_LENGTH,
            )
        if email and password.strip().lower() == email.strip().lower():
            raise ValidationError(
                N_("The password must not be your e-mail address."), field="password"
            )
