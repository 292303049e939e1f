"""The account's second factors are read while its password is hashed: a refusal never waits for
that read, an unknown login reads those of no account, and a read that found no free thread is
done after."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Executor
from concurrent.futures import Future
from typing import Any

from idp.auth.factors import Enrolled
from idp.mfa import MFA
from tests.conftest import events


class Gate:
    """A factor source that answers only once opened, and counts the accounts it was asked about."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.asked: list[int] = []

    def enrolled(self, user: Any) -> list[Enrolled]:
        self.asked.append(user.id)
        self.opened.wait(10)
        return []


def test_a_wrong_password_is_answered_without_waiting_for_the_factors(client, auth, make_user, services):
    gate = Gate()
    services.factors.register_source(gate, [])
    person = make_user()
    auth.identify(person.email)
    started = time.monotonic()
    response = auth.password("not the password")
    took = time.monotonic() - started
    gate.opened.set()
    assert response.status_code == 401 and "Wrong e-mail or password." in response.get_data(as_text=True)
    assert took < 5  # the read, if it started, is still waiting behind the gate
    [failed] = events(services, "account:signin:failed")
    assert failed["user_id"] == person.id


def test_an_unknown_login_reads_the_factors_of_no_account_beside_its_dummy_hash(client, auth, make_user, services):
    # The same background work as for an account, so that it weighs the same on the hash.
    gate = Gate()
    gate.opened.set()
    services.factors.register_source(gate, [])
    person = make_user()
    auth.identify("nobody@example.com")
    assert auth.password(person.password).status_code == 401
    deadline = time.monotonic() + 5
    while not gate.asked and time.monotonic() < deadline:
        time.sleep(0.01)
    assert gate.asked == [0]  # an id that names no account
    auth.sign_in(person.email, person.password)
    assert gate.asked == [0, person.id]


class NeverStarted(Future[Any]):
    def result(self, timeout: float | None = None) -> Any:
        raise AssertionError("waited for a read that never started")


class Busy(Executor):
    """Every background thread is taken: what is submitted never starts."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        return NeverStarted()


def test_a_read_that_found_no_free_thread_is_done_by_the_request(client, auth, make_user, services, monkeypatch):
    monkeypatch.setattr(services.signin, "background", Busy())
    person = make_user()
    services.get(MFA).sql.set_totp(
        person.id, secret_enc=services.secrets.encrypt("JBSWY3DPEHPK3PXP"), step=0, now=services.clock.now()
    )
    response = auth.sign_in(person.email, person.password)
    assert response.status_code == 302 and response.headers["Location"] == "/login/totp"
    assert services.sessions.list(person.id) == []
