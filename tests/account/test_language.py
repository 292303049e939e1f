"""The account's language: a GET never changes it; the account page's form (POST, CSRF) does."""

from __future__ import annotations

import re

import pytest

from tests.conftest import csrf_of
from tests.conftest import outbox


@pytest.fixture
def person(client, auth, make_user):
    person = make_user(locale="en")
    auth.sign_in(person.email, person.password)
    return person


def _choose(client, language, **extra):
    token = csrf_of(client.get("/profile").get_data(as_text=True))
    return client.post("/profile/language", data={"csrf_token": token, **({"language": language} if language else {}), **extra})


@pytest.mark.parametrize("path", ["/?lang=fr", "/security/?lang=fr", "/security/activity/?lang=fr", "/login?lang=fr"])
def test_a_language_link_changes_only_this_browser(client, services, person, path):
    before = services.accounts.user(person.id)
    response = client.get(path)
    assert response.status_code in (200, 302)
    assert client.get_cookie("idp_lang").value == "fr"
    assert "Bonjour" in client.get("/").get_data(as_text=True)
    after = services.accounts.user(person.id)
    assert after.locale == "en" and after.updated_at == before.updated_at


def test_the_profile_offers_the_language_with_the_current_one_chosen(client, person):
    html = client.get("/profile").get_data(as_text=True)
    assert 'action="/profile/language"' in html and 'name="csrf_token"' in html
    assert re.search(r'<input checked [^>]*value="en"', html) and not re.search(r'<input checked [^>]*value="fr"', html)


def test_choosing_a_language_keeps_it_on_the_account_and_its_mail(client, auth, services, person):
    response = _choose(client, "fr")
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    assert services.accounts.user(person.id).locale == "fr"
    assert client.get_cookie("idp_lang").value == "fr"
    page = client.get("/profile").get_data(as_text=True)
    assert "Vos pages et vos e-mails sont désormais en français." in page and "Votre profil" in page
    # Mail follows the account: a failed sign-in is told in French.
    auth.logout()
    auth.identify(person.email)
    assert auth.password("not the password").status_code == 401
    assert outbox(services)[-1]["subject"] == "Échec de connexion à votre compte Identity"


@pytest.mark.parametrize(("language", "message"), [("de", "Not a valid choice."), ("", "Choose a language."),
                                                   ("fr\x00", "Not a valid choice.")])
def test_a_bad_choice_is_refused_with_a_message_and_changes_nothing(client, services, person, language, message):
    response = _choose(client, language)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert services.accounts.user(person.id).locale == "en"
    assert client.get_cookie("idp_lang") is None


def test_without_the_csrf_token_nothing_changes(client, services, person):
    response = client.post("/profile/language", data={"language": "fr"})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert services.accounts.user(person.id).locale == "en"


def test_signed_out_the_form_sends_to_the_sign_in_page(client, services, make_user):
    person = make_user(locale="en")
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/profile/language", data={"csrf_token": token, "language": "fr"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert services.accounts.user(person.id).locale == "en"
