"""The hook through which second factors join the sign-in flow."""

from __future__ import annotations

from typing import Protocol

from idp.model import User


class Factor(Protocol):
    """A way to prove identity after the password (TOTP, WebAuthn, recovery code, kAuth...).

    `endpoint` is the page that asks for it; that page calls SignInService.factor_passed()
    or .factor_failed() with the flow id.
    """

    name: str
    label: str
    endpoint: str

    def enrolled(self, user: User) -> bool: ...


class FactorRegistry:
    def __init__(self) -> None:
        self._factors: dict[str, Factor] = {}

    def register(self, factor: Factor) -> None:
        self._factors[factor.name] = factor

    def get(self, name: str) -> Factor | None:
        return self._factors.get(name)

    def for_user(self, user: User) -> list[Factor]:
        return [f for f in self._factors.values() if f.enrolled(user)]


class Alternative(Protocol):
    """A way to sign in that starts from the sign-in page instead of the e-mail (SSO, passkey)."""

    label: str
    endpoint: str
