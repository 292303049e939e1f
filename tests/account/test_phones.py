"""Phone numbers on the profile: parsed to E.164, confirmed by a texted code that is single-use,
expiring and limited in tries; another person's numbers are out of reach; bad input gets a message."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from http.server import BaseHTTPRequestHandler
from http.server import HTTPServer
from typing import ClassVar

import pytest

from idp.sms import NullSmsSender
from idp.sms import SmsDeliveryError
from idp.sms import WebhookSmsSender
from tests.conftest import AuthActions
from tests.conftest import csrf_of
from tests.conftest import events

OFFICE = "+41 44 668 18 00"


@pytest.fixture
def person(client, auth, make_user):
    person = make_user(email="ada@example.com", locale="en")
    auth.sign_in(person.email, person.password)
    return person


def _token(client, path="/profile") -> str:
    return csrf_of(client.get(path).get_data(as_text=True))


def add(client, number=OFFICE, label="Office"):
    return client.post("/profile/phones", data={"csrf_token": _token(client), "number": number, "label": label})


def texted(services) -> tuple[str, str]:
    """The last text message: (number, six-digit code)."""
    number, text = services.phones.sms.sent[-1]
    code = re.match(r"(\d{6}) is your ", text)
    assert code, text
    return number, code.group(1)


def enter(client, phone_id, code):
    token = _token(client, f"/profile/phones/{phone_id}/confirm")
    return client.post(f"/profile/phones/{phone_id}/confirm", data={"csrf_token": token, "code": code})


def only_phone(services, person):
    [phone] = services.phones.phones.list(person.id)
    return phone


def test_a_number_is_kept_as_e164_and_confirmed_by_the_texted_code(client, services, person):
    response = add(client)
    phone = only_phone(services, person)
    assert response.status_code == 302 and response.headers["Location"] == f"/profile/phones/{phone.id}/confirm"
    assert (phone.number, phone.label, phone.verified) == ("+41446681800", "Office", False)
    number, code = texted(services)
    assert number == "+41446681800"
    page = client.get(f"/profile/phones/{phone.id}/confirm").get_data(as_text=True)
    assert "We texted a code to +41 44 668 18 00." in page and "Enter the 6-digit code" in page

    confirmed = enter(client, phone.id, f"{code[:3]} {code[3:]}")  # spaces as people type them
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/profile"
    assert only_phone(services, person).verified
    # The number applications get (OpenID phone_number) is the first confirmed one.
    assert services.users.get(person.id).phone_number == "+41446681800"
    profile = client.get("/profile").get_data(as_text=True)
    assert '">+41 44 668 18 00</td>' in profile and '">Confirmed</td>' in profile
    [event] = events(services, "account:phone:confirmed")
    assert event["user_id"] == person.id
    # Confirmed: its page leads back to the profile, and the code is gone (single use).
    back = client.get(f"/profile/phones/{phone.id}/confirm")
    assert back.status_code == 302 and back.headers["Location"] == "/profile"
    assert services.phones.codes.check(person.id, phone.id, "anything", 5) == "missing"


def test_a_number_without_its_country_code_is_read_in_the_default_region(client, services, person):
    add(client, number="044 668 18 00", label="")
    assert only_phone(services, person).number == "+41446681800"


@pytest.mark.parametrize(("number", "message"), [
    ("", "Enter a phone number."),
    ("call me maybe", "This is not a phone number."),
    ("+41 00", "This number does not exist"),
    ("+1 555 0100", "This number does not exist"),
    ("+" + "4" * 60, "This is not a phone number."),
])
def test_what_is_not_a_phone_number_gets_its_reason(client, services, person, number, message):
    response = add(client, number=number)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert services.phones.phones.list(person.id) == [] and not services.phones.sms.sent


@pytest.mark.parametrize(("label", "message"), [
    ("L" * 41, "The label is too long (40 characters at most)."),
    ("Mobile\u202e", "The label contains characters that cannot be shown."),
])
def test_a_bad_label_gets_its_reason(client, services, person, label, message):
    response = add(client, label=label)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert services.phones.phones.list(person.id) == []


def test_a_number_twice_and_a_sixth_number_are_refused(client, services, person):
    add(client)
    twice = add(client, number="+41446681800")
    assert twice.status_code == 400 and "This number is already on your profile." in twice.get_data(as_text=True)
    for n in range(1, 5):
        add(client, number=f"+41 79 123 45 6{n}")
    assert len(services.phones.phones.list(person.id)) == 5
    sixth = add(client, number="+41 79 123 45 69")
    assert sixth.status_code == 400 and "5 phone numbers at most" in sixth.get_data(as_text=True)


def test_wrong_codes_are_counted_and_the_fifth_kills_the_code(client, services, person):
    add(client)
    phone = only_phone(services, person)
    _number, code = texted(services)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(4):
        refused = enter(client, phone.id, wrong)
        assert refused.status_code == 400 and "This code is not the one we sent." in refused.get_data(as_text=True)
    last = enter(client, phone.id, wrong)
    assert "was tried too many times: send a new one" in last.get_data(as_text=True)
    assert "was tried too many times" in enter(client, phone.id, code).get_data(as_text=True)
    assert not only_phone(services, person).verified


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦"])
def test_a_code_that_is_not_six_digits_is_refused_without_a_try(client, services, person, code):
    add(client)
    phone = only_phone(services, person)
    response = enter(client, phone.id, code)
    assert response.status_code == 400 and "Enter the 6-digit code" in response.get_data(as_text=True)
    assert enter(client, phone.id, texted(services)[1]).status_code == 302


def test_a_code_lives_ten_minutes_and_a_new_one_replaces_it(client, services, person, redis_url):
    import redis

    add(client)
    phone = only_phone(services, person)
    first = texted(services)[1]
    key = services.phones.codes._key(person.id, phone.id)
    assert 590 <= redis.Redis.from_url(redis_url).ttl(key) <= 600
    token = _token(client, f"/profile/phones/{phone.id}/confirm")
    resent = client.post(f"/profile/phones/{phone.id}/resend", data={"csrf_token": token})
    assert resent.status_code == 302
    second = texted(services)[1]
    if second != first:
        assert "This code is not the one we sent." in enter(client, phone.id, first).get_data(as_text=True)
    # Expired: Redis dropped the code.
    redis.Redis.from_url(redis_url).delete(key)
    assert "has expired" in enter(client, phone.id, second).get_data(as_text=True)


def test_texts_are_limited_per_account_per_hour(client, services, person):
    add(client)
    phone = only_phone(services, person)
    for _ in range(4):
        token = _token(client, f"/profile/phones/{phone.id}/confirm")
        assert client.post(f"/profile/phones/{phone.id}/resend", data={"csrf_token": token}).status_code == 302
    token = _token(client, f"/profile/phones/{phone.id}/confirm")
    limited = client.post(f"/profile/phones/{phone.id}/resend", data={"csrf_token": token})
    assert limited.status_code == 429
    assert "Too many codes were sent to your numbers" in limited.get_data(as_text=True)
    assert len(services.phones.sms.sent) == 5


def test_a_gateway_that_fails_is_said_and_the_number_waits(client, services, person):
    services.phones.sms = NullSmsSender()
    response = add(client)
    assert response.status_code == 400
    assert "The text message could not be sent. Try again in a few minutes." in response.get_data(as_text=True)


def test_removing_a_number_forgets_it(client, services, person):
    add(client)
    phone = only_phone(services, person)
    enter(client, phone.id, texted(services)[1])
    assert services.users.get(person.id).phone_number == "+41446681800"
    response = client.post(f"/profile/phones/{phone.id}/remove", data={"csrf_token": _token(client)})
    assert response.status_code == 302
    assert services.phones.phones.list(person.id) == []
    assert services.users.get(person.id).phone_number is None
    assert "is removed from your profile" in client.get("/profile").get_data(as_text=True)
    assert len(events(services, "account:phone:removed")) == 1


def test_another_persons_number_is_out_of_reach(client, app, services, person, make_user):
    add(client)
    phone = only_phone(services, person)
    other = make_user(email="eve@example.com")
    eve = app.test_client()
    AuthActions(eve).sign_in(other.email, other.password)
    token = _token(eve)
    assert eve.get(f"/profile/phones/{phone.id}/confirm").status_code == 404
    for action in ("confirm", "resend", "remove"):
        answer = eve.post(f"/profile/phones/{phone.id}/{action}", data={"csrf_token": token, "code": "000000"})
        assert answer.status_code == 404, action
    assert only_phone(services, person) == phone


def test_every_phone_form_refuses_a_missing_or_wrong_csrf_token(client, services, person):
    add(client)
    phone = only_phone(services, person)
    for path in ("/profile/phones", f"/profile/phones/{phone.id}/confirm", f"/profile/phones/{phone.id}/resend",
                 f"/profile/phones/{phone.id}/remove"):
        for token in ({}, {"csrf_token": "forged"}):
            assert client.post(path, data={"number": "+41791234567", "code": "123456", **token}).status_code == 400
    assert services.phones.phones.list(person.id) == [phone] and len(services.phones.sms.sent) == 1


class _Gateway(BaseHTTPRequestHandler):
    answers: ClassVar[list[int]] = []
    seen: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((dict(self.headers), body))
        self.send_response(self.answers.pop(0))
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_the_webhook_signs_each_message_and_a_refusal_is_an_error():
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _Gateway.answers[:] = [204, 500]
        sender = WebhookSmsSender(f"http://127.0.0.1:{server.server_port}/sms", "gateway-secret", timeout=2)
        sender.send("+41446681800", "123456 is your code")
        headers, body = _Gateway.seen[0]
        assert json.loads(body) == {"to": "+41446681800", "text": "123456 is your code"}
        mac = hmac.new(b"gateway-secret", headers["X-Idp-Timestamp"].encode() + b"." + body, hashlib.sha256)
        assert headers["X-Idp-Signature"] == f"sha256={mac.hexdigest()}"
        with pytest.raises(SmsDeliveryError):
            sender.send("+41446681800", "654321 is your code")
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(SmsDeliveryError):  # nobody listens any more
        WebhookSmsSender(f"http://127.0.0.1:{server.server_port}/sms", "gateway-secret", timeout=1).send("+1", "x")
