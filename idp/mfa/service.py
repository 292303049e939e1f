"""Second factors: the service pages and the sign-in call, over the authenticator app, keys and codes.

The ceremonies live in `authenticator.py` (TOTP), `keys.py` (WebAuthn) and `recovery_codes.py`;
this facade adds what concerns the account's factors as a whole: counting them, a first set of
recovery codes with the first factor, no codes once none is left, the mail on every change, and
re-authentication with a second factor.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass

from idp.clock import Clock
from idp.crypto import SecretBox
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.foundation.lockout import LockoutService
from idp.foundation.sessions import BrowserSession
from idp.foundation.sessions import SessionService
from idp.mail import MailService
from idp.mfa import recovery
from idp.mfa import totp
from idp.mfa.authenticator import AuthenticatorApps
from idp.mfa.authenticator import EnrolmentExpiredError
from idp.mfa.authenticator import TotpSetup
from idp.mfa.keys import KINDS
from idp.mfa.keys import MAX_NAME
from idp.mfa.keys import SecurityKeys
from idp.mfa.keys import amr_for
from idp.mfa.keys import clean_name
from idp.mfa.model import Credential
from idp.mfa.model import Enrolment
from idp.mfa.model import TotpRecord
from idp.mfa.ports import MfaStore
from idp.mfa.ports import ShortLivedStore
from idp.mfa.recovery_codes import SHOWN_CODES_TTL
from idp.mfa.recovery_codes import RecoveryCodeSets
from idp.mfa.webauthn import RelyingParty
from idp.model import RequestContext
from idp.model import User

__all__ = [
    "KINDS", "MAX_NAME", "SHOWN_CODES_TTL", "EnrolmentExpiredError", "MfaService", "MfaStore", "Overview",
    "ShortLivedStore", "TotpSetup", "amr_for", "clean_name",
]


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


class MfaService:
    def __init__(
        self, *, sql: MfaStore, cache: ShortLivedStore, rp: RelyingParty, box: SecretBox, events: EventRecorder,
        mail: MailService, clock: Clock, issuer: str, recovery_keys: Sequence[bytes], recovery_count: int,
        warn_below: int, challenge_ttl: int, sessions: SessionService, lockout: LockoutService,
    ) -> None:
        self.sql, self.cache, self.rp, self.box = sql, cache, rp, box
        self.events, self.mail, self.clock = events, mail, clock
        self.warn_below, self.sessions, self.lockout = warn_below, sessions, lockout
        # A pending TOTP seed waits three times as long as a WebAuthn challenge.
        self.authenticators = AuthenticatorApps(
            sql=sql, cache=cache, box=box, events=events, clock=clock, issuer=issuer, pending_ttl=challenge_ttl * 3,
        )
        self.security_keys = SecurityKeys(
            sql=sql, cache=cache, rp=rp, events=events, clock=clock, challenge_ttl=challenge_ttl,
        )
        self.codes = RecoveryCodeSets(
            sql=sql, cache=cache, box=box, events=events, mail=mail, clock=clock, keys=recovery_keys,
            count=recovery_count, warn_below=warn_below,
        )
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
        return self.authenticators.has(user)

    def credentials(self, user: User) -> list[Credential]:
        return self.security_keys.of(user)

    def codes_left(self, user: User) -> int:
        return self.codes.left(user)

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
        return self.authenticators.begin(user)

    def confirm_totp(self, user: User, code: str | None, ctx: RequestContext) -> list[str] | None:
        """Activate the pending seed once a code from it is right. Returns the recovery codes
        when this is the account's first second factor (else None)."""
        seed = self.authenticators.check_first_code(user, code)
        first = self.factor_count(user) == 0
        self.authenticators.activate(user, seed, ctx)
        self._mail(user, "mfa_factor_added", "totp", ctx)
        return self._codes_for_new_factor(user, first, ctx)

    def remove_totp(self, user: User, ctx: RequestContext) -> None:
        self.authenticators.remove(user, ctx)
        self._mail(user, "mfa_factor_removed", "totp", ctx)
        self.forget_codes_when_unprotected(user)

    def verify_totp(self, user: User, code: str | None) -> None:
        """Accept a code of the current step ±1 once (see AuthenticatorApps.verify)."""
        self.authenticators.verify(user, code)

    # -- recovery codes --------------------------------------------------------------------------

    def regenerate_codes(self, user: User, ctx: RequestContext) -> list[str]:
        """A new set; the previous codes stop working in the same transaction."""
        return self.codes.regenerate(user, ctx)

    def shown_codes(self, user: User) -> list[str] | None:
        """The codes generated in the last minutes, for the page that shows them once."""
        return self.codes.shown(user)

    def forget_shown_codes(self, user: User) -> None:
        self.codes.forget_shown(user)

    def erase(self, user: User, _ctx: RequestContext) -> None:
        """The account is deleted: its authenticator app, security keys and passkeys, recovery
        codes (the freshly shown ones too) and WebAuthn user handle go; no mail, no event (the
        deletion records one)."""
        self.forget_shown_codes(user)
        self.sql.delete_all(user.id)

    def use_recovery_code(self, user: User, code: str | None, ctx: RequestContext) -> int:
        """Burn one code, once even under concurrent use; returns how many remain."""
        return self.codes.use(user, code, ctx)

    def few_codes_left(self, user: User) -> bool:
        return self.codes.few_left(user)

    # -- security keys and passkeys: enrolment -----------------------------------------------------

    def begin_registration(self, user: User, kind: str) -> str:
        """Options for `navigator.credentials.create()`; the challenge waits in Redis, single use."""
        return self.security_keys.begin_registration(user, kind)

    def finish_registration(
        self, user: User, raw: str | None, name: str | None, ctx: RequestContext
    ) -> tuple[Credential, list[str] | None]:
        """Verify the browser's answer against the pending challenge (taken: it works once) and
        store the credential. Returns it, and the recovery codes when it is the first factor."""
        verified = self.security_keys.verify_registration(user, raw, name)
        first = self.factor_count(user) == 0
        credential = self.security_keys.add(user, verified, ctx)
        self._mail(user, "mfa_factor_added", verified.kind, ctx, name=verified.name)
        return credential, self._codes_for_new_factor(user, first, ctx)

    def get_credential(self, user: User, cred_id: int) -> Credential:
        return self.security_keys.owned(user, cred_id)

    def rename_credential(self, user: User, cred_id: int, name: str | None, ctx: RequestContext) -> None:
        self.security_keys.rename(user, cred_id, name, ctx)

    def remove_credential(self, user: User, cred_id: int, ctx: RequestContext) -> Credential:
        credential = self.security_keys.remove(user, cred_id, ctx)
        self._mail(user, "mfa_factor_removed", credential.kind, ctx, name=credential.name)
        self.forget_codes_when_unprotected(user)
        return credential

    # -- security keys and passkeys: signing in ----------------------------------------------------

    def begin_assertion(self, user: User, flow_id: str) -> str:
        """Options for `navigator.credentials.get()` limited to this account's credentials."""
        return self.security_keys.begin_assertion(user, flow_id)

    def finish_assertion(self, user: User, flow_id: str, raw: str | None) -> list[str]:
        """The `amr` values of a verified answer to this flow's challenge (see SecurityKeys)."""
        return self.security_keys.finish_assertion(user, flow_id, raw)

    def begin_passkey(self, token: str) -> str:
        """Options for signing in with a passkey alone, bound to a token the browser keeps."""
        return self.security_keys.begin_passkey(token)

    def finish_passkey(self, token: str, raw: str | None, ctx: RequestContext) -> tuple[int, list[str]]:
        """(user id, amr) for a verified passkey with user verification (see SecurityKeys)."""
        return self.security_keys.finish_passkey(token, raw, ctx)

    # -- re-authentication with a second factor ---------------------------------------------------

    def reauth_options(self, user: User) -> str | None:
        """Options to confirm a signed-in person with one of their keys (None without keys)."""
        return self.security_keys.reauth_options(user)

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
                self.authenticators.verify(user, code)
                amr = ["otp"]
            else:
                amr = self.security_keys.finish_reauth(user, credential)
        except (totp.MalformedCodeError, recovery.MalformedRecoveryCodeError):
            raise
        except ValidationError:
            self.events.record_event(EventTag.REAUTH_FAILED, ctx=ctx, user_id=user.id, details={"method": method})
            self.lockout.register_failure(user, user.email, ctx)
            raise
        self.lockout.register_success(user)
        self.events.record_event(EventTag.REAUTH_SUCCEEDED, ctx=ctx, user_id=user.id, details={"method": method})
        return self.sessions.reauthenticated(session, amr)

    # -- the account's factors as a whole ----------------------------------------------------------

    def _codes_for_new_factor(self, user: User, first: bool, ctx: RequestContext) -> list[str] | None:
        """A set of recovery codes with the account's first second factor, or with a new factor
        when the account has none left (all used or forgotten); else None."""
        return self.codes.regenerate(user, ctx) if first or not self.codes.has(user) else None

    def forget_codes_when_unprotected(self, user: User) -> None:
        """Recovery codes stand in for a second factor; with none left (this package's or
        another capability's, such as the last kAuth device) they would be a way in that the
        security page no longer shows, and every sign-in would burn one: they are deleted."""
        if self.factor_count(user) == 0:
            self.codes.delete(user)

    def _mail(self, user: User, template: str, method: str, ctx: RequestContext, name: str = "") -> None:
        self.mail.queue_for(
            user, template, method=method, key_name=name,
            ip=ctx.ip, when=self.clock.now(),
        )
