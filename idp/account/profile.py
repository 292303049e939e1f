"""The profile a person manages: first and last names, the name shown, and the picture."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Protocol

from idp.account.avatars import Picture
from idp.account.avatars import process
from idp.clock import Clock
from idp.errors import N_
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.model import RequestContext
from idp.model import User

MAX_NAME = 100
MAX_DISPLAY = 200


class NameStore(Protocol):
    def set_names(
        self, user_id: int, *, given_name: str | None, family_name: str | None, display_name: str, now: dt.datetime
    ) -> User: ...


class AvatarStore(Protocol):
    def put(self, user_id: int, *, small: bytes, large: bytes, now: dt.datetime) -> int: ...
    def remove(self, user_id: int, now: dt.datetime) -> bool: ...
    def by_subject(self, subject: str) -> tuple[int, bytes, bytes] | None: ...


def _clean(value: str | None, field: str, limit: int) -> str:
    """One line of text: spaces collapsed, no control or format characters (a name is shown in
    mail headers and on other people's pages)."""
    text = " ".join((value or "").split())
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in text):
        raise ValidationError(N_("The name contains characters that cannot be shown."), field=field)
    if len(text) > limit:
        raise ValidationError(N_("The name is too long (%(num)d characters at most)."), field=field, num=limit)
    return text


def composed(given: str | None, family: str | None, email: str) -> str:
    """The name shown when the person wrote none: first and last names, else the e-mail's local part."""
    return " ".join(part for part in (given, family) if part) or email.split("@", 1)[0]


def initials(user: User) -> str:
    """Up to two letters for the header when there is no picture."""
    words = [w for w in (user.given_name, user.family_name) if w] or user.display_name.split()
    letters = "".join(w[0] for w in words[:2] if w[:1].isalnum())
    return (letters or user.email[:1]).upper()


class ProfileService:
    def __init__(self, users: NameStore, avatars: AvatarStore, events: EventRecorder, clock: Clock) -> None:
        self.users, self.avatars, self.events, self.clock = users, avatars, events, clock

    def set_names(
        self, user: User, *, given_name: str, family_name: str, display_name: str, ctx: RequestContext
    ) -> User:
        """Save the names (`account:profile:updated`). The name shown follows the first and last
        names while it equals what they made, or when left empty; otherwise it is the person's."""
        given = _clean(given_name, "given_name", MAX_NAME) or None
        family = _clean(family_name, "family_name", MAX_NAME) or None
        shown = _clean(display_name, "display_name", MAX_DISPLAY)
        if not shown or shown == composed(user.given_name, user.family_name, user.email):
            shown = composed(given, family, user.email)
        updated = self.users.set_names(
            user.id, given_name=given, family_name=family, display_name=shown, now=self.clock.now()
        )
        self.events.record_event(EventTag.PROFILE_UPDATED, ctx=ctx, user_id=user.id)
        return updated

    def set_picture(self, user: User, data: bytes, *, ctx: RequestContext) -> Picture:
        """Replace the picture with this upload, re-encoded (`account:avatar:changed`); raises
        ValidationError with the reason for anything that is not a usable picture."""
        picture = process(data)
        version = self.avatars.put(user.id, small=picture.small, large=picture.large, now=self.clock.now())
        self.events.record_event(EventTag.AVATAR_CHANGED, ctx=ctx, user_id=user.id, details={"version": version})
        return picture

    def remove_picture(self, user: User, *, ctx: RequestContext) -> bool:
        removed = self.avatars.remove(user.id, self.clock.now())
        if removed:
            self.events.record_event(EventTag.AVATAR_REMOVED, ctx=ctx, user_id=user.id)
        return removed

    def picture(self, subject: str, size: str) -> tuple[int, bytes] | None:
        """(version, JPEG bytes) of an account's picture at `small` or `large`, or None."""
        found = self.avatars.by_subject(subject)
        if found is None or size not in ("small", "large"):
            return None
        version, small, large = found
        return version, small if size == "small" else large
