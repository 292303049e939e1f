"""TOTP rules with an injected clock: skew, malformed codes, replay, and two requests racing."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from idp.mfa import totp
from idp.mfa.totp import MalformedCodeError
from idp.mfa.totp import ReplayedCodeError
from idp.mfa.totp import WrongCodeError

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = dt.datetime(2030, 1, 1, 12, 0, 10, tzinfo=dt.UTC)
STEP = totp.step_of(NOW)


def test_the_current_code_matches_its_step():
    assert totp.match_step(SECRET, totp.code_at(SECRET, STEP), now=NOW, last_step=-1) == STEP


@pytest.mark.parametrize("offset", [-1, 1])
def test_one_step_of_clock_skew_is_accepted(offset):
    code = totp.code_at(SECRET, STEP + offset)
    assert totp.match_step(SECRET, code, now=NOW, last_step=-1) == STEP + offset


@pytest.mark.parametrize("offset", [-2, 2, 40])
def test_codes_further_away_are_wrong(offset):
    with pytest.raises(WrongCodeError):
        totp.match_step(SECRET, totp.code_at(SECRET, STEP + offset), now=NOW, last_step=-1)


def test_spaces_in_the_code_are_ignored():
    code = totp.code_at(SECRET, STEP)
    assert totp.match_step(SECRET, f"{code[:3]} {code[3:]}", now=NOW, last_step=-1) == STEP


@pytest.mark.parametrize("code", ["", None, "12345", "1234567", "12a456", "１２３４５６", "9" * 10_000])
def test_malformed_codes_are_refused_before_any_comparison(code):
    with pytest.raises(MalformedCodeError):
        totp.match_step(SECRET, code, now=NOW, last_step=-1)


def test_a_code_of_an_already_used_step_is_a_replay():
    code = totp.code_at(SECRET, STEP)
    with pytest.raises(ReplayedCodeError):
        totp.match_step(SECRET, code, now=NOW, last_step=STEP)


def test_an_earlier_code_after_a_later_one_is_a_replay():
    earlier = totp.code_at(SECRET, STEP - 1)
    with pytest.raises(ReplayedCodeError):
        totp.match_step(SECRET, earlier, now=NOW, last_step=STEP)


def test_the_secret_has_160_bits_and_the_uri_names_issuer_and_account():
    secret = totp.generate_secret()
    assert len(secret) == 32
    uri = totp.provisioning_uri(secret, account="ada@example.com", issuer="Identity")
    assert uri.startswith("otpauth://totp/Identity:ada%40example.com?secret=")
    assert "issuer=Identity" in uri
    svg = totp.qr_svg(uri)
    assert svg.startswith("<svg") and "<?xml" not in svg


# -- through the service and the database ------------------------------------------------


def test_the_service_refuses_the_same_code_twice(make_user, enrol, clock):
    person = make_user()
    secret = enrol.totp(person)
    user = enrol.user(person)
    code = enrol.code_now(secret)
    enrol.mfa.verify_totp(user, code)
    with pytest.raises(ReplayedCodeError):
        enrol.mfa.verify_totp(user, code)


def test_the_confirming_code_cannot_be_used_to_sign_in(make_user, enrol, clock):
    person = make_user()
    secret = enrol.totp(person)
    clock.advance(seconds=-30)  # back to the step of the confirming code
    with pytest.raises(ReplayedCodeError):
        enrol.mfa.verify_totp(enrol.user(person), enrol.code_now(secret))


def test_the_previous_steps_code_is_refused_once_the_current_one_was_used(make_user, enrol, clock):
    person = make_user()
    secret = enrol.totp(person)
    user = enrol.user(person)
    clock.advance(seconds=30)
    previous = totp.code_at(secret, totp.step_of(clock.now()) - 1)
    enrol.mfa.verify_totp(user, enrol.code_now(secret))
    with pytest.raises(ReplayedCodeError):
        enrol.mfa.verify_totp(user, previous)


def test_a_new_step_is_accepted_after_the_clock_moves(make_user, enrol, clock):
    person = make_user()
    secret = enrol.totp(person)
    user = enrol.user(person)
    enrol.mfa.verify_totp(user, enrol.code_now(secret))
    first = enrol.mfa.sql.get_totp(user.id).last_step
    clock.advance(seconds=30)
    enrol.mfa.verify_totp(user, enrol.code_now(secret))  # raises if refused
    assert enrol.mfa.sql.get_totp(user.id).last_step == first + 1


def test_of_requests_racing_with_one_code_exactly_one_wins(make_user, enrol):
    person = make_user()
    secret = enrol.totp(person)
    user = enrol.user(person)
    code = enrol.code_now(secret)
    barrier = threading.Barrier(8)
    results: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait()
        try:
            enrol.mfa.verify_totp(user, code)
            outcome = "ok"
        except ReplayedCodeError:
            outcome = "replay"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok"] + ["replay"] * 7


def test_the_secret_is_stored_encrypted(make_user, enrol, services):
    from idp.stores.tables_mfa import TotpRow

    person = make_user()
    secret = enrol.totp(person)
    with services.db.transaction() as s:
        stored = s.get(TotpRow, person.id).secret_enc
    assert secret not in stored
    assert services.secrets.decrypt_str(stored) == secret


def test_a_seed_encrypted_before_the_upgrade_still_verifies(make_user, enrol, services):
    """Decision 0610: a seed encrypted under the key derived before it (no encryption_keys set)."""
    import base64
    import hashlib

    from cryptography.fernet import Fernet

    person = make_user()
    secret = services.settings.secret_key.get_secret_value()
    old_key = base64.urlsafe_b64encode(hashlib.sha256(f"idp-at-rest-v1\x00{secret}".encode()).digest())
    enrol.mfa.sql.set_totp(person.id, secret_enc=Fernet(old_key).encrypt(SECRET.encode()).decode(), step=0,
                           now=services.clock.now())
    user = enrol.user(person)
    enrol.mfa.verify_totp(user, enrol.code_now(SECRET))  # raises if refused
    with pytest.raises(WrongCodeError):
        enrol.mfa.verify_totp(user, totp.code_at(SECRET, totp.step_of(services.clock.now()) + 5))
