"""The prepaid ledger in SQL, on the backend of this run (IDP_TEST_DATABASE: SQLite or
PostgreSQL; the suite runs on both): concurrent debits never overdraw an account, the balance is
the sum of the entries, and ledger rows are only ever inserted."""

from __future__ import annotations

import ast
import datetime as dt
import re
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select

import idp
from idp.errors import StoreUnavailableError
from idp.money.model import BalanceTooLowError
from idp.money.model import EntryKind
from idp.money.model import Reason
from idp.money.pricing import Currency
from idp.stores.db import Database
from idp.stores.money import SqlLedgerStore
from idp.stores.tables_money import LedgerEntryRow
from idp.stores.tables_money import MoneyAccountRow

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
ORG = 4242  # the ledger names organisations by id, without a foreign key
THREADS = 64
STORES = Path(idp.__file__).parent / "stores"


def _entry(store, kind, amount, *, org=ORG, currency=Currency.CHF, reason=Reason.ADJUSTMENT):
    return store.append(org_id=org, currency=currency, kind=kind, amount=Decimal(amount), reason=reason,
                        reference=None, note=None, actor_id=None, now=NOW)


def _race(database_url, work, threads=THREADS):
    """Run `work(store, index)` in `threads` threads at once, each with its own engine (so its own
    connection); returns each one's result or exception."""
    barrier = threading.Barrier(threads, timeout=60)
    results: list[object] = [None] * threads

    def run(index: int) -> None:
        db = Database(database_url)
        try:
            store = SqlLedgerStore(db)
            with db.engine.connect():  # open the connection before the start line
                pass
            barrier.wait()
            results[index] = work(store, index)
        except Exception as exc:  # collected, and asserted on below
            results[index] = exc
        finally:
            db.dispose()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(w.is_alive() for w in workers), "a debit never finished"
    return results


@pytest.fixture
def store(database_url, clean_stores):
    db = Database(database_url)
    yield SqlLedgerStore(db)
    db.dispose()


def test_64_concurrent_debits_of_one_account_take_exactly_what_it_holds(database_url, store):
    _entry(store, EntryKind.CREDIT, "25.00")
    results = _race(database_url, lambda s, i: _entry(s, EntryKind.DEBIT, "1.00"))
    succeeded = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, BalanceTooLowError)]
    assert len(succeeded) == 25 and len(refused) == THREADS - 25, [r for r in results if isinstance(r, Exception)
                                                                   and not isinstance(r, BalanceTooLowError)]
    assert store.balance(ORG, Currency.CHF) == Decimal("0.00")
    entries, total = store.entries(ORG, limit=500)
    assert total == 26 and sum(e.signed for e in entries) == 0


def test_concurrent_debits_of_unequal_amounts_never_go_below_zero(database_url, store):
    _entry(store, EntryKind.CREDIT, "100.00")
    amounts = [Decimal(f"{(i % 7) + 1}.{i:02d}") for i in range(THREADS)]
    results = _race(database_url, lambda s, i: _entry(s, EntryKind.DEBIT, amounts[i]))
    taken = sum((amounts[i] for i, r in enumerate(results) if not isinstance(r, Exception)), Decimal(0))
    assert all(r is None or not isinstance(r, Exception) or isinstance(r, BalanceTooLowError) for r in results)
    left = store.balance(ORG, Currency.CHF)
    assert left == Decimal("100.00") - taken and left >= 0
    # Every refused debit was refused because it did not fit in what was left then, hence now.
    assert all(amounts[i] > left for i, r in enumerate(results) if isinstance(r, BalanceTooLowError))


def test_concurrent_first_credits_make_one_account(database_url, store):
    results = _race(database_url, lambda s, i: _entry(s, EntryKind.CREDIT, "0.50", currency=Currency.EUR))
    assert not [r for r in results if isinstance(r, Exception)]
    assert store.balance(ORG, Currency.EUR) == Decimal("32.00")
    with store.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(MoneyAccountRow)) == 1


def test_without_the_lock_the_same_race_goes_wrong(database_url, store, monkeypatch):
    """The checks above can fail. Without the account's lock, eight debits that all read the
    balance before any of them writes (they meet after reading) go wrong: on PostgreSQL they all
    succeed and overdraw the account; on SQLite, with transactions begun without the write lock
    (plain BEGIN), the first one to write wins and the others fail with "database is locked"
    (a 503) instead of waiting their turn and being told the balance is too low."""
    threads = 8
    meet = threading.Barrier(threads, timeout=30)
    real_sum = SqlLedgerStore._sum

    def sum_then_meet(s, account_id):
        total = real_sum(s, account_id)
        meet.wait()
        return total

    def unlocked(self, s, org_id, currency, now):
        return s.scalar(select(MoneyAccountRow.id).filter_by(org_id=org_id, currency=currency.value))

    def deferred(engine):
        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None
            dbapi_connection.execute("PRAGMA busy_timeout=30000")

        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN")

    _entry(store, EntryKind.CREDIT, "5.00")
    monkeypatch.setattr(SqlLedgerStore, "_sum", staticmethod(sum_then_meet))
    monkeypatch.setattr(SqlLedgerStore, "_locked_account", unlocked)
    monkeypatch.setattr("idp.stores.db._sqlite_pragmas", deferred)
    results = _race(database_url, lambda s, i: _entry(s, EntryKind.DEBIT, "5.00"), threads=threads)
    succeeded = [r for r in results if not isinstance(r, Exception)]
    if store.db.dialect == "postgresql":
        assert len(succeeded) == threads
        assert store.balance(ORG, Currency.CHF) == Decimal("-35.00")
    else:
        assert len(succeeded) == 1
        assert all(isinstance(r, StoreUnavailableError) for r in results if isinstance(r, Exception))


def test_a_debit_reads_the_balance_under_the_account_lock(store):
    statements: list[str] = []

    @event.listens_for(store.db.engine, "before_cursor_execute")
    def seen(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    _entry(store, EntryKind.CREDIT, "3.00")
    statements.clear()
    with pytest.raises(BalanceTooLowError):
        _entry(store, EntryKind.DEBIT, "3.01")
    assert store.balance(ORG, Currency.CHF) == Decimal("3.00")
    lock = next(s for s in statements if s.startswith("SELECT money_accounts.id"))
    if store.db.dialect == "postgresql":
        assert lock.endswith("FOR UPDATE")
    else:
        assert statements[0] == "BEGIN IMMEDIATE"  # the write lock, taken before the read
    assert any("sum(" in s.lower() for s in statements[statements.index(lock):])


def test_amounts_are_integer_cents_and_read_back_exactly(store):
    _entry(store, EntryKind.CREDIT, "0.10")
    _entry(store, EntryKind.CREDIT, "0.20")
    _entry(store, EntryKind.DEBIT, "0.30")
    assert store.balance(ORG, Currency.CHF) == Decimal("0.00")  # a float sum would leave 5.55e-17
    _entry(store, EntryKind.CREDIT, "99999999.99")
    assert store.balance(ORG, Currency.CHF) == Decimal("99999999.99")
    with store.db.transaction() as s:
        cents = s.scalars(select(LedgerEntryRow.amount_cents)).all()
    assert all(isinstance(c, int) for c in cents) and 9_999_999_999 in cents
    with pytest.raises(ValueError, match="cents"):
        _entry(store, EntryKind.CREDIT, "0.001")
    with pytest.raises(ValueError, match="positive"):
        _entry(store, EntryKind.CREDIT, "0.00")


def test_entries_filter_by_kind_reason_currency_and_dates(store):
    _entry(store, EntryKind.CREDIT, "10.00", reason=Reason.CASHBACK)
    _entry(store, EntryKind.DEBIT, "4.00", reason=Reason.ORDER_PAYMENT)
    _entry(store, EntryKind.CREDIT, "7.00", currency=Currency.EUR)
    _entry(store, EntryKind.CREDIT, "1.00", org=ORG + 1)
    assert store.entries(ORG)[1] == 3
    assert [e.amount for e in store.entries(ORG, kind=EntryKind.DEBIT)[0]] == [Decimal("4.00")]
    assert [e.reason for e in store.entries(ORG, reason=Reason.CASHBACK)[0]] == [Reason.CASHBACK]
    assert [e.currency for e in store.entries(ORG, currency=Currency.EUR)[0]] == [Currency.EUR]
    assert store.entries(ORG, date_from=NOW + dt.timedelta(seconds=1))[1] == 0
    assert store.entries(ORG, date_to=NOW + dt.timedelta(seconds=1))[1] == 3
    assert store.balances(ORG) == {Currency.CHF: Decimal("6.00"), Currency.EUR: Decimal("7.00")}


# -- append only ----------------------------------------------------------------------------------

LEDGER_WRITES = re.compile(r"^\s*(UPDATE|DELETE\s+FROM)\s+money_ledger\b", re.IGNORECASE)


def test_no_store_has_a_path_that_updates_or_deletes_a_ledger_row():
    """Only idp/stores/money.py touches the ledger table, and it never builds an UPDATE or a
    DELETE (nor calls the session's delete or merge)."""
    users = [p.name for p in STORES.rglob("*.py") if "LedgerEntryRow" in p.read_text()]
    assert sorted(users) == ["money.py", "tables_money.py"]
    tree = ast.parse((STORES / "money.py").read_text())
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert not {"update", "delete", "text"} & (names | imported)
    assert not {"delete", "merge", "execute_update", "bulk_update_mappings"} & attributes
    assert not re.search(r"\b(UPDATE|DELETE)\b", (STORES / "money.py").read_text().replace("FOR UPDATE", ""))


def test_the_ledger_table_is_never_updated_nor_deleted_from(client, services, cast, partners, operator):
    """Every path that writes to the ledger, run once, with every SQL statement watched."""
    from tests.money.conftest import ALL_RIGHTS
    from tests.money.conftest import credit
    from tests.money.conftest import order_form
    from tests.money.conftest import order_id
    from tests.money.conftest import sign_in

    statements: list[str] = []
    event.listen(services.db.engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_a: statements.append(statement))
    partners.manage(cast.acme, cast.agency, full=True, rights=ALL_RIGHTS)
    credit(services, cast.acme, "500.00")
    sign_in(client, cast.people["legal"])
    order_id(order_form(client, quantity="2", method="balance"))
    paid_later = order_id(order_form(client, quantity="3"))
    cancelled = order_id(order_form(client, quantity="4"))
    assert operator("order-paid", str(paid_later)).exit_code == 0
    assert operator("order-cancel", str(cancelled), "--refund-to-balance").exit_code == 0
    assert operator("adjust", "acme", "CHF", "1.00", "--debit", "--note", "correction").exit_code == 0
    from tests.money.conftest import CTX
    from tests.money.conftest import money

    payouts = money(services).payouts
    caller = money(services).access.payouts(services.accounts.user(cast.people["legal"].id), "acme")
    for _ in range(3):
        payouts.request(caller, amount="10", currency="CHF", method="paypal", iban="", paypal="ada@example.com",
                        ctx=CTX)
    first, second, third = sorted(p.id for p in payouts.history(caller))
    payouts.withdraw(caller, first, CTX)
    payouts.reject(second, "wrong account", CTX)
    payouts.approve(third, CTX)
    payouts.paid(third, CTX)
    assert any("money_ledger" in s for s in statements if s.lstrip().upper().startswith("INSERT"))
    assert [s for s in statements if LEDGER_WRITES.search(s)] == []
