"""What a step of the authorization request answers: go on, sign in, consent, or an OAuth error."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Proceed:
    """Nothing in this step stops the request: the next step decides (after the last, the code
    is issued)."""


PROCEED = Proceed()


class SignInReason(StrEnum):
    NO_SESSION = "no_session"  # nobody is signed in in this browser
    PROMPT_LOGIN = "prompt_login"  # prompt=login, and the session is older than the request
    MAX_AGE = "max_age"  # the session is older than max_age allows


@dataclass(frozen=True)
class SignIn:
    """The person must sign in (or, already signed in, prove it again) before a code is issued."""

    reason: SignInReason


class ConsentReason(StrEnum):
    NOT_GIVEN = "not_given"  # the person has not allowed every scope asked for
    PROMPT_CONSENT = "prompt_consent"  # the client asks for the question again


@dataclass(frozen=True)
class AskConsent:
    """The person must be asked whether the client may have the scopes it asks for."""

    reason: ConsentReason


@dataclass(frozen=True)
class Refuse:
    """An OAuth error for the client (`error`, `error_description`). Every step runs once the
    client and its redirect_uri are known good, so a refusal always goes back to the client with
    the request's state; an unknown client or an untrusted redirect_uri is refused before any step
    (by Authlib), with the error page."""

    error: str
    description: str | None = None


Decision = Proceed | SignIn | AskConsent | Refuse
