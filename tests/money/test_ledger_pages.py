"""The balance and ledger pages: balances per currency, filters, pages, the CSV export (RFC 4180,
UTF-8, formulas defused), who may read them, and bad filters."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from idp.capability import PartnerRight
from idp.model import Role
from tests.conftest import events
from tests.money.conftest import CTX
from tests.money.conftest import credit
from tests.money.conftest import money
from tests.money.conftest import order_form
from tests.money.conftest import order_id
from tests.money.conftest import sign_in


def _rows(response):
    body = response.get_data()
    assert body.decode("utf-8")  # UTF-8 throughout
    return list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))


def test_the_balance_page_shows_each_currency(client, services, cast):
    credit(services, cast.acme, "1250.50")
    credit(services, cast.acme, "3.20", currency="EUR")
    sign_in(client, cast.people["admin"])
    html = client.get("/orgs/acme/billing").get_data(as_text=True).replace("\xa0", " ")
    assert "CHF 1,250.50" in html and "€3.20" in html and "CHF 0.00" not in html
    html = client.get("/orgs/acme/billing?lang=fr").get_data(as_text=True).replace("\u202f", " ")
    assert "1 250,50\xa0CHF" in html and "3,20\xa0€" in html
    assert "/orgs/acme/billing/payouts" not in client.get("/orgs/acme/billing").get_data(as_text=True)


def test_the_ledger_filters_by_kind_reason_currency_and_dates(client, services, cast, clock):
    now = clock.now()
    clock.set(now - dt.timedelta(days=3))
    credit(services, cast.acme, "100.00")
    credit(services, cast.acme, "5.00", currency="EUR")
    clock.set(now)
    sign_in(client, cast.people["legal"])
    order_id(order_form(client, quantity="1", method="balance"))  # a debit of 9.92
    credit(services, cast.acme, "1.00")
    page = client.get("/orgs/acme/billing/ledger")
    assert page.status_code == 200 and "Entries found: 4" in page.get_data(as_text=True)
    assert "Entries found: 1" in client.get("/orgs/acme/billing/ledger?kind=debit").get_data(as_text=True)
    assert "Entries found: 1" in client.get("/orgs/acme/billing/ledger?reason=order_payment").get_data(as_text=True)
    assert "Entries found: 1" in client.get("/orgs/acme/billing/ledger?currency=EUR").get_data(as_text=True)
    today = clock.now().date()
    html = client.get(f"/orgs/acme/billing/ledger?date_from={today.isoformat()}").get_data(as_text=True)
    assert "Entries found: 2" in html
    html = client.get(f"/orgs/acme/billing/ledger?date_to={(today - dt.timedelta(days=1)).isoformat()}")
    assert "Entries found: 2" in html.get_data(as_text=True)
    assert "An operator" in page.get_data(as_text=True) and "Legal" in page.get_data(as_text=True)


@pytest.mark.parametrize(("query", "message"), [
    ("kind=refund", "Not a valid choice"),
    ("reason=bribe", "Not a valid choice"),
    ("currency=USD", "Not a valid choice"),
    ("date_from=yesterday", "Not a valid date"),
    ("date_from=2026-02-30", "Not a valid date"),
    ("date_from=2026-03-10&date_to=2026-03-01", "must not be before"),
    ("page=0", "1 or more"),
    ("page=" + "9" * 300, "1 or more"),
])
def test_bad_filters_are_said(client, cast, query, message):
    sign_in(client, cast.people["legal"])
    response = client.get(f"/orgs/acme/billing/ledger?{query}")
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert client.get(f"/orgs/acme/billing/ledger.csv?{query}").status_code == 400


def test_the_csv_export_is_rfc_4180_utf_8_and_defuses_formulas(client, services, cast, make_user):
    sneaky = make_user(display_name="=HYPERLINK(\"http://evil\";\"x\")")
    services.accounts.add_member(cast.acme, services.accounts.user(sneaky.id), Role.ADMIN)
    credit(services, cast.acme, "50.00")
    money(services).ledger.adjust("acme", "CHF", "1.00", debit=True, note='-1 "quoted", with comma; and é', ctx=CTX)
    sign_in(client, sneaky)
    order_id(order_form(client, quantity="1", method="balance"))
    response = client.get("/orgs/acme/billing/ledger.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv; charset=utf-8")
    assert "attachment" in response.headers["Content-Disposition"] and response.headers["Cache-Control"] == "no-store"
    body = response.get_data()
    assert body.count(b"\r\n") == 4 and b"\n" not in body.replace(b"\r\n", b"")  # CRLF between records
    rows = _rows(response)
    assert rows[0] == ["time_utc", "kind", "reason", "amount", "currency", "reference", "note", "by"]
    payment, adjustment, opening = rows[1:]
    assert payment[1:6] == ["debit", "order_payment", "9.92", "CHF", payment[5]] and payment[5].startswith("order:")
    assert payment[7] == "'=HYPERLINK(\"http://evil\";\"x\")"  # a name shown as text, not run
    assert adjustment[6] == "'-1 \"quoted\", with comma; and é" and adjustment[7] == "operator"
    assert b'"\'-1 ""quoted"", with comma; and \xc3\xa9"' in body  # quotes doubled, the field quoted
    assert opening[1:4] == ["credit", "adjustment", "50.00"]
    [exported] = events(services, "money:ledger:exported")
    assert exported["actor_id"] == sneaky.id and exported["details"] == {"rows": 3}
    filtered = _rows(client.get("/orgs/acme/billing/ledger.csv?kind=credit"))
    assert [r[1] for r in filtered[1:]] == ["credit"]


def test_a_partner_with_the_billing_right_reads_the_ledger_and_strangers_do_not(client, services, cast, partners):
    credit(services, cast.acme, "10.00")
    sign_in(client, cast.people["partner"])
    assert client.get("/orgs/acme/billing/ledger").status_code == 404
    assert client.get("/orgs/acme/billing/ledger.csv").status_code == 404
    partners.manage(cast.acme, cast.agency, full=False, rights=frozenset({PartnerRight.BILLING}),
                    person=cast.people["partner"])
    assert client.get("/orgs/acme/billing/ledger").status_code == 200
    assert client.get("/orgs/acme/billing/ledger.csv").status_code == 200
    # The export is in both organisations' logs.
    assert sorted(e["org_id"] for e in events(services, "money:ledger:exported")) == sorted(
        [cast.acme.id, cast.agency.id])
