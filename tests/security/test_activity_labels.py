"""Every action of the activity log reads as words, in English and French, never as a raw tag."""

from __future__ import annotations

from idp.events import EventTag
from idp.security.activity import action_label


def test_every_event_tag_has_words(app):
    from flask_babel import gettext

    missing = [tag for tag in EventTag if action_label(tag) == tag]
    assert missing == []
    with app.test_request_context("/?lang=fr"):
        untranslated = [tag for tag in EventTag if gettext(action_label(tag)) == action_label(tag)]
    assert untranslated == []


def test_the_activity_page_names_later_features_actions(client, auth, make_user, services):
    person = make_user()
    auth.sign_in(person.email, person.password)
    from idp.model import RequestContext

    services.events.record_event(
        EventTag.MFA_TOTP_ADDED, ctx=RequestContext(ip="192.0.2.1", user_agent=""),
        user_id=person.id, product="account",
    )
    english = client.get("/security/activity/?lang=en").get_data(as_text=True)
    assert '<td data-label="Action">Authenticator app added</td>' in english and ">mfa:totp:added<" not in english
    french = client.get("/security/activity/?lang=fr").get_data(as_text=True)
    assert '<td data-label="Action">Application d\'authentification ajoutée</td>' in french
