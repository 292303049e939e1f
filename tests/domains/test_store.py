"""The transfer store's compare-and-sets, on SQLite and PostgreSQL: one relaunch of a failure
wins, a failure applies only to an attempt under way, one open transfer per domain, and an
organisation's deletion takes its transfers with it."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from idp.domains.model import OPEN
from idp.domains.model import Fee
from idp.domains.model import Reason
from idp.domains.model import Status
from idp.errors import ConflictError
from tests.domains.conftest import CTX
from tests.domains.conftest import domains


@pytest.fixture
def store(services):
    return domains(services).store


@pytest.fixture
def acme(services, cast):
    return services.accounts.org("acme")


def test_the_fee_is_kept_exactly_in_cents(store, acme, cast, clock):
    made = store.add(org_id=acme.id, domain="example.ch", fee=Fee(Decimal("1234.05"), "EUR"), auth_code="enc",
                     requested_by=cast.admin.id, now=clock.now())
    kept = store.get(made.id)
    assert kept.fee == Fee(Decimal("1234.05"), "EUR") and str(kept.fee.amount) == "1234.05"
    assert kept.fee_charged and kept.charged_at == clock.now()
    with pytest.raises(ConflictError):
        store.add(org_id=acme.id, domain="example.ch", fee=None, auth_code="enc", requested_by=cast.admin.id,
                  now=clock.now())


def test_one_of_concurrent_relaunches_wins(store, acme, cast, clock):
    made = store.add(org_id=acme.id, domain="example.ch", fee=None, auth_code="enc", requested_by=cast.admin.id,
                     now=clock.now())
    failure = store.add_failure(made.id, were=OPEN, reason=Reason.REGISTRY_TIMEOUT, detail=None, source="registrar",
                                now=clock.now())
    assert failure.number == 1
    assert store.add_failure(made.id, were=OPEN, reason=Reason.OTHER, detail="x", source="registrar",
                             now=clock.now()) is None  # failed already: no attempt under way
    results: list[bool] = []
    start = threading.Barrier(4)

    def claim() -> None:
        start.wait()
        results.append(store.claim_relaunch(made.id, 1, by=cast.admin.id, how="link", now=clock.now()))

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert store.get(made.id).status is Status.RELAUNCHED
    assert store.failure(made.id, 1).resolved_how == "link"
    second = store.add_failure(made.id, were=OPEN, reason=Reason.OWNER_REFUSED, detail=None, source="operator",
                               now=clock.now())
    assert second.number == 2 and store.get(made.id).failures == 2
    assert not store.claim_relaunch(made.id, 1, by=cast.admin.id, how="link", now=clock.now())  # an older failure


def test_deleting_the_organisation_deletes_its_transfers(services, cast, store):
    from tests.domains.conftest import fail
    from tests.domains.conftest import request

    made = request(services, cast.admin)
    fail(services)
    services.organisations.delete(services.accounts.user(cast.legal.id), "acme", True, CTX)
    assert store.get(made.id) is None and store.failure(made.id, 1) is None
    assert store.open_by_domain("example.ch") is None
