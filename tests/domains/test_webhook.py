"""The registrar's webhook: a signed, fresh, first-seen report applies; a bad signature, an old
or future timestamp, a replay, malformed JSON, an unknown domain or a report the status does not
allow is refused in JSON, and nothing changes."""

from __future__ import annotations

import json

import pytest

from idp.domains.model import Status
from idp.domains.webhook import signature
from tests.conftest import events
from tests.conftest import outbox
from tests.domains.conftest import CTX
from tests.domains.conftest import SECRET
from tests.domains.conftest import domains
from tests.domains.conftest import link_path
from tests.domains.conftest import request
from tests.domains.conftest import transfer

URL = "/api/domains/v1/transfer-result"


def send(client, clock, payload, *, secret=SECRET, at=None, body=None, headers=None):
    raw = body if body is not None else json.dumps(payload).encode()
    stamp = str(int(at if at is not None else clock.now().timestamp()))
    sent = {"X-Registrar-Timestamp": stamp, "X-Registrar-Signature": signature(secret, stamp, raw),
            "Content-Type": "application/json"}
    return client.post(URL, data=raw, headers=sent | (headers or {}))


def test_a_failure_then_a_completion_through_the_webhook(client, cast, services, clock):
    made = request(services, cast.admin)
    answer = send(client, clock, {"domain": "Example.CH", "status": "failed", "reason": "owner_refused",
                                  "detail": "The registrant declined\x00 by e-mail"})
    assert answer.status_code == 200, answer.json
    assert answer.json == {"transfer": made.id, "domain": "example.ch", "status": "failed", "failures": 1}
    assert answer.headers["Cache-Control"] == "no-store"
    failure = domains(services).store.failure(made.id, 1)
    assert failure.detail == "The registrant declined  by e-mail" and failure.source == "registrar"
    [event] = events(services, "domains:transfer:failed")
    assert event["org_id"] == made.org_id and event["details"]["reason"] == "owner_refused"
    assert link_path(services, cast.admin)  # the owners are told

    domains(services).relaunch_from_page(
        domains(services).access(services.accounts.user(cast.admin.id), "acme"), made.id, 1, "", ctx=CTX)
    assert send(client, clock, {"domain": "example.ch", "status": "in_progress"}).json["status"] == "in_progress"
    done = send(client, clock, {"domain": "example.ch", "status": "completed"})
    assert done.status_code == 200 and done.json["status"] == "completed"
    completed = transfer(services, made.id)
    assert completed.status is Status.COMPLETED and completed.completed_at is not None
    assert domains(services).store.auth_code(made.id) is None  # the code is forgotten
    assert len(events(services, "domains:transfer:completed")) == 1
    # The domain is free again: a completed transfer is unknown to the webhook.
    late = send(client, clock, {"domain": "example.ch", "status": "failed", "reason": "registry_timeout"})
    assert late.status_code == 404 and late.json["error"] == "unknown_transfer"


def test_a_bad_signature_is_refused(client, cast, services, clock):
    made = request(services, cast.admin)
    payload = {"domain": "example.ch", "status": "completed"}
    wrong = send(client, clock, payload, secret="another secret of a sufficient length!")
    assert wrong.status_code == 401 and wrong.json == {"error": "invalid_signature", "error_description": "bad signature"}
    raw = json.dumps(payload).encode()
    stamp = str(int(clock.now().timestamp()))
    good = signature(SECRET, stamp, raw)
    for headers in (
        {},  # no headers
        {"X-Registrar-Timestamp": stamp},
        {"X-Registrar-Signature": good},
        {"X-Registrar-Timestamp": stamp, "X-Registrar-Signature": good.upper()},
        {"X-Registrar-Timestamp": stamp, "X-Registrar-Signature": good[:-1]},
        {"X-Registrar-Timestamp": stamp, "X-Registrar-Signature": "sha256=" + "0" * 64},
        {"X-Registrar-Timestamp": "12.5", "X-Registrar-Signature": good},
        {"X-Registrar-Timestamp": "9" * 40, "X-Registrar-Signature": good},
        {"X-Registrar-Timestamp": stamp, "X-Registrar-Signature": "é" * 70},
    ):
        refused = client.post(URL, data=raw, headers=headers)
        assert refused.status_code == 401 and refused.json["error"] == "invalid_signature", headers
    # The body signed is the body read: one byte changed is refused.
    tampered = client.post(URL, data=raw.replace(b"completed", b"Completed"),
                           headers={"X-Registrar-Timestamp": stamp, "X-Registrar-Signature": good})
    assert tampered.status_code == 401
    assert transfer(services, made.id).status is Status.REQUESTED


@pytest.mark.parametrize("skew", [-301, 301, -86400])
def test_a_timestamp_outside_the_window_is_refused(client, cast, services, clock, skew):
    made = request(services, cast.admin)
    old = send(client, clock, {"domain": "example.ch", "status": "completed"}, at=clock.now().timestamp() + skew)
    assert old.status_code == 401 and "window" in old.json["error_description"]
    assert transfer(services, made.id).status is Status.REQUESTED


def test_a_replay_is_refused_even_inside_the_window(client, cast, services, clock):
    made = request(services, cast.admin)
    payload = {"domain": "example.ch", "status": "failed", "reason": "domain_locked"}
    raw = json.dumps(payload).encode()
    stamp = str(int(clock.now().timestamp()))
    headers = {"X-Registrar-Timestamp": stamp, "X-Registrar-Signature": signature(SECRET, stamp, raw)}
    assert client.post(URL, data=raw, headers=headers).status_code == 200
    mails = len(outbox(services))
    clock.advance(seconds=30)
    replay = client.post(URL, data=raw, headers=headers)
    assert replay.status_code == 409 and replay.json["error"] == "replayed"
    assert transfer(services, made.id).failures == 1 and len(outbox(services)) == mails
    assert len(events(services, "domains:transfer:failed")) == 1


@pytest.mark.parametrize(("body", "fragment"), [
    (b"{not json", "not JSON"),
    (b"\xff\xfe", "not JSON"),
    (b"", "not JSON"),
    (b"[]", "JSON object"),
    (b'"failed"', "JSON object"),
    (b'{"domain": "example.ch"}', "status must be one of"),
    (b'{"domain": 5, "status": "completed"}', "domain must be a string"),
    (b'{"domain": "exa mple.ch", "status": "completed"}', "domain:"),
    (b'{"domain": "example.ch", "status": "failed"}', "reason must be one of"),
    (b'{"domain": "example.ch", "status": "failed", "reason": "bogus"}', "reason must be one of"),
    (b'{"domain": "example.ch", "status": "failed", "reason": "other"}', "reason other needs a detail"),
    (b'{"domain": "example.ch", "status": "completed", "reason": "other"}', "only with status failed"),
    (b'{"domain": "example.ch", "status": "failed", "reason": "other", "detail": 3}', "detail must be a string"),
    (b'{"domain": "example.ch", "status": "completed", "admin": true}', "unknown fields: admin"),
])
def test_malformed_reports_are_refused(client, cast, services, clock, body, fragment):
    made = request(services, cast.admin)
    refused = send(client, clock, None, body=body)
    assert refused.status_code == 400 and refused.json["error"] == "invalid_request"
    assert fragment in refused.json["error_description"], refused.json
    assert transfer(services, made.id).status is Status.REQUESTED


def test_unknown_domains_wrong_states_and_huge_bodies(client, cast, services, clock):
    unknown = send(client, clock, {"domain": "nobody.ch", "status": "completed"})
    assert unknown.status_code == 404 and unknown.json["error"] == "unknown_transfer"
    made = request(services, cast.admin)
    assert send(client, clock, {"domain": "example.ch", "status": "failed", "reason": "domain_locked"}).status_code == 200
    twice = send(client, clock, {"domain": "example.ch", "status": "failed", "reason": "registry_timeout"})
    assert twice.status_code == 409 and twice.json["error"] == "conflict"
    assert send(client, clock, {"domain": "example.ch", "status": "in_progress"}).status_code == 409
    assert transfer(services, made.id).failures == 1
    huge = send(client, clock, {"domain": "example.ch", "status": "completed", "detail": "x" * 20000})
    assert huge.status_code == 413 and huge.json["error"] == "too_large"
    assert client.get(URL).status_code == 405


@pytest.mark.parametrize("settings_overrides", [{}])
def test_without_a_secret_the_webhook_is_off(client, cast, services, clock):
    request(services, cast.admin)
    off = send(client, clock, {"domain": "example.ch", "status": "completed"}, secret="")
    assert off.status_code == 404 and off.json["error"] == "not_found"
