"""The page frame every page shares: the language switcher, landmarks, headings."""

from __future__ import annotations

import html
import re


def _lang_links(page: str) -> dict[str, str]:
    found = re.findall(r'<a href="([^"]*)" lang="(en|fr)"', page)
    return {lang: html.unescape(href) for href, lang in found}


def test_language_switcher_keeps_the_query_of_the_page(client):
    # A consent request or activity filters live in the query: switching language must keep them.
    page = client.get("/login?next=/security/&lang=en").get_data(as_text=True)
    links = _lang_links(page)
    assert links["fr"] == "/login?next=%2Fsecurity%2F&lang=fr"
    assert links["en"] == "/login?next=%2Fsecurity%2F&lang=en"
    french = client.get(links["fr"]).get_data(as_text=True)
    assert '<html lang="fr">' in french and 'value="/security/"' in french


def test_language_switcher_on_a_page_without_query(client):
    links = _lang_links(client.get("/login").get_data(as_text=True))
    assert links == {"en": "/login?lang=en", "fr": "/login?lang=fr"}


def test_pages_have_one_h1_and_a_main_landmark(client, auth, make_user):
    person = make_user()
    auth.sign_in(person.email, person.password)
    for path in ("/", "/security/", "/security/sessions", "/mfa", "/security/credentials", "/no-such-page"):
        for lang in ("en", "fr"):
            page = client.get(f"{path}?lang={lang}").get_data(as_text=True)
            assert page.count("<h1") == 1, (path, lang)
            assert page.count('<main id="main"') == 1, (path, lang)


CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0.0.0 Safari/537.36")


def test_devices_are_described_in_the_page_language(client, auth, make_user):
    client.environ_base["HTTP_USER_AGENT"] = CHROME
    person = make_user()
    auth.sign_in(person.email, person.password)
    for path in ("/", "/security/sessions", "/security/activity/"):
        english = client.get(f"{path}?lang=en").get_data(as_text=True)
        assert "Chrome 120 on Windows 10" in english, path
        french = client.get(f"{path}?lang=fr").get_data(as_text=True)
        assert "Chrome 120 sous Windows 10" in french and " on Windows" not in french, path


def test_an_unknown_browser_is_named_in_french(app):
    from idp.web.i18n import device_label

    with app.test_request_context("/?lang=fr"):
        assert device_label("Unknown browser") == "Navigateur inconnu"
        assert device_label("Unknown browser on Linux") == "Navigateur inconnu sous Linux"
        assert device_label(None) == ""


def test_moments_and_days_are_written_for_people_in_each_language(app):
    import datetime as dt

    from idp.web.i18n import day
    from idp.web.i18n import when

    moment = dt.datetime(2026, 11, 25, 14, 7, 33, tzinfo=dt.UTC)
    with app.test_request_context("/?lang=en"):
        # The locale's own clock (CLDR): 12-hour with a narrow no-break space in English.
        assert when(moment) == "Nov 25, 2026, 2:07\u202fPM UTC"
        assert when(int(moment.timestamp())) == "Nov 25, 2026, 2:07\u202fPM UTC"
        assert day(moment) == "November 25, 2026"
        assert when(None) == "" and day(None) == ""
    with app.test_request_context("/?lang=fr"):
        assert when(moment) == "25 nov. 2026, 14:07 UTC"
        assert day(moment) == "25 novembre 2026"


def test_moments_are_written_in_the_readers_time_zone():
    import datetime as dt

    from idp.words import moment_words

    winter = dt.datetime(2026, 11, 25, 14, 7, 33, 123456, tzinfo=dt.UTC)
    summer = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
    assert moment_words(winter, "fr", "Europe/Zurich") == "25 nov. 2026, 15:07 CET"
    assert moment_words(summer, "fr", "Europe/Zurich") == "1 juil. 2026, 14:00 CEST"
    assert moment_words(winter, "en", "America/New_York") == "Nov 25, 2026, 9:07\u202fAM EST"
    # No seconds, no microseconds; an unknown zone reads as UTC rather than failing.
    assert moment_words(winter, "fr", "Mars/Olympus") == "25 nov. 2026, 14:07 UTC"
    # A zone without an abbreviation shows its offset.
    assert moment_words(winter, "fr", "America/Sao_Paulo") == "25 nov. 2026, 11:07 UTC-03:00"


def test_the_sessions_page_shows_friendly_dates(client, auth, make_user):
    person = make_user()
    auth.sign_in(person.email, person.password)
    page = client.get("/security/sessions?lang=fr").get_data(as_text=True)
    assert re.search(r"\d{1,2} [a-zéû]+\.? \d{4}, \d\d:\d\d UTC", page)
    assert not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", page)


def test_sign_in_methods_read_password_first_without_a_redundant_second_step(app):
    from idp.web.i18n import amr_words

    with app.test_request_context("/?lang=en"):
        assert amr_words(["mfa", "otp", "pwd"]) == "password, authenticator code"
        assert amr_words(["pwd"]) == "password"
        assert amr_words(["hwk", "mfa", "pwd", "user"]) == "password, security key, PIN or biometrics"
        assert amr_words(None) == ""
    with app.test_request_context("/?lang=fr"):
        assert amr_words(["mfa", "otp", "pwd"]) == "mot de passe, code d'application d'authentification"


def test_a_checkbox_field_puts_its_label_after_the_box(app):
    from flask import render_template_string
    from wtforms import BooleanField
    from wtforms import Form
    from wtforms import StringField

    class Example(Form):
        name = StringField("Name")
        agree = BooleanField("I agree")

    with app.test_request_context("/"):
        page = render_template_string(
            '{% from "_forms.html" import field %}{{ field(form.name) }}{{ field(form.agree) }}', form=Example(),
        )
    name_at, name_label_at = page.index('id="name"'), page.index('<label for="name"')
    agree_at, agree_label_at = page.index('id="agree"'), page.index('<label for="agree"')
    assert name_label_at < name_at  # a text field: label above
    assert agree_at < agree_label_at and 'class="field choice"' in page  # a checkbox: box, then label


def test_navigation_marks_the_current_page(client, auth, make_user):
    person = make_user()
    auth.sign_in(person.email, person.password)
    page = client.get("/security/sessions").get_data(as_text=True)
    assert '<a href="/security/" aria-current="page">Security</a>' in page
    assert '<a href="/security/sessions" aria-current="page">Sessions and devices</a>' in page
    assert '<a href="/security/" aria-current="page">Overview</a>' not in page
    home = client.get("/").get_data(as_text=True)
    assert '<a href="/" aria-current="page">Your account</a>' in home
    assert 'aria-current="page">Security</a>' not in home


def test_a_bad_request_page_speaks_the_page_language(app, client):
    from werkzeug.exceptions import BadRequest

    def refuse():
        raise BadRequest()  # Werkzeug's own English description

    app.add_url_rule("/test-bad-request", "test_bad_request", refuse)
    french = client.get("/test-bad-request?lang=fr")
    page = french.get_data(as_text=True)
    assert french.status_code == 400 and "Bad Request" not in page
    assert "<h1>Cette requête ne peut pas être utilisée</h1>" in page
    english = client.get("/test-bad-request?lang=en").get_data(as_text=True)
    assert "<h1>This request cannot be used</h1>" in english and "malformed" in english
