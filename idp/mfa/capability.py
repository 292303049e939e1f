"""The second-factor capability's declaration: its composition root."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext

# Plural forms are extracted from templates/mfa/overview.html, which shows the same
# phrases (the Python extractor here reads `ngettext` as singular-only).
from flask_babel import ngettext as plural

from idp.account.deletion import AccountEraser
from idp.auth.factors import Enrolled
from idp.auth.factors import Factor
from idp.auth.factors import FactorEnrolment
from idp.auth.factors import FactorSource
from idp.auth.factors import ReauthMethod
from idp.auth.factors import SignInAlternative
from idp.capability import FACTOR_ENROLMENT
from idp.capability import RECOVERY_CODES
from idp.capability import Capability
from idp.capability import Offer
from idp.crypto import Purpose
from idp.crypto import keys_for
from idp.errors import N_
from idp.foundation.review import ReviewItem
from idp.mfa import MFA
from idp.mfa import signin
from idp.mfa import views
from idp.mfa.service import MfaService
from idp.mfa.webauthn import RelyingParty
from idp.mfa.webauthn import browser_can_use
from idp.mfa.webauthn import derive
from idp.model import RequestContext
from idp.model import User
from idp.stores.mfa import RedisMfaStore
from idp.stores.mfa import SqlMfaStore
from idp.stores.redis import Keys
from idp.web.nav import NavEntry

if TYPE_CHECKING:
    from idp.container import Container


@dataclass(frozen=True)
class _Factor:
    """One way of passing the sign-in's second step (see idp.auth.factors.Factor)."""

    name: str
    label: str
    endpoint: str
    fallback: bool = False


TOTP = _Factor("totp", N_("Authenticator app"), "mfa_signin.totp")
KEYS = _Factor("webauthn", N_("Security key or passkey"), "mfa_signin.webauthn")
CODES = _Factor("recovery", N_("Recovery code"), "mfa_signin.recovery", fallback=True)
OWN = frozenset(factor.name for factor in (TOTP, KEYS, CODES))


@dataclass(frozen=True)
class _Enrolled:
    """The three factors' enrolment, from one query (see idp.auth.factors.FactorSource)."""

    service: MfaService

    def enrolled(self, user: User) -> list[Enrolled]:
        found = self.service.enrolment(user)
        return [
            *([Enrolled(TOTP, found.totp_last_used)] if found.totp else []),
            *([Enrolled(KEYS, found.keys_last_used)] if found.keys else []),
            *([Enrolled(CODES)] if found.codes_left else []),
        ]


@dataclass(frozen=True)
class _RecoveryCodes:
    """The recovery codes other capabilities' second factors rely on (see
    idp.auth.factors.RecoveryCodes), offered as `RECOVERY_CODES`."""

    service: MfaService
    endpoint: str = "mfa.recovery_codes"

    def codes_left(self, user: User) -> int:
        return self.service.codes_left(user)

    def regenerate_codes(self, user: User, ctx: RequestContext) -> list[str]:
        return self.service.regenerate_codes(user, ctx)

    def forget_codes_when_unprotected(self, user: User) -> None:
        self.service.forget_codes_when_unprotected(user)

    def shown_codes(self, user: User) -> list[str] | None:
        return self.service.shown_codes(user)


def build(container: Container) -> MfaService:
    settings = container.settings
    conf = settings.mfa
    rp_id, origin = derive(settings.server.base_url, conf.rp_id, conf.origin)
    secret = settings.secret_key.get_secret_value() or "testing-only"
    service = MfaService(
        sql=SqlMfaStore(container.db),
        cache=RedisMfaStore(container.redis, Keys(settings.redis.key_prefix)),
        rp=RelyingParty(rp_id=rp_id, rp_name=conf.rp_name or settings.site_name, origin=origin),
        box=container.secrets, events=container.events, mail=container.mail, clock=container.clock,
        issuer=conf.totp_issuer or settings.site_name,
        recovery_keys=keys_for(secret, Purpose.RECOVERY_CODES),
        recovery_count=conf.recovery_codes, warn_below=conf.recovery_warn_below,
        challenge_ttl=conf.challenge_ttl, sessions=container.sessions, lockout=container.lockout,
    )
    # Removing the last of its own factors keeps the recovery codes while another capability's
    # factor (kAuth) still protects the account.
    service.other_factors = lambda user: sum(
        1 for f in container.factors.for_user(user) if f.name not in OWN
    )
    return service


def _sources(service: MfaService) -> list[tuple[FactorSource, list[Factor]]]:
    return [(_Enrolled(service), [TOTP, KEYS, CODES])]


def _alternatives(service: MfaService) -> list[SignInAlternative]:
    # Not offered where no browser could use it (an IP address, plain http off localhost).
    if not browser_can_use(service.rp.rp_id, service.rp.origin):
        return []
    return [SignInAlternative(lazy_gettext("Sign in with a passkey"), "mfa_signin.passkey")]


def _reauth(service: MfaService) -> list[ReauthMethod]:
    return [ReauthMethod(
        lazy_gettext("Use your authenticator app or security key"), "mfa.reauth",
        lambda user: bool(service.factor_count(user)),
    )]


def _nav(_service: MfaService) -> list[NavEntry]:
    return [NavEntry(
        N_("Two-step verification"), "mfa.overview", order=20, top=True, sections=("mfa", "kauth"),
        description=N_("Authenticator app, security keys and passkeys, kAuth on your phone, recovery codes."),
    )]


def _review(service: MfaService) -> list[ReviewItem]:
    def keys_status(user: User) -> str:
        creds = service.credentials(user)
        passkeys = sum(1 for c in creds if c.kind == "passkey")
        keys = len(creds) - passkeys
        parts = []
        if keys:
            parts.append(str(plural("%(num)d security key", "%(num)d security keys", keys)))
        if passkeys:
            parts.append(str(plural("%(num)d passkey", "%(num)d passkeys", passkeys)))
        return ", ".join(parts) or str(lazy_gettext("None"))

    def totp_status(user: User) -> str:
        return str(lazy_gettext("On") if service.has_totp(user) else lazy_gettext("Off"))

    def codes_status(user: User) -> str:
        if service.factor_count(user) == 0:
            return str(lazy_gettext("Off"))
        left = service.codes_left(user)
        return str(plural("%(num)d recovery code left", "%(num)d recovery codes left", left))

    return [
        ReviewItem(N_("Authenticator app"), "mfa.overview", totp_status),
        ReviewItem(N_("Security keys and passkeys"), "mfa.overview", keys_status),
        ReviewItem(N_("Recovery codes"), "mfa.overview", codes_status),
    ]


def _erasers(service: MfaService) -> list[AccountEraser]:
    return [AccountEraser(
        N_("Your second factors: authenticator app, security keys and passkeys, recovery codes"), service.erase,
    )]


def _offers(service: MfaService) -> list[Offer]:
    # kAuth's pages are listed on /mfa (its nav entry's sections): a phone is a second factor too.
    return [RECOVERY_CODES.offer(_RecoveryCodes(service)),
            FACTOR_ENROLMENT.offer(FactorEnrolment("mfa.overview", ("mfa", "kauth")))]


CAPABILITY = Capability(
    name="mfa", slot=MFA, build=build,
    blueprints=(views.bp, signin.bp),
    factor_sources=_sources, alternatives=_alternatives, reauth_methods=_reauth,
    nav=_nav, review=_review, offers=_offers, erase_account=_erasers,
    tables="idp.stores.tables_mfa", migrations="mfa",
)
