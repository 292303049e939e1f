"""Identity provider and account-security service."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from idp.settings import Settings
from idp.settings import load_settings

if TYPE_CHECKING:
    from idp.capability import Pluggable

__all__ = ["CAPABILITIES", "capabilities", "create_app"]

# The capabilities that plug into the foundation, in the order they contribute (second factors,
# review lines ...). Each module holds one `CAPABILITY` (idp.capability.Capability) that declares
# all it adds; they are named here by module so that importing `idp` imports none of them.
CAPABILITIES = (
    "idp.mfa.capability",
    "idp.security.center.capability",
    "idp.security.credentials.capability",
    "idp.oidc.capability",
    "idp.kauth.capability",
    "idp.federation.capability",
    "idp.domains.capability",
    "idp.money.capability",
    "idp.partners.capability",
)


def capabilities() -> tuple[Pluggable, ...]:
    """The declarations of `CAPABILITIES`. Each ships with the package: one that cannot be
    imported is a broken installation and stops the start-up with its own error."""
    import importlib

    return tuple(importlib.import_module(name).CAPABILITY for name in CAPABILITIES)


def create_app(settings: Settings | None = None, **build: Any) -> Flask:
    """The application factory; `build` passes test doubles (clock, mailer) to the container."""
    from idp import logs
    from idp.account import profile
    from idp.account import profile_views
    from idp.account.deletion_views import bp as deletion_bp
    from idp.account.email_views import bp as email_bp
    from idp.account.invitation_views import bp as invitations_bp
    from idp.account.org_views import bp as orgs_bp
    from idp.account.phone_views import bp as phones_bp
    from idp.account.profile_views import bp as profile_bp
    from idp.account.signup_views import bp as signup_bp
    from idp.account.views import bp as account_bp
    from idp.account.views_password import bp as password_bp
    from idp.auth.views import bp as auth_bp
    from idp.container import Container
    from idp.container import resource_dir
    from idp.web import current
    from idp.web import i18n
    from idp.web import plumbing
    from idp.web.csrf import SameOriginCSRF
    from idp.web.health import bp as health_bp

    settings = settings or load_settings()
    if not settings.testing:
        logs.configure(settings.log.level, json_format=settings.log.json_format)
    app = Flask(
        __name__,
        template_folder=str(resource_dir("templates")),
        static_folder=str(resource_dir("static")),
        instance_path=str(settings.instance_path.resolve()),
    )
    secure = settings.secure_cookies
    app.config.update(
        SECRET_KEY=settings.secret_key.get_secret_value() or "testing-only",
        # Flask's own cookie holds only the sign-in form's CSRF secret and language hints.
        SESSION_COOKIE_NAME="__Host-idp_pre" if secure else "idp_pre",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(seconds=settings.session.signin_flow_ttl),
        MAX_CONTENT_LENGTH=1024 * 1024,
        WTF_CSRF_TIME_LIMIT=3600,
        # The origin check of idp.web.csrf replaces Flask-WTF's strict-SSL Referer check
        # (decision 0605).
        WTF_CSRF_SSL_STRICT=False,
        TESTING=settings.testing,
    )
    if settings.server.trusted_proxies:
        n = settings.server.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]

    installed = capabilities()
    container = Container.build(settings, capabilities=installed, **build)
    app.extensions["idp"] = container

    # Before the CSRF check, which is the first to read a form.
    app.before_request(plumbing.apply_upload_limit)
    SameOriginCSRF(app)
    current.init_login(app)
    i18n.init_app(app, str(resource_dir("translations")), settings.default_locale)
    plumbing.init_app(app)
    app.jinja_env.globals["site_name"] = settings.site_name
    app.jinja_env.globals["nav_items"] = lambda: container.nav
    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(profile_bp)
    app.register_blueprint(phones_bp)
    app.register_blueprint(email_bp)
    app.register_blueprint(deletion_bp)
    app.jinja_env.globals["picture_url"] = profile_views.picture_url
    app.add_template_filter(profile.initials, "initials")
    app.register_blueprint(password_bp)
    app.register_blueprint(signup_bp)
    app.register_blueprint(orgs_bp)
    app.register_blueprint(invitations_bp)
    for capability in installed:
        capability.plug_flask(app, container)

    if settings.mail.background_delivery and not settings.testing:
        container.outbox.start_thread()
    return app

