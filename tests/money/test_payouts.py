"""Payouts: asked for by a legal representative after a recent sign-in, never by a partner; the
amount reserved at once and given back on rejection or withdrawal; the operator's steps; a mail
to every legal representative and an activity entry at each step; bad input of every kind."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.model import Role
from idp.money.model import PayoutState
from idp.stores.tables_money import PayoutRow
from tests.account.conftest import mails
from tests.conftest import csrf_of
from tests.conftest import events
from tests.money.conftest import ALL_RIGHTS
from tests.money.conftest import D
from tests.money.conftest import balance
from tests.money.conftest import credit
from tests.money.conftest import money
from tests.money.conftest import sign_in

IBAN = "CH93 0076 2011 6238 5295 7"
PAYOUTS = "/orgs/acme/billing/payouts"


def ask(client, **fields):
    data = {"amount": "120.50", "currency": "CHF", "method": "bank", "iban": IBAN, "paypal": ""} | fields
    page = client.get(PAYOUTS)
    assert page.status_code == 200, page.status_code
    return client.post(PAYOUTS, data={"csrf_token": csrf_of(page.get_data(as_text=True)), **data})


@pytest.fixture
def funded(services, cast, make_user):
    """Acme holds CHF 500 and has a second legal representative."""
    second = make_user(display_name="Second Legal")
    services.accounts.add_member(cast.acme, services.accounts.user(second.id), Role.LEGAL_REPRESENTATIVE)
    credit(services, cast.acme, "500.00")
    return second


def _only(services):
    [payout] = money(services).payouts.in_state(None)
    return payout


def test_a_legal_representative_asks_for_a_bank_payout(client, services, cast, funded):
    sign_in(client, cast.people["legal"])
    response = ask(client, iban="ch9300762011623852957")
    assert response.status_code == 302
    html = client.get(PAYOUTS).get_data(as_text=True)
    assert IBAN in html  # the flash shows the IBAN as banks print it
    payout = _only(services)
    assert payout.state is PayoutState.REQUESTED and payout.amount == D("120.50")
    assert payout.destination_hint == "CH93 … 2957" and "CH93 … 2957" in html
    assert balance(services, cast.acme) == D("379.50")  # reserved at once
    with services.db.transaction() as s:
        stored = s.scalar(select(PayoutRow.destination_encrypted))
    assert "2957" not in stored and "CH93" not in stored
    assert money(services).payouts.destination(payout.id) == IBAN
    for person in (cast.people["legal"], funded):
        [mail] = mails(services, person.email, "Payout requested for Acme")
        assert "120.50 CHF" in mail["body"] and "CH93 … 2957" in mail["body"] and "2011" not in mail["body"]
    assert mails(services, cast.people["admin"].email) == []
    [event] = events(services, "money:payout:requested")
    assert event["org_id"] == cast.acme.id and event["actor_id"] == cast.people["legal"].id
    assert event["details"]["destination"] == "CH93 … 2957"


def test_the_operator_approves_then_pays(client, services, cast, funded, operator):
    sign_in(client, cast.people["legal"])
    ask(client, method="paypal", iban="", paypal="Treasury@Acme.example")
    payout = _only(services)
    assert payout.destination_hint == "T…@acme.example"
    assert operator("payout-paid", str(payout.id)).exit_code == 2  # not approved yet
    approved = operator("payout-approve", str(payout.id))
    assert approved.exit_code == 0 and "Treasury@acme.example" in approved.output
    assert operator("payout-approve", str(payout.id)).exit_code == 2
    assert operator("payout-paid", str(payout.id)).exit_code == 0
    assert _only(services).state is PayoutState.PAID and balance(services, cast.acme) == D("379.50")
    assert operator("payout-reject", str(payout.id), "--reason", "late").exit_code == 2  # paid is final
    for subject in ("Payout requested", "Payout approved", "Payout sent"):
        assert len(mails(services, funded.email, subject)) == 1, subject
    assert [e["tag"] for e in events(services) if e["tag"].startswith("money:payout")] == [
        "money:payout:requested", "money:payout:approved", "money:payout:paid"]


def test_a_rejected_payout_goes_back_to_the_balance(client, services, cast, funded, operator):
    sign_in(client, cast.people["legal"])
    ask(client, amount="500")
    payout = _only(services)
    assert balance(services, cast.acme) == 0
    assert operator("payout-reject", str(payout.id)).exit_code == 2  # a reason is required
    assert operator("payout-reject", str(payout.id), "--reason", "   ").exit_code == 2
    result = operator("payout-reject", str(payout.id), "--reason", "The account holder is not Acme")
    assert result.exit_code == 0, result.output
    assert balance(services, cast.acme) == D("500.00") and _only(services).state is PayoutState.REJECTED
    [mail] = mails(services, funded.email, "Payout rejected")
    assert "The account holder is not Acme" in mail["body"]
    assert "The account holder is not Acme" in client.get(PAYOUTS).get_data(as_text=True)
    entries, _total = money(services).ledger.ledger.entries(cast.acme.id)
    assert [(e.kind.value, e.reason.value, e.reference) for e in entries[:2]] == [
        ("credit", "payout", f"payout:{payout.id}"), ("debit", "payout", f"payout:{payout.id}")]


def test_withdrawing_a_request_and_another_organisations_payout(client, services, cast, funded, operator):
    sign_in(client, cast.people["partner"])  # legal representative of the agency
    credit(services, cast.agency, "10.00")
    page = client.get("/orgs/webagency/billing/payouts")
    client.post("/orgs/webagency/billing/payouts", data={
        "csrf_token": csrf_of(page.get_data(as_text=True)), "amount": "10", "currency": "CHF", "method": "bank",
        "iban": "DE89 3704 0044 0532 0130 00"})
    [theirs] = money(services).payouts.in_state(None)
    client.get("/logout")
    sign_in(client, cast.people["legal"])
    token = csrf_of(client.get(PAYOUTS).get_data(as_text=True))
    assert client.post(f"{PAYOUTS}/{theirs.id}/withdraw", data={"csrf_token": token}).status_code == 404
    assert client.post(f"{PAYOUTS}/424242/withdraw", data={"csrf_token": token}).status_code == 404
    assert balance(services, cast.agency) == 0
    ask(client, amount="200")
    mine = next(p for p in money(services).payouts.in_state(None) if p.org_id == cast.acme.id)
    assert client.post(f"{PAYOUTS}/{mine.id}/withdraw", data={"csrf_token": "forged"}).status_code == 400
    assert client.post(f"{PAYOUTS}/{mine.id}/withdraw", data={"csrf_token": token}).status_code == 302
    assert balance(services, cast.acme) == D("500.00")
    assert len(mails(services, funded.email, "Payout request withdrawn")) == 1
    assert client.post(f"{PAYOUTS}/{mine.id}/withdraw", data={"csrf_token": token}).status_code == 409
    assert operator("payout-approve", str(mine.id)).exit_code == 2  # withdrawn: nothing to decide


def test_only_a_legal_representative_in_person_reaches_payouts(client, services, cast, partners, funded):
    partners.manage(cast.acme, cast.agency, full=True, rights=ALL_RIGHTS, person=cast.people["partner"])
    sign_in(client, cast.people["partner"])
    assert client.get("/orgs/acme/billing").status_code == 200  # full access to billing ...
    assert PAYOUTS not in client.get("/orgs/acme/billing").get_data(as_text=True)
    assert client.get(PAYOUTS).status_code == 404  # ... and never to payouts
    token = csrf_of(client.get("/orgs/").get_data(as_text=True))
    assert client.post(PAYOUTS, data={"csrf_token": token, "amount": "1", "currency": "CHF", "method": "bank",
                                      "iban": IBAN}).status_code == 404
    for who in ("admin", "member"):
        client.get("/logout")
        sign_in(client, cast.people[who])
        assert client.get(PAYOUTS).status_code == 403
    client.get("/logout")
    sign_in(client, cast.people["outsider"])
    assert client.get(PAYOUTS).status_code == 404
    assert money(services).payouts.in_state(None) == [] and balance(services, cast.acme) == D("500.00")


def test_the_service_refuses_a_partner_acting_for_the_client(services, cast, partners, funded):
    from idp.account.org_rules import OrgForbiddenError
    from tests.money.conftest import CTX

    partners.manage(cast.acme, cast.agency, full=True, rights=ALL_RIGHTS, person=cast.people["partner"])
    caller = money(services).access.billing(services.accounts.user(cast.people["partner"].id), "acme")
    assert caller.as_partner and not caller.may_request_payouts
    with pytest.raises(OrgForbiddenError):
        money(services).payouts.request(caller, amount="1", currency="CHF", method="bank", iban=IBAN, paypal="",
                                        ctx=CTX)


def test_payouts_ask_for_a_recent_sign_in(client, services, cast, funded, clock):
    sign_in(client, cast.people["legal"])
    token = csrf_of(client.get(PAYOUTS).get_data(as_text=True))
    clock.advance(seconds=services.settings.security.recent_auth_max_age + 60)
    response = client.get(PAYOUTS)
    assert response.status_code == 302 and "/reauth" in response.headers["Location"]
    response = client.post(PAYOUTS, data={"csrf_token": token, "amount": "1", "currency": "CHF", "method": "bank",
                                          "iban": IBAN})
    assert response.status_code == 302 and "/reauth" in response.headers["Location"]
    assert money(services).payouts.in_state(None) == []


@pytest.mark.parametrize(("fields", "message"), [
    ({"amount": ""}, "Enter an amount"),
    ({"amount": "12.345"}, "at most two decimals"),
    ({"amount": "-5"}, "without a sign"),
    ({"amount": "+5"}, "without a sign"),
    ({"amount": "0"}, "more than zero"),
    ({"amount": "0.00"}, "more than zero"),
    ({"amount": "ten"}, "in figures"),
    ({"amount": "1e3"}, "in figures"),
    ({"amount": "NaN"}, "in figures"),
    ({"amount": "Infinity"}, "in figures"),
    ({"amount": "12.5.0"}, "in figures"),
    ({"amount": "100000.01"}, "100000.00 at most"),
    ({"amount": "9" * 30}, "too large"),
    ({"amount": "9" * 5000}, "too large"),
    ({"amount": "500.01"}, "more than the balance (500.00 CHF)"),
    ({"currency": "USD"}, "CHF or EUR"),
    ({"currency": "EUR", "amount": "1"}, "more than the balance (0.00 EUR)"),
    ({"method": "cash"}, "bank account or PayPal"),
    ({"iban": ""}, "Enter the IBAN"),
    ({"iban": "CH94 0076 2011 6238 5295 7"}, "check digits are wrong"),
    ({"iban": "XX93 0076 2011 6238 5295 7"}, "known country code"),
    ({"iban": "CH93 0076 2011 6238 5295"}, "length of its country"),
    ({"iban": "DE89 3704 0044 0532 0130 0099"}, "length of its country"),
    ({"iban": "not an iban!"}, "not a valid IBAN"),
    ({"iban": "C" * 5000}, "at most 34 characters"),
    ({"method": "paypal", "paypal": ""}, "PayPal account"),
    ({"method": "paypal", "paypal": "not-an-address"}, "valid e-mail address for PayPal"),
    ({"method": "paypal", "paypal": "a@" + "b" * 300 + ".com"}, "too long"),
])
def test_bad_input_to_the_payout_form_is_said(client, services, cast, funded, fields, message):
    sign_in(client, cast.people["legal"])
    response = ask(client, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True).replace("&#39;", "'")
    assert money(services).payouts.in_state(None) == [] and balance(services, cast.acme) == D("500.00")
    assert events(services, "money:payout:requested") == []


def test_a_wrong_csrf_token_asks_for_nothing(client, services, cast, funded):
    sign_in(client, cast.people["legal"])
    client.get(PAYOUTS)
    response = client.post(PAYOUTS, data={"csrf_token": "forged", "amount": "1", "currency": "CHF",
                                          "method": "bank", "iban": IBAN})
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    assert money(services).payouts.in_state(None) == []


def test_two_payouts_cannot_both_take_the_balance(client, services, cast, funded):
    sign_in(client, cast.people["legal"])
    assert ask(client, amount="300").status_code == 302
    response = ask(client, amount="300")
    assert response.status_code == 400 and "more than the balance (200.00 CHF)" in response.get_data(as_text=True)
    assert balance(services, cast.acme) == D("200.00") and len(money(services).payouts.in_state(None)) == 1
