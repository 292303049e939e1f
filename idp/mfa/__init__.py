"""Second factors: TOTP, WebAuthn security keys and passkeys, recovery codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

from idp.auth.factors import Enrolled
from idp.auth.factors import ReauthMethod
from idp.auth.factors import SignInAlternative
from idp.errors import N_
from idp.model import RequestContext
from idp.model import User

if TYPE_CHECKING:
    from idp.auth.factors import RecoveryCodes
    from idp.mfa.service import MfaService


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


@dataclass(frozen=True)
class _Enrolled:
    """The three factors' enrolment, from one query (see idp.auth.factors.FactorSource)."""

    service: Any

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
    idp.auth.factors.RecoveryCodes), offered as `Container.recovery_codes`."""

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


def init_app(app: Any, container: Any) -> None:
    from flask_babel import lazy_gettext

    # Plural forms are extracted from templates/mfa/overview.html, which shows the same
    # phrases (the Python extractor here reads `ngettext` as singular-only).
    from flask_babel import ngettext as plural

    from idp.crypto import Purpose
    from idp.crypto import keys_for
    from idp.foundation.review import ReviewItem
    from idp.mfa import signin
    from idp.mfa import views
    from idp.mfa.service import MfaService
    from idp.mfa.webauthn import RelyingParty
    from idp.mfa.webauthn import browser_can_use
    from idp.mfa.webauthn import derive
    from idp.stores.mfa import RedisMfaStore
    from idp.stores.mfa import SqlMfaStore
    from idp.stores.redis import Keys
    from idp.web.nav import NavEntry

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
    container.ext["mfa"] = service
    codes: RecoveryCodes = _RecoveryCodes(service)
    container.recovery_codes = codes
    own = {"totp", "webauthn", "recovery"}
    service.other_factors = lambda user: sum(
        1 for f in container.factors.for_user(user) if f.name not in own
    )
    app.register_blueprint(views.bp)
    app.register_blueprint(signin.bp)

    container.factors.register_source(_Enrolled(service), [TOTP, KEYS, CODES])
    if browser_can_use(rp_id, origin):
        # Not offered where no browser could use it (an IP address, plain http off localhost).
        container.alternatives.append(SignInAlternative(lazy_gettext("Sign in with a passkey"), "mfa_signin.passkey"))
    container.nav.append(NavEntry(
        N_("Two-step verification"), "mfa.overview", order=20, top=True, sections=("mfa", "kauth"),
        description=N_("Authenticator app, security keys and passkeys, kAuth on your phone, recovery codes."),
    ))
    # Other ways to confirm it is you on /reauth (a list any feature may add to).
    app.jinja_env.globals.setdefault("reauth_alternatives", []).append(
        ReauthMethod(
            lazy_gettext("Use your authenticator app or security key"), "mfa.reauth",
            lambda user: bool(service.factor_count(user)),
        )
    )

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

    container.review.extend([
        ReviewItem(N_("Authenticator app"), "mfa.overview", totp_status),
        ReviewItem(N_("Security keys and passkeys"), "mfa.overview", keys_status),
        ReviewItem(N_("Recovery codes"), "mfa.overview", codes_status),
    ])
