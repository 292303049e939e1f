"""The password step's time beyond argon2, in-process: the Flask test client on a private
PostgreSQL and a private redis-server (tests/production/servers.py), argon2id at OWASP's minimum.

usage: .venv/bin/python bench/signin/inprocess.py [--rounds 150] [--row password|totp|refusals]
                                                  [--database-url URL --redis-url URL] [--json PATH]
                                                  [--inline-notifications]

Each round is a complete sign-in with a fresh cookie jar (GET /login, POST /login, GET
/login/password, POST /login/password, and for the TOTP row nothing more: the password step
stops at the second factor). The refusals row alternates a wrong password for the account and
any password for an unknown e-mail, and reports the whole step's time of each: the two must
not differ, or the time tells whether an account exists. The argon2 verification is timed
inside the request that runs it, so "beyond argon2" is that request's time minus its own
verification, sign-in by sign-in.
Without --database-url/--redis-url the servers are started and removed by the script; with them
(a database at the current schema), several runs can share one pair of servers, e.g. to compare
two versions of the code interleaved. Not a test: pytest never collects it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

OWASP = {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}
PASSWORD = "bench sign-in passphrase 1"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@contextlib.contextmanager
def servers(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    if args.database_url and args.redis_url:
        yield args.database_url, args.redis_url
        return
    from idp.stores.migrate import upgrade
    from tests.production.servers import PrivatePostgres
    from tests.production.servers import RedisServer

    with tempfile.TemporaryDirectory() as tmp:
        pg = PrivatePostgres().start()
        redis_server = RedisServer(Path(tmp) / "redis").start()
        try:
            url = pg.create_database("bench")
            upgrade(url)
            yield url, redis_server.url
        finally:
            redis_server.stop()
            pg.remove()


def csrf(html: str) -> str:
    match = CSRF.search(html)
    if match is None:
        raise SystemExit("the page has no CSRF token")
    return match.group(1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=150)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--row", choices=["password", "totp", "refusals"], default="password")
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--inline-notifications", action="store_true",
                        help="time the sign-in notifications too, as if they ran before the answer")
    args = parser.parse_args()
    with servers(args) as (database_url, redis_url), tempfile.TemporaryDirectory() as instance:
        print(json.dumps(run(args, database_url, redis_url, instance)))


def run(args: argparse.Namespace, database_url: str, redis_url: str, instance: str) -> dict[str, Any]:
    import pyotp

    from idp import create_app
    from idp.events import answering
    from idp.events import run_later
    from idp.mfa import MFA
    from idp.settings import load_settings
    from tests.conftest import truncate_all

    truncate_all(database_url)
    settings = load_settings(
        secret_key="bench", instance_path=instance, database={"url": database_url},
        redis={"url": redis_url}, password=OWASP, mail={"background_delivery": False},
        ratelimit={"signin_per_ip": 100_000, "signin_per_account_ip": 100_000},
        lockout={"default_threshold": 100},
    )
    app = create_app(settings)
    container = app.extensions["idp"]
    container.redis.flushdb()
    email = f"{args.row}@bench.example"
    user = container.accounts.create_user(email, PASSWORD, display_name="Bench Person")
    if args.row == "totp":
        container.get(MFA).sql.set_totp(
            user.id, secret_enc=container.secrets.encrypt(pyotp.random_base32(32)), step=0,
            now=container.clock.now(),
        )
    verify_s: list[float] = []
    original = container.passwords.verify

    def timed_verify(*a: Any, **kw: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*a, **kw)
        finally:
            verify_s.append(time.perf_counter() - start)

    container.passwords.verify = timed_verify
    expect = "/login/totp" if args.row == "totp" else "/"
    step_ms, beyond_ms, argon_ms = [], [], []
    refused: dict[str, list[float]] = {"wrong password": [], "unknown account": []}
    refused_argon2: dict[str, list[float]] = {"wrong password": [], "unknown account": []}
    load = os.getloadavg()
    for i in range(args.warmup + args.rounds):
        case = "wrong password" if i % 2 else "unknown account"
        login = "nobody@bench.example" if args.row == "refusals" and i % 2 == 0 else email
        client = app.test_client()
        token = csrf(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"csrf_token": token, "login": login})
        token = csrf(client.get("/login/password").get_data(as_text=True))
        verify_s.clear()
        start = time.perf_counter()
        password = "not the password" if args.row == "refusals" else PASSWORD
        later: list[Any] = []
        # What the ASGI bridge runs once the response is sent (decision 0613) is queued and run
        # untimed, unless --inline-notifications (as the test client and `idp serve` run it).
        with contextlib.nullcontext(later) if args.inline_notifications else answering() as later:
            response = client.post("/login/password", data={"csrf_token": token, "password": password})
            took = time.perf_counter() - start
        run_later(later)
        if args.row == "refusals":
            if response.status_code != 401:
                raise SystemExit(f"the refusal answered {response.status_code}")
            container.lockout.register_success(user)  # never reach the lockout threshold
        elif response.status_code != 302 or not response.location.endswith(expect):
            raise SystemExit(f"the sign-in ended at {response.status_code} {response.location}")
        if i >= args.warmup:
            step_ms.append(took * 1000)
            argon_ms.append(verify_s[0] * 1000)
            beyond_ms.append((took - verify_s[0]) * 1000)
            refused[case].append(took * 1000)
            refused_argon2[case].append(verify_s[0] * 1000)
    container.close()
    if args.row == "refusals":
        return {
            "row": args.row, "rounds": args.rounds, "load_before": load, "load_after": os.getloadavg(),
            **{f"{case} p50 ms": statistics.median(samples) for case, samples in refused.items()},
            **{f"{case} p90 ms": statistics.quantiles(samples, n=10)[-1] for case, samples in refused.items()},
            **{f"{case} argon2 p50 ms": statistics.median(samples) for case, samples in refused_argon2.items()},
        }
    result = {
        "row": args.row, "rounds": args.rounds, "load_before": load, "load_after": os.getloadavg(),
        "step_p50_ms": statistics.median(step_ms), "argon2_p50_ms": statistics.median(argon_ms),
        "beyond_p50_ms": statistics.median(beyond_ms),
        "beyond_p90_ms": statistics.quantiles(beyond_ms, n=10)[-1],
    }
    if args.json:
        Path(args.json).write_text(json.dumps(result | {"beyond_ms": beyond_ms}))
    return result


if __name__ == "__main__":
    main()
