"""The account's phone numbers: parsed and kept as E.164, each confirmed by a code texted to it."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import unicodedata
from typing import Protocol

import phonenumbers

from idp.clock import Clock
from idp.errors import N_
from idp.errors import ConflictError
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.foundation.ratelimit import RateLimiter
from idp.model import Phone
from idp.model import RequestContext
from idp.model import User
from idp.sms import SmsSender

MAX_PHONES = 5
MAX_LABEL = 40
MAX_TYPED = 40


class PhoneStore(Protocol):
    def list(self, user_id: int) -> list[Phone]: ...
    def count(self, user_id: int) -> int: ...
    def get(self, user_id: int, phone_id: int) -> Phone | None: ...
    def add(self, user_id: int, *, label: str, number: str, now: dt.datetime) -> Phone: ...
    def confirm(self, user_id: int, phone_id: int, now: dt.datetime) -> bool: ...
    def remove(self, user_id: int, phone_id: int) -> bool: ...


class CodeStore(Protocol):
    def put(self, user_id: int, phone_id: int, digest: str, ttl: int) -> None: ...
    def check(self, user_id: int, phone_id: int, digest: str, attempts: int) -> str: ...
    def forget(self, user_id: int, phone_id: int) -> None: ...


def parse_number(typed: str, region: str) -> str:
    """The number as E.164 (`+41446681800`), or ValidationError (field `number`) saying why."""
    text = (typed or "").strip()
    if not text:
        raise ValidationError(N_("Enter a phone number."), field="number")
    if len(text) > MAX_TYPED:
        raise ValidationError(N_("This is not a phone number."), field="number")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(N_("This is not a phone number."), field="number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(
            N_("This number does not exist; write it with its country code, such as +41 79 123 45 67."),
            field="number",
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def readable(number: str) -> str:
    """`+41 44 668 18 00`: the international form people read."""
    return phonenumbers.format_number(phonenumbers.parse(number), phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _label(value: str) -> str:
    text = " ".join((value or "").split())
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in text):
        raise ValidationError(N_("The label contains characters that cannot be shown."), field="label")
    if len(text) > MAX_LABEL:
        raise ValidationError(N_("The label is too long (%(num)d characters at most)."), field="label",
                              num=MAX_LABEL)
    return text


class PhoneService:
    def __init__(
        self, phones: PhoneStore, codes: CodeStore, sms: SmsSender, ratelimit: RateLimiter,
        events: EventRecorder, clock: Clock, *, key: bytes, region: str, code_ttl: int, attempts: int,
        per_hour: int,
    ) -> None:
        self.phones, self.codes, self.sms, self.ratelimit = phones, codes, sms, ratelimit
        self.events, self.clock, self.key, self.region = events, clock, key, region
        self.code_ttl, self.attempts, self.per_hour = code_ttl, attempts, per_hour

    def list(self, user: User) -> list[Phone]:
        return self.phones.list(user.id)

    def phone(self, user: User, phone_id: int) -> Phone:
        """One of this account's numbers; another person's id is NotFoundError, like no id."""
        found = self.phones.get(user.id, phone_id)
        if found is None:
            raise NotFoundError("no such phone number")
        return found

    def _digest(self, user: User, phone: Phone, code: str) -> str:
        message = f"{user.id}:{phone.id}:{phone.number}:{code}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def add(self, user: User, *, label: str, number: str, ctx: RequestContext, text: str) -> Phone:
        """Keep a new number, unconfirmed, and text it a code (`text` is the message, with
        `%(code)s`, in the person's language). Raises ValidationError for a bad number or label,
        a sixth number, or one the account already has."""
        e164 = parse_number(number, self.region)
        clean_label = _label(label)
        if self.phones.count(user.id) >= MAX_PHONES:
            raise ValidationError(N_("An account keeps %(num)d phone numbers at most: remove one first."),
                                  field="number", num=MAX_PHONES)
        try:
            phone = self.phones.add(user.id, label=clean_label, number=e164, now=self.clock.now())
        except ConflictError as exc:
            raise ValidationError(N_("This number is already on your profile."), field="number") from exc
        self.send_code(user, phone, text=text)
        return phone

    def send_code(self, user: User, phone: Phone, *, text: str) -> None:
        """Text a fresh code (the previous one dies). Limited per account per hour: each text
        costs the operator, and a code is six digits."""
        self.ratelimit.check("sms", str(user.id), limit=self.per_hour, window=3600)
        code = f"{secrets.randbelow(1_000_000):06d}"
        self.codes.put(user.id, phone.id, self._digest(user, phone, code), self.code_ttl)
        self.sms.send(phone.number, text % {"code": code})

    def confirm(self, user: User, phone_id: int, code: str, *, ctx: RequestContext) -> Phone:
        """Check the code typed (`account:phone:confirmed`); ValidationError (field `code`) when it
        is wrong, expired, or the tries are used up."""
        phone = self.phone(user, phone_id)
        typed = "".join(ch for ch in (code or "") if not ch.isspace())
        if not (len(typed) == 6 and typed.isascii() and typed.isdigit()):
            raise ValidationError(N_("Enter the 6-digit code from the text message."), field="code")
        answer = self.codes.check(user.id, phone.id, self._digest(user, phone, typed), self.attempts)
        if answer == "wrong":
            raise ValidationError(N_("This code is not the one we sent."), field="code")
        if answer != "ok":
            raise ValidationError(N_("This code has expired or was tried too many times: send a new one."),
                                  field="code")
        self.phones.confirm(user.id, phone.id, self.clock.now())
        self.events.record_event(EventTag.PHONE_CONFIRMED, ctx=ctx, user_id=user.id,
                                 details={"phone": phone.id})
        return self.phone(user, phone.id)

    def remove(self, user: User, phone_id: int, *, ctx: RequestContext) -> None:
        phone = self.phone(user, phone_id)
        self.phones.remove(user.id, phone.id)
        self.codes.forget(user.id, phone.id)
        self.events.record_event(EventTag.PHONE_REMOVED, ctx=ctx, user_id=user.id, details={"phone": phone.id})

    def claimed(self, user: User) -> Phone | None:
        """The number applications get (OpenID `phone_number`): the first confirmed, else the first."""
        phones = self.phones.list(user.id)
        return next((p for p in phones if p.verified), phones[0] if phones else None)
