"""kAuth pages: the devices list, "Add kAuth" with its QR code and live status, removal."""

from __future__ import annotations

from idp.kauth import crypto
from idp.mfa import MFA
from idp.model import RequestContext
from tests.conftest import csrf_of
from tests.conftest import events
from tests.conftest import outbox


def signed_in(auth, make_user):
    person = make_user()
    auth.sign_in(person.email, person.password)
    return person


def test_the_devices_page_is_linked_from_the_security_review(auth, client, make_user, phone_for, services):
    person = signed_in(auth, make_user)
    page = client.get("/security/kauth").get_data(as_text=True)
    assert "You have no kAuth device yet." in page
    assert 'href="/security/kauth"' in client.get("/security/").get_data(as_text=True)
    phone_for(person, name="Pixel 9")
    assert "Pixel 9" in client.get("/security/kauth").get_data(as_text=True)
    [item] = [i for i in services.review if i.endpoint == "kauth.devices"]
    with client.application.test_request_context():
        assert item.status(services.users.get(person.id)) == "1 kAuth device"


def test_add_shows_a_qr_code_and_a_link_that_enrols(auth, client, clock, make_user, services):
    from tests.kauth.conftest import Phone

    person = signed_in(auth, make_user)
    page = client.get("/security/kauth/add")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and "kauth/enrol.js" in html
    link = html.split('id="enrolment-link" readonly value="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    from idp.kauth.client import parse_link

    server, token = parse_link(link)
    assert server == services.settings.server.base_url == "http://localhost:5000"
    status_url = html.split('data-status-url="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert client.get(status_url).json == {"status": "pending"}
    assert Phone(client, clock).enrol(token, name="Pixel").status_code == 201
    done = client.get(status_url).json
    assert done["status"] == "done" and done["device"] == "Pixel" and "Pixel" in done["message"]
    assert client.get("/security/kauth/add/status?h=nonsense").json == {"status": "expired"}
    assert events(services, "kauth:device:enrolled")[0]["user_id"] == person.id


def test_add_needs_a_recent_sign_in(auth, client, make_user, clock):
    signed_in(auth, make_user)
    clock.advance(minutes=11)
    response = client.get("/security/kauth/add")
    assert response.status_code == 302 and "/reauth" in response.headers["Location"]


def test_pages_need_a_signed_in_person(client):
    assert client.get("/security/kauth").status_code == 302
    assert client.get("/security/kauth/add/status?h=x").status_code == 302


def test_removal_needs_a_recent_proof_by_any_way_then_tells_everyone(auth, client, make_user, phone_for, services,
                                                                      kauth, clock):
    person = signed_in(auth, make_user)
    phone = phone_for(person, name="Old phone")
    url = f"/security/kauth/devices/{phone.device_id}/remove"
    # A sign-in long ago is not enough: the re-authentication page asks (password, second factor
    # or directory, whichever the account has), then comes back here.
    clock.advance(seconds=services.settings.security.recent_auth_max_age + 1)
    stale = client.get(url)
    assert stale.status_code == 302 and stale.headers["Location"].startswith("/reauth?next=")
    token = csrf_of(client.get("/").get_data(as_text=True))  # any page's token
    assert client.post(url, data={"csrf_token": token}).status_code == 302
    assert kauth.devices_of(services.users.get(person.id)) != []
    [session] = services.sessions.list(person.id)
    services.sessions.reauthenticated(session, ["otp"])  # e.g. an authenticator app on /reauth/factor
    page = client.get(url)
    assert page.status_code == 200 and "Old phone" in page.get_data(as_text=True)
    assert 'type="password"' not in page.get_data(as_text=True)
    forged = client.post(url, data={"csrf_token": "forged"})
    assert forged.status_code == 400 and kauth.devices_of(services.users.get(person.id)) != []

    done = client.post(url, data={"csrf_token": csrf_of(page.get_data(as_text=True)), "understood": "y"})
    assert done.status_code == 302 and done.headers["Location"] == "/security/kauth"
    assert kauth.devices_of(services.users.get(person.id)) == []
    [event] = events(services, "kauth:device:removed")
    assert event["details"]["by"] == "account" and event["user_id"] == person.id
    mail = outbox(services)[-1]
    assert mail["to"] == person.email and "Old phone" in mail["body"]
    # The device is told by push, with a notice signed by the server ...
    device_id, notice = kauth.push.sent[-1]
    assert device_id == phone.device_id and notice["type"] == "removed"
    assert crypto.verify_notice(phone.server_public_key, notice)
    # ... and on its next request; its key no longer works for anything.
    gone = phone.call("GET", "/challenges")
    assert gone.status_code == 410 and gone.json["error"] == "device_removed"
    assert crypto.verify_notice(phone.server_public_key, gone.json["notice"])
    answer = phone.answer("kc_" + "c" * 24, "deny")
    assert answer.status_code == 410
    assert client.get(url).status_code == 302


def test_removing_someone_elses_device_is_refused(auth, client, make_user, phone_for, kauth, services):
    other = make_user()
    phone = phone_for(other)
    signed_in(auth, make_user)
    page = client.get(f"/security/kauth/devices/{phone.device_id}/remove")
    assert page.status_code == 302
    assert kauth.devices_of(services.users.get(other.id)) != []
    assert client.get("/security/kauth/devices/nonsense/remove").status_code == 302


def test_a_removed_device_cannot_approve_a_sign_in(auth, client, make_user, phone_for, services, kauth, app):
    person = make_user()
    kept, removed = phone_for(person, name="kept"), phone_for(person, name="removed")
    auth.sign_in(person.email, person.password)
    html = client.get("/login/kauth").get_data(as_text=True)
    [challenge] = kept.pending()
    from tests.kauth.conftest import waiting_number

    kauth.remove_device(services.users.get(person.id), removed.device_id, RequestContext())
    refused = removed.answer(challenge["id"], "approve", waiting_number(html))
    assert refused.status_code == 410 and refused.json["error"] == "device_removed"
    assert kept.answer(challenge["id"], "approve", waiting_number(html)).json == {"status": "approved"}


def test_the_first_device_brings_recovery_codes(auth, client, clock, make_user, services, kauth):
    from tests.kauth.conftest import Phone

    person = signed_in(auth, make_user)
    user = services.users.get(person.id)
    mfa = services.get(MFA)
    assert mfa.codes_left(user) == 0
    html = client.get("/security/kauth/add").get_data(as_text=True)
    token = html.split("token=", 1)[1].split('"', 1)[0]
    status_url = html.split('data-status-url="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert Phone(client, clock).enrol(token).status_code == 201
    done = client.get(status_url).json
    assert done["next"].endswith("/recovery-codes") and done["next_label"] == "Save your recovery codes now"
    assert mfa.codes_left(user) == services.settings.mfa.recovery_codes
    codes = mfa.shown_codes(user)
    # A second device keeps the codes the person already has.
    second = kauth.start_enrolment(user)
    assert Phone(client, clock).enrol(second.token).status_code == 201
    assert mfa.shown_codes(user) == codes


def test_pages_speak_french(auth, client, make_user, phone_for):
    person = signed_in(auth, make_user)
    phone_for(person, name="Pixel")
    page = client.get("/security/kauth?lang=fr").get_data(as_text=True)
    assert "Appareils kAuth" in page and "1 appareil kAuth" in page and "Retirer Pixel" in page


def test_mails_go_out_in_the_owners_language(make_user, phone_for, services, kauth):
    person = make_user(locale="fr")
    phone = phone_for(person, name="Pixel")
    kauth.remove_device(services.users.get(person.id), phone.device_id, RequestContext(ip="10.1.2.3"))
    added, removed = outbox(services)[-2:]
    assert added["subject"].startswith("Un appareil kAuth a été ajouté")
    assert removed["subject"].startswith("Un appareil kAuth a été retiré")
    assert "« Pixel » a été retiré de votre compte, depuis 10.1.2.3" in removed["body"]


def test_removing_the_last_second_factor_warns_offers_another_and_needs_a_tick(
    auth, client, make_user, phone_for, services, kauth,
):
    person = signed_in(auth, make_user)
    phone = phone_for(person, name="Only phone")
    user = services.users.get(person.id)
    mfa = services.get(MFA)
    assert mfa.codes_left(user) > 0  # the first device came with recovery codes
    url = f"/security/kauth/devices/{phone.device_id}/remove"
    page = client.get(url).get_data(as_text=True)
    assert "This is your last second step" in page
    for offer in ('href="/mfa/totp"', 'href="/mfa/keys/add?kind=security_key"', 'href="/security/kauth/add"'):
        assert offer in page, offer
    unticked = client.post(url, data={"csrf_token": csrf_of(page)})
    assert unticked.status_code == 400 and "Tick the box" in unticked.get_data(as_text=True)
    assert kauth.devices_of(user) != []
    done = client.post(url, data={"csrf_token": csrf_of(page), "understood": "y"})
    assert done.status_code == 302 and kauth.devices_of(user) == []
    # Recovery codes alone would make every sign-in burn one: they go with the last factor, and
    # the two-step page says it is off.
    assert mfa.codes_left(user) == 0
    overview = client.get("/mfa").get_data(as_text=True)
    assert "Two-step verification is off" in overview


def test_a_device_that_is_not_the_last_factor_goes_without_the_warning(
    auth, client, make_user, phone_for, services, kauth,
):
    person = signed_in(auth, make_user)
    first = phone_for(person, name="First phone")
    phone_for(person, name="Second phone")
    page = client.get(f"/security/kauth/devices/{first.device_id}/remove").get_data(as_text=True)
    assert "This is your last second step" not in page and 'name="understood"' not in page
    done = client.post(f"/security/kauth/devices/{first.device_id}/remove", data={"csrf_token": csrf_of(page)})
    assert done.status_code == 302
    user = services.users.get(person.id)
    [left] = kauth.devices_of(user)
    assert left.name == "Second phone" and services.get(MFA).codes_left(user) > 0


def test_the_two_step_page_lists_kauth_with_the_other_factors(auth, client, make_user, phone_for):
    person = signed_in(auth, make_user)
    page = client.get("/mfa").get_data(as_text=True)
    assert "kAuth on your phone" in page and 'href="/security/kauth"' in page
    assert "Two-step verification is off" in page
    phone_for(person, name="Pixel 9")
    page = client.get("/mfa").get_data(as_text=True)
    assert "1 kAuth device" in page and "Two-step verification is on" in page
    french = client.get("/mfa?lang=fr").get_data(as_text=True)
    assert "kAuth sur votre téléphone" in french
