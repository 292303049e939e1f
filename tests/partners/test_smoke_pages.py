from tests.account.conftest import post


def test_pages_render(cast, client, auth, services):
    p = cast.manage()
    auth.sign_in(cast.people["p_lr"].email, cast.people["p_lr"].password)
    for path in ("/orgs/reseller", "/orgs/reseller/clients", "/orgs/reseller/clients/new",
                 "/orgs/reseller/clients/client", "/orgs/reseller/clients.csv"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.get_data(as_text=True))
    r = post(client, "/orgs/reseller/clients/new", {"email": "new@example.com", "access": "full", "payer": "partner",
                                                    "days": "30"})
    assert r.status_code == 302, r.get_data(as_text=True)
    auth.logout()
    auth.sign_in(cast.people["c_lr"].email, cast.people["c_lr"].password)
    for path in ("/orgs/client", "/orgs/client/partners", f"/orgs/client/partners/{p.id}/change",
                 f"/orgs/client/partners/{p.id}/end", "/partners/requests"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.get_data(as_text=True))
