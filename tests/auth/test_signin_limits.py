"""Sign-in limits count failures only: per IP, and per (IP, account). Successful sign-ins from one
address (an office) never add up; a success or an unlock forgets the account's failures."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from idp.errors import AuthenticationError
from idp.errors import RateLimitedError
from idp.model import RequestContext
from tests.conftest import AuthActions

OFFICE = "203.0.113.10"
ELSEWHERE = "198.51.100.20"
PER_IP = 30  # ratelimit.signin_per_ip
PER_ACCOUNT_IP = 20  # ratelimit.signin_per_account_ip
WINDOW = 300  # ratelimit.signin_window


def browser(app, ip: str = OFFICE) -> AuthActions:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return AuthActions(client)


def _refused_politely(response) -> None:
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= WINDOW
    assert "Too many attempts" in response.get_data(as_text=True)


def _patient(services, make_user):
    """An account whose own lockout threshold is out of the way, so only the limits speak."""
    person = make_user()
    services.users.set_lockout_threshold(person.id, 100, services.clock.now())
    return person


def test_forty_successful_sign_ins_from_one_address_all_succeed(app, make_user, services):
    people = [make_user() for _ in range(8)]
    answers = [browser(app).sign_in(p.email, p.password).status_code for _ in range(5) for p in people]
    assert answers == [302] * 40
    assert len(services.sessions.list(people[0].id)) == 5


def test_failures_past_the_per_account_limit_are_refused_from_that_address_only(app, make_user, services, clock):
    person = _patient(services, make_user)
    office = browser(app)
    office.identify(person.email)
    assert [office.password("wrong password").status_code for _ in range(PER_ACCOUNT_IP)] == [401] * PER_ACCOUNT_IP
    _refused_politely(office.password(person.password))  # even the right one, without checking it
    # The same person elsewhere, and someone else at the office, are not held back.
    assert browser(app, ELSEWHERE).sign_in(person.email, person.password).status_code == 302
    other = make_user()
    assert browser(app).sign_in(other.email, other.password).status_code == 302
    # Once the window has passed, the office may try again.
    clock.advance(seconds=WINDOW + 1)
    assert browser(app).sign_in(person.email, person.password).status_code == 302


def test_an_unknown_login_gets_the_same_answers_as_an_account(app, make_user, services):
    person = _patient(services, make_user)
    answers = {}
    for login, ip in ((person.email, OFFICE), ("nobody-here@example.com", ELSEWHERE)):
        actions = browser(app, ip)
        actions.identify(login)
        answers[login] = [actions.password("wrong password") for _ in range(PER_ACCOUNT_IP + 2)]
    known, unknown = answers.values()
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401] * PER_ACCOUNT_IP + [429, 429]
    assert [r.headers.get("Retry-After") is not None for r in known] == [
        r.headers.get("Retry-After") is not None for r in unknown]


def test_failures_past_the_per_ip_limit_are_refused_for_every_account(app, make_user, services, clock):
    people = [_patient(services, make_user) for _ in range(7)]
    for person in people[:6]:
        actions = browser(app)
        actions.identify(person.email)
        assert [actions.password("wrong password").status_code for _ in range(PER_IP // 6)] == [401] * (PER_IP // 6)
    _refused_politely(browser(app).sign_in(people[6].email, people[6].password))
    assert browser(app, ELSEWHERE).sign_in(people[6].email, people[6].password).status_code == 302
    clock.advance(seconds=WINDOW + 1)
    assert browser(app).sign_in(people[6].email, people[6].password).status_code == 302


@pytest.mark.parametrize("settings_overrides", [{"ratelimit": {"signin_per_ip": 3, "signin_window": 60}}])
def test_successes_in_between_do_not_use_up_the_per_ip_limit(app, make_user, services):
    person, other = make_user(), make_user()
    assert [browser(app).sign_in(person.email, person.password).status_code for _ in range(10)] == [302] * 10
    failing = browser(app)
    failing.identify(other.email)
    assert [failing.password("wrong").status_code for _ in range(3)] == [401] * 3
    refused = failing.password(other.password)
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60


def _attempt(services, email: str, password: str, ip: str) -> str:
    flow = services.signin.start()
    services.signin.identify(flow.id, email)
    try:
        services.signin.check_password(flow.id, password, RequestContext(ip=ip, user_agent="test"))
    except AuthenticationError:
        return "refused"
    except RateLimitedError:
        return "limited"
    return "signed_in"


def test_parallel_guesses_on_one_account_get_exactly_the_allowed_attempts(services, make_user):
    person = _patient(services, make_user)
    start = threading.Barrier(32)

    def guess(i: int) -> str:
        start.wait()
        return _attempt(services, person.email, f"wrong {i}", OFFICE)

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(guess, range(32)))
    assert results.count("refused") == PER_ACCOUNT_IP
    assert results.count("limited") == 32 - PER_ACCOUNT_IP


@pytest.mark.parametrize("settings_overrides", [{"ratelimit": {"signin_per_ip": 1000}}])
def test_a_success_or_an_unlock_forgets_the_accounts_failures(services, make_user):
    person = _patient(services, make_user)
    for _ in range(PER_ACCOUNT_IP - 1):
        assert _attempt(services, person.email, "wrong", OFFICE) == "refused"
    assert _attempt(services, person.email, person.password, ELSEWHERE) == "signed_in"
    for _ in range(PER_ACCOUNT_IP):
        assert _attempt(services, person.email, "wrong", OFFICE) == "refused"
    assert _attempt(services, person.email, person.password, OFFICE) == "limited"
    user = services.accounts.user(person.id)
    services.lockout.unlock(user, RequestContext(ip="cli"), actor_id=None, how="cli")
    assert _attempt(services, person.email, person.password, OFFICE) == "signed_in"


def test_re_authentication_counts_failures_not_successes(app, make_user, services):
    person = _patient(services, make_user)
    user = services.accounts.user(person.id)
    _session_id, session = services.sessions.create(person.id, RequestContext(ip=OFFICE), amr=["pwd"])
    ctx = RequestContext(ip=OFFICE)
    for _ in range(PER_IP + 10):
        services.signin.reauthenticate(user, session, person.password, ctx)
    for _ in range(PER_ACCOUNT_IP):
        with pytest.raises(AuthenticationError):
            services.signin.reauthenticate(user, session, "wrong", ctx)
    with pytest.raises(RateLimitedError):
        services.signin.reauthenticate(user, session, person.password, ctx)
