"""Signing in with kAuth: number matching, wrong number, deny, "not me", expiry, one at a time, cap."""

from __future__ import annotations

import re
import threading

import pytest

from idp.kauth import KAUTH
from idp.kauth.errors import AlreadyAnsweredError
from idp.kauth.factor import KauthFactor
from idp.mfa import MFA
from idp.model import RequestContext
from tests.conftest import events
from tests.conftest import outbox
from tests.kauth.conftest import check
from tests.kauth.conftest import waiting_number


def start(auth, client, person):
    response = auth.sign_in(person.email, person.password)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login/kauth")
    page = client.get("/login/kauth")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_approving_with_the_right_number_signs_in(auth, client, make_user, phone_for, services):
    person = make_user()
    phone = phone_for(person)
    html = start(auth, client, person)
    number = waiting_number(html)
    [challenge] = phone.pending()
    assert number in challenge["options"] and len(set(challenge["options"])) == 3
    assert challenge["context"]["ip"] == "127.0.0.1"
    assert "number" not in challenge
    # Each device was nudged; the push carries no number.
    device_id, push = services.get(KAUTH).push.sent[-1]
    assert device_id == phone.device_id and push == {
        "type": "challenge", "challenge_id": challenge["id"], "expires_at": challenge["expires_at"]}
    assert client.get("/login/kauth/status").json == {"status": "pending"}

    answered = phone.answer(challenge["id"], "approve", number)
    assert answered.status_code == 200 and answered.json == {"status": "approved"}
    assert client.get("/login/kauth/status").json == {"status": "approved"}
    done = check(client, html)
    assert done.status_code == 302 and done.headers["Location"] == "/"
    [signin] = events(services, "account:signin:succeeded")
    assert signin["details"]["amr"] == ["mca", "mfa", "pwd", "swk"]
    assert events(services, "kauth:challenge:approved")[0]["user_id"] == person.id
    assert "Hello" in client.get("/").get_data(as_text=True)


def test_an_approval_completes_one_sign_in_only(auth, client, make_user, phone_for):
    person = make_user()
    phone = phone_for(person)
    html = start(auth, client, person)
    [challenge] = phone.pending()
    phone.answer(challenge["id"], "approve", waiting_number(html))
    assert check(client, html).status_code == 302
    assert phone.answer(challenge["id"], "approve", waiting_number(html)).status_code == 409


def test_a_wrong_number_refuses_the_sign_in(auth, client, make_user, phone_for, services):
    person = make_user()
    phone = phone_for(person)
    html = start(auth, client, person)
    number = waiting_number(html)
    [challenge] = phone.pending()
    wrong = next(n for n in challenge["options"] if n != number)
    answered = phone.answer(challenge["id"], "approve", wrong)
    assert answered.json == {"status": "wrong_number"}
    refused = check(client, html)
    assert refused.status_code == 401
    assert "did not match" in refused.get_data(as_text=True)
    assert events(services, "kauth:challenge:wrong_number")
    assert events(services, "account:signin:failed")[-1]["details"] == {"reason": "factor", "factor": "kauth"}
    assert services.sessions.list(person.id) == []


def test_a_deny_refuses_the_sign_in(auth, client, make_user, phone_for, services):
    person = make_user()
    phone = phone_for(person)
    html = start(auth, client, person)
    [challenge] = phone.pending()
    assert phone.answer(challenge["id"], "deny").json == {"status": "denied"}
    refused = check(client, html)
    assert refused.status_code == 401
    page = refused.get_data(as_text=True)
    assert "The sign-in was refused." in page and "Send a new request" not in page
    assert events(services, "kauth:challenge:denied")
    assert services.sessions.list(person.id) == []
    # The attempt is over: no new request reaches the phone without the password again.
    assert client.get("/login/kauth").headers["Location"].endswith("/login")
    assert phone.pending() == []


def test_this_was_not_me_reports_and_mails_the_owner(auth, client, make_user, phone_for, services):
    person = make_user()
    phone = phone_for(person)
    html = start(auth, client, person)
    [challenge] = phone.pending()
    answered = phone.answer(challenge["id"], "deny", reason="not_me")
    assert answered.json["status"] == "reported"
    assert answered.json["wizard_url"] == services.settings.server.base_url + "/security/compromised/"
    [reported] = events(services, "kauth:challenge:reported")
    assert reported["details"]["signin_ip"] == "127.0.0.1"
    mail = outbox(services)[-1]
    assert mail["to"] == person.email and "not you" in mail["body"] and answered.json["wizard_url"] in mail["body"]
    # The moment is written for its reader, not as a raw ISO timestamp with microseconds.
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", mail["body"])
    assert re.search(r"at \w{3} \d{1,2}, \d{4}, \d{1,2}:\d\d\u202f[AP]M UTC\.", mail["body"]), mail["body"]
    # The browser that asked may be whoever knew the password: it is told only that the request
    # was refused, exactly as for a plain deny, never that it was reported or that mail went.
    assert client.get("/login/kauth/status").json == {"status": "denied"}
    refused = check(client, html)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 401 and "The sign-in was refused." in page
    for leak in ("reported", "not you", "e-mailed", "Send a new request"):
        assert leak not in page, leak
    assert client.get("/login/kauth").headers["Location"].endswith("/login")
    assert phone.pending() == [] and len(events(services, "kauth:challenge:sent")) == 1


def test_an_expired_request_cannot_be_answered(auth, client, make_user, phone_for, clock, services):
    person = make_user()
    phone = phone_for(person)
    html = start(auth, client, person)
    [challenge] = phone.pending()
    clock.advance(seconds=121)
    assert phone.pending() == []
    late = phone.answer(challenge["id"], "approve", waiting_number(html))
    assert late.status_code == 410 and late.json["error"] == "challenge_expired"
    assert client.get("/login/kauth/status").json == {"status": "expired"}
    page = check(client, html)
    assert "expired" in page.get_data(as_text=True)
    assert services.sessions.list(person.id) == []
    # A new request can be sent once the old one expired.
    again = client.get("/login/kauth")
    assert again.status_code == 200 and len(events(services, "kauth:challenge:sent")) == 2


def test_two_racing_answers_one_wins(auth, client, make_user, phone_for, services, kauth):
    person = make_user()
    phones = [phone_for(person, name="one"), phone_for(person, name="two")]
    html = start(auth, client, person)
    [challenge] = phones[0].pending()
    number = waiting_number(html)
    devices = {d.name: d for d in kauth.devices_of(services.users.get(person.id))}
    from idp.kauth import crypto

    barrier = threading.Barrier(2)
    results: list[str] = []

    def answer(name: str, phone) -> None:
        payload = {"decision": "approve", "number": number,
                   "signature": crypto.sign(phone.key, crypto.answer_string(challenge["id"], "approve", number))}
        barrier.wait()
        try:
            results.append(kauth.answer(devices[name], challenge["id"], payload, RequestContext("10.0.0.1"),
                                        wizard_url="http://x/"))
        except AlreadyAnsweredError:
            results.append("refused")

    threads = [threading.Thread(target=answer, args=(n, p)) for n, p in zip(("one", "two"), phones, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["approved", "refused"]
    assert len(events(services, "kauth:challenge:approved")) == 1


def test_one_pending_request_per_account(app, auth, client, make_user, phone_for, services):
    person = make_user()
    phone = phone_for(person)
    start(auth, client, person)
    other = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(other).sign_in(person.email, person.password)
    busy = other.get("/login/kauth")
    assert busy.status_code == 409
    assert "already waiting" in busy.get_data(as_text=True)
    assert len(phone.pending()) == 1
    assert len(events(services, "kauth:challenge:sent")) == 1


def test_no_request_before_the_password(auth, client, make_user, phone_for, services):
    person = make_user()
    phone_for(person)
    auth.identify(person.email)
    assert client.get("/login/kauth").status_code == 302
    auth.password("wrong password")
    assert client.get("/login/kauth").status_code == 302
    assert events(services, "kauth:challenge:sent") == []


def _reach_the_cap(auth, client, person, services, clock):
    cap = services.settings.kauth.hourly_cap
    for _ in range(cap):
        start(auth, client, person)
        clock.advance(seconds=125)
    return cap


def test_past_the_hourly_cap_kauth_is_not_offered(auth, client, make_user, phone_for, services, clock):
    person = make_user()
    phone_for(person)  # the first device also brought recovery codes: another factor
    cap = _reach_the_cap(auth, client, person, services, clock)
    user = services.users.get(person.id)
    factor = services.factors.get("kauth")
    assert not factor.enrolled(user)
    assert "kauth" not in [f.name for f in services.factors.for_user(user)]
    response = auth.sign_in(person.email, person.password)
    assert response.status_code == 302 and not response.headers["Location"].endswith("/login/kauth")
    assert client.get("/login/kauth").status_code == 302
    assert len(events(services, "kauth:challenge:sent")) == cap
    clock.advance(minutes=61)
    assert factor.enrolled(user)


def test_past_the_cap_an_only_factor_stays_required_and_says_to_wait(
    auth, client, make_user, phone_for, services, clock
):
    person = make_user()
    phone_for(person)
    services.get(MFA).sql.delete_codes(person.id)  # kAuth is now the only second factor
    cap = _reach_the_cap(auth, client, person, services, clock)
    assert services.factors.get("kauth").enrolled(services.users.get(person.id))
    auth.sign_in(person.email, person.password)
    capped = client.get("/login/kauth")
    assert capped.status_code == 429
    assert "Too many approval requests" in capped.get_data(as_text=True)
    assert len(events(services, "kauth:challenge:sent")) == cap
    assert events(services, "kauth:challenge:capped")
    assert services.sessions.list(person.id) == []


def test_the_factor_is_offered_only_with_an_active_device(make_user, services, kauth, phone_for):
    person = make_user()
    user = services.users.get(person.id)
    factor = services.factors.get("kauth")
    assert isinstance(factor, KauthFactor) and not factor.enrolled(user)
    phone_for(person)
    assert factor.enrolled(user)


@pytest.mark.parametrize("data", [{}, {"action": "nonsense"}])
def test_the_waiting_page_refuses_bad_forms(auth, client, make_user, phone_for, data):
    person = make_user()
    phone_for(person)
    start(auth, client, person)
    response = client.post("/login/kauth", data=data)
    assert response.status_code in (302, 400)
