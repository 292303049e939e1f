"""Recovery codes: generated once with the first factor, stored hashed, single use, regenerated as a set."""

from __future__ import annotations

import hashlib
import hmac
import threading

import pytest

from idp.crypto import Purpose
from idp.crypto import derive
from idp.mfa import recovery
from idp.mfa.recovery import MalformedRecoveryCodeError
from idp.mfa.recovery import WrongRecoveryCodeError
from tests.conftest import events
from tests.mfa.conftest import CTX


def test_codes_are_distinct_and_readable():
    codes = recovery.generate(10)
    assert len(set(codes)) == 10
    for code in codes:
        assert len(code) == 14 and code[4] == code[9] == "-"
        assert recovery.normalise(code) == code.replace("-", "")


def test_codes_are_read_without_case_spaces_or_dashes():
    code = recovery.generate(1)[0]
    assert recovery.normalise(code.lower().replace("-", " ")) == code.replace("-", "")


@pytest.mark.parametrize("code", [None, "", "ABCD", "ABCD-EFGH-JKM0", "ABCD-EFGH-JKMNP", "A" * 100_000])
def test_malformed_codes_are_refused(code):
    with pytest.raises(MalformedRecoveryCodeError):
        recovery.normalise(code)


def test_the_digest_depends_on_the_server_key():
    code = recovery.generate(1)[0]
    assert recovery.digest(code, b"one") != recovery.digest(code, b"two")
    assert recovery.digest(code, b"one") == recovery.digest(code.lower(), b"one")


def test_codes_hashed_before_the_upgrade_still_work_once(make_user, enrol, mfa, services):
    """Decision 0610: a set hashed under the key derived before it keeps working until used or replaced."""
    person = make_user()
    enrol.totp(person)
    user = enrol.user(person)
    secret = services.settings.secret_key.get_secret_value()
    old_key = hashlib.sha256(f"idp-mfa-recovery-v1\x00{secret}".encode()).digest()
    codes = recovery.generate(3)
    mfa.sql.replace_codes(
        user.id, [hmac.new(old_key, recovery.normalise(c).encode(), hashlib.sha256).hexdigest() for c in codes],
        services.clock.now(),
    )
    assert mfa.use_recovery_code(user, codes[0].lower(), CTX) == 2
    with pytest.raises(WrongRecoveryCodeError):
        mfa.use_recovery_code(user, codes[0], CTX)
    with pytest.raises(WrongRecoveryCodeError):
        mfa.use_recovery_code(user, recovery.generate(1)[0], CTX)
    assert mfa.use_recovery_code(user, codes[1], CTX) == 1
    # A new set is hashed under the current key only.
    fresh = mfa.regenerate_codes(user, CTX)
    with services.db.transaction() as s:
        from idp.stores.tables_mfa import RecoveryCodeRow

        stored = {r.code_digest for r in s.query(RecoveryCodeRow).filter_by(user_id=person.id)}
    assert hmac.new(old_key, recovery.normalise(fresh[0]).encode(), hashlib.sha256).hexdigest() not in stored
    assert recovery.digest(fresh[0], derive(secret, Purpose.RECOVERY_CODES)) in stored


def test_ten_codes_come_with_the_first_factor_and_are_stored_hashed(make_user, enrol, mfa, services):
    from idp.stores.tables_mfa import RecoveryCodeRow

    person = make_user()
    enrol.totp(person)
    user = enrol.user(person)
    codes = mfa.shown_codes(user)
    assert codes is not None and len(codes) == 10
    assert mfa.codes_left(user) == 10
    with services.db.transaction() as s:
        stored = [r.code_digest for r in s.query(RecoveryCodeRow).filter_by(user_id=person.id)]
    assert not any(c.replace("-", "") in d for c in codes for d in stored)
    assert len(events(services, "mfa:recovery_codes:generated")) == 1
    # A second factor does not make a second set.
    enrol.key(person)
    assert len(events(services, "mfa:recovery_codes:generated")) == 1


def test_a_code_works_once(make_user, enrol, mfa, services, outbox_messages):
    person = make_user()
    enrol.totp(person)
    user = enrol.user(person)
    code = mfa.shown_codes(user)[0]
    assert mfa.use_recovery_code(user, code, CTX) == 9
    with pytest.raises(WrongRecoveryCodeError):
        mfa.use_recovery_code(user, code, CTX)
    used = events(services, "mfa:recovery_code:used")
    assert [e["details"]["left"] for e in used] == [9]
    assert "recovery code was used" in outbox_messages()[-1]["subject"]


def test_regenerating_invalidates_the_old_set(make_user, enrol, mfa, services):
    person = make_user()
    enrol.totp(person)
    user = enrol.user(person)
    old = mfa.shown_codes(user)
    new = mfa.regenerate_codes(user, CTX)
    assert not set(old) & set(new)
    with pytest.raises(WrongRecoveryCodeError):
        mfa.use_recovery_code(user, old[0], CTX)
    assert mfa.use_recovery_code(user, new[0], CTX) == 9


def test_racing_uses_of_one_code_let_exactly_one_through(make_user, enrol, mfa):
    person = make_user()
    enrol.totp(person)
    user = enrol.user(person)
    code = mfa.shown_codes(user)[0]
    barrier = threading.Barrier(6)
    results: list[bool] = []
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait()
        try:
            mfa.use_recovery_code(user, code, CTX)
            ok = True
        except WrongRecoveryCodeError:
            ok = False
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 5 + [True]
    assert mfa.codes_left(user) == 9


def test_removing_the_last_factor_removes_the_codes(make_user, enrol, mfa):
    person = make_user()
    enrol.totp(person)
    user = enrol.user(person)
    mfa.remove_totp(user, CTX)
    assert mfa.codes_left(user) == 0
    assert mfa.overview(user).has_codes is False
