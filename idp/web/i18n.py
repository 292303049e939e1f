"""Languages: the person's choice (account or cookie) first, then the browser's Accept-Language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from babel.dates import format_date
from flask import Flask
from flask import g
from flask import request
from flask_babel import Babel
from flask_babel import get_locale
from werkzeug.wrappers import Response as BaseResponse

from idp.errors import N_
from idp.words import AMR_LABELS
from idp.words import method_words
from idp.words import moment_words

LANGUAGES = ("en", "fr")

def amr_label(method: str) -> str:
    """An RFC 8176 `amr` value's name in the page's language, or the raw value when unknown."""
    from flask_babel import gettext

    label = AMR_LABELS.get(method)
    return str(gettext(label)) if label else method


def amr_words(methods: list[str] | tuple[str, ...] | None) -> str:
    """How a session was authenticated, from its `amr` values alone (see idp.words)."""
    from flask_babel import gettext

    return method_words(None, gettext, amr=methods)


def signin_words(source: object) -> str:
    """How a sign-in was proven, in words: `source` is a session, or an event's details (a
    mapping), with `methods` and `amr`."""
    from flask_babel import gettext

    if isinstance(source, Mapping):
        methods, amr = source.get("methods"), source.get("amr")
    else:
        methods, amr = getattr(source, "methods", None), getattr(source, "amr", None)
    return method_words(methods if isinstance(methods, list) else None, gettext,
                        amr=amr if isinstance(amr, list) else None)


# idp.useragent.describe() writes "<browser> on <system>" in English (stored with events); this
# says it in the page's language.
N_("Unknown browser")
N_("%(browser)s on %(system)s")


def device_label(description: str | None) -> str:
    """A device description from idp.useragent.describe() in the page's language."""
    from flask_babel import gettext

    if not description:
        return ""
    browser, on, system = description.partition(" on ")
    if browser == "Unknown browser":
        browser = str(gettext("Unknown browser"))
    if not on:
        return browser
    return str(gettext("%(browser)s on %(system)s", browser=browser, system=system))


def when(moment: dt.datetime | int | float | None) -> str:
    """A moment (aware datetime or epoch seconds) for people, in the page's language and the
    reader's time zone: "25 nov. 2026, 15:07 CET"; empty for None."""
    return moment_words(moment, str(get_locale()), reader_zone())


def reader_zone() -> str | None:
    """The time zone of the signed-in person (None: UTC)."""
    signed_in = g.get("signed_in")
    return getattr(getattr(signed_in, "user", None), "timezone", None) if signed_in is not None else None


def day(moment: dt.datetime | dt.date | None) -> str:
    """A date for people: "25 novembre 2026" / "November 25, 2026"; empty for None."""
    if moment is None:
        return ""
    if isinstance(moment, dt.datetime):
        moment = moment.astimezone(dt.UTC).date() if moment.tzinfo else moment.date()
    return format_date(moment, "long", locale=str(get_locale()))


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
    app.add_template_filter(amr_words, "amr_words")
    app.add_template_filter(signin_words, "signin_words")
    app.add_template_filter(device_label, "device_label")
    app.add_template_filter(when, "when")
    app.add_template_filter(day, "day")

    @app.after_request
    def _remember_choice(response):  # type: ignore[no-untyped-def]
        # `?lang=` (the language links, followed by a GET) sets only this browser's cookie and
        # changes nothing stored. The account's own language, which its mail uses, changes
        # through the account page's form (a POST with a CSRF token).
        chosen = request.args.get("lang")
        if chosen in LANGUAGES and request.cookies.get(COOKIE) != chosen:
            remember_language(response, chosen)
        return response


def remember_language(response: BaseResponse, language: str) -> None:
    """Keep `language` for this browser's pages (the `idp_lang` cookie, one year)."""
    from idp.web.current import services

    response.set_cookie(COOKIE, language, max_age=365 * 86400, samesite="Lax", httponly=True,
                        secure=services().settings.secure_cookies)


def translate_error(exc: object) -> str:
    """A service's ValidationError in the page's language (its message is marked with N_)."""
    from flask_babel import gettext

    template = getattr(exc, "template", str(exc))
    params = getattr(exc, "params", {}) or {}
    return str(gettext(template, **params))
