"""The authenticator app (TOTP): a pending seed, its activation by a first code, one use per step."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from idp.clock import Clock
from idp.crypto import SecretBox
from idp.errors import N_
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.mfa import totp
from idp.mfa.ports import MfaStore
from idp.mfa.ports import ShortLivedStore
from idp.model import RequestContext
from idp.model import User


class EnrolmentExpiredError(ValidationError):
    def __init__(self) -> None:
        super().__init__(N_("This set-up has expired. Please start again."), field="code")


@dataclass(frozen=True)
class TotpSetup:
    secret: str
    uri: str
    svg: str

    @property
    def grouped(self) -> str:
        return totp.grouped(self.secret)


@dataclass(frozen=True)
class ConfirmedSeed:
    """A pending seed a first code was right for, and that code's step."""

    secret: str = field(repr=False)
    step: int


class AuthenticatorApps:
    """Accounts' authenticator apps. The seed is kept encrypted, in Redis while it waits for
    its first code (`pending_ttl` seconds), then in SQL with the last step used."""

    def __init__(
        self, *, sql: MfaStore, cache: ShortLivedStore, box: SecretBox, events: EventRecorder, clock: Clock,
        issuer: str, pending_ttl: int,
    ) -> None:
        self.sql, self.cache, self.box, self.events, self.clock = sql, cache, box, events, clock
        self.issuer, self.pending_ttl = issuer, pending_ttl

    def _pending_key(self, user: User) -> str:
        return self.cache.user_key(user.id, "totp:pending")

    def has(self, user: User) -> bool:
        return self.sql.get_totp(user.id) is not None

    def begin(self, user: User) -> TotpSetup:
        """A seed waiting for its first code; the same one while the set-up page is reloaded."""
        key = self._pending_key(user)
        stored = self.cache.get(key)
        secret = self.box.decrypt_str(stored) if stored else totp.generate_secret()
        if not stored:
            self.cache.put(key, self.box.encrypt(secret), self.pending_ttl)
        uri = totp.provisioning_uri(secret, account=user.email, issuer=self.issuer)
        return TotpSetup(secret=secret, uri=uri, svg=totp.qr_svg(uri))

    def check_first_code(self, user: User, code: str | None) -> ConfirmedSeed:
        """The pending seed, once `code` is right for it; nothing is stored yet. Raises
        EnrolmentExpiredError when no seed waits, and totp's errors for a wrong code."""
        totp.normalise(code)
        stored = self.cache.get(self._pending_key(user))
        if stored is None:
            raise EnrolmentExpiredError()
        secret = self.box.decrypt_str(stored)
        return ConfirmedSeed(secret, totp.match_step(secret, code, now=self.clock.now(), last_step=-1))

    def activate(self, user: User, seed: ConfirmedSeed, ctx: RequestContext) -> None:
        """Store the confirmed seed (replacing any earlier app) and forget the pending one."""
        self.sql.set_totp(user.id, secret_enc=self.box.encrypt(seed.secret), step=seed.step, now=self.clock.now())
        self.cache.delete(self._pending_key(user))
        self.events.record_event(EventTag.MFA_TOTP_ADDED, ctx=ctx, user_id=user.id)

    def remove(self, user: User, ctx: RequestContext) -> None:
        if not self.sql.delete_totp(user.id):
            raise NotFoundError("no authenticator app")
        self.events.record_event(EventTag.MFA_TOTP_REMOVED, ctx=ctx, user_id=user.id)

    def verify(self, user: User, code: str | None) -> None:
        """Accept a code of the current step ±1 once: the step is recorded with a conditional
        write, so a replayed code, an earlier code, or the loser of two racing requests with
        the same code gets ReplayedCodeError."""
        record = self.sql.get_totp(user.id)
        if record is None:
            raise totp.WrongCodeError()
        secret = self.box.decrypt_str(record.secret_enc)
        step = totp.match_step(secret, code, now=self.clock.now(), last_step=record.last_step)
        if not self.sql.advance_totp(user.id, step, self.clock.now()):
            raise totp.ReplayedCodeError()
