"""Offline check of new passwords against common and breached passwords (no network involved)."""

from __future__ import annotations

from functools import cached_property
from typing import Protocol

from idp.errors import N_
from idp.errors import ValidationError


class BreachedPasswordCheck(Protocol):
    def is_breached(self, password: str) -> bool:
        """True when the password is known to attackers (a common or leaked password)."""
        ...


class FrequencyListCheck:
    """zxcvbn's list of the 30,000 passwords found most often in public breaches, compared
    case-insensitively, also with trailing digits and punctuation removed ("Password123!"
    is "password" to an attacker's rule-based guessing)."""

    @cached_property
    def _known(self) -> frozenset[str]:
        from zxcvbn.frequency_lists import FREQUENCY_LISTS

        return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])

    def is_breached(self, password: str) -> bool:
        lowered = password.strip().lower()
        if lowered in self._known:
            return True
        stem = lowered.rstrip("0123456789!?.*#$@_- ")
        return len(stem) >= 4 and stem in self._known


class NullCheck:
    """Twin for installations that turn the check off."""

    def is_breached(self, password: str) -> bool:
        return False


def refuse_breached(check: BreachedPasswordCheck, password: str) -> None:
    """Raise ValidationError (field `new_password`) when the password is common or breached."""
    if check.is_breached(password):
        raise ValidationError(
            N_("This password is too common: it appears in lists of leaked passwords. Choose another."),
            field="new_password",
        )
