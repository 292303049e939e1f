"""Contended debits of one prepaid account: N threads (each its own connection) debit at once;
how long until all are done, and how many fit. One run per backend.

    .venv/bin/python bench/money/debits.py --threads 64 --rounds 5 [--postgresql URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy import text

from idp.money.model import BalanceTooLowError
from idp.money.model import EntryKind
from idp.money.model import Reason
from idp.money.pricing import Currency
from idp.stores.db import Database
from idp.stores.migrate import upgrade
from idp.stores.money import SqlLedgerStore

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _entry(store: SqlLedgerStore, org: int, kind: EntryKind, amount: str) -> None:
    store.append(org_id=org, currency=Currency.CHF, kind=kind, amount=Decimal(amount), reason=Reason.ADJUSTMENT,
                 reference=None, note=None, actor_id=None, now=NOW)


def one_round(url: str, org: int, threads: int) -> tuple[float, int]:
    main = Database(url)
    _entry(SqlLedgerStore(main), org, EntryKind.CREDIT, f"{threads // 2}.00")
    barrier = threading.Barrier(threads + 1)
    ok = [0]
    lock = threading.Lock()

    def run() -> None:
        db = Database(url)
        store = SqlLedgerStore(db)
        with db.engine.connect():
            pass
        barrier.wait()
        try:
            _entry(store, org, EntryKind.DEBIT, "1.00")
            with lock:
                ok[0] += 1
        except BalanceTooLowError:
            pass
        finally:
            db.dispose()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    start = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    assert SqlLedgerStore(main).balance(org, Currency.CHF) == 0
    main.dispose()
    return elapsed, ok[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgresql", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sqlite = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        upgrade(sqlite)
        admin = create_engine(args.postgresql, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('DROP DATABASE IF EXISTS "idp_bench_money" WITH (FORCE)'))
            conn.execute(text('CREATE DATABASE "idp_bench_money"'))
        pg = args.postgresql.rsplit("/", 1)[0] + "/idp_bench_money"
        upgrade(pg)
        try:
            for name, url in (("sqlite", sqlite), ("postgresql", pg)):
                times = []
                for round_ in range(args.rounds):
                    elapsed, ok = one_round(url, 1000 + round_, args.threads)
                    assert ok == args.threads // 2
                    times.append(elapsed)
                median = statistics.median(times)
                print(f"{name}: {args.threads} debits, {args.threads // 2} fit: median {median * 1000:.0f} ms "
                      f"({median / args.threads * 1000:.2f} ms a debit), min {min(times) * 1000:.0f} ms, "
                      f"max {max(times) * 1000:.0f} ms")
        finally:
            with admin.connect() as conn:
                conn.execute(text('DROP DATABASE IF EXISTS "idp_bench_money" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
