"""The hook through which second factors join the sign-in flow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from typing import Protocol

from idp.model import RequestContext
from idp.model import User


class Factor(Protocol):
    """A way to prove identity after the password (TOTP, WebAuthn, recovery code, kAuth...).

    `endpoint` is the page that asks for it; that page calls SignInService.factor_passed()
    or .factor_failed() with the flow id. A factor with `fallback = True` is offered after the
    others (recovery codes).
    """

    @property
    def name(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def endpoint(self) -> str: ...


class SelfEnrolledFactor(Factor, Protocol):
    """A factor that says itself whether an account has it (and may offer
    `last_used(user) -> datetime | None` to take part in the ordering)."""

    def enrolled(self, user: User) -> bool: ...


@dataclass(frozen=True)
class Enrolled:
    """A factor an account has, and when it last passed a sign-in (None: never, or not kept)."""

    factor: Factor
    last_used: dt.datetime | None = None


class FactorSource(Protocol):
    """Answers for several factors of one capability at once (one query for all of them)."""

    def enrolled(self, user: User) -> list[Enrolled]: ...


class _One:
    def __init__(self, factor: SelfEnrolledFactor) -> None:
        self.factor = factor

    def enrolled(self, user: User) -> list[Enrolled]:
        if not self.factor.enrolled(user):
            return []
        last_used = getattr(self.factor, "last_used", None)
        return [Enrolled(self.factor, last_used(user) if callable(last_used) else None)]


@dataclass(frozen=True)
class FactorEnrolment:
    """Where a person enrols a second factor: the page, and the blueprints its steps use (which
    stay open to a member whose organisation requires a second factor they do not have yet)."""

    endpoint: str
    blueprints: tuple[str, ...]


class FactorRegistry:
    def __init__(self) -> None:
        self._factors: dict[str, Factor] = {}
        self._sources: list[FactorSource] = []

    def register(self, factor: SelfEnrolledFactor) -> None:
        """A factor that answers `enrolled(user)` itself."""
        self._factors[factor.name] = factor
        self._sources.append(_One(factor))

    def register_source(self, source: FactorSource, factors: list[Factor]) -> None:
        """Factors whose enrolment `source` tells for all of them at once."""
        for factor in factors:
            self._factors[factor.name] = factor
        self._sources.append(source)

    def get(self, name: str) -> Factor | None:
        return self._factors.get(name)

    def for_user(self, user: User) -> list[Factor]:
        """The factors the account has enrolled: the one it used last first, fallbacks (recovery
        codes) last, otherwise in registration order."""
        order = {name: index for index, name in enumerate(self._factors)}
        enrolled = [item for source in self._sources for item in source.enrolled(user)]

        def key(item: Enrolled) -> tuple[bool, float, int]:
            when = item.last_used
            return (bool(getattr(item.factor, "fallback", False)), -when.timestamp() if when else 0.0,
                    order.get(item.factor.name, len(order)))

        return [item.factor for item in sorted(enrolled, key=key)]

    def possession(self, user: User) -> list[Factor]:
        """The account's second factors that prove possession: all but the fallbacks (recovery
        codes, which stand in for them)."""
        return [factor for factor in self.for_user(user) if not getattr(factor, "fallback", False)]


class RecoveryCodes(Protocol):
    """Recovery codes, for a second factor of another capability that relies on them (kAuth: a
    first set with the first device, none left once the last factor goes). The capability that
    keeps them (idp.mfa) offers them as `idp.capability.RECOVERY_CODES`."""

    @property
    def endpoint(self) -> str:
        """The page that shows codes just generated, once."""
        ...

    def codes_left(self, user: User) -> int: ...
    def regenerate_codes(self, user: User, ctx: RequestContext) -> list[str]: ...
    def forget_codes_when_unprotected(self, user: User) -> None: ...
    def shown_codes(self, user: User) -> list[str] | None: ...


class Alternative(Protocol):
    """A way to sign in that starts from the sign-in page instead of the e-mail (SSO, passkey)."""

    @property
    def label(self) -> str: ...
    @property
    def endpoint(self) -> str: ...


@dataclass(frozen=True)
class SignInAlternative:
    """The plain Alternative a capability declares (`Capability.alternatives`)."""

    label: Any
    endpoint: str


@dataclass(frozen=True)
class ReauthMethod:
    """Another way than the password to confirm it is you on /reauth (a second factor, the
    organisation's directory), offered when `available(user)` says the person has it."""

    label: Any
    endpoint: str
    available: Callable[[User], bool]
