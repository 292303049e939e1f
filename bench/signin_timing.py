"""Measures the password step for an unknown account, a wrong password, a disabled and a locked
account, and a right password, with the production argon2id parameters.

    .venv/bin/python bench/signin_timing.py [--rounds 60] [--redis redis://127.0.0.1:6379/8]

An unknown e-mail must cost what a wrong password costs, or timing tells whether an account exists.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time

from idp.container import Container
from idp.errors import AuthenticationError
from idp.model import RequestContext
from idp.settings import load_settings
from idp.stores.migrate import upgrade


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/8")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url = f"sqlite:///{tmp}/bench.sqlite3"
    upgrade(url)
    settings = load_settings(
        secret_key="bench", instance_path=tmp, database={"url": url}, redis={"url": args.redis},
        ratelimit={"signin_per_ip": 100_000}, lockout={"default_threshold": 100},
    )
    c = Container.build(settings)
    c.redis.flushdb()  # type: ignore[attr-defined]
    ok = c.accounts.create_user("ok@example.com", "right password 1")
    off = c.accounts.create_user("off@example.com", "right password 1")
    c.accounts.disable(off)
    locked = c.accounts.create_user("locked@example.com", "right password 1")
    c.users.lock(locked.id, c.clock.now())
    cases = {
        "unknown account": ("nobody@example.com", "right password 1"),
        "wrong password": ("ok@example.com", "wrong password 1"),
        "disabled account": ("off@example.com", "right password 1"),
        "locked account": ("locked@example.com", "right password 1"),
        "right password": ("ok@example.com", "right password 1"),
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    for i in range(args.rounds):
        for name, (login, password) in cases.items():
            flow = c.signin.start()
            c.signin.identify(flow.id, login)
            ctx = RequestContext(ip=f"198.51.100.{i % 250}", user_agent="bench")
            started = time.perf_counter()
            with contextlib.suppress(AuthenticationError):
                c.signin.check_password(flow.id, password, ctx)
            results[name].append((time.perf_counter() - started) * 1000)
        c.lockout.register_success(ok)
    print("| case | median ms | p95 ms | rounds |\n|---|---|---|---|")
    for name, samples in results.items():
        samples.sort()
        p95 = samples[int(len(samples) * 0.95) - 1]
        print(f"| {name} | {statistics.median(samples):.1f} | {p95:.1f} | {len(samples)} |")
    c.redis.flushdb()  # type: ignore[attr-defined]
    c.close()


if __name__ == "__main__":
    main()
