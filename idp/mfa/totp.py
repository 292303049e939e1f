"""Time-based one-time passwords (RFC 6238): SHA-1, 6 digits, 30-second steps, ±1 step of skew."""

from __future__ import annotations

import datetime as dt
import hmac

import pyotp
import segno

from idp.errors import N_
from idp.errors import ValidationError

DIGITS = 6
PERIOD = 30
SKEW = 1


class TotpError(ValidationError):
    """A code was refused; the message is safe to show."""


class MalformedCodeError(TotpError):
    def __init__(self) -> None:
        super().__init__(N_("Enter the 6-digit code from your app."), field="code")


class WrongCodeError(TotpError):
    def __init__(self) -> None:
        super().__init__(
            N_("This code is not valid. Check the time on your phone and try the next code."), field="code"
        )


class ReplayedCodeError(TotpError):
    """The code is right but its time step (or a later one) was already used: it could have been
    seen by someone else, so it is refused like a wrong code, with a hint to wait for the next."""

    def __init__(self) -> None:
        super().__init__(N_("This code was already used. Wait for the next one."), field="code")


def generate_secret() -> str:
    """A new base32 seed of 160 bits (RFC 4226's recommended length)."""
    return pyotp.random_base32(32)


def normalise(code: str | None) -> str:
    """Digits only (spaces and dashes that apps show are dropped), or MalformedCodeError."""
    cleaned = (code or "").replace(" ", "").replace("-", "")
    if len(cleaned) != DIGITS or not cleaned.isascii() or not cleaned.isdigit():
        raise MalformedCodeError()
    return cleaned


def step_of(now: dt.datetime) -> int:
    return int(now.timestamp()) // PERIOD


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).generate_otp(step)


def match_step(secret: str, code: str | None, *, now: dt.datetime, last_step: int) -> int:
    """The time step the code belongs to, within ±SKEW steps of `now`.

    Raises MalformedCodeError, WrongCodeError, or ReplayedCodeError when the code is right but
    its step is not later than `last_step`. Every candidate is compared in constant time. The
    caller must still record the step atomically (the check here is not a lock).
    """
    code = normalise(code)
    current = step_of(now)
    matched = None
    for step in range(current - SKEW, current + SKEW + 1):
        if hmac.compare_digest(code_at(secret, step), code):
            matched = step
    if matched is None:
        raise WrongCodeError()
    if matched <= last_step:
        raise ReplayedCodeError()
    return matched


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """An inline SVG QR code of the URI (no XML declaration: safe inside an HTML page)."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, border=2))


def grouped(secret: str) -> str:
    """The seed in groups of four, easier to type by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
