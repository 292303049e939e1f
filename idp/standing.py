"""May this account act? One table: for each way of acting, the standings of the account that
allow it (decision 0609). Every credential check asks `may`; none reads `status` or `locked_at`
itself.

A lock comes from failed password attempts, so it stops the password and nothing else: someone
guessing must not be able to sign the owner out, stop their mail client or their phone. A
disabled account can do nothing, from the next request on every host (each check reads the
account). A pending account (signed up, its address not yet proven by the e-mailed link) can do
nothing either, until the link activates it. A deleted account is one that is not there.
"""

from __future__ import annotations

import enum

from idp.model import User
from idp.model import UserStatus


class Standing(enum.StrEnum):
    ACTIVE = enum.auto()
    LOCKED = enum.auto()  # failed attempts reached its threshold, until an unlock
    DISABLED = enum.auto()  # an administrator turned it off
    PENDING = enum.auto()  # signed up, its address not yet proven by the e-mailed link
    DELETED = enum.auto()  # no such account (any more)


class Act(enum.StrEnum):
    PASSWORD = enum.auto()  # sign in with the password (and then its second factor), or confirm it is you with it
    PASSKEY = enum.auto()  # sign in with a passkey, without the password
    SSO = enum.auto()  # sign in through the organisation's directory (and then its second factor)
    BROWSER_SESSION = enum.auto()  # a signed-in browser's next request
    REFRESH_TOKEN = enum.auto()  # an application renews its tokens
    ACCESS_TOKEN = enum.auto()  # userinfo, introspection, the fast lane
    APP_PASSWORD = enum.auto()  # mail clients, forward auth
    API_TOKEN = enum.auto()  # scripts, the JSON API
    KAUTH_DEVICE = enum.auto()  # the phone app's signed requests, its enrolment
    PASSWORD_RESET = enum.auto()  # ask for and use an e-mailed link that sets a forgotten password


_NOT_DISABLED = frozenset({Standing.ACTIVE, Standing.LOCKED})

ALLOWED: dict[Act, frozenset[Standing]] = {
    Act.PASSWORD: frozenset({Standing.ACTIVE}),
    Act.PASSKEY: _NOT_DISABLED,
    Act.SSO: _NOT_DISABLED,
    Act.BROWSER_SESSION: _NOT_DISABLED,
    Act.REFRESH_TOKEN: _NOT_DISABLED,
    Act.ACCESS_TOKEN: _NOT_DISABLED,
    Act.APP_PASSWORD: _NOT_DISABLED,
    Act.API_TOKEN: _NOT_DISABLED,
    Act.KAUTH_DEVICE: _NOT_DISABLED,
    # A lock is lifted by a reset (OWASP: the forgotten-password path must work for a locked-out
    # owner); a disabled account gets no link, nor does a pending one (its own link proves the
    # address first; signing in with its password mails that link again, idp.account.signup).
    Act.PASSWORD_RESET: _NOT_DISABLED,
}


def standing(user: User | None) -> Standing:
    if user is None:
        return Standing.DELETED
    if user.status is UserStatus.PENDING:
        return Standing.PENDING
    if user.status is not UserStatus.ACTIVE:
        return Standing.DISABLED
    return Standing.LOCKED if user.locked_at is not None else Standing.ACTIVE


def may(user: User | None, act: Act) -> bool:
    """Whether `user` (None: no such account) may do `act` now."""
    return standing(user) in ALLOWED[act]


def first_factor_act(amr: list[str]) -> Act:
    """The act a sign-in flow began with, from its methods so far (for its second-factor step)."""
    if "fed" in amr:
        return Act.SSO
    return Act.PASSWORD if "pwd" in amr else Act.PASSKEY
