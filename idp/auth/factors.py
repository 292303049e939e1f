"""The hook through which second factors join the sign-in flow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
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
        """The factors the account has enrolled, the one it used last first.

        A factor may offer `last_used(user) -> datetime | None` to take part in the ordering,
        and `fallback = True` to be offered after the others (recovery codes); otherwise the
        registration order holds.
        """
        enrolled = [f for f in self._factors.values() if f.enrolled(user)]

        def key(item: tuple[int, Factor]) -> tuple[bool, float, int]:
            index, factor = item
            last_used = getattr(factor, "last_used", None)
            when = last_used(user) if callable(last_used) else None
            return (bool(getattr(factor, "fallback", False)), -when.timestamp() if when else 0.0, index)

        return [f for _, f in sorted(enumerate(enrolled), key=key)]


class Alternative(Protocol):
    """A way to sign in that starts from the sign-in page instead of the e-mail (SSO, passkey)."""

    label: str
    endpoint: str


@dataclass(frozen=True)
class SignInAlternative:
    """The plain Alternative a capability registers in `container.alternatives`."""

    label: Any
    endpoint: str


@dataclass(frozen=True)
class ReauthMethod:
    """Another way than the password to confirm it is you on /reauth (a second factor, the
    organisation's directory), offered when `available(user)` says the person has it."""

    label: Any
    endpoint: str
    available: Callable[[User], bool]
