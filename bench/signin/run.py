"""Complete browser sign-ins per second in the production shape: nginx terminating TLS (a test CA)
in front of gunicorn's asgi workers (config/gunicorn.conf.py, `idp.asgi:create_asgi_app()`), on a
private PostgreSQL cluster and a private redis-server, everything on loopback
(tests/production/servers.py starts and stops them all).

usage: .venv/bin/python bench/signin/run.py [--workers 2] [--threads 4] [--clients 4] [--duration 15]
                                           [--warmup 3] [--probe 60] [--argon2 default|owasp ...]
                                           [--row password|totp ...] [--py-spy PATH] [--keep] [--json PATH]

Prints Markdown tables (docs/benchmarks.md, "Sign-in in the production shape"). Needs Debian's
nginx, PostgreSQL 15 and redis-server (as tests/production does); no service of the machine is
used. With --py-spy (the py-spy binary, from PyPI) one worker is recorded during each probe into
the work folder (--keep keeps it); bench/signin/stacks.py summarises the recording.

A sign-in is what a browser does, each request after the previous one, with a fresh cookie jar:
GET /login (CSRF token from the form), POST /login (the e-mail), GET /login/password, POST
/login/password (the password); for the TOTP row GET /login/totp and POST /login/totp (a code
computed with pyotp); then GET / , which must be the signed-in home page of that account. A
sign-in that ends anywhere else is a failure and is not counted. Each TOTP account is used at
most once per 30-second step (the service refuses a step not later than the last one it
accepted for the account), so the row cycles through a pool of enrolled accounts.

For each argon2 parameter set (the defaults of idp.settings.PasswordSettings, and OWASP's
minimum for argon2id) the database is seeded anew and gunicorn restarted; then each row runs a
warm-up, a measured phase of --duration seconds with --clients concurrent browsers, and a
sequential probe of --probe sign-ins (one browser, nothing else running) for the server time of
each step, taken from nginx's $upstream_response_time and from the app's own Prometheus
histogram (sum / count). argon2id's verification alone is timed in this process at the same
parameters, between the probe's sign-ins; "overhead" is the server time of the password POST
minus that, at p50. The CPU used by each server (and by everything else on the machine) is read
from /proc over the measured phase.

Every loop is bounded in count (--max-signins, --max-requests) and in time. The sign-in rate
limits are raised (per IP and per account and IP: 100000 per 60 s) and the lockout threshold to
100, as the load comes from one address; every other setting is the production default. Not a
test: pytest never collects it.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import functools
import json
import math
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pyotp
import requests
from argon2 import PasswordHasher

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from tests.production.servers import Gunicorn  # noqa: E402
from tests.production.servers import Nginx  # noqa: E402
from tests.production.servers import PrivatePostgres  # noqa: E402
from tests.production.servers import RedisServer  # noqa: E402
from tests.production.servers import TestCA  # noqa: E402
from tests.production.servers import free_port  # noqa: E402
from tests.production.servers import https_session  # noqa: E402
from tests.production.servers import service_env  # noqa: E402

ARGON2 = {
    # idp.settings.PasswordSettings defaults (RFC 9106's second recommended option).
    "default": {"time_cost": 3, "memory_cost": 65536, "parallelism": 4},
    # OWASP Password Storage Cheat Sheet, argon2id minimum: m=19 MiB, t=2, p=1.
    "owasp": {"time_cost": 2, "memory_cost": 19456, "parallelism": 1},
}
ROWS = ["password", "totp"]
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
STEPS = ["GET /login", "POST /login", "GET /login/password", "POST /login/password",
         "GET /login/totp", "POST /login/totp", "GET /"]
LIMITS = {
    # One address sends every sign-in: the per-IP limit and the lockout threshold are raised.
    "IDP_RATELIMIT_SIGNIN_PER_IP": "100000", "IDP_RATELIMIT_SIGNIN_PER_ACCOUNT_IP": "100000",
    "IDP_RATELIMIT_SIGNIN_WINDOW": "60", "IDP_LOCKOUT_DEFAULT_THRESHOLD": "100",
}
TIMEOUT = 30


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)  # nearest rank
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


# -- the browser ------------------------------------------------------------------------------


class SignInFailed(Exception):
    pass


@dataclass
class TotpAccount:
    email: str
    totp: pyotp.TOTP
    last_step: int = 0


class TotpPool:
    """TOTP accounts, least recently used first; an account is handed out at most once per step."""

    def __init__(self, accounts: list[TotpAccount]) -> None:
        self.queue = collections.deque(accounts)
        self.lock = threading.Lock()
        self.waits = 0

    def take(self, deadline: float) -> tuple[TotpAccount, int] | None:
        while time.monotonic() < deadline:
            step = int(time.time()) // 30
            with self.lock:
                if self.queue and self.queue[0].last_step < step:
                    account = self.queue.popleft()
                    account.last_step = step
                    return account, step
                self.waits += 1
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        return None

    def give(self, account: TotpAccount) -> None:
        with self.lock:
            self.queue.append(account)


class Browser:
    """One browser: a keep-alive TLS connection to nginx, a fresh cookie jar for each sign-in."""

    def __init__(self, ca: TestCA, base: str) -> None:
        self.http = https_session(ca)
        self.base = base
        self.requests = 0

    def close(self) -> None:
        self.http.close()

    def _do(self, method: str, path: str, times: dict[str, float], data: dict[str, str] | None = None
            ) -> requests.Response:
        started = time.perf_counter()
        headers = {"Origin": self.base, "Referer": self.base + path} if method == "POST" else {}
        response = self.http.request(method, self.base + path, data=data, headers=headers,
                                     allow_redirects=False, timeout=TIMEOUT)
        times[f"{method} {path}"] = (time.perf_counter() - started) * 1000
        self.requests += 1
        return response

    def _page(self, path: str, times: dict[str, float]) -> str:
        response = self._do("GET", path, times)
        if response.status_code != 200:
            raise SignInFailed(f"GET {path}: {response.status_code}")
        match = CSRF.search(response.text)
        if match is None:
            raise SignInFailed(f"GET {path}: no CSRF token")
        return match.group(1)

    def _post(self, path: str, data: dict[str, str], expect: str, times: dict[str, float]) -> None:
        response = self._do("POST", path, times, data)
        location = urljoin(self.base + path, response.headers.get("Location", ""))
        if response.status_code not in (302, 303) or location != self.base + expect:
            raise SignInFailed(f"POST {path}: {response.status_code} to {location or '-'} (expected {expect})")

    def sign_in(self, email: str, password: str, code: str | None) -> dict[str, float]:
        """The per-request times (ms) of one complete sign-in, or SignInFailed."""
        self.http.cookies.clear()
        times: dict[str, float] = {}
        token = self._page("/login", times)
        self._post("/login", {"csrf_token": token, "next": "", "login": email}, "/login/password", times)
        token = self._page("/login/password", times)
        self._post("/login/password", {"csrf_token": token, "username": email, "password": password},
                   "/login/totp" if code else "/", times)
        if code:
            token = self._page("/login/totp", times)
            self._post("/login/totp", {"csrf_token": token, "code": code}, "/", times)
        home = self._do("GET", "/", times)
        if home.status_code != 200 or email not in home.text or "Sign out" not in home.text:
            raise SignInFailed(f"GET /: {home.status_code}, not the signed-in home page of {email}")
        return times


# -- load ---------------------------------------------------------------------------------------


@dataclass
class Phase:
    seconds: float = 0.0
    signins: list[float] = field(default_factory=list)  # ms per complete sign-in
    steps: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    failures: collections.Counter[str] = field(default_factory=collections.Counter)
    requests: int = 0
    pool_waits: int = 0
    cpu: dict[str, float] = field(default_factory=dict)


class Accounts:
    def __init__(self, seeded: dict[str, Any]) -> None:
        self.password = seeded["password"]
        self.plain = seeded["password_accounts"]
        self.plain_next = 0
        self.lock = threading.Lock()
        self.pool = TotpPool([TotpAccount(e, pyotp.TOTP(s, digits=6, interval=30)) for e, s in seeded["totp_accounts"]])

    def next_plain(self) -> str:
        with self.lock:
            self.plain_next += 1
            return str(self.plain[self.plain_next % len(self.plain)])


def run_phase(ca: TestCA, base: str, accounts: Accounts, row: str, *, clients: int, seconds: float,
              max_signins: int, max_requests: int, cpu_of: Any = None, between: Any = None) -> Phase:
    """`clients` browsers signing in one after the other until `seconds` pass or a cap is reached;
    `between()` runs before each sign-in."""
    phase = Phase()
    lock = threading.Lock()
    counts = {"signins": 0, "requests": 0}
    waits_before = accounts.pool.waits
    deadline = time.monotonic() + seconds

    def client() -> None:
        browser = Browser(ca, base)
        try:
            while time.monotonic() < deadline:
                with lock:
                    if counts["signins"] >= max_signins or counts["requests"] >= max_requests:
                        return
                    counts["signins"] += 1
                if between is not None:
                    between()
                taken = None
                code = None
                if row == "totp":
                    taken = accounts.pool.take(deadline)
                    if taken is None:
                        return
                    email, code = taken[0].email, taken[0].totp.generate_otp(taken[1])
                else:
                    email = accounts.next_plain()
                before = browser.requests
                started = time.perf_counter()
                try:
                    times = browser.sign_in(email, accounts.password, code)
                except (SignInFailed, requests.RequestException) as exc:
                    with lock:
                        phase.failures[str(exc)[:160]] += 1
                else:
                    total = (time.perf_counter() - started) * 1000
                    with lock:
                        phase.signins.append(total)
                        for step, ms in times.items():
                            phase.steps[step].append(ms)
                finally:
                    if taken is not None:
                        accounts.pool.give(taken[0])
                    with lock:
                        counts["requests"] += browser.requests - before
        finally:
            browser.close()

    cpu_before = cpu_of() if cpu_of else {}
    started = time.monotonic()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 2 * TIMEOUT * 8)
    phase.seconds = time.monotonic() - started
    if cpu_of:
        after = cpu_of()
        phase.cpu = {k: after[k] - cpu_before.get(k, 0.0) for k in after}
    phase.requests = counts["requests"]
    phase.pool_waits = accounts.pool.waits - waits_before
    if any(t.is_alive() for t in threads):
        raise SystemExit("a client did not stop within its bound")
    return phase


# -- measurements on the server side ------------------------------------------------------------


TICK = os.sysconf("SC_CLK_TCK")


def _proc_table() -> dict[int, tuple[int, float]]:
    """pid -> (ppid, CPU seconds of the process and its reaped children)."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2:].split()
        table[int(entry)] = (int(fields[1]), sum(int(x) for x in fields[11:15]) / TICK)
    return table


def tree_cpu(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each named process tree, and by this process ("client")."""
    table = _proc_table()
    children = collections.defaultdict(list)
    for pid, (ppid, _cpu) in table.items():
        children[ppid].append(pid)
    result = {}
    for name, root in roots.items():
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            if pid in table:
                total += table[pid][1]
                todo.extend(children[pid])
        result[name] = total
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["client"] = usage.ru_utime + usage.ru_stime
    # The whole machine: every CPU's busy time (user, nice, system, irq, softirq, steal).
    times = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    result["machine"] = (sum(times[:8]) - times[3] - times[4]) / TICK
    return result


class TimedNginx(Nginx):
    """servers.Nginx with an access log of each request's upstream (gunicorn) time."""

    def __init__(self, folder: Path, ca: TestCA, upstreams: list[str]) -> None:
        super().__init__(folder, ca, upstreams)
        self.access_log = folder / "access.log"
        log = (f"log_format timing '$request_method $uri $status $upstream_response_time';\n"
               f"  access_log {self.access_log} timing;")
        self.conf.write_text(self.conf.read_text().replace("access_log off;", log))

    def mark(self) -> int:
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def upstream_ms(self, since: int) -> dict[str, list[float]]:
        """Upstream times (ms) by "METHOD /path" of the requests logged after `since`."""
        with self.access_log.open("rb") as fh:
            fh.seek(since)
            lines = fh.read().decode().splitlines()
        times: dict[str, list[float]] = collections.defaultdict(list)
        for line in lines:
            method, uri, _status, upstream = line.split(" ", 3)
            if upstream != "-":
                times[f"{method} {uri}"].append(float(upstream.split(",")[-1]) * 1000)
        return times


def log_mark(gunicorn: Gunicorn) -> int:
    return gunicorn.log.stat().st_size if gunicorn.log.exists() else 0


def gunicorn_ms(gunicorn: Gunicorn, since: int) -> dict[str, list[float]]:
    """Request times (ms, microsecond resolution) by "METHOD /path" from gunicorn's JSON access
    log (config/gunicorn.conf.py: "seconds" is %(L)s) after offset `since`."""
    with gunicorn.log.open("rb") as fh:
        fh.seek(since)
        lines = fh.read().decode(errors="replace").splitlines()
    times: dict[str, list[float]] = collections.defaultdict(list)
    for line in lines:
        if not line.startswith('{"remote"'):
            continue  # the app's own log lines
        entry = json.loads(line)
        times[f"{entry['method']} {entry['path']}"].append(float(entry["seconds"]) * 1000)
    return times


def flask_seconds(gunicorn: Gunicorn) -> dict[str, tuple[float, float]]:
    """endpoint -> (sum of seconds, count) of the app's idp_http_request_seconds histogram."""
    text = gunicorn.get("/metrics").text
    found: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0])
    for m in re.finditer(r'^idp_http_request_seconds_(sum|count)\{endpoint="([^"]+)"\} ([0-9.e+-]+)$', text, re.M):
        found[m.group(2)][0 if m.group(1) == "sum" else 1] += float(m.group(3))
    return {k: (v[0], v[1]) for k, v in found.items()}


STATS_DELAY = 11.0


def store_counts(db_url: str, redis_server: RedisServer) -> collections.Counter[str]:
    """Cumulative counts: PostgreSQL transactions and row reads and writes by table (this
    database), Redis commands by name (the whole server)."""
    import psycopg

    counts: collections.Counter[str] = collections.Counter()
    with psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        commits, rollbacks = conn.execute(
            "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = current_database()").fetchone()
        counts["pg transactions"] = commits + rollbacks
        for table, scans, written in conn.execute(
                "SELECT relname, coalesce(seq_scan, 0) + coalesce(idx_scan, 0), n_tup_ins + n_tup_upd + n_tup_del"
                " FROM pg_stat_user_tables"):
            counts[f"pg {table} scans"] = scans
            counts[f"pg {table} rows written"] = written
    for line in redis_server.cli("INFO", "commandstats").splitlines():
        m = re.match(r"cmdstat_([^:]+):calls=(\d+)", line)
        if m and m.group(1) not in ("info",):
            counts[f"redis {m.group(1).upper()}"] = int(m.group(2))
    return counts


class Argon2Timer:
    """argon2-cffi's PasswordHasher.verify alone, at the service's parameters, in this process."""

    def __init__(self, params: dict[str, int], password: str) -> None:
        self.hasher = PasswordHasher(**params)
        self.password = password
        self.encoded = self.hasher.hash(password)
        self.hasher.verify(self.encoded, password)
        self.samples: list[float] = []

    def run(self, rounds: int) -> None:
        for _ in range(rounds):
            started = time.perf_counter()
            self.hasher.verify(self.encoded, self.password)
            self.samples.append((time.perf_counter() - started) * 1000)


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


# -- the run ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2, help="gunicorn asgi workers")
    parser.add_argument("--threads", type=int, default=4, help="Flask threads per worker (IDP_THREADS)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent browsers")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds measured per row")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per row")
    parser.add_argument("--probe", type=int, default=60, help="sequential sign-ins per row for server times")
    parser.add_argument("--max-signins", type=int, default=5000, help="cap per phase")
    parser.add_argument("--max-requests", type=int, default=40000, help="cap per phase")
    parser.add_argument("--argon2-rounds", type=int, default=120,
                        help="in-process verifications, spread over the probe")
    parser.add_argument("--password-accounts", type=int, default=200)
    parser.add_argument("--totp-accounts", type=int, default=2500,
                        help="each is used at most once per 30 s: more than sign-ins/s x 30")
    parser.add_argument("--argon2", choices=list(ARGON2), action="append", help="parameter sets (default: all)")
    parser.add_argument("--row", choices=ROWS, action="append", help="rows (default: all)")
    parser.add_argument("--py-spy", metavar="PATH",
                        help="py-spy binary: record one worker during each probe (raw stacks in the work folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, profiles)")
    parser.add_argument("--json", metavar="PATH", help="write every sample to this file")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="idp-bench-signin-"))
    print(f"# work folder {work}; {cores} cores; load average before: {load_average()}", file=sys.stderr)
    results: list[dict[str, Any]] = []
    ca = TestCA(work / "ca")
    with contextlib.ExitStack() as servers:  # each server stopped even when a later one fails
        pg = PrivatePostgres()
        servers.callback(pg.remove)
        pg.start()
        redis_server = RedisServer(work / "redis")
        servers.callback(redis_server.stop)
        redis_server.start()
        port = free_port()
        nginx = TimedNginx(work / "nginx", ca, [f"127.0.0.1:{port}"])
        servers.callback(nginx.stop)
        nginx.start()
        for db_index, name in enumerate(args.argon2 or list(ARGON2), start=1):
            results += run_parameters(args, work, name, db_index, ca, pg, redis_server, nginx, port)
    report(args, cores, results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, default=lambda o: getattr(o, "__dict__", str(o))))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def run_parameters(args: argparse.Namespace, work: Path, name: str, db_index: int, ca: TestCA,
                   pg: PrivatePostgres, redis_server: RedisServer, nginx: TimedNginx, port: int
                   ) -> list[dict[str, Any]]:
    params = ARGON2[name]
    instance = work / f"instance-{name}"
    instance.mkdir()
    env = service_env(
        instance,
        IDP_SECRET_KEY="bench-secret-key-" + name,
        IDP_DATABASE_URL=(db_url := pg.create_database(f"bench_{name}")),
        IDP_REDIS_URL=f"redis://{redis_server.host}:{redis_server.port}/{db_index}",
        IDP_SERVER_BASE_URL=nginx.url,
        IDP_SERVER_TRUSTED_PROXIES="1",
        IDP_THREADS=str(args.threads),
        IDP_PASSWORD_TIME_COST=str(params["time_cost"]),
        IDP_PASSWORD_MEMORY_COST=str(params["memory_cost"]),
        IDP_PASSWORD_PARALLELISM=str(params["parallelism"]),
        # Production's logging: the access log and JSON logs on (service_env turns both off).
        IDP_ACCESS_LOG="on", IDP_LOG_JSON_FORMAT="true",
        **LIMITS,
    )
    seeded_path = work / f"accounts-{name}.json"
    with (work / f"seed-{name}.log").open("wb") as log:
        subprocess.run([sys.executable, str(HERE / "seed.py"), str(seeded_path), str(args.password_accounts),
                        str(args.totp_accounts)], env=env | {"IDP_LOG_LEVEL": "WARNING"}, check=True, timeout=600,
                       cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    accounts = Accounts(json.loads(seeded_path.read_text()))
    gunicorn = Gunicorn(work / f"gunicorn-{name}", env, port=port, workers=args.workers).start()
    results = []
    try:
        postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
        roots = {"gunicorn": gunicorn.process.pid, "nginx": nginx.process.pid,  # type: ignore[union-attr]
                 "postgres": postmaster, "redis": redis_server.process.pid}  # type: ignore[union-attr]

        def cpu() -> dict[str, float]:
            return tree_cpu(roots)

        for row in args.row or ROWS:
            common = {"clients": args.clients, "max_signins": args.max_signins, "max_requests": args.max_requests}
            run_phase(ca, nginx.url, accounts, row, seconds=args.warmup, **common)
            mark = nginx.mark()
            load = run_phase(ca, nginx.url, accounts, row, seconds=args.duration, cpu_of=cpu, **common)
            time.sleep(0.5)
            loaded_upstream = nginx.upstream_ms(mark)
            # The sequential probe: one browser, nothing else running. PostgreSQL's backends
            # publish their statistics within 10 s of going idle: wait before each reading.
            time.sleep(STATS_DELAY)
            # argon2id alone, in this process, interleaved with the probe's sign-ins (the same
            # conditions: between two sign-ins nothing else of the benchmark runs).
            timer = Argon2Timer(params, accounts.password)
            per_signin = max(1, math.ceil(args.argon2_rounds / args.probe))
            load_before = load_average()
            stores_before = store_counts(db_url, redis_server)
            mark, before, log_at = nginx.mark(), flask_seconds(gunicorn), log_mark(gunicorn)
            spy = start_py_spy(args, work, gunicorn, f"{name}-{row}")
            try:
                probe = run_phase(ca, nginx.url, accounts, row, clients=1, seconds=120, max_signins=args.probe,
                                  max_requests=args.probe * 8, between=functools.partial(timer.run, per_signin),
                                  cpu_of=cpu)
            finally:
                if spy is not None:
                    spy.send_signal(signal.SIGINT)  # py-spy writes what it recorded and exits
                    spy.wait(timeout=60)
            verify = timer.samples
            time.sleep(0.5)
            probe_upstream, after = nginx.upstream_ms(mark), flask_seconds(gunicorn)
            probe_app = gunicorn_ms(gunicorn, log_at)
            time.sleep(STATS_DELAY)
            stores = store_counts(db_url, redis_server) - stores_before
            stores["pg transactions"] -= 2  # the first reading's own two statements
            flask_mean = {}
            for endpoint, (total, count) in after.items():
                b = before.get(endpoint, (0.0, 0.0))
                if count > b[1]:
                    flask_mean[endpoint] = (total - b[0]) / (count - b[1]) * 1000
            results.append({
                "argon2": name, "params": params, "row": row, "workers": args.workers, "threads": args.threads,
                "clients": args.clients, "verify": verify, "load": load, "probe": probe,
                "loaded_upstream": loaded_upstream, "probe_upstream": probe_upstream, "flask_mean": flask_mean,
                "probe_app": probe_app,
                "errors_logged": gunicorn.errors_logged(), "load_average": (load_before, load_average()),
                "stores": stores,
            })
            print(f"# {name} / {row}: {len(load.signins)} sign-ins in {load.seconds:.1f} s, "
                  f"{sum(load.failures.values())} failures {dict(load.failures)}, "
                  f"{sum(probe.failures.values())} probe failures {dict(probe.failures)}", file=sys.stderr)
    finally:
        gunicorn.stop()
    return results


def start_py_spy(args: argparse.Namespace, work: Path, gunicorn: Gunicorn, label: str
                 ) -> subprocess.Popen[bytes] | None:
    """py-spy recording every thread of one worker, idle or not (so that a request's time waiting for
    PostgreSQL or Redis shows); the probe's requests may go to either worker: with --workers 1 the
    recording sees them all. bench/signin/stacks.py summarises it."""
    if not args.py_spy:
        return None
    assert gunicorn.process is not None
    workers = [p for p, (ppid, _cpu) in _proc_table().items() if ppid == gunicorn.process.pid]
    return subprocess.Popen(
        [args.py_spy, "record", "--pid", str(min(workers)), "--rate", "1000", "--format", "raw", "--threads",
         "--idle", "--nonblocking", "--duration", "300", "-o", str(work / f"py-spy-{label}.txt")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def report(args: argparse.Namespace, cores: int, results: list[dict[str, Any]]) -> None:
    print(f"\n{args.workers} gunicorn asgi workers x {args.threads} Flask threads, {args.clients} concurrent "
          f"browsers, {args.duration:g} s per row after {args.warmup:g} s of warm-up, {cores} cores "
          f"(nginx, PostgreSQL, Redis and the load generator on the same machine).")
    print("Sign-in rate limits raised (the load comes from one address): " + ", ".join(
        f"{k}={v}" for k, v in LIMITS.items()) + ".\n")
    print("| argon2id | row | sign-ins | failed | sign-ins/s | per core | p50 ms | p99 ms "
          "| service CPU ms / sign-in | sign-ins per service CPU-second | client CPU ms / sign-in "
          "| other work on the machine, cores |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        load: Phase = r["load"]
        n = len(load.signins)
        rate = n / load.seconds
        service_cpu = sum(v for k, v in load.cpu.items() if k not in ("client", "machine"))
        others = other_cores(load)
        print(f"| {label(r)} | {r['row']} | {n} | {sum(load.failures.values())} | {rate:.1f} | {rate / cores:.1f} "
              f"| {percentile(load.signins, 50):.0f} | {percentile(load.signins, 99):.0f} "
              f"| {service_cpu / max(n, 1) * 1000:.1f} | {n / service_cpu if service_cpu else 0:.1f} "
              f"| {load.cpu.get('client', 0) / max(n, 1) * 1000:.1f} | {others:.2f} |")
    print(f"\nper core: sign-ins/s / {cores} cores (everything shares them); per service CPU-second: sign-ins"
          " for each second of CPU that gunicorn, nginx, PostgreSQL and Redis used (what one core given"
          " to the service alone would do); other work: CPU that processes outside the benchmark took"
          " meanwhile.")
    print("\nService CPU by process, ms per sign-in (measured phase):\n")
    print("| argon2id | row | gunicorn | nginx | PostgreSQL | Redis |")
    print("|---|---|---:|---:|---:|---:|")
    for r in results:
        load = r["load"]
        n = max(len(load.signins), 1)
        print(f"| {label(r)} | {r['row']} | " + " | ".join(
            f"{load.cpu.get(k, 0) / n * 1000:.1f}" for k in ("gunicorn", "nginx", "postgres", "redis")) + " |")
    print("\nThe password step, server side (ms). Sequential: one browser, nothing else running; "
          "under load: the measured phase.\n")
    print("| argon2id | row | argon2 verify p50 (in-process) | POST /login/password p50, sequential, gunicorn "
          "| overhead p50, gunicorn | POST /login/password p50, sequential, nginx | overhead p50, nginx "
          "| POST /login/password p50 / p99, under load | other work during the probe, cores |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        verify = percentile(r["verify"], 50)
        app = percentile(r["probe_app"].get("POST /login/password", []), 50)
        seq = percentile(r["probe_upstream"].get("POST /login/password", []), 50)
        loaded = r["loaded_upstream"].get("POST /login/password", [])
        print(f"| {label(r)} | {r['row']} | {verify:.1f} | {app:.2f} | **{app - verify:.1f}** | {seq:.1f} "
              f"| {seq - verify:.1f} | {percentile(loaded, 50):.0f} / {percentile(loaded, 99):.0f} "
              f"| {other_cores(r['probe']):.2f} |")
    print("\ngunicorn's time (its access log, microseconds) runs from the request parsed to the response"
          " written; nginx's upstream time (milliseconds) adds the proxy hop.")
    print("\nThe app's histogram has one series per endpoint (GET and POST /login/password together) and"
          " buckets too wide for a p50; its sum / count over the sequential probe, against nginx's mean of"
          " the same requests, shows the time spent outside the Flask view (gunicorn, the ASGI-WSGI bridge,"
          " Flask's session save):\n")
    print("| argon2id | row | endpoint | Flask view mean ms | nginx upstream mean ms | outside the view ms |")
    print("|---|---|---|---:|---:|---:|")
    pages = {"auth.identify": ("GET /login", "POST /login"),
             "auth.password": ("GET /login/password", "POST /login/password"),
             "mfa_signin.totp": ("GET /login/totp", "POST /login/totp"), "account.home": ("GET /",)}
    for r in results:
        for endpoint, steps in pages.items():
            if endpoint not in r["flask_mean"]:
                continue
            upstream = [v for step in steps for v in r["probe_upstream"].get(step, [])]
            view, outside = r["flask_mean"][endpoint], statistics.fmean(upstream) if upstream else float("nan")
            print(f"| {label(r)} | {r['row']} | {endpoint} | {view:.2f} | {outside:.2f} | {outside - view:.2f} |")
    print("\nServer time of every step, p50 ms (sequential probe, nginx upstream time):\n")
    print("| argon2id | row | " + " | ".join(s for s in STEPS) + " |")
    print("|---|---|" + "---:|" * len(STEPS))
    for r in results:
        cells = []
        for step in STEPS:
            values = r["probe_upstream"].get(step, [])
            cells.append(f"{percentile(values, 50):.1f}" if values else "-")
        print(f"| {label(r)} | {r['row']} | " + " | ".join(cells) + " |")
    print("\nStore work per complete sign-in (sequential probe; PostgreSQL's statistics, Redis's commandstats):\n")
    for r in results:
        n = max(len(r["probe"].signins), 1)
        items = sorted((k, v / n) for k, v in r["stores"].items() if v > 0)
        print(f"- {label(r)} / {r['row']}: " + ", ".join(f"{k} {v:.1f}" for k, v in items))
    print("\nLoad average (1 min) before and after each probe: " + ", ".join(
        f"{r['argon2']}/{r['row']} {r['load_average'][0]} -> {r['load_average'][1]}" for r in results))
    for r in results:
        extra = []
        if r["load"].pool_waits:
            extra.append(f"the TOTP pool ran dry {r['load'].pool_waits} times")
        if r["errors_logged"]:
            extra.append(f"{len(r['errors_logged'])} errors in the gunicorn log")
        if extra:
            print(f"\n{label(r)} / {r['row']}: " + "; ".join(extra))


def other_cores(phase: Phase) -> float:
    """Cores' worth of CPU that processes outside the benchmark used during the phase."""
    ours = sum(v for k, v in phase.cpu.items() if k != "machine")
    return max(0.0, (phase.cpu.get("machine", 0.0) - ours) / phase.seconds) if phase.cpu else float("nan")


def label(r: dict[str, Any]) -> str:
    p = r["params"]
    return f"{r['argon2']} (m={p['memory_cost']} KiB, t={p['time_cost']}, p={p['parallelism']})"


if __name__ == "__main__":
    main()
