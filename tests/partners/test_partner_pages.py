"""The partner's pages: the client list (search, sort, the action menu, CSV), the add-a-client
form and its bad input, the client as the partner reaches it, assignments, withdrawing a request."""

from __future__ import annotations

import csv
import io

import pytest

from idp.partners.access import parse_access
from idp.partners.listing import safe_cell
from idp.partners.requests import Decision
from tests.account.conftest import post
from tests.conftest import csrf_of
from tests.conftest import events
from tests.partners.conftest import CTX

FORM = {"email": "new@example.com", "access": "limited", "rights": ["products"], "payer": "client", "days": "30"}


def sign_in(cast, auth, who):
    auth.sign_in(cast.people[who].email, cast.people[who].password)


def test_the_client_list_shows_access_payer_status_and_expiry(cast, client, auth):
    cast.manage()
    cast.invite("pending@example.com", access="full", rights=[], payer="partner")
    sign_in(cast, auth, "p_admin")
    html = client.get("/orgs/reseller/clients").get_data(as_text=True)
    assert "Client Sàrl" in html and "c.lr@example.com" in html and "Limited: Products" in html
    assert "pending@example.com" in html and "Full access" in html and "Request pending" in html
    assert "The partner's" in html and "The client's" in html and "Active" in html
    assert 'href="/orgs/reseller/clients/client"' in html
    assert 'href="/orgs/reseller/clients/client/act">Reach the client' in html  # the row's menu acts
    assert "Withdraw the request" not in html  # an administrator does not add or withdraw
    assert "Add a client" not in html


def test_a_collaborator_sees_only_the_clients_assigned(cast, client, auth):
    cast.manage()
    cast.invite("pending@example.com")
    sign_in(cast, auth, "p_collab")
    html = client.get("/orgs/reseller/clients").get_data(as_text=True)
    assert "Client Sàrl" not in html and "pending@example.com" not in html and "No client yet." in html
    assert client.get("/orgs/reseller/clients/client").status_code == 404
    cast.partners.lifecycle.assign(cast.user("p_admin"), "reseller", "client", cast.people["p_collab"].id, CTX)
    assert "Client Sàrl" in client.get("/orgs/reseller/clients").get_data(as_text=True)
    page = client.get("/orgs/reseller/clients/client")
    assert page.status_code == 200 and "on behalf of Reseller SA" in page.get_data(as_text=True)
    assert "Collaborators who reach this client" not in page.get_data(as_text=True)
    assert client.get("/orgs/reseller/clients/new").status_code == 403


def test_search_and_sort(cast, client, auth, services, make_user, clock):
    cast.manage()
    for slug, name in (("zeta", "Zeta AG"), ("alpha", "Alpha Ltd")):
        clock.advance(seconds=60)
        person = make_user(f"lr@{slug}.example")
        services.organisations.create(services.accounts.user(person.id), slug, name, CTX)
        cast.partners.requests.accept(
            services.accounts.user(person.id), cast.invite(person.email).id,
            Decision(parse_access(access="full", rights=[], payer="client", days=str(10 if slug == "zeta" else 20),
                                  auto_renew=False), org_slug=slug), CTX)
    sign_in(cast, auth, "p_lr")

    def order(query):
        """The clients' names in the order the page lists them."""
        html = client.get("/orgs/reseller/clients" + query).get_data(as_text=True)
        body = html[html.index("<tbody"):]
        return [n for _i, n in sorted((body.index(n), n) for n in ("Alpha Ltd", "Client Sàrl", "Zeta AG") if n in body)]

    assert order("") == ["Alpha Ltd", "Client Sàrl", "Zeta AG"]
    assert order("?sort=name&order=desc") == ["Zeta AG", "Client Sàrl", "Alpha Ltd"]
    assert order("?sort=expiry") == ["Zeta AG", "Alpha Ltd", "Client Sàrl"]  # 10, 20, 30 days
    assert order("?sort=expiry&order=desc") == ["Client Sàrl", "Alpha Ltd", "Zeta AG"]
    assert order("?sort=since&order=desc") == ["Alpha Ltd", "Zeta AG", "Client Sàrl"]
    assert order("?q=ZETA") == ["Zeta AG"]
    assert order("?q=lr@alpha") == ["Alpha Ltd"]  # by e-mail
    assert order("?q=s%C3%A0rl") == ["Client Sàrl"]


@pytest.mark.parametrize(("query", "message"), [
    ("?sort=password", "Sort by name, since or expiry."), ("?order=sideways", "ascending or descending"),
    ("?q=" + "x" * 201, "at most 200 characters"), ("?q=a%00b", "control characters"),
])
def test_bad_list_parameters_get_a_message(cast, client, auth, query, message):
    sign_in(cast, auth, "p_lr")
    response = client.get("/orgs/reseller/clients" + query)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert client.get("/orgs/reseller/clients.csv" + query).status_code == 400


EVIL = '=HYPERLINK("http://x","Zürich, "Ost"")'  # an organisation's name is chosen by its members


def test_the_csv_export(cast, client, auth, services, make_user):
    cast.manage()
    evil = make_user("evil@example.com")
    services.organisations.create(services.accounts.user(evil.id), "evil", EVIL, CTX)
    cast.partners.requests.accept(
        services.accounts.user(evil.id), cast.invite("evil@example.com", payer="partner").id,
        Decision(parse_access(access="full", rights=[], payer="client", days="5", auto_renew=True), org_slug="evil"),
        CTX)
    cast.invite("+41@example.com")
    sign_in(cast, auth, "p_lr")
    response = client.get("/orgs/reseller/clients.csv?sort=name")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8; header=present"
    assert response.headers["Content-Disposition"] == 'attachment; filename="clients-reseller.csv"'
    body = response.get_data()
    assert not body.startswith(b"\xef\xbb\xbf")  # UTF-8 without a byte-order mark
    text = body.decode("utf-8")
    assert text.count("\r\n") == 4 and "\n" not in text.replace("\r\n", "")  # CRLF line ends, one per row
    assert text.split("\r\n")[0] == ('"client","short_name","email","status","access","rights","payment_means",'
                                      '"since_utc","expiry_utc","renews"')
    # Every field quoted, quotes doubled, the formula defused by a leading quote.
    assert '"\'=HYPERLINK(""http://x"",""Zürich, ""Ost"""")","evil","evil@example.com","active","full",' in text
    rows = {r[0]: r for r in list(csv.reader(io.StringIO(text, newline="")))[1:]}
    assert set(rows) == {"'" + EVIL, "'+41@example.com", "Client Sàrl"}
    assert rows["'" + EVIL][1:8] == ["evil", "evil@example.com", "active", "full", "activity billing products users",
                                     "partner", rows["'" + EVIL][7]]
    assert rows["'" + EVIL][9] == "yes"
    assert rows["'+41@example.com"][2:4] == ["'+41@example.com", "pending"]
    assert rows["Client Sàrl"][5] == "products" and rows["Client Sàrl"][6] == "client"


@pytest.mark.parametrize(("value", "cell"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("a=b", "a=b"), ("", ""), ("Zoë", "Zoë"),
])
def test_each_formula_start_is_defused(value, cell):
    assert safe_cell(value) == cell


def test_the_csv_holds_what_the_person_sees(cast, client, auth):
    cast.manage()
    sign_in(cast, auth, "p_collab")
    text = client.get("/orgs/reseller/clients.csv").get_data(as_text=True)
    assert text.count("\r\n") == 1  # the header only


def test_adding_a_client_from_the_page(cast, client, auth, services):
    sign_in(cast, auth, "p_lr")
    page = client.get("/orgs/reseller/clients/new").get_data(as_text=True)
    assert "Payment means" in page and "Duration in days" in page and "The members list and invitations" in page
    response = post(client, "/orgs/reseller/clients/new", FORM | {"auto_renew": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/orgs/reseller/clients")
    [request] = cast.partners.ports.partners.pending_of(cast.org("reseller").id, services.clock.now())
    assert request.access.rights == {"products"} and request.access.auto_renew and request.access.days == 30
    assert len(events(services, "partners:client:invited")) == 1


@pytest.mark.parametrize(("data", "message"), [
    ({"email": ""}, "Enter your e-mail address"),
    ({"email": "not-an-address"}, "Enter a valid e-mail address"),
    ({"email": "a" * 400 + "@example.com"}, "too long"),
    ({"access": ""}, "Choose full or limited access."),
    ({"access": "root"}, "Choose full or limited access."),
    ({"rights": []}, "at least one right"),
    ({"rights": ["products", "payouts"]}, "Choose rights from the list."),
    ({"payer": "nobody"}, "whose payment means"),
    ({"days": "0"}, "from 1 to 730"),
    ({"days": "731"}, "from 1 to 730"),
    ({"days": "-5"}, "from 1 to 730"),
    ({"days": "1.5"}, "from 1 to 730"),
    ({"days": "12345678901"}, "from 1 to 730"),
    ({"days": ""}, "from 1 to 730"),
    ({"days": "３０"}, "from 1 to 730"),
])
def test_bad_input_on_the_add_form(cast, client, auth, services, data, message):
    sign_in(cast, auth, "p_lr")
    response = post(client, "/orgs/reseller/clients/new", FORM | data)
    assert response.status_code == 400 and message in response.get_data(as_text=True).replace("&#39;", "'")
    assert cast.partners.ports.partners.pending_of(cast.org("reseller").id, services.clock.now()) == []


def test_the_add_form_refuses_a_wrong_csrf_token_and_other_roles_and_organisations(cast, client, auth, services):
    sign_in(cast, auth, "p_lr")
    response = client.post("/orgs/reseller/clients/new", data=FORM | {"csrf_token": "forged"})
    assert response.status_code == 400 and "reload the page" in response.get_data(as_text=True)
    assert client.post("/orgs/reseller/clients/new", data=FORM).status_code == 400
    # Another organisation's short name: one the person is not a member of.
    assert post(client, "/orgs/client/clients/new", FORM, page="/orgs/reseller/clients/new").status_code == 404
    assert post(client, "/orgs/nowhere/clients/new", FORM, page="/orgs/reseller/clients/new").status_code == 404
    auth.logout()
    for who, status in (("p_admin", 403), ("p_collab", 403), ("c_lr", 404)):
        sign_in(cast, auth, who)
        token = csrf_of(client.get("/orgs/").get_data(as_text=True))
        assert client.post("/orgs/reseller/clients/new", data=FORM | {"csrf_token": token}).status_code == status, who
        assert client.get("/orgs/reseller/clients/new").status_code == status
        auth.logout()
    assert cast.partners.ports.partners.pending_of(cast.org("reseller").id, services.clock.now()) == []


def test_a_non_partner_organisation_has_no_client_pages(cast, client, auth):
    sign_in(cast, auth, "c_lr")
    response = client.get("/orgs/client/clients")
    assert response.status_code == 403 and "not a partner" in response.get_data(as_text=True)
    assert client.get("/orgs/client/clients/new").status_code == 403
    assert client.get("/orgs/reseller/clients").status_code == 404  # not a member


def test_the_client_page_shows_rights_dates_and_payer(cast, client, auth):
    cast.manage(rights=["products", "users"], auto_renew=True)
    sign_in(cast, auth, "p_lr")
    html = client.get("/orgs/reseller/clients/client").get_data(as_text=True)
    assert "You act for Client Sàrl on behalf of Reseller SA." in html
    assert "<strong>Products</strong>" in html and "<strong>Users</strong>" in html and "<strong>Billing</strong>" not in html
    assert "then it renews by itself" in html and "The client's" in html
    assert "Assign Pia Collab" in html and "Assign Paul Other" in html


def test_assigning_from_the_page(cast, client, auth, services):
    cast.manage()
    sign_in(cast, auth, "p_admin")
    collab = cast.people["p_collab"].id
    response = post(client, f"/orgs/reseller/clients/client/assign/{collab}", page="/orgs/reseller/clients/client")
    assert response.status_code == 302
    assert "Unassign Pia Collab" in client.get("/orgs/reseller/clients/client").get_data(as_text=True)
    assert post(client, f"/orgs/reseller/clients/client/unassign/{collab}",
                page="/orgs/reseller/clients/client").status_code == 302
    assert [e["details"]["member"] for e in events(services, "partners:assignment:added")] == [collab, collab]
    token = csrf_of(client.get("/orgs/reseller/clients/client").get_data(as_text=True))
    assert client.post(f"/orgs/reseller/clients/client/assign/{collab}", data={"csrf_token": "x"}).status_code == 400
    assert client.post(f"/orgs/reseller/clients/client/assign/{cast.people['c_lr'].id}",
                       data={"csrf_token": token}).status_code == 404
    assert client.post(f"/orgs/reseller/clients/nowhere/assign/{collab}", data={"csrf_token": token}).status_code == 404
    response = client.post(f"/orgs/reseller/clients/client/assign/{cast.people['p_lr'].id}", data={"csrf_token": token})
    assert response.status_code == 400 and "only collaborators" in response.get_data(as_text=True)
    auth.logout()
    sign_in(cast, auth, "p_collab")
    token = csrf_of(client.get("/orgs/").get_data(as_text=True))
    assert client.post(f"/orgs/reseller/clients/client/assign/{collab}", data={"csrf_token": token}).status_code == 403


def test_withdrawing_a_pending_request_from_the_list(cast, client, auth, services):
    request = cast.invite("pending@example.com")
    sign_in(cast, auth, "p_lr")
    html = client.get("/orgs/reseller/clients").get_data(as_text=True)
    assert "Withdraw the request to pending@example.com" in html
    path = f"/orgs/reseller/client-requests/{request.id}/cancel"
    assert client.post(path, data={"csrf_token": "x"}).status_code == 400
    assert post(client, path, page="/orgs/reseller/clients").status_code == 302
    assert "Withdraw the request to pending@example.com" not in client.get("/orgs/reseller/clients").get_data(as_text=True)
    response = post(client, path, page="/orgs/")
    assert response.status_code == 400 and "no longer pending" in response.get_data(as_text=True)
    assert post(client, "/orgs/reseller/client-requests/999999/cancel", page="/orgs/").status_code == 404


def test_the_organisation_page_links_to_the_partner_pages(cast, client, auth):
    cast.manage()
    sign_in(cast, auth, "p_collab")
    html = client.get("/orgs/reseller").get_data(as_text=True)
    assert 'href="/orgs/reseller/clients"' in html and 'href="/orgs/reseller/partners"' not in html
    auth.logout()
    sign_in(cast, auth, "c_admin")
    html = client.get("/orgs/client").get_data(as_text=True)
    assert "Who has access" in html and "Reseller SA" in html and "Limited: Products" in html
    assert 'href="/orgs/client/clients"' not in html and "End this partnership" not in html
    assert 'href="/orgs/client/partners"' in html
    auth.logout()
    sign_in(cast, auth, "c_lr")
    html = client.get("/orgs/client").get_data(as_text=True)
    assert "End this partnership" in html and "Change the rights of Reseller SA" in html
