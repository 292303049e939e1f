"""The domains page: the organisation's transfers, a red band on a failed one with its reason,
instructions and relaunch button until it is relaunched, the request form and its refusals."""

from __future__ import annotations

import re

import pytest

from idp.domains.model import Reason
from idp.domains.model import Status
from tests.account.conftest import post
from tests.conftest import csrf_of
from tests.conftest import events
from tests.domains.conftest import CODE
from tests.domains.conftest import domains
from tests.domains.conftest import fail
from tests.domains.conftest import request
from tests.domains.conftest import transfer

BAND = re.compile(r'<section class="failure-band" aria-labelledby="failure-(\d+)">(.*?)</section>', re.S)


def test_the_organisation_page_links_the_domains_page_for_those_who_manage_them(client, auth, cast):
    auth.sign_in(cast.admin.email, cast.admin.password)
    assert 'href="/orgs/acme/domains"' in client.get("/orgs/acme").get_data(as_text=True)
    auth.logout()
    auth.sign_in(cast.member.email, cast.member.password)
    assert 'href="/orgs/acme/domains"' not in client.get("/orgs/acme").get_data(as_text=True)


def test_a_request_is_recorded_with_its_fee_charged_once(client, auth, cast, services):
    auth.sign_in(cast.legal.email, cast.legal.password)
    page = client.get("/orgs/acme/domains?lang=en").get_data(as_text=True)
    assert "No transfer yet." in page and "The transfer costs CHF 12.00, charged once" in page
    done = post(client, "/orgs/acme/domains", {"domain": " Bücher.CH ", "auth_code": CODE})
    assert done.status_code == 302
    [made] = domains(services).store.transfers()
    assert (made.domain, made.status, str(made.fee), made.fee_charged) == ("xn--bcher-kva.ch", Status.REQUESTED,
                                                                          "CHF 12.00", True)
    listed = client.get("/orgs/acme/domains?lang=en").get_data(as_text=True)
    assert "bücher.ch" in listed and "xn--bcher-kva.ch" in listed and "Requested" in listed
    [event] = events(services, "domains:transfer:requested")
    assert event["details"] == {"domain": "xn--bcher-kva.ch", "transfer": made.id, "charged": True,
                                "fee": "12.00", "currency": "CHF"}
    assert CODE not in str(event)
    # The code is kept encrypted, never as typed.
    assert CODE not in (domains(services).store.auth_code(made.id) or "")


@pytest.mark.parametrize(("domain", "code", "message"), [
    ("", CODE, "Enter the domain name to transfer"),
    ("https://example.ch/", CODE, "Enter the domain name only"),
    ("someone@example.ch", CODE, "Enter the domain name only"),
    ("localhost", CODE, "Give the whole name with its extension"),
    ("example", CODE, "Give the whole name with its extension"),
    ("exa_mple.ch", CODE, "This is not a valid domain name"),
    ("-example.ch", CODE, "This is not a valid domain name"),
    ("example.123", CODE, "The extension .123 is not one of a public registry"),
    ("example.test", CODE, "The extension .test is not one of a public registry"),
    ("www.example.ch", CODE, "without www. in front"),
    ("a" * 64 + ".ch", CODE, "This is not a valid domain name"),
    ("a." * 150 + "ch", CODE, "at most 253 characters"),
    ("x" * 400, CODE, "at most 253 characters"),
    ("example.ch", "", "Enter the authorisation code"),
    ("example.ch", "12345", "6 to 64"),
    ("example.ch", "has a space", "6 to 64"),
    ("example.ch", "ünïcödé-code", "6 to 64"),
    ("example.ch", "c" * 300, "6 to 64"),
    ("example.ch", "tab\tinside", "6 to 64"),
])
def test_bad_domain_names_and_codes_are_refused_on_the_form(client, auth, cast, services, domain, code, message):
    auth.sign_in(cast.admin.email, cast.admin.password)
    refused = post(client, "/orgs/acme/domains", {"domain": domain, "auth_code": code})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and message in html, html
    assert 'aria-invalid="true"' in html and "error-summary" in html
    assert domains(services).store.transfers() == []
    if code == CODE:
        assert CODE not in html.split("<form")[0]  # a code is never echoed outside its field


def test_a_domain_under_way_and_a_wrong_csrf_token_are_refused(client, auth, cast, services):
    request(services, cast.outsider, slug="globex")
    auth.sign_in(cast.admin.email, cast.admin.password)
    taken = post(client, "/orgs/acme/domains", {"domain": "EXAMPLE.ch", "auth_code": CODE})
    assert taken.status_code == 400 and "already under way" in taken.get_data(as_text=True)
    for data in ({"domain": "other.ch", "auth_code": CODE}, {"csrf_token": "forged", "domain": "other.ch",
                                                            "auth_code": CODE}):
        assert client.post("/orgs/acme/domains", data=data).status_code == 400
    assert len(domains(services).store.transfers()) == 1


def test_collaborators_and_outsiders_have_no_domains_page(client, auth, cast, services):
    made = request(services, cast.admin)
    fail(services)
    auth.sign_in(cast.member.email, cast.member.password)
    assert client.get("/orgs/acme/domains").status_code == 403
    token = csrf_of(client.get("/").get_data(as_text=True))
    assert client.post("/orgs/acme/domains", data={"csrf_token": token, "domain": "x.ch",
                                                   "auth_code": CODE}).status_code == 403
    assert client.post(f"/orgs/acme/domains/{made.id}/relaunch", data={
        "csrf_token": token, f"t{made.id}-failure": "1"}).status_code == 403
    auth.logout()
    auth.sign_in(cast.outsider.email, cast.outsider.password)
    assert client.get("/orgs/acme/domains").status_code == 404
    assert client.get("/orgs/nope/domains").status_code == 404
    # Another organisation's transfer, through one's own page: not found.
    token = csrf_of(client.get("/orgs/globex/domains").get_data(as_text=True))
    assert client.post(f"/orgs/globex/domains/{made.id}/relaunch", data={
        "csrf_token": token, f"t{made.id}-failure": "1"}).status_code == 404
    assert transfer(services, made.id).status is Status.FAILED


def test_the_red_band_shows_the_reason_until_the_relaunch(client, auth, cast, services):
    made = request(services, cast.admin)
    other = request(services, cast.admin, domain="other.ch")
    fail(services, reason=Reason.OTHER, detail="Registry says: <b>contact support</b>")
    auth.sign_in(cast.admin.email, cast.admin.password)
    page = client.get("/orgs/acme/domains?lang=en").get_data(as_text=True)
    [(band_of, band)] = BAND.findall(page)
    assert int(band_of) == made.id
    assert f'<h4 id="failure-{made.id}">' in band and "Transfer failed: Another reason" in band
    assert "&lt;b&gt;contact support&lt;/b&gt;" in band  # the registrar's words, escaped
    assert "Do what the registrar" in band and "Relaunch the transfer of example.ch" in band
    assert f'action="/orgs/acme/domains/{made.id}/relaunch"' in band and other.id != made.id
    french = client.get("/orgs/acme/domains?lang=fr").get_data(as_text=True)
    assert "Transfert échoué\u00a0: Une autre raison" in french and "Que faire\u00a0:" in french

    for bad in ("", "x", "1" * 20, "2"):
        refused = client.post(f"/orgs/acme/domains/{made.id}/relaunch",
                              data={"csrf_token": csrf_of(page), f"t{made.id}-failure": bad})
        assert refused.status_code == 404, bad
    assert client.post(f"/orgs/acme/domains/{made.id}/relaunch",
                       data={f"t{made.id}-failure": "1"}).status_code == 400  # no CSRF token
    assert client.post(f"/orgs/acme/domains/{made.id + 99}/relaunch",
                       data={"csrf_token": csrf_of(page), "t0-failure": "1"}).status_code == 404

    done = client.post(f"/orgs/acme/domains/{made.id}/relaunch",
                       data={"csrf_token": csrf_of(page), f"t{made.id}-failure": "1"})
    assert done.status_code == 302
    after = client.get(done.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "est relancé, sans nouveaux frais" in after  # the language chosen above (?lang=fr) is kept
    assert BAND.findall(after) == [] and "Relaunched" in after
    [event] = events(services, "domains:transfer:relaunched")
    assert event["details"]["how"] == "page" and event["details"]["charged"] is False
    again = client.post(f"/orgs/acme/domains/{made.id}/relaunch",
                        data={"csrf_token": csrf_of(after), f"t{made.id}-failure": "1"})
    assert again.status_code == 409 and "already relaunched" in again.get_data(as_text=True)


def test_a_wrong_code_failure_asks_the_page_for_a_new_code(client, auth, cast, services):
    made = request(services, cast.admin)
    fail(services, reason=Reason.WRONG_AUTH_CODE)
    auth.sign_in(cast.admin.email, cast.admin.password)
    page = client.get("/orgs/acme/domains").get_data(as_text=True)
    field = f"t{made.id}-auth_code"
    assert f'name="{field}"' in page and f'id="{field}"' in page and f'for="{field}"' in page
    refused = client.post(f"/orgs/acme/domains/{made.id}/relaunch",
                          data={"csrf_token": csrf_of(page), f"t{made.id}-failure": "1", field: "bad"})
    assert refused.status_code == 400 and "6 to 64" in refused.get_data(as_text=True)
    done = client.post(f"/orgs/acme/domains/{made.id}/relaunch",
                       data={"csrf_token": csrf_of(page), f"t{made.id}-failure": "1", field: "Fresh-Code-9"})
    assert done.status_code == 302 and transfer(services, made.id).status is Status.RELAUNCHED


def test_a_registrar_that_does_not_answer_keeps_nothing_and_charges_nothing(client, auth, cast, services):
    from idp.errors import UpstreamError

    registrar = domains(services).registrar

    def down(*_args, **_kwargs):
        raise UpstreamError("the registrar did not answer within 10 s")

    original = registrar.start_transfer
    registrar.start_transfer = down
    auth.sign_in(cast.admin.email, cast.admin.password)
    try:
        refused = post(client, "/orgs/acme/domains", {"domain": "example.ch", "auth_code": CODE})
    finally:
        registrar.start_transfer = original
    assert refused.status_code == 503 and "nothing charged" in refused.get_data(as_text=True)
    assert domains(services).store.transfers() == [] and events(services, "domains:transfer:requested") == []
    assert post(client, "/orgs/acme/domains", {"domain": "example.ch", "auth_code": CODE}).status_code == 302


def test_a_page_shown_before_a_newer_failure_relaunches_nothing(client, auth, cast, services):
    from tests.domains.conftest import CTX

    made = request(services, cast.admin)
    fail(services, reason=Reason.REGISTRY_TIMEOUT)
    auth.sign_in(cast.admin.email, cast.admin.password)
    page = client.get("/orgs/acme/domains").get_data(as_text=True)  # shows failure 1
    service = domains(services)
    service.relaunch_from_page(service.access(services.accounts.user(cast.legal.id), "acme"), made.id, 1, "", CTX)
    fail(services, reason=Reason.OWNER_REFUSED)
    stale = client.post(f"/orgs/acme/domains/{made.id}/relaunch",
                        data={"csrf_token": csrf_of(page), f"t{made.id}-failure": "1"})
    assert stale.status_code == 409 and "failed again" in stale.get_data(as_text=True)
    assert "The owner refused the transfer" in stale.get_data(as_text=True)  # the page shows the newer one
    assert transfer(services, made.id).status is Status.FAILED and transfer(services, made.id).failures == 2


def test_a_partner_with_the_products_right_uses_the_page_for_the_client(client, auth, cast, services):
    from idp.capability import DELEGATED_ACCESS
    from idp.capability import Delegation
    from idp.capability import PartnerRight

    acme, globex = (services.accounts.org(s) for s in ("acme", "globex"))

    def delegated(user_id, client_org_id, right, now):
        if user_id == cast.outsider.id and client_org_id == acme.id and right is PartnerRight.PRODUCTS:
            return Delegation(partnership_id=3, partner_org_id=globex.id, client_org_id=acme.id, actor_id=user_id,
                              full=True, rights=frozenset())
        return None

    services.slots.override(DELEGATED_ACCESS, delegated)
    auth.sign_in(cast.outsider.email, cast.outsider.password)
    assert client.get("/orgs/acme/domains").status_code == 200
    assert post(client, "/orgs/acme/domains", {"domain": "client-site.ch", "auth_code": CODE}).status_code == 302
    rows = events(services, "domains:transfer:requested")
    assert {r["org_id"]: r["details"].get("partnership") for r in rows} == {acme.id: 3, globex.id: 3}
    assert [t.org_id for t in domains(services).store.transfers()] == [acme.id]
