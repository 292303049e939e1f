"""Languages: the person's choice (account or cookie) first, then the browser's Accept-Language."""

from __future__ import annotations

from flask import Flask
from flask import g
from flask import request
from flask_babel import Babel
from flask_babel import get_locale

from idp.errors import N_

LANGUAGES = ("en", "fr")

# How a session was authenticated (RFC 8176 `amr` values), in words for people.
AMR_LABELS = {
    "pwd": N_("password"), "mfa": N_("second step"), "otp": N_("authenticator code"),
    "hwk": N_("security key"), "swk": N_("passkey"), "user": N_("PIN or biometrics"),
    "mca": N_("approval on a phone"), "fed": N_("single sign-on"), "sms": N_("text message"),
}


def amr_label(method: str) -> str:
    """The method's name in the page's language, or the raw value when unknown."""
    from flask_babel import gettext

    label = AMR_LABELS.get(method)
    return str(gettext(label)) if label else method
COOKIE = "idp_lang"


def select_locale() -> str:
    chosen = request.args.get("lang") or request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    signed_in = g.get("signed_in")
    if signed_in is not None and signed_in.user.locale in LANGUAGES:
        return str(signed_in.user.locale)
    return request.accept_languages.best_match(LANGUAGES) or g.get("default_locale", "en")


def init_app(app: Flask, translations: str, default_locale: str) -> None:
    Babel(
        app, locale_selector=select_locale, default_translation_directories=translations,
        default_locale=default_locale,
    )
    app.jinja_env.globals["get_locale"] = get_locale
    app.add_template_filter(amr_label, "amr_label")

    @app.after_request
    def _remember_choice(response):  # type: ignore[no-untyped-def]
        chosen = request.args.get("lang")
        if chosen in LANGUAGES:
            if request.cookies.get(COOKIE) != chosen:
                response.set_cookie(COOKIE, chosen, max_age=365 * 86400, samesite="Lax", httponly=True)
            signed_in = g.get("signed_in")
            if signed_in is not None and signed_in.user.locale != chosen:
                # Mail goes out in the account's language, so the choice is kept there too.
                from idp.web.current import services

                services().accounts.set_locale(signed_in.user, chosen)
        return response


def translate_error(exc: object) -> str:
    """A service's ValidationError in the page's language (its message is marked with N_)."""
    from flask_babel import gettext

    template = getattr(exc, "template", str(exc))
    params = getattr(exc, "params", {}) or {}
    return str(gettext(template, **params))
