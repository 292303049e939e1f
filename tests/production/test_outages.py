"""Outages in the production shape: nginx terminating TLS in front of gunicorn's asgi workers (2),
on a private PostgreSQL cluster, a private redis-server and a real SMTP server (aiosmtpd).

While a store is down, under a small bounded load, every request that needs it answers a clean
503 with Retry-After: the error page for a browser, `{"error", "error_description"}` for /api/,
/oauth/ and /readyz; never a 500, an empty body or a traceback. Requests that do not need the
lost store keep their usual answer. Within two seconds of the store accepting connections
again the service serves on its own, nothing committed before the outage is missing, and every
mail queued while SMTP was down is delivered exactly once when it returns.
"""

from __future__ import annotations

import base64
import re
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait
from dataclasses import dataclass
from typing import Any

import requests

from tests.production import servers
from tests.production.conftest import OUTAGE_EMAIL
from tests.production.conftest import ProductionStack
from tests.production.conftest import csrf_token

REQUEST_TIMEOUT = 25  # below nginx's proxy_read_timeout: a hung request shows as a timeout here
RECOVERY_SECONDS = 2.0
LOAD_THREADS = 3
REDIS, DATABASE = "redis", "database"
TITLE = re.compile(r"<title>([^<]*)</title>")
OUTBOX_SKIPPED = "outbox worker round skipped"  # idp.mail's warning when the database is away

# -- what a caller does ---------------------------------------------------------------------


@dataclass
class Caller:
    """A signed-in browser: only its session cookie (each request opens a fresh connection)."""

    cookies: dict[str, str]


def browser_of(session: requests.Session) -> Caller:
    return Caller({c.name: c.value for c in session.cookies})


def _get(stack: ProductionStack, path: str, *, timeout: float = REQUEST_TIMEOUT, **kwargs: Any) -> requests.Response:
    with stack.http() as http:
        return http.get(stack.url + path, timeout=timeout, allow_redirects=False, **kwargs)


def _basic(login: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{secret}".encode()).decode()


def _sign_in_attempt(stack: ProductionStack, timeout: float) -> requests.Response:
    """An anonymous person signing in: the first answer off the usual path, or the last one
    (302 to the account page when it worked)."""
    with stack.http() as http:
        page = http.get(stack.url + "/login", timeout=timeout)
        if page.status_code != 200:
            return page
        answer = http.post(stack.url + "/login", data={"csrf_token": csrf_token(page.text), "login": stack.email},
                           headers={"Referer": stack.url + "/login"}, timeout=timeout, allow_redirects=False)
        if answer.status_code != 302 or not answer.headers["Location"].endswith("/login/password"):
            return answer
        page = http.get(stack.url + "/login/password", timeout=timeout, allow_redirects=False)
        if page.status_code != 200:
            return page
        return http.post(stack.url + "/login/password",
                         data={"csrf_token": csrf_token(page.text), "password": stack.password},
                         headers={"Referer": stack.url + "/login/password"}, timeout=timeout, allow_redirects=False)


@dataclass(frozen=True)
class Probe:
    name: str
    kind: str  # "html" or "json": the shape of its 503
    needs: frozenset[str]  # the stores it cannot answer without
    send: Callable[[ProductionStack, Caller, float], requests.Response]
    healthy: Callable[[requests.Response], bool]


def _page(path: str, title: str) -> Probe:
    return Probe(
        f"GET {path} (signed in)", "html", frozenset({REDIS, DATABASE}),
        lambda stack, caller, timeout: _get(stack, path, cookies=caller.cookies, timeout=timeout),
        lambda r: r.status_code == 200 and _title(r).startswith(title),
    )


def _title(response: requests.Response) -> str:
    match = TITLE.search(response.text)
    return match.group(1) if match else ""


def _json(response: requests.Response) -> Any:
    if not response.headers.get("Content-Type", "").startswith("application/json"):
        return None
    try:
        return response.json()
    except ValueError:
        return None


SIGNED_IN_PAGES = [
    _page("/", "Your account"),
    _page("/security/", "Security"),
    _page("/security/sessions", "Sessions and devices"),
    _page("/security/credentials", "App passwords and API tokens"),
    _page("/security/activity/", "Activity"),
]
LOGIN_FORM = Probe(
    "GET /login (anonymous)", "html", frozenset(),  # the form itself needs no store
    lambda stack, caller, timeout: _get(stack, "/login", timeout=timeout),
    lambda r: r.status_code == 200 and _title(r).startswith("Sign in") and 'name="csrf_token"' in r.text,
)
SIGN_IN = Probe(
    "sign-in (anonymous)", "html", frozenset({REDIS, DATABASE}),
    lambda stack, caller, timeout: _sign_in_attempt(stack, timeout),
    lambda r: r.status_code == 302 and r.headers["Location"].endswith("/") and "/login" not in r.headers["Location"],
)
API_TOKEN = Probe(
    "GET /api/v1/account (API token)", "json", frozenset({REDIS, DATABASE}),
    lambda stack, caller, timeout: _get(stack, "/api/v1/account", timeout=timeout,
                                        headers={"Authorization": f"Bearer {stack.api_token}"}),
    lambda r: r.status_code == 200 and (_json(r) or {}).get("email") == OUTAGE_EMAIL,
)
APP_PASSWORD = Probe(
    "GET /auth/forward (app password)", "json", frozenset({REDIS, DATABASE}),
    lambda stack, caller, timeout: _get(stack, "/auth/forward", timeout=timeout, headers={
        "Authorization": _basic(stack.email, stack.app_password), "Accept": "application/json"}),
    lambda r: r.status_code == 200 and r.headers.get("X-Auth-Method") == "app_password",
)
USERINFO = Probe(
    "GET /oauth/userinfo (access token)", "json", frozenset({REDIS, DATABASE}),
    lambda stack, caller, timeout: _get(stack, "/oauth/userinfo", timeout=timeout,
                                        headers={"Authorization": f"Bearer {stack.grant.access_token}"}),
    lambda r: r.status_code == 200 and (_json(r) or {}).get("email") == OUTAGE_EMAIL,
)
# Refresh tokens live in PostgreSQL alone: applications keep refreshing while Redis is away.
REFRESH = Probe(
    "POST /oauth/token (refresh grant)", "json", frozenset({DATABASE}),
    lambda stack, caller, timeout: stack.refresh(timeout=timeout),
    lambda r: r.status_code == 200 and bool((_json(r) or {}).get("access_token"))
    and bool((_json(r) or {}).get("refresh_token")),
)
READYZ = Probe(
    "GET /readyz", "json", frozenset({REDIS, DATABASE}),
    lambda stack, caller, timeout: _get(stack, "/readyz", timeout=timeout),
    lambda r: r.status_code == 200 and (_json(r) or {}).get("status") == "ready",
)
# Straight to the workers, each on a new connection (nginx keeps reusing its upstream
# connections, so its requests may all reach one worker): every worker's pools see the outage.
WORKER_API = Probe(
    "GET /api/v1/account (a worker, direct)", "json", frozenset({REDIS, DATABASE}),
    lambda stack, caller, timeout: stack.gunicorn.get(
        "/api/v1/account", timeout=timeout, headers={"Authorization": f"Bearer {stack.api_token}"}),
    API_TOKEN.healthy,
)
WORKER_USERINFO = Probe(
    "GET /oauth/userinfo (a worker, direct)", "json", frozenset({REDIS, DATABASE}),
    lambda stack, caller, timeout: stack.gunicorn.get(
        "/oauth/userinfo", timeout=timeout, headers={"Authorization": f"Bearer {stack.grant.access_token}"}),
    USERINFO.healthy,
)
EVERY_PROBE = [*SIGNED_IN_PAGES, LOGIN_FORM, SIGN_IN, API_TOKEN, APP_PASSWORD, USERINFO, REFRESH, READYZ,
               WORKER_API, WORKER_USERINFO]
# What serves again after a restart (for the signed-in pages: one of them, added by each test):
# the Flask views first, then what the OIDC fast lane answers in the event loop, on its own pools.
RECOVERING = [READYZ, API_TOKEN, APP_PASSWORD, WORKER_API]
RECOVERING_LANE = [USERINFO, REFRESH, WORKER_USERINFO]
# What keeps coming in while the outage lasts.
TRICKLE = [SIGNED_IN_PAGES[0], USERINFO, REFRESH, WORKER_API, WORKER_USERINFO, WORKER_API, WORKER_USERINFO]

# -- what a clean answer is -------------------------------------------------------------------


def problems_of_503(probe: Probe, response: requests.Response) -> list[str]:
    """What is wrong with `response` as the clean 503 of `probe` (nothing: an empty list)."""
    found = []
    body = response.text
    if response.status_code != 503:
        found.append(f"status {response.status_code}")
    retry_after = response.headers.get("Retry-After", "")
    if not (retry_after.isdigit() and int(retry_after) > 0):
        found.append(f"Retry-After {retry_after!r}")
    if not body.strip():
        found.append("empty body")
    if "Traceback" in body or "Internal Server Error" in body:
        found.append("a traceback or a server error page")
    content_type = response.headers.get("Content-Type", "")
    if probe.kind == "json":
        payload = _json(response)
        if not isinstance(payload, dict):
            found.append(f"not JSON ({content_type})")
        elif payload.get("error") != "temporarily_unavailable" or not isinstance(
                payload.get("error_description"), str) or not payload["error_description"]:
            found.append(f"JSON without error/error_description: {payload}")
    else:
        if not content_type.startswith("text/html"):
            found.append(f"not a page ({content_type})")
        elif not _title(response).startswith("Temporarily unavailable"):
            found.append(f"page titled {_title(response)!r}")
    return found


def describe(response: requests.Response) -> str:
    return f"{response.status_code} {response.headers.get('Content-Type')} {response.text[:200]!r}"


# -- load, outage and recovery ------------------------------------------------------------------


def bounded_load(stack: ProductionStack, caller: Caller, probes: list[Probe], *, rounds: int,
                 cap: float) -> list[tuple[Probe, requests.Response, float]]:
    """Every probe `rounds` times from LOAD_THREADS threads; all of it within `cap` seconds."""
    jobs = [probe for _ in range(rounds) for probe in probes]

    def run(probe: Probe) -> tuple[Probe, requests.Response, float]:
        started = time.monotonic()
        response = probe.send(stack, caller, REQUEST_TIMEOUT)
        return probe, response, time.monotonic() - started

    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=LOAD_THREADS, thread_name_prefix="load")
    try:
        futures = [pool.submit(run, probe) for probe in jobs]
        _done, late = wait(futures, timeout=cap)
        assert not late, f"{len(late)} of {len(jobs)} requests not answered within {cap} s"
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    assert time.monotonic() - started < cap
    return [future.result() for future in futures]


def keep_calling(stack: ProductionStack, caller: Caller, probes: list[Probe], *, seconds: float,
                 until: Callable[[], bool] = lambda: True) -> list[tuple[Probe, requests.Response, float]]:
    """Traffic that goes on while the outage lasts: the probes one after the other, for at least
    `seconds` and until `until()` holds, at most 20 s in all (then it fails)."""
    started = time.monotonic()
    results = []
    while time.monotonic() - started < seconds or not until():
        assert time.monotonic() - started < 20, "the outage did not show where expected within 20 s"
        for probe in probes:
            began = time.monotonic()
            results.append((probe, probe.send(stack, caller, REQUEST_TIMEOUT), time.monotonic() - began))
        time.sleep(0.1)
    return results


def assert_outage_answers(results: list[tuple[Probe, requests.Response, float]], down: set[str]) -> None:
    """A clean 503 from every probe that needs a store that is down, the usual answer from the others."""
    wrong = []
    for probe, response, _seconds in results:
        if probe.needs & down:
            problems = problems_of_503(probe, response)
            if problems:
                wrong.append(f"{probe.name}: {', '.join(problems)}: {describe(response)}")
        elif not probe.healthy(response):
            wrong.append(f"{probe.name}: needs only {'/'.join(sorted(probe.needs)) or 'nothing'},"
                         f" yet answered: {describe(response)}")
    assert not wrong, "\n".join(wrong)


def wait_for_recovery(stack: ProductionStack, caller: Caller, probes: list[Probe], back_at: float) -> dict[str, float]:
    """Seconds from `back_at` (the store accepts connections again) to each probe's first
    healthy answer, all within RECOVERY_SECONDS; until then a probe may only answer a clean 503."""
    pending = list(probes)
    seconds: dict[str, float] = {}
    while pending:
        for probe in list(pending):
            left = back_at + RECOVERY_SECONDS - time.monotonic()
            assert left > 0, (f"not serving again within {RECOVERY_SECONDS} s of the restart: "
                              f"{[p.name for p in pending]} (served: {seconds})")
            try:
                response = probe.send(stack, caller, max(left, 0.2))
            except requests.RequestException:
                continue  # no answer before the deadline: the assertion above reports it
            if probe.healthy(response):
                seconds[probe.name] = time.monotonic() - back_at
                pending.remove(probe)
            else:
                problems = problems_of_503(probe, response)
                assert not problems, f"{probe.name} while recovering: {problems}: {describe(response)}"
        if pending:
            time.sleep(0.02)
    assert max(seconds.values()) < RECOVERY_SECONDS, seconds
    return seconds


def assert_serving(stack: ProductionStack, caller: Caller, probes: list[Probe]) -> None:
    """The usual answer from every probe, under the same load as the outage (both workers)."""
    results = bounded_load(stack, caller, probes, rounds=2, cap=30)
    wrong = [f"{p.name}: {describe(r)}" for p, r, _s in results if not p.healthy(r)]
    assert not wrong, "\n".join(wrong)


def rows(stack: ProductionStack) -> dict[str, set[tuple[Any, ...]]]:
    """The primary keys of every table, read on a connection of its own."""
    from sqlalchemy import create_engine
    from sqlalchemy import select

    from idp.stores.models import Base

    engine = create_engine(stack.services.settings.database_url)
    try:
        with engine.connect() as conn:
            return {table.name: {tuple(row) for row in conn.execute(select(*table.primary_key.columns))}
                    for table in Base.metadata.sorted_tables}
    finally:
        engine.dispose()


def assert_nothing_lost(before: dict[str, set[tuple[Any, ...]]], after: dict[str, set[tuple[Any, ...]]]) -> None:
    lost = {name: sorted(keys - after.get(name, set()))[:5] for name, keys in before.items() if keys - after.get(name, set())}
    assert not lost, f"rows written before the outage are gone: {lost}"
    for table in ("users", "events", "api_tokens", "app_passwords", "oidc_clients", "oidc_refresh_tokens", "mail_outbox"):
        assert before[table], f"the outage tests expect rows in {table} before the outage"


def assert_no_errors_logged(stack: ProductionStack) -> None:
    assert stack.gunicorn.errors_logged() == [], "\n".join(stack.gunicorn.errors_logged()[:20])


def healthy_start(stack: ProductionStack) -> Caller:
    """Everything up (readyz 200 through nginx), a browser signed in, an application holding tokens."""
    servers.wait_until(lambda: READYZ.healthy(READYZ.send(stack, Caller({}), 5)), timeout=15,
                       what="the service ready before the outage")
    browser = stack.sign_in()
    stack.authorize(browser)
    caller = browser_of(browser)
    assert_serving(stack, caller, EVERY_PROBE)
    return caller


# -- the outages ------------------------------------------------------------------------------


def _log_count(stack: ProductionStack, text: str) -> int:
    return stack.gunicorn.log.read_text(errors="replace").count(text)


def test_redis_killed_answers_503_then_serves_again_and_signs_people_out(production_stack: ProductionStack) -> None:
    stack = production_stack
    caller = healthy_start(stack)
    before = rows(stack)

    stack.redis.kill()
    try:
        results = bounded_load(stack, caller, EVERY_PROBE, rounds=3, cap=60)
        results += keep_calling(stack, caller, TRICKLE, seconds=5)
    finally:
        stack.redis.start()
    back_at = time.monotonic()
    assert_outage_answers(results, {REDIS})

    # Redis kept no copy: the sessions are gone, so people sign in again; everything else serves.
    seconds = wait_for_recovery(stack, caller, [*RECOVERING, SIGN_IN, *RECOVERING_LANE], back_at)
    print(f"Redis killed: first healthy answer after the restart (s): {_rounded(seconds)}")
    signed_out = _get(stack, "/", cookies=caller.cookies)
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"], describe(signed_out)
    caller = browser_of(stack.sign_in())
    assert_serving(stack, caller, EVERY_PROBE)
    assert_nothing_lost(before, rows(stack))
    assert_no_errors_logged(stack)


def test_redis_frozen_answers_503_then_serves_again_with_sessions_intact(production_stack: ProductionStack) -> None:
    stack = production_stack
    caller = healthy_start(stack)
    before = rows(stack)

    stack.redis.freeze()
    try:
        # Each request waits out the client's timeouts: one round, a wider cap.
        results = bounded_load(stack, caller, EVERY_PROBE, rounds=1, cap=90)
    finally:
        stack.redis.thaw()
    back_at = time.monotonic()
    assert_outage_answers(results, {REDIS})
    slowest = max(results, key=lambda item: item[2])
    print(f"Redis frozen: slowest answer {slowest[2]:.1f} s ({slowest[0].name})")

    # The same server is back with its data: the browser is still signed in.
    seconds = wait_for_recovery(stack, caller, [*RECOVERING, SIGNED_IN_PAGES[0], *RECOVERING_LANE], back_at)
    print(f"Redis frozen: first healthy answer after the thaw (s): {_rounded(seconds)}")
    assert_serving(stack, caller, EVERY_PROBE)
    assert_nothing_lost(before, rows(stack))
    assert_no_errors_logged(stack)


def _rounded(seconds: dict[str, float]) -> dict[str, float]:
    return {name: round(value, 2) for name, value in seconds.items()}


def _outbox(stack: ProductionStack) -> dict[int, dict[str, Any]]:
    from sqlalchemy import create_engine
    from sqlalchemy import text

    engine = create_engine(stack.services.settings.database_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT id, to_addr, subject, attempts, sent_at, failed_at, last_error"
                                      " FROM mail_outbox ORDER BY id"))
            return {row.id: row._asdict() for row in found}
    finally:
        engine.dispose()


MESSAGE_ID = re.compile(r"\.outbox(\d+)@")


def _deliveries(stack: ProductionStack) -> Counter[int]:
    """Messages the SMTP server accepted, counted per outbox row (the Message-ID names it)."""
    counts: Counter[int] = Counter()
    for mail in stack.smtp.recorder.received():
        match = MESSAGE_ID.search(mail.message_id)
        assert match, f"a message without an outbox Message-ID: {mail}"
        counts[int(match.group(1))] += 1
    return counts


def test_smtp_down_keeps_serving_and_delivers_the_queued_mail_exactly_once(production_stack: ProductionStack) -> None:
    stack = production_stack
    caller = healthy_start(stack)
    # Whatever was queued while SMTP was up has gone out, once each.
    servers.wait_until(lambda: all(r["sent_at"] for r in _outbox(stack).values()), timeout=20,
                       what="the mail queued so far delivered")
    queued_before = max(_outbox(stack))
    assert set(_deliveries(stack)) == set(_outbox(stack)) and set(_deliveries(stack).values()) == {1}
    received_before = len(stack.smtp.recorder.received())

    stack.smtp.stop()
    # Nothing a request does waits for SMTP: a sign-in works and its mail is queued.
    browser = stack.sign_in()
    home = _get(stack, "/", cookies=browser_of(browser).cookies)
    assert SIGNED_IN_PAGES[0].healthy(home), describe(home)
    results = bounded_load(stack, caller, EVERY_PROBE, rounds=2, cap=60)
    assert_outage_answers(results, set())  # SMTP is no store any request needs

    def signins() -> list[dict[str, Any]]:
        return [r for i, r in _outbox(stack).items()
                if i > queued_before and r["subject"] == "New sign-in to your Identity account"]

    # The sign-in above and those of the load (each mail is queued once its response is sent).
    servers.wait_until(lambda: len(signins()) >= 2, timeout=5, what="the sign-ins' mails queued")
    queued = {i: r for i, r in _outbox(stack).items() if i > queued_before}
    assert all(r["to_addr"] == stack.email for r in queued.values())
    # The workers tried, failed, and keep every message for a later attempt.
    servers.wait_until(
        lambda: all(r["attempts"] >= 1 and r["last_error"] and not r["sent_at"] and not r["failed_at"]
                    for r in _outbox(stack).values() if r["id"] in queued),
        timeout=15, what="each queued message tried once while SMTP is down")
    assert len(stack.smtp.recorder.received()) == received_before

    attempts = Counter(r["attempts"] for i, r in _outbox(stack).items() if i in queued)
    stack.smtp.start()
    back_at = time.monotonic()
    # The first retry comes 15 s after a failed attempt (the outbox's back-off).
    servers.wait_until(lambda: all(_outbox(stack)[i]["sent_at"] for i in queued), timeout=45,
                       what="the mail queued during the outage delivered")
    print(f"SMTP: {len(queued)} queued messages (failed attempts: {dict(attempts)}) delivered"
          f" {time.monotonic() - back_at:.1f} s after SMTP returned")
    time.sleep(6)  # one more delivery round of each worker: nothing is sent again
    deliveries = _deliveries(stack)
    assert {i: deliveries[i] for i in queued} == dict.fromkeys(queued, 1)
    assert set(deliveries.values()) == {1}, deliveries
    received = stack.smtp.recorder.received()[received_before:]
    assert Counter(m.recipients for m in received) == Counter({(stack.email,): len(queued)})
    assert len({m.message_id for m in received}) == len(received)
    assert all(not r["failed_at"] for r in _outbox(stack).values())
    assert_serving(stack, caller, EVERY_PROBE)
    assert_no_errors_logged(stack)


def test_postgresql_crash_answers_503_then_serves_again_and_loses_nothing(production_stack: ProductionStack) -> None:
    stack = production_stack
    caller = healthy_start(stack)
    # The last writes before the crash: a refresh-token rotation and its event row, committed
    # through the service a moment before the server dies.
    assert REFRESH.healthy(stack.refresh())
    last_refresh = stack.grant.refresh_token
    before = rows(stack)

    skipped = _log_count(stack, OUTBOX_SKIPPED)
    stack.postgres.stop("immediate")
    try:
        results = bounded_load(stack, caller, EVERY_PROBE, rounds=3, cap=60)
        # Traffic goes on; the workers' outbox threads (a round every 5 s) meet the outage too,
        # and say so in a warning, not a traceback.
        results += keep_calling(stack, caller, TRICKLE, seconds=8,
                                until=lambda: _log_count(stack, OUTBOX_SKIPPED) > skipped)
    finally:
        stack.postgres.start()
    back_at = time.monotonic()
    assert_outage_answers(results, {DATABASE})
    assert stack.grant.refresh_token == last_refresh, "a refresh grant succeeded with the database down"

    seconds = wait_for_recovery(stack, caller, [*RECOVERING, SIGNED_IN_PAGES[0], *RECOVERING_LANE], back_at)
    print(f"PostgreSQL crash: first healthy answer after the restart (s): {_rounded(seconds)}")
    assert_serving(stack, caller, EVERY_PROBE)
    assert_nothing_lost(before, rows(stack))
    assert_no_errors_logged(stack)
