"""Two hosts, A and B (network namespaces), each running gunicorn's asgi workers, sharing one
PostgreSQL database and one Redis topology (a Redis Cluster, or a master and replica under
Sentinel). What one host does, the other sees at once; a Redis failover costs seconds of clean
503s, never a 500; every `idp` command works in every mode.

Requests go from the root namespace straight to each host's gunicorn over plain http (TLS in
front is covered by the outage tests).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.production.servers import CHEAP_ARGON2_ENV
from tests.production.servers import ROOT
from tests.production.servers import Gunicorn
from tests.production.servers import PrivatePostgres
from tests.production.servers import service_env
from tests.production.servers import wait_until
from tests.production.topology import Hosts
from tests.production.topology import RedisCluster
from tests.production.topology import SentinelGroup
from tests.production.topology import Topology

# The service's Redis keys start with this prefix here (the contract tests on the same
# topology use `idp`).
PREFIX = "hosts"
KEY_CACHE_SECONDS = 2
# Seconds from the master's SIGKILL to the first good answer on a host, at most (the Cluster's
# node timeout and the sentinels' down-after are 2 s here).
FAILOVER_BOUND = 15.0
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
COOKIE = "idp_session"


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF token: " + html[:300]
    return match.group(1)


def http() -> requests.Session:
    """A browser of its own (cookies), ignoring the environment's proxies."""
    session = requests.Session()
    session.trust_env = False
    return session


def once(method: str, url: str, **kwargs: Any) -> requests.Response:
    """One request on a connection of its own (so on any worker of the host)."""
    with http() as session:
        headers = {"Connection": "close", **kwargs.pop("headers", {})}
        return session.request(method, url, headers=headers, timeout=15, allow_redirects=False, **kwargs)


@dataclass
class Person:
    email: str
    password: str
    id: int


@dataclass
class Deployment:
    mode: str
    hosts: Hosts
    topology: Topology
    env: dict[str, str]  # host A's; `idp` commands run on host A with it
    instance: Path  # host A's instance folder
    a: Gunicorn
    b: Gunicorn
    engine: Engine
    rotation: KeyRotationWatch | None = None

    def idp(self, *args: str, stdin: str = "") -> str:
        """An `idp` command run on host A with A's environment; its standard output."""
        command = str(Path(sys.executable).parent / "idp")
        done = subprocess.run(self.hosts.a.argv([command, *args]), input=stdin, env=self.env, capture_output=True,
                              text=True, timeout=90, check=False, cwd=str(ROOT))
        assert done.returncode == 0, f"idp {' '.join(args)} ({self.mode}) failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def person(self, what: str) -> Person:
        """A new account, made with `idp user create`."""
        email = f"{what}-{self.mode}-{secrets.token_hex(4)}@example.com"
        password = "Hosts-" + secrets.token_urlsafe(18)
        out = self.idp("user", "create", email, "--name", what.title(), "--password-stdin", stdin=password + "\n")
        match = re.fullmatch(rf"created {re.escape(email)} \(id (\d+)\)\s*", out)
        assert match, out
        return Person(email, password, int(match.group(1)))

    def user_row(self, email: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(text("SELECT * FROM users WHERE email_key = :e"), {"e": email.lower()}).mappings().one()
            return dict(row)

    def events(self, user_id: int, tag: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM events WHERE user_id = :u AND tag = :t"),
                                    {"u": user_id, "t": tag}).scalar_one())

    def redis(self) -> Any:
        """A client of the topology, made the way the service makes its own."""
        from idp.settings import load_settings
        from idp.stores import redis as redis_store

        values = {k.removeprefix("IDP_REDIS_").lower(): v for k, v in self.env.items() if k.startswith("IDP_REDIS_")}
        return redis_store.connect(load_settings(require_secret=False, redis=values).redis)


# -- the browser's side ------------------------------------------------------------------------


def sign_in(host: Gunicorn, person: Person) -> str:
    """Sign in on `host` like a browser; the session cookie's value."""
    browser = http()
    answer = _password_attempt(browser, host, person.email, person.password)
    assert answer.status_code == 302 and answer.headers["Location"] in ("/", f"{host.url}/"), \
        (answer.status_code, answer.text[:500])
    cookie = answer.cookies.get(COOKIE)
    assert cookie, answer.headers
    return str(cookie)


def wrong_password(host: Gunicorn, email: str, password: str) -> requests.Response:
    return _password_attempt(http(), host, email, password)


def _password_attempt(browser: requests.Session, host: Gunicorn, email: str, password: str) -> requests.Response:
    page = browser.get(host.url + "/login", timeout=15)
    assert page.status_code == 200, page.text[:500]
    answer = browser.post(host.url + "/login", data={"csrf_token": csrf_of(page.text), "login": email},
                          timeout=15, allow_redirects=False)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login/password"), answer.text[:500]
    page = browser.get(host.url + "/login/password", timeout=15)
    assert page.status_code == 200, page.text[:500]
    return browser.post(host.url + "/login/password", data={"csrf_token": csrf_of(page.text), "password": password},
                        timeout=15, allow_redirects=False)


def home(host: Gunicorn, cookie: str) -> requests.Response:
    """GET / with the session cookie, on a connection of its own."""
    return once("GET", host.url + "/", cookies={COOKIE: cookie})


def refused(answer: requests.Response) -> bool:
    return answer.status_code == 302 and "/login" in answer.headers.get("Location", "")


# -- the deployment ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deployment(hosts: Hosts, hosts_postgres: PrivatePostgres, redis_topology: Topology,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    mode = "cluster" if isinstance(redis_topology, RedisCluster) else "sentinel"
    folder = tmp_path_factory.mktemp(f"hosts-{mode}")
    database_url = hosts_postgres.create_database(f"hosts_{mode}")
    values = {
        "IDP_SECRET_KEY": secrets.token_urlsafe(32),
        "IDP_DATABASE_URL": database_url,
        **redis_topology.env(),
        "IDP_REDIS_KEY_PREFIX": PREFIX,
        "IDP_SERVER_BASE_URL": "http://idp.test",
        "IDP_SERVER_TRUSTED_PROXIES": "0",
        "IDP_MAIL_BACKGROUND_DELIVERY": "false",
        # Every sign-in of these tests comes from one of two addresses (this namespace's end of
        # each link): the per-IP limit is not under test here.
        "IDP_RATELIMIT_SIGNIN_PER_IP": "100000",
        "IDP_OIDC_KEY_CACHE_SECONDS": str(KEY_CACHE_SECONDS),
        **CHEAP_ARGON2_ENV,
    }
    instances = {name: folder / f"instance-{name}" for name in ("a", "b")}
    for instance in instances.values():
        instance.mkdir()
    env_a, env_b = service_env(instances["a"], **values), service_env(instances["b"], **values)
    a = Gunicorn(folder / "gunicorn-a", env_a, host=hosts.a.address, workers=2, netns=hosts.a.name)
    b = Gunicorn(folder / "gunicorn-b", env_b, host=hosts.b.address, workers=2, netns=hosts.b.name)
    engine = create_engine(database_url)
    made: Deployment | None = None
    try:
        a.start(ready=False)
        b.start(ready=False)
        a.wait_ready()
        b.wait_ready()
        made = Deployment(mode, hosts, redis_topology, env_a, instances["a"], a, b, engine)
        # The two-phase key rotation takes over a minute to switch: it starts here and is
        # watched while the other tests run; its test, the module's last, waits for the verdict.
        made.rotation = KeyRotationWatch.rotate(made)
        yield made
        for host in (a, b):
            assert host.errors_logged() == [], f"{host.address} logged errors:\n" + "\n".join(host.errors_logged())
    finally:
        if made is not None and made.rotation is not None:
            made.rotation.stop()
        a.stop()
        b.stop()
        engine.dispose()


# -- sessions -------------------------------------------------------------------------------


def session_rows(html: str) -> dict[str, str]:
    """handle -> the row's cells, from the sessions page."""
    return dict(re.findall(r'<tr data-session="([0-9a-f]+)">(.*?)</tr>', html, re.S))


def test_a_session_made_on_a_is_listed_and_ended_on_b_and_a_refuses_it(deployment: Deployment) -> None:
    d = deployment
    person = d.person("session")
    on_a = sign_in(d.a, person)
    assert [home(d.a, on_a).status_code for _ in range(4)] == [200] * 4
    assert home(d.b, on_a).status_code == 200  # one session store for both hosts

    on_b = sign_in(d.b, person)
    browser = http()
    browser.cookies.set(COOKIE, on_b)
    page = browser.get(d.b.url + "/security/sessions", timeout=15)
    assert page.status_code == 200, page.text[:500]
    rows = session_rows(page.text)
    handle_a = hashlib.sha256(on_a.encode()).hexdigest()[:20]
    handle_b = hashlib.sha256(on_b.encode()).hexdigest()[:20]
    assert set(rows) == {handle_a, handle_b}, rows
    assert "this-device" in rows[handle_b] and "this-device" not in rows[handle_a]

    ended = browser.post(d.b.url + f"/security/sessions/{handle_a}/end", data={"csrf_token": csrf_of(page.text)},
                         timeout=15, allow_redirects=False)
    assert ended.status_code == 302 and ended.headers["Location"].endswith("/security/sessions"), ended.text[:500]
    page = browser.get(d.b.url + "/security/sessions", timeout=15)
    assert "The session has been ended" in page.text
    assert set(session_rows(page.text)) == {handle_b}

    answers = [home(d.a, on_a) for _ in range(6)]  # fresh connections: both of A's workers
    assert all(refused(a) for a in answers), [(a.status_code, a.headers.get("Location")) for a in answers]
    assert refused(home(d.b, on_a))
    assert home(d.b, on_b).status_code == 200 and home(d.a, on_b).status_code == 200


# -- lockout --------------------------------------------------------------------------------


def test_failures_spread_over_both_hosts_lock_at_exactly_the_threshold(deployment: Deployment) -> None:
    d = deployment
    person = d.person("lockout")
    threshold = d.user_row(person.email)["lockout_threshold"]
    assert threshold >= 3
    redis = d.redis()
    try:
        for attempt in range(1, threshold + 1):
            host = d.a if attempt % 2 else d.b
            answer = wrong_password(host, person.email, f"wrong-{attempt}-{secrets.token_hex(4)}")
            assert answer.status_code == 401 and "Wrong e-mail or password." in answer.text, answer.text[:300]
            assert int(redis.get(f"{PREFIX}:{{u:{person.id}}}:failures") or 0) == attempt  # none lost
            locked = d.user_row(person.email)["locked_at"] is not None
            assert locked == (attempt >= threshold), f"after {attempt} failures (threshold {threshold}): locked={locked}"
    finally:
        redis.close()
    assert d.events(person.id, "account:lockout:locked") == 1
    for host in (d.a, d.b):
        answer = wrong_password(host, person.email, person.password)  # the right password, now refused
        assert answer.status_code == 401 and "Wrong e-mail or password." in answer.text
        assert COOKIE not in answer.cookies


# -- Redis failover ---------------------------------------------------------------------------


@dataclass
class Answer:
    sent: float
    done: float
    status: int  # 0: no answer (the exception is in `body`)
    retry_after: str | None
    body: str


class Load(threading.Thread):
    """Signed-in page requests to one host, one at a time on fresh connections, until three
    seconds of answers after its first good one following the fault (or a deadline, or a cap)."""

    def __init__(self, host: Gunicorn, cookie: str, *, limit: int = 1500, seconds: float = 60) -> None:
        super().__init__(daemon=True)
        self.host, self.cookie, self.limit, self.seconds = host, cookie, limit, seconds
        self.answers: list[Answer] = []
        self.fault_at: float | None = None  # set by the test once the fault happened

    def run(self) -> None:
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline and len(self.answers) < self.limit:
            sent = time.monotonic()
            try:
                answer = home(self.host, self.cookie)
                got = Answer(sent, time.monotonic(), answer.status_code, answer.headers.get("Retry-After"),
                             "" if answer.status_code == 200 else answer.text)
            except requests.RequestException as exc:
                got = Answer(sent, time.monotonic(), 0, None, repr(exc))
            self.answers.append(got)
            back = self.recovered_at()
            if back is not None and got.sent > back + 3:
                return
            time.sleep(0.05)

    def recovered_at(self) -> float | None:
        """When the first good answer to a request sent after the fault arrived."""
        fault = self.fault_at
        if fault is None:
            return None
        return next((a.done for a in self.answers if a.sent >= fault and a.status == 200), None)


def session_key(cookie: str) -> str:
    return f"{PREFIX}:sess:{hashlib.sha256(cookie.encode()).hexdigest()}"


def test_the_redis_master_killed_mid_run_costs_seconds_of_clean_503s(deployment: Deployment) -> None:
    d = deployment
    topology = d.topology
    person = d.person("failover")
    on_a = sign_in(d.a, person)
    if isinstance(topology, RedisCluster):
        # Both hosts' sessions on the master about to die, so both see the fault.
        victim = topology.master_for_key(session_key(on_a))
        for _ in range(40):
            on_b = sign_in(d.b, person)
            if topology.master_for_key(session_key(on_b)) is victim:
                break
        else:
            raise AssertionError("no session of B's landed on A's master in 40 sign-ins")
    else:
        assert isinstance(topology, SentinelGroup)
        victim = topology.master()
        on_b = sign_in(d.b, person)

    loads = {"A": Load(d.a, on_a), "B": Load(d.b, on_b)}
    try:
        for load in loads.values():
            load.start()
        time.sleep(1.5)
        if isinstance(topology, RedisCluster):
            topology.kill_master(victim)
        else:
            topology.kill_master()
        assert topology.killed_at is not None
        fault = topology.killed_at
        for load in loads.values():
            load.fault_at = fault
        for load in loads.values():
            load.join(timeout=90)
            assert not load.is_alive()
        topology.wait_failed_over(victim)
    finally:
        topology.heal()

    seconds: dict[str, float] = {}
    for name, load in loads.items():
        answers = load.answers
        timeline = " ".join(f"{a.sent - fault:+.2f}:{a.status}" for a in answers if a.sent >= fault - 0.5)
        before = [a for a in answers if a.sent < fault]
        after = [a for a in answers if a.sent >= fault]
        assert before and all(a.status == 200 for a in before if a.done < fault), f"{name}: not all good before"
        bad = [a for a in answers if a.status not in (200, 503)]
        assert not bad, f"host {name}: answers other than 200 or 503: {[(a.status, a.body[:300]) for a in bad]}"
        unclean = [a for a in answers if a.status == 503
                   and not (a.retry_after and "Temporarily unavailable" in a.body)]
        assert not unclean, f"host {name}: 503 without Retry-After or the unavailable page: {unclean[0].body[:300]}"
        assert any(a.status == 503 for a in after), f"host {name} never saw the fault: {timeline}"
        back = load.recovered_at()
        assert back is not None, f"host {name}: no good answer within {load.seconds} s of the kill"
        tail = [a for a in answers if a.sent >= back + 1]
        assert tail and all(a.status == 200 for a in tail), f"host {name} did not stay back: {timeline}"
        seconds[name] = back - fault
        failed = sum(a.status == 503 for a in after)
        print(f"Redis failover ({d.mode}): host {name} answered 200 again {seconds[name]:.2f} s after the master's "
              f"SIGKILL ({failed} clean 503s, {len(answers)} requests)")
    assert max(seconds.values()) <= FAILOVER_BOUND, seconds
    # Back for good, with no restart, and ready again.
    for host, cookie in ((d.a, on_a), (d.b, on_b)):
        assert [home(host, cookie).status_code for _ in range(6)] == [200] * 6
        assert host.get("/readyz").status_code == 200


# -- the idp command in every mode ----------------------------------------------------------


def test_a_token_revoked_on_a_is_inactive_at_once_on_b(deployment: Deployment) -> None:
    """Introspection is answered in each worker's event loop (the fast lane, through the asyncio
    Redis client of this topology); a revocation on the other host reaches it at once."""
    d = deployment
    client = json.loads(d.idp("client", "create", "Hosts introspection", "--kind", "service",
                              "--grant-type", "client_credentials", "--json"))
    auth = (client["client_id"], client["client_secret"])
    issued = once("POST", d.a.url + "/oauth/token", data={"grant_type": "client_credentials"}, auth=auth,
                  headers={"Host": f"localhost:{d.a.port}"})
    assert issued.status_code == 200, issued.text[:300]
    token = issued.json()["access_token"]

    def introspect_on_b() -> dict[str, Any]:
        answer = once("POST", d.b.url + "/oauth/introspect", data={"token": token}, auth=auth,
                      headers={"Host": f"localhost:{d.b.port}"})
        assert answer.status_code == 200, answer.text[:300]
        return dict(answer.json())

    # Each worker of B, on connections of their own.
    assert all(introspect_on_b()["active"] is True for _ in range(6))
    revoked = once("POST", d.a.url + "/oauth/revoke", data={"token": token}, auth=auth,
                   headers={"Host": f"localhost:{d.a.port}"})
    assert revoked.status_code == 200, revoked.text[:300]
    assert all(introspect_on_b() == {"active": False} for _ in range(6))


def listed(d: Deployment, email: str) -> dict[str, Any]:
    rows = [row for row in json.loads(d.idp("user", "list", "--json")) if row["email"] == email]
    assert len(rows) == 1, rows
    return dict(rows[0])


def test_every_idp_command_works_on_this_topology(deployment: Deployment) -> None:
    d = deployment
    person = d.person("cli")  # idp user create
    row = listed(d, person.email)  # idp user list --json
    assert (row["id"], row["status"], row["locked"]) == (person.id, "active", False)

    threshold = d.user_row(person.email)["lockout_threshold"]
    for attempt in range(threshold):
        answer = wrong_password(d.a if attempt % 2 else d.b, person.email, "not-the-password")
        assert answer.status_code == 401
    assert d.user_row(person.email)["locked_at"] is not None
    assert d.idp("user", "unlock", person.email).strip() == f"unlocked {person.email}"
    assert d.user_row(person.email)["locked_at"] is None
    # The failures were forgotten with the lock (in Redis, on whichever node holds the counter):
    # one more failure does not lock again, and the right password works on both hosts.
    assert wrong_password(d.b, person.email, "not-the-password").status_code == 401
    assert d.user_row(person.email)["locked_at"] is None

    on_a, on_b = sign_in(d.a, person), sign_in(d.b, person)
    assert home(d.a, on_a).status_code == 200 and home(d.b, on_b).status_code == 200
    out = d.idp("user", "disable", person.email)
    assert out.strip() == f"disabled {person.email}; 2 session(s) ended", out
    for host in (d.a, d.b):
        for cookie in (on_a, on_b):
            assert refused(home(host, cookie))
    row = listed(d, person.email)
    assert (row["status"], row["locked"]) == ("disabled", False)

    created = json.loads(d.idp("client", "create", "Hosts application", "--redirect-uri", "http://127.0.0.1:9/cb",
                               "--json"))
    clients = json.loads(d.idp("client", "list", "--json"))
    assert created["client_id"] in {c["client_id"] for c in clients}

    def published(host: Gunicorn) -> set[str]:
        return {key["kid"] for key in host.get("/oauth/jwks").json()["keys"]}

    before = published(d.a)
    rotated = json.loads(d.idp("keys", "rotate", "--json"))
    new = {row["kid"] for row in rotated["keys"]} - before
    assert len(new) == 2, rotated
    wait_until(lambda: all(new <= published(host) for host in (d.a, d.b)), timeout=KEY_CACHE_SECONDS + 15,
               what="both hosts publish the rotated keys")

    mail = d.instance / "mail"
    old_files = set(mail.glob("*.eml")) if mail.exists() else set()
    out = d.idp("mail", "deliver")
    match = re.fullmatch(r"(\d+) message\(s\) sent\s*", out)
    assert match and int(match.group(1)) >= 1, out
    sent = [message_from_bytes(p.read_bytes()) for p in set(mail.glob("*.eml")) - old_files]
    assert len(sent) == int(match.group(1))
    assert any(person.email in str(m["To"]) for m in sent), [m["To"] for m in sent]  # the lock mail, at least


# -- signing keys -------------------------------------------------------------------------


def kid_of(token: str) -> str:
    header = token.split(".", 1)[0]
    return str(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"])


class KeyRotationWatch(threading.Thread):
    """After `idp keys rotate` on host A: tokens issued by the client credentials grant on A and
    on B in turn, the `kid` of each checked at once against B's JWKS (fetched three times, on
    fresh connections, so from both of B's workers), until both hosts have signed with a new key
    or the deadline passes. A sample every half second long before the switch, every 50 ms near
    and after it."""

    def __init__(self, d: Deployment, auth: tuple[str, str], old: set[str], new: set[str], switch_at: float) -> None:
        super().__init__(daemon=True)
        self.d, self.auth, self.old, self.new, self.switch_at = d, auth, old, new, switch_at
        self.deadline = switch_at + 2 * KEY_CACHE_SECONDS + 20
        self.started_at = time.monotonic()
        self.signed: dict[str, set[str]] = {"A": set(), "B": set()}
        self.checks = 0
        self.failure: BaseException | None = None
        self.finished_at: float | None = None
        self._halt = threading.Event()

    @classmethod
    def rotate(cls, d: Deployment) -> KeyRotationWatch:
        client = json.loads(d.idp("client", "create", "Hosts service", "--kind", "service",
                                  "--grant-type", "client_credentials", "--json"))
        auth = (client["client_id"], client["client_secret"])
        before = {row["kid"] for row in json.loads(d.idp("keys", "list", "--json"))}
        old = {token_kid(d.a, auth), token_kid(d.b, auth)}
        assert old <= before and old <= published_by(d.b)
        rotated = json.loads(d.idp("keys", "rotate", "--json"))
        rotated_at = time.monotonic()
        new = {row["kid"] for row in rotated["keys"]} - before
        assert len(new) == 2, rotated  # one per algorithm (RS256, ES256)
        # Two-phase rotation names the moment the new keys start signing; until then the old sign.
        switch = dt.datetime.fromisoformat(rotated["activates_at"]) if "activates_at" in rotated else None
        wait = (switch - dt.datetime.now(dt.UTC)).total_seconds() if switch else 0.0
        watch = cls(d, auth, old, new, rotated_at + max(0.0, wait))
        watch.started_at = rotated_at
        watch.start()
        return watch

    def run(self) -> None:
        try:
            while not self._halt.is_set() and not (self.new & self.signed["A"] and self.new & self.signed["B"]):
                assert time.monotonic() < self.deadline, f"no token signed with a new key on both hosts: {self.signed}"
                for name, host in (("A", self.d.a), ("B", self.d.b)):
                    kid = token_kid(host, self.auth)
                    for _ in range(3):
                        published = published_by(self.d.b)
                        assert kid in published, \
                            f"host {name} signed with {kid}, which B's JWKS did not publish at that moment: {published}"
                    self.signed[name].add(kid)
                    self.checks += 1
                self._halt.wait(0.5 if time.monotonic() < self.switch_at - 5 else 0.05)
            self.finished_at = time.monotonic()
        except BaseException as exc:  # handed to the test, which raises it
            self.failure = exc

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=30)


def token_kid(host: Gunicorn, auth: tuple[str, str]) -> str:
    # Authlib refuses OAuth over plain http unless the request names a loopback host, and
    # there is no TLS in front here: the request names `localhost` as its Host.
    answer = once("POST", host.url + "/oauth/token", data={"grant_type": "client_credentials"}, auth=auth,
                  headers={"Host": f"localhost:{host.port}"})
    assert answer.status_code == 200, answer.text[:500]
    return kid_of(answer.json()["access_token"])


def published_by(host: Gunicorn) -> set[str]:
    answer = once("GET", host.url + "/oauth/jwks")
    assert answer.status_code == 200, answer.text[:300]
    return {key["kid"] for key in answer.json()["keys"]}


def test_b_publishes_rotated_keys_before_any_token_is_signed_with_them(deployment: Deployment) -> None:
    """The last test of the module: the rotation started with the deployment has been watched
    while the others ran (the Redis failover among them; this grant needs no Redis)."""
    watch = deployment.rotation
    assert watch is not None
    watch.join(timeout=max(1.0, watch.deadline - time.monotonic() + 30))
    assert not watch.is_alive(), "the rotation watch did not finish"
    if watch.failure is not None:
        raise watch.failure
    assert watch.finished_at is not None
    assert watch.signed["A"] | watch.signed["B"] <= watch.old | watch.new
    assert watch.new & watch.signed["A"] and watch.new & watch.signed["B"]
    print(f"keys rotated ({deployment.mode}): new keys signed on both hosts {watch.finished_at - watch.started_at:.1f} s "
          f"after the rotation; {watch.checks} tokens checked against B's JWKS at once")
