"""Lockout: counted per account, atomically, against the account's own threshold."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from idp.errors import AuthenticationError
from idp.model import RequestContext
from tests.conftest import events
from tests.conftest import outbox


def _attempt(services, email: str, password: str, ip: str) -> str:
    flow = services.signin.start()
    services.signin.identify(flow.id, email)
    try:
        services.signin.check_password(flow.id, password, RequestContext(ip=ip, user_agent="test"))
    except AuthenticationError:
        return "refused"
    return "signed_in"


def test_account_locks_at_its_threshold_and_then_refuses_even_the_right_password(services, make_user):
    person = make_user()
    services.users.set_lockout_threshold(person.id, 3, services.clock.now())
    for i in range(3):
        assert _attempt(services, person.email, "wrong password", f"10.0.0.{i}") == "refused"
    assert services.accounts.user(person.id).locked_at is not None
    assert _attempt(services, person.email, person.password, "10.0.1.1") == "refused"
    [locked] = events(services, "account:lockout:locked")
    assert locked["user_id"] == person.id and locked["details"] == {"failures": 3, "threshold": 3}
    # The failed-sign-in notification (on by default) comes too; the lock mail comes once.
    [mail] = [m for m in outbox(services) if "locked" in m["subject"]]
    assert mail["to"] == person.email and "locked" in mail["subject"]


def test_a_success_resets_the_failure_count(services, make_user):
    person = make_user()
    services.users.set_lockout_threshold(person.id, 3, services.clock.now())
    for _ in range(2):
        _attempt(services, person.email, "wrong password", "10.0.0.1")
    assert _attempt(services, person.email, person.password, "10.0.0.1") == "signed_in"
    for _ in range(2):
        _attempt(services, person.email, "wrong password", "10.0.0.1")
    assert services.accounts.user(person.id).locked_at is None


def test_fifty_parallel_wrong_passwords_lock_once_and_count_exactly(services, make_user):
    person = make_user()
    user = services.accounts.user(person.id)
    assert user.lockout_threshold == 10
    with ThreadPoolExecutor(max_workers=25) as pool:
        results = list(pool.map(
            lambda i: _attempt(services, person.email, f"wrong {i}", f"10.1.{i}.1"), range(50)
        ))
    assert results == ["refused"] * 50
    assert services.lockout.failures(user) == 50
    assert services.accounts.user(person.id).locked_at is not None
    assert len(events(services, "account:lockout:locked")) == 1
    assert len(events(services, "account:signin:failed")) == 50
    assert len([m for m in outbox(services) if "locked" in m["subject"]]) == 1


def test_a_locked_account_answers_like_a_wrong_password_in_the_browser(auth, make_user, services):
    person = make_user()
    services.users.lock(person.id, services.clock.now())
    auth.identify(person.email)
    response = auth.password(person.password)
    assert response.status_code == 401 and "Wrong e-mail or password." in response.get_data(as_text=True)
    assert events(services, "account:signin:failed")[-1]["details"]["reason"] == "locked"


def test_unlock_forgets_the_failures_and_records_who(services, make_user):
    person = make_user()
    services.users.set_lockout_threshold(person.id, 3, services.clock.now())
    for _ in range(3):
        _attempt(services, person.email, "wrong password", "10.0.0.1")
    user = services.accounts.user(person.id)
    assert services.lockout.unlock(user, RequestContext(ip="cli"), actor_id=None, how="cli")
    assert services.lockout.failures(user) == 0
    assert _attempt(services, person.email, person.password, "10.0.0.1") == "signed_in"
    [unlocked] = events(services, "account:lockout:unlocked")
    assert unlocked["details"] == {"how": "cli"}
