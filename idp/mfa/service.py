"""Second factors: enrolment, removal and verification of TOTP, WebAuthn and recovery codes."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import Protocol

from idp.clock import Clock
from idp.crypto import SecretBox
from idp.errors import N_
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.foundation.lockout import LockoutService
from idp.foundation.sessions import BrowserSession
from idp.foundation.sessions import SessionService
from idp.mail import MailService
from idp.mfa import recovery
from idp.mfa import totp
from idp.mfa.model import Credential
from idp.mfa.model import Enrolment
from idp.mfa.model import TotpRecord
from idp.mfa.webauthn import RelyingParty
from idp.mfa.webauthn import WebAuthnError
from idp.mfa.webauthn import parse_response
from idp.mfa.webauthn import user_handle_of
from idp.model import RequestContext
from idp.model import User

KINDS = ("security_key", "passkey")
MAX_NAME = 64
# Plain-text codes are kept (encrypted) this long after generation so the page can show them,
# offer the download and print; then they exist only as digests.
SHOWN_CODES_TTL = 600


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
class Overview:
    totp: TotpRecord | None
    credentials: list[Credential]
    codes_left: int
    has_codes: bool
    # Second factors of other capabilities (kAuth devices...).
    others: int = 0

    @property
    def factor_count(self) -> int:
        return (1 if self.totp else 0) + len(self.credentials) + self.others


def clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(N_("Give it a name, like “Blue key” or “Work laptop”."), field="name")
    if len(name) > MAX_NAME:
        raise ValidationError(N_("The name can have at most %(count)s characters."), field="name", count=MAX_NAME)
    return name


def amr_for(credential: Credential, user_verified: bool) -> list[str]:
    """RFC 8176: `hwk` when the key cannot leave its authenticator, `swk` for a synced
    (backup-eligible) passkey whose key material is copied between devices; `user` when the
    authenticator verified the person (PIN or biometrics)."""
    methods = ["swk" if credential.backup_eligible else "hwk"]
    if user_verified:
        methods.append("user")
    return methods


class MfaStore(Protocol):
    """SQL side (see idp.stores.mfa.SqlMfaStore)."""

    def handle(self, user_id: int, *, new_handle: str, now: dt.datetime) -> str: ...
    def user_by_handle(self, handle: str) -> int | None: ...
    def get_totp(self, user_id: int) -> TotpRecord | None: ...
    def enrolment(self, user_id: int) -> Enrolment: ...
    def set_totp(self, user_id: int, *, secret_enc: str, step: int, now: dt.datetime) -> None: ...
    def advance_totp(self, user_id: int, step: int, now: dt.datetime) -> bool: ...
    def delete_totp(self, user_id: int) -> bool: ...
    def add_credential(
        self, user_id: int, *, credential_id: str, public_key: bytes, sign_count: int, kind: str, name: str,
        aaguid: str, backup_eligible: bool, transports: list[str], now: dt.datetime,
    ) -> Credential | None: ...
    def credentials(self, user_id: int) -> list[Credential]: ...
    def credential(self, credential_id: str) -> Credential | None: ...
    def record_use(self, cred_id: int, *, old_count: int, new_count: int, now: dt.datetime) -> bool: ...
    def rename(self, user_id: int, cred_id: int, name: str) -> bool: ...
    def delete_credential(self, user_id: int, cred_id: int) -> bool: ...
    def replace_codes(self, user_id: int, digests: list[str], now: dt.datetime) -> None: ...
    def use_code(self, user_id: int, digest: str, now: dt.datetime) -> bool: ...
    def codes_left(self, user_id: int) -> int: ...
    def has_codes(self, user_id: int) -> bool: ...
    def delete_codes(self, user_id: int) -> None: ...


class ShortLivedStore(Protocol):
    """Redis side (see idp.stores.mfa.RedisMfaStore): single-use, expiring values."""

    def user_key(self, user_id: int, what: str) -> str: ...
    def token_key(self, what: str, token: str) -> str: ...
    def put(self, key: str, value: str, ttl: int) -> None: ...
    def get(self, key: str) -> str | None: ...
    def take(self, key: str) -> str | None: ...
    def delete(self, key: str) -> None: ...


class MfaService:
    def __init__(
        self, *, sql: MfaStore, cache: ShortLivedStore, rp: RelyingParty, box: SecretBox, events: EventRecorder,
        mail: MailService, clock: Clock, issuer: str, recovery_keys: Sequence[bytes], recovery_count: int,
        warn_below: int, challenge_ttl: int, sessions: SessionService, lockout: LockoutService,
    ) -> None:
        self.sql, self.cache, self.rp, self.box = sql, cache, rp, box
        self.events, self.mail, self.clock = events, mail, clock
        # The first key hashes new codes; codes hashed before an upgrade are under the others (0610).
        self.issuer, self.recovery_keys = issuer, list(recovery_keys)
        self.recovery_count, self.warn_below, self.challenge_ttl = recovery_count, warn_below, challenge_ttl
        self.sessions, self.lockout = sessions, lockout
        # Second factors other capabilities provide (kAuth devices...), counted so that removing
        # the last factor of this package is not mistaken for removing the account's last one.
        self.other_factors: Callable[[User], int] = lambda _user: 0

    # -- what the account has -------------------------------------------------------------

    def overview(self, user: User) -> Overview:
        return Overview(
            totp=self.sql.get_totp(user.id), credentials=self.sql.credentials(user.id),
            codes_left=self.sql.codes_left(user.id), has_codes=self.sql.has_codes(user.id),
            others=self.other_factors(user),
        )

    def has_totp(self, user: User) -> bool:
        return self.sql.get_totp(user.id) is not None

    def credentials(self, user: User) -> list[Credential]:
        return self.sql.credentials(user.id)

    def codes_left(self, user: User) -> int:
        return self.sql.codes_left(user.id)

    def enrolment(self, user: User) -> Enrolment:
        return self.sql.enrolment(user.id)

    def factor_count(self, user: User) -> int:
        """Second factors that prove possession (recovery codes are not counted)."""
        enrolment = self.enrolment(user)
        return (1 if enrolment.totp else 0) + enrolment.keys + self.other_factors(user)

    def is_last_factor(self, user: User) -> bool:
        return self.factor_count(user) <= 1

    # -- TOTP ---------------------------------------------------------------------------------

    def begin_totp(self, user: User) -> TotpSetup:
        """A seed waiting for its first code; the same one while the set-up page is reloaded."""
        key = self.cache.user_key(user.id, "totp:pending")
        stored = self.cache.get(key)
        secret = self.box.decrypt_str(stored) if stored else totp.generate_secret()
        if not stored:
            self.cache.put(key, self.box.encrypt(secret), self.challenge_ttl * 3)
        uri = totp.provisioning_uri(secret, account=user.email, issuer=self.issuer)
        return TotpSetup(secret=secret, uri=uri, svg=totp.qr_svg(uri))

    def confirm_totp(self, user: User, code: str | None, ctx: RequestContext) -> list[str] | None:
        """Activate the pending seed once a code from it is right. Returns the recovery codes
        when this is the account's first second factor (else None)."""
        totp.normalise(code)
        key = self.cache.user_key(user.id, "totp:pending")
        stored = self.cache.get(key)
        if stored is None:
            raise EnrolmentExpiredError()
        secret = self.box.decrypt_str(stored)
        step = totp.match_step(secret, code, now=self.clock.now(), last_step=-1)
        first = self.factor_count(user) == 0
        self.sql.set_totp(user.id, secret_enc=self.box.encrypt(secret), step=step, now=self.clock.now())
        self.cache.delete(key)
        self.events.record_event(EventTag.MFA_TOTP_ADDED, ctx=ctx, user_id=user.id)
        self._mail(user, "mfa_factor_added", "totp", ctx)
        return self._first_codes(user, ctx) if first or not self.sql.has_codes(user.id) else None

    def remove_totp(self, user: User, ctx: RequestContext) -> None:
        if not self.sql.delete_totp(user.id):
            raise NotFoundError("no authenticator app")
        self.events.record_event(EventTag.MFA_TOTP_REMOVED, ctx=ctx, user_id=user.id)
        self._mail(user, "mfa_factor_removed", "totp", ctx)
        self.forget_codes_when_unprotected(user)

    def verify_totp(self, user: User, code: str | None) -> None:
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

    # -- recovery codes --------------------------------------------------------------------------

    def regenerate_codes(self, user: User, ctx: RequestContext) -> list[str]:
        """A new set; the previous codes stop working in the same transaction."""
        codes = recovery.generate(self.recovery_count)
        self.sql.replace_codes(user.id, [recovery.digest(c, self.recovery_keys[0]) for c in codes], self.clock.now())
        self.cache.put(
            self.cache.user_key(user.id, "codes:shown"), self.box.encrypt(json.dumps(codes)), SHOWN_CODES_TTL
        )
        self.events.record_event(
            EventTag.MFA_RECOVERY_GENERATED, ctx=ctx, user_id=user.id, details={"count": len(codes)}
        )
        return codes

    def shown_codes(self, user: User) -> list[str] | None:
        """The codes generated in the last minutes, for the page that shows them once."""
        stored = self.cache.get(self.cache.user_key(user.id, "codes:shown"))
        if stored is None:
            return None
        codes: list[str] = json.loads(self.box.decrypt_str(stored))
        return codes

    def forget_shown_codes(self, user: User) -> None:
        self.cache.delete(self.cache.user_key(user.id, "codes:shown"))

    def use_recovery_code(self, user: User, code: str | None, ctx: RequestContext) -> int:
        """Burn one code (atomically: a code works once even under concurrent use); returns how many remain.
        Tried under each key in turn: a set hashed before an upgrade works until used or replaced."""
        recovery.normalise(code)
        if not any(self.sql.use_code(user.id, recovery.digest(code or "", key), self.clock.now())
                   for key in self.recovery_keys):
            raise recovery.WrongRecoveryCodeError()
        left = self.sql.codes_left(user.id)
        self.events.record_event(
            EventTag.MFA_RECOVERY_USED, ctx=ctx, user_id=user.id, product=Product.SIGNIN, details={"left": left}
        )
        self.mail.queue_for(
            user, "mfa_recovery_code_used", left=left,
            ip=ctx.ip, when=self.clock.now(),
        )
        return left

    def few_codes_left(self, user: User) -> bool:
        return self.sql.has_codes(user.id) and self.sql.codes_left(user.id) < self.warn_below

    # -- WebAuthn: enrolment -----------------------------------------------------------------------

    def _handle(self, user: User) -> str:
        return self.sql.handle(user.id, new_handle=secrets.token_urlsafe(32), now=self.clock.now())

    def begin_registration(self, user: User, kind: str) -> str:
        """Options for `navigator.credentials.create()`; the challenge waits in Redis, single use."""
        if kind not in KINDS:
            raise ValidationError(N_("Unknown kind of authenticator."), field="kind")
        options, challenge = self.rp.registration_options(
            user_handle=self._handle(user), user_name=user.email, display_name=user.display_name,
            exclude=[c.credential_id for c in self.sql.credentials(user.id)], passkey=kind == "passkey",
        )
        self.cache.put(
            self.cache.user_key(user.id, "webauthn:register"),
            json.dumps({"challenge": challenge, "kind": kind}), self.challenge_ttl,
        )
        return options

    def finish_registration(
        self, user: User, raw: str | None, name: str | None, ctx: RequestContext
    ) -> tuple[Credential, list[str] | None]:
        """Verify the browser's answer against the pending challenge (taken: it works once) and
        store the credential. Returns it, and the recovery codes when it is the first factor."""
        name = clean_name(name)
        response = parse_response(raw)
        pending = self.cache.take(self.cache.user_key(user.id, "webauthn:register"))
        if pending is None:
            raise WebAuthnError("no pending registration")
        state: dict[str, Any] = json.loads(pending)
        kind = state["kind"]
        registered = self.rp.verify_registration(response, challenge=state["challenge"], passkey=kind == "passkey")
        first = self.factor_count(user) == 0
        credential = self.sql.add_credential(
            user.id, credential_id=registered.credential_id, public_key=registered.public_key,
            sign_count=registered.sign_count, kind=kind, name=name, aaguid=registered.aaguid,
            backup_eligible=registered.backup_eligible, transports=registered.transports, now=self.clock.now(),
        )
        if credential is None:
            raise ValidationError(N_("This authenticator is already registered."), field="credential")
        self.events.record_event(
            EventTag.MFA_WEBAUTHN_ADDED, ctx=ctx, user_id=user.id,
            details={"credential": credential.id, "kind": kind, "name": name},
        )
        self._mail(user, "mfa_factor_added", kind, ctx, name=name)
        return credential, (self._first_codes(user, ctx) if first or not self.sql.has_codes(user.id) else None)

    def _owned(self, user: User, cred_id: int) -> Credential:
        for credential in self.sql.credentials(user.id):
            if credential.id == cred_id:
                return credential
        raise NotFoundError("no such authenticator")

    def get_credential(self, user: User, cred_id: int) -> Credential:
        return self._owned(user, cred_id)

    def rename_credential(self, user: User, cred_id: int, name: str | None, ctx: RequestContext) -> None:
        name = clean_name(name)
        credential = self._owned(user, cred_id)
        self.sql.rename(user.id, cred_id, name)
        self.events.record_event(
            EventTag.MFA_WEBAUTHN_RENAMED, ctx=ctx, user_id=user.id,
            details={"credential": cred_id, "old": credential.name, "name": name},
        )

    def remove_credential(self, user: User, cred_id: int, ctx: RequestContext) -> Credential:
        credential = self._owned(user, cred_id)
        if not self.sql.delete_credential(user.id, cred_id):
            raise NotFoundError("no such authenticator")
        self.events.record_event(
            EventTag.MFA_WEBAUTHN_REMOVED, ctx=ctx, user_id=user.id,
            details={"credential": cred_id, "kind": credential.kind, "name": credential.name},
        )
        self._mail(user, "mfa_factor_removed", credential.kind, ctx, name=credential.name)
        self.forget_codes_when_unprotected(user)
        return credential

    # -- WebAuthn: as a second factor, and passkey sign-in ---------------------------------------

    def begin_assertion(self, user: User, flow_id: str) -> str:
        """Options for `navigator.credentials.get()` limited to this account's credentials; the
        challenge is bound to the sign-in flow."""
        allow = [(c.credential_id, c.transports) for c in self.sql.credentials(user.id)]
        options, challenge = self.rp.authentication_options(allow=allow, passkey=False)
        self.cache.put(self.cache.token_key("webauthn:flow", flow_id), challenge, self.challenge_ttl)
        return options

    def finish_assertion(self, user: User, flow_id: str, raw: str | None) -> list[str]:
        """Verify the answer for this flow's challenge (taken once); returns its `amr` values.
        A credential of another account, an unknown one, a wrong origin, a reused challenge and
        a sign counter that did not go forward all raise WebAuthnError."""
        return self._finish_for(user, self.cache.token_key("webauthn:flow", flow_id), raw)

    def _finish_for(self, user: User, key: str, raw: str | None) -> list[str]:
        response = parse_response(raw)
        challenge = self.cache.take(key)
        if challenge is None:
            raise WebAuthnError("no pending challenge")
        credential = self.sql.credential(response["rawId"])
        if credential is None or credential.user_id != user.id:
            raise WebAuthnError("unknown credential")
        return self._assert(credential, response, challenge, passkey=False)

    def begin_passkey(self, token: str) -> str:
        """Options for signing in with a passkey alone: any discoverable credential, user
        verification required. The challenge is bound to a random token the browser keeps."""
        options, challenge = self.rp.authentication_options(allow=None, passkey=True)
        self.cache.put(self.cache.token_key("webauthn:passkey", token), challenge, self.challenge_ttl)
        return options

    def finish_passkey(self, token: str, raw: str | None, ctx: RequestContext) -> tuple[int, list[str]]:
        """(user id, amr) for a verified passkey. The credential must belong to the account its
        user handle names, and the authenticator must have verified the person: possession plus
        PIN or biometrics is two factors, hence `mfa`."""
        response = parse_response(raw)
        challenge = self.cache.take(self.cache.token_key("webauthn:passkey", token))
        if challenge is None:
            raise WebAuthnError("no pending challenge")
        credential = self.sql.credential(response["rawId"])
        handle = user_handle_of(response)
        owner = self.sql.user_by_handle(handle) if handle else None
        if credential is None or owner is None or owner != credential.user_id:
            self.events.record_event(
                EventTag.MFA_PASSKEY_FAILED, ctx=ctx, user_id=credential.user_id if credential else None,
                product=Product.SIGNIN, details={"reason": "unknown credential"},
            )
            raise WebAuthnError("unknown credential")
        try:
            amr = self._assert(credential, response, challenge, passkey=True)
        except WebAuthnError as exc:
            self.events.record_event(
                EventTag.MFA_PASSKEY_FAILED, ctx=ctx, user_id=credential.user_id, product=Product.SIGNIN,
                details={"reason": exc.reason[:200]},
            )
            raise
        return credential.user_id, sorted({*amr, "mfa"})

    def _assert(self, credential: Credential, response: dict[str, Any], challenge: str, *, passkey: bool) -> list[str]:
        asserted = self.rp.verify_authentication(
            response, challenge=challenge, public_key=credential.public_key, sign_count=credential.sign_count,
            passkey=passkey,
        )
        if not self.sql.record_use(
            credential.id, old_count=credential.sign_count, new_count=asserted.new_sign_count, now=self.clock.now()
        ):
            raise WebAuthnError("sign counter changed concurrently")
        return amr_for(credential, asserted.user_verified)

    # -- re-authentication with a second factor ---------------------------------------------------

    def reauth_options(self, user: User) -> str | None:
        """Options to confirm a signed-in person with one of their keys (None without keys)."""
        allow = [(c.credential_id, c.transports) for c in self.sql.credentials(user.id)]
        if not allow:
            return None
        options, challenge = self.rp.authentication_options(allow=allow, passkey=False)
        self.cache.put(self.cache.user_key(user.id, "webauthn:reauth"), challenge, self.challenge_ttl)
        return options

    def reauthenticate(
        self, user: User, session: BrowserSession, ctx: RequestContext, *, code: str | None = None,
        credential: str | None = None,
    ) -> BrowserSession:
        """Prove again who holds this session with a TOTP code or a key, before a sensitive
        change. A refused proof is recorded and counts toward the account's lockout, like a
        wrong password on the password re-authentication page."""
        method = "totp" if credential is None else "webauthn"
        try:
            if credential is None:
                self.verify_totp(user, code)
                amr = ["otp"]
            else:
                amr = self._finish_for(user, self.cache.user_key(user.id, "webauthn:reauth"), credential)
        except (totp.MalformedCodeError, recovery.MalformedRecoveryCodeError):
            raise
        except ValidationError:
            self.events.record_event(EventTag.REAUTH_FAILED, ctx=ctx, user_id=user.id, details={"method": method})
            self.lockout.register_failure(user, user.email, ctx)
            raise
        self.lockout.register_success(user)
        self.events.record_event(EventTag.REAUTH_SUCCEEDED, ctx=ctx, user_id=user.id, details={"method": method})
        return self.sessions.reauthenticated(session, amr)

    # -- internals ----------------------------------------------------------------------------

    def _first_codes(self, user: User, ctx: RequestContext) -> list[str]:
        return self.regenerate_codes(user, ctx)

    def forget_codes_when_unprotected(self, user: User) -> None:
        """Recovery codes stand in for a second factor; with none left (this package's or
        another capability's, such as the last kAuth device) they would be a way in that the
        security page no longer shows, and every sign-in would burn one: they are deleted."""
        if self.factor_count(user) == 0:
            self.sql.delete_codes(user.id)

    def _mail(self, user: User, template: str, method: str, ctx: RequestContext, name: str = "") -> None:
        self.mail.queue_for(
            user, template, method=method, key_name=name,
            ip=ctx.ip, when=self.clock.now(),
        )
