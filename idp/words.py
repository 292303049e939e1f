"""How the service names things for people, in any language: the ways a sign-in was proven and
moments in time. Pure (no Flask): pages pass Flask-Babel's gettext and locale, mail passes the
recipient's catalogue and language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Sequence
from zoneinfo import ZoneInfo
from zoneinfo import available_timezones

from babel.dates import format_date
from babel.dates import format_time
from babel.dates import get_datetime_format

from idp.errors import N_

Gettext = Callable[[str], str]

# The ways a sign-in is proven, as the flow records them (Flow.methods): each its own words.
METHOD_LABELS = {
    "password": N_("password"),
    "totp": N_("authenticator app code"),
    "recovery": N_("recovery code"),
    "security_key": N_("security key"),
    "passkey": N_("passkey"),
    "kauth": N_("kAuth approval on a phone"),
    "sso": N_("single sign-on"),
}

# RFC 8176 `amr` values, for sessions opened before the flow recorded its methods. Ambiguous by
# nature (`otp` is an authenticator code or a recovery code): only a fallback.
AMR_LABELS = {
    "pwd": N_("password"), "mfa": N_("second step"), "otp": N_("authenticator code"),
    "hwk": N_("security key"), "swk": N_("passkey"), "user": N_("PIN or biometrics"),
    "mca": N_("approval on a phone"), "fed": N_("single sign-on"), "sms": N_("text message"),
}


def method_words(methods: Sequence[str] | None, gettext: Gettext, *, amr: Sequence[str] | None = None) -> str:
    """How a sign-in was proven, in words ("password, recovery code"), in the order used. Without
    recorded methods (an older session), from its `amr` values: the password first, and
    "second step" left out when the method that made it one is named."""
    if methods:
        return ", ".join(str(gettext(METHOD_LABELS[m])) if m in METHOD_LABELS else m for m in methods)
    values = list(amr or [])
    if "mfa" in values and any(v not in ("pwd", "mfa") for v in values):
        values.remove("mfa")
    values.sort(key=lambda v: v != "pwd")
    return ", ".join(str(gettext(AMR_LABELS[v])) if v in AMR_LABELS else v for v in values)


def _choosable(name: str) -> bool:
    # Region/City names; not the Etc/ offsets (their sign is inverted) nor legacy aliases.
    return "/" in name and name.split("/", 1)[0] in {
        "Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific",
    }


# The time zones a person may choose: UTC first, then Region/City names in order.
TIMEZONES: tuple[str, ...] = ("UTC", *sorted(name for name in available_timezones() if _choosable(name)))


def zone(name: str | None) -> dt.tzinfo:
    """The time zone named `name` (IANA), UTC when empty or unknown."""
    if name and name != "UTC":
        try:
            return ZoneInfo(name)
        except (ValueError, KeyError, OSError):
            pass
    return dt.UTC


def moment_words(moment: dt.datetime | int | float | None, locale: str, tz: str | None = None) -> str:
    """A moment for people, in their language and time zone: "25 nov. 2026, 15:07 CET",
    "Nov 25, 2026, 2:07 PM UTC". An epoch in seconds or a naive datetime is taken as UTC; empty
    for None."""
    if moment is None:
        return ""
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.fromtimestamp(int(moment), dt.UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(zone(tz))
    # The locale's own way of joining a medium date and a short time (no seconds).
    stamp = str(get_datetime_format("medium", locale=locale)).format(
        format_time(local, "short", locale=locale), format_date(local, "medium", locale=locale),
    )
    # The abbreviation the zone uses at that moment (CET, CEST, UTC); an offset when it has none.
    name = local.tzname() or ""
    if not name or name[0] in "+-":
        name = f"UTC{local.strftime('%z')[:3]}:{local.strftime('%z')[3:]}"
    return f"{stamp} {name}"
