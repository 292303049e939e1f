"""The device API: enrolment, request signatures (replay, stale, unknown, removed), JSON errors."""

from __future__ import annotations

import json

import pytest

from idp.kauth import crypto
from tests.conftest import events
from tests.conftest import outbox
from tests.kauth.conftest import API
from tests.kauth.conftest import Phone


@pytest.fixture
def enrolment(make_user, services, kauth):
    person = make_user()
    return person, kauth.start_enrolment(services.users.get(person.id))


def test_enrolment_gives_a_device_id_and_tells_the_owner(client, clock, enrolment, services, kauth):
    person, started = enrolment
    phone = Phone(client, clock)
    response = phone.enrol(started.token, name="Pixel", platform="Android 15")
    assert response.status_code == 201
    assert response.json["device_id"].startswith("kd_")
    assert response.json["server_public_key"] == kauth.server_public_key
    assert response.headers["Cache-Control"] == "no-store"
    [event] = events(services, "kauth:device:enrolled")
    assert event["user_id"] == person.id and event["details"]["name"] == "Pixel"
    assert "Pixel" in outbox(services)[-1]["body"]
    user = services.users.get(person.id)
    assert [d.name for d in kauth.devices_of(user)] == ["Pixel"]
    assert kauth.enrolment_status(user, started.handle).name == "Pixel"


def test_the_server_key_devices_hold_is_the_one_derived_before_decision_0610(kauth, services):
    """Phones enrolled before the derivations met in idp.crypto keep verifying the server's notices."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    secret = services.settings.secret_key.get_secret_value()
    material = HKDF(algorithm=hashes.SHA256(), length=48, salt=b"idp-kauth", info=b"server notice key v1").derive(
        secret.encode())
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    before = ec.derive_private_key(int.from_bytes(material, "big") % (order - 1) + 1, ec.SECP256R1())
    assert kauth.server_public_key == crypto.encode_public_key(before.public_key())


def test_an_enrolment_token_works_once(client, clock, enrolment):
    _, started = enrolment
    assert Phone(client, clock).enrol(started.token).status_code == 201
    again = Phone(client, clock).enrol(started.token)
    assert again.status_code == 401 and again.json["error"] == "invalid_token"
    assert again.headers["WWW-Authenticate"].startswith("KAuth")


def test_an_enrolment_token_expires(client, clock, enrolment):
    _, started = enrolment
    clock.advance(seconds=601)
    phone = Phone(client, clock)
    response = phone.call("POST", "/devices", {
        "token": started.token, "name": "late", "platform": "iOS",
        "public_key": crypto.encode_public_key(phone.key.public_key()),
    }, timestamp=str(int(clock.now().timestamp())))
    assert response.status_code == 401 and response.json["error"] == "invalid_token"


def test_several_devices_per_account(client, clock, make_user, phone_for, services, kauth):
    person = make_user()
    phone_for(person, name="phone")
    phone_for(person, name="tablet")
    assert sorted(d.name for d in kauth.devices_of(services.users.get(person.id))) == ["phone", "tablet"]


def test_enrolment_must_be_signed_by_the_key_it_enrols(client, clock, enrolment):
    _, started = enrolment
    phone = Phone(client, clock)
    other = crypto.generate_key()
    response = phone.call("POST", "/devices", {
        "token": started.token, "name": "x", "platform": "iOS",
        "public_key": crypto.encode_public_key(other.public_key()),
    })
    assert response.status_code == 401 and response.json["error"] == "invalid_signature"
    # The token was not spent by the refused request.
    assert phone.enrol(started.token).status_code == 201


@pytest.mark.parametrize(("payload", "status"), [
    ("not json", 400),
    ([], 400),
    ({"token": "short", "name": "x", "platform": "iOS", "public_key": "x"}, 400),
    ({"token": "t" * 30, "name": "", "platform": "iOS", "public_key": "x"}, 400),
    ({"token": "t" * 30, "name": "x\u0000", "platform": "iOS", "public_key": "x"}, 400),
    ({"token": "t" * 30, "name": "x", "platform": "<script>", "public_key": "x"}, 400),
    ({"token": "t" * 30, "name": "x", "platform": "iOS", "public_key": "bm90IGEga2V5"}, 400),
    ({"token": "t" * 30, "name": "x", "platform": "iOS", "public_key": 42}, 400),
])
def test_bad_enrolments_get_json_errors(client, clock, payload, status):
    phone = Phone(client, clock)
    body = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
    path = API + "/devices"
    response = client.post(path, data=body, headers=phone.headers("POST", path, body), content_type="application/json")
    assert response.status_code == status
    assert response.json["error"] == "invalid_request" and response.json["error_description"]


def test_a_rsa_or_other_curve_key_is_refused(client, clock):
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP384R1())
    phone = Phone(client, clock)
    response = phone.call("POST", "/devices", {
        "token": "t" * 30, "name": "x", "platform": "iOS", "public_key": crypto.encode_public_key(key.public_key()),
    })
    assert response.status_code == 400 and "P-256" in response.json["error_description"]


def test_a_replayed_request_is_refused(client, clock, make_user, phone_for, services):
    phone = phone_for(make_user())
    path = API + "/challenges"
    headers = phone.headers("GET", path, b"")
    assert client.get(path, headers=headers).status_code == 200
    replay = client.get(path, headers=headers)
    assert replay.status_code == 401 and replay.json["error"] == "replayed_request"
    assert events(services, "kauth:request:refused")[-1]["details"]["reason"] == "replay"


def test_a_stale_request_is_refused(client, clock, make_user, phone_for):
    phone = phone_for(make_user())
    old = str(int(clock.now().timestamp()) - 61)
    response = phone.call("GET", "/challenges", timestamp=old)
    assert response.status_code == 401 and response.json["error"] == "stale_request"


def test_a_bad_signature_is_refused(client, clock, make_user, phone_for, services):
    phone = phone_for(make_user())
    response = phone.call("GET", "/challenges", key=crypto.generate_key())
    assert response.status_code == 401 and response.json["error"] == "invalid_signature"
    assert events(services, "kauth:request:refused")[-1]["details"]["reason"] == "signature"
    # A signature over another path does not work either.
    path = API + "/challenges"
    headers = phone.headers("GET", API + "/device", b"")
    assert client.get(path, headers=headers).json["error"] == "invalid_signature"


def test_an_unknown_device_is_refused(client, clock):
    phone = Phone(client, clock)
    phone.device_id = "kd_" + "a" * 24
    response = phone.call("GET", "/challenges")
    assert response.status_code == 401 and response.json["error"] == "unknown_device"


@pytest.mark.parametrize("drop", ["X-Kauth-Device", "X-Kauth-Timestamp", "X-Kauth-Nonce", "X-Kauth-Signature"])
def test_missing_headers_are_a_malformed_request(client, clock, make_user, phone_for, drop):
    phone = phone_for(make_user())
    path = API + "/challenges"
    headers = phone.headers("GET", path, b"")
    del headers[drop]
    response = client.get(path, headers=headers)
    assert response.status_code == 400 and response.json["error"] == "invalid_request"


@pytest.mark.parametrize(("payload", "error"), [
    ({"decision": "maybe", "signature": "x"}, "invalid_request"),
    ({"decision": "approve", "signature": "x"}, "invalid_request"),
    ({"decision": "approve", "number": 100, "signature": "x"}, "invalid_request"),
    ({"decision": "approve", "number": True, "signature": "x"}, "invalid_request"),
    ({"decision": "deny", "reason": "bored", "signature": "x"}, "invalid_request"),
    ({"decision": "deny", "number": 12, "signature": "x"}, "invalid_request"),
    ({"decision": "deny"}, "invalid_request"),
    ({"decision": "deny", "signature": "x"}, "unknown_challenge"),
])
def test_bad_answers_get_json_errors(client, clock, make_user, phone_for, payload, error):
    phone = phone_for(make_user())
    response = phone.call("POST", "/challenges/kc_" + "b" * 24 + "/answer", payload)
    assert response.json["error"] == error
    assert response.status_code == (404 if error == "unknown_challenge" else 400)


def test_an_unknown_challenge_is_404(client, clock, make_user, phone_for):
    phone = phone_for(make_user())
    response = phone.answer("nonsense", "deny")
    assert response.status_code == 404 and response.json["error"] == "unknown_challenge"


def test_an_answer_must_carry_the_device_signature(auth, client, make_user, phone_for, services):
    person = make_user()
    phone = phone_for(person)
    auth.sign_in(person.email, person.password)
    client.get("/login/kauth")
    [challenge] = phone.pending()
    forged = {"decision": "approve", "number": challenge["options"][0],
              "signature": crypto.sign(crypto.generate_key(), crypto.answer_string(challenge["id"], "approve", 1))}
    response = phone.call("POST", f"/challenges/{challenge['id']}/answer", forged)
    assert response.status_code == 401 and response.json["error"] == "invalid_signature"
    assert events(services, "kauth:request:refused")[-1]["details"]["reason"] == "answer_signature"


def test_too_large_bodies_are_refused(client, clock, make_user, phone_for):
    phone = phone_for(make_user())
    response = phone.call("POST", "/challenges/kc_" + "b" * 24 + "/answer", {"decision": "x" * 9000})
    assert response.status_code == 413 and response.json["error"] == "too_large"


def test_a_device_can_unenrol_itself(client, clock, make_user, phone_for, services, kauth):
    person = make_user()
    phone = phone_for(person)
    response = phone.call("DELETE", "/device")
    assert response.status_code == 200
    notice = response.json["notice"]
    assert notice["by"] == "device" and crypto.verify_notice(phone.server_public_key, notice)
    assert kauth.devices_of(services.users.get(person.id)) == []
    [event] = events(services, "kauth:device:removed")
    assert event["details"]["by"] == "device"
    assert "removed itself" in outbox(services)[-1]["body"]
    gone = phone.call("GET", "/device")
    assert gone.status_code == 410 and gone.json["error"] == "device_removed"


def test_the_device_status(client, clock, make_user, phone_for):
    phone = phone_for(make_user())
    response = phone.call("GET", "/device")
    assert response.status_code == 200 and response.json["status"] == "active"


def test_the_openapi_document_is_served(client):
    response = client.get(API + "/openapi.json")
    assert response.status_code == 200
    doc = response.json
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {"/devices", "/device", "/challenges", "/challenges/{challenge_id}/answer"}
    assert doc["servers"][0]["url"] == "http://localhost:5000/api/kauth/v1"  # server.base_url


def test_unknown_api_paths_answer_json(client):
    response = client.get(API + "/nothing")
    assert response.status_code == 404 and response.json["error"] == "not_found"
    assert client.put(API + "/device").status_code == 405
