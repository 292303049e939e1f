"""The e-mailed relaunch link: it relaunches the failed transfer once, without a new fee, for a
signed-in legal representative or administrator (or a partner with the products right), and is
refused with a clear page when replayed, superseded, expired, altered or opened by anyone else."""

from __future__ import annotations

import json

from idp.capability import DELEGATED_ACCESS
from idp.capability import Delegation
from idp.capability import PartnerRight
from idp.domains.model import Reason
from idp.domains.model import Status
from tests.account.conftest import post
from tests.conftest import csrf_of
from tests.conftest import events
from tests.conftest import outbox
from tests.domains.conftest import CODE
from tests.domains.conftest import domains
from tests.domains.conftest import fail
from tests.domains.conftest import link_path
from tests.domains.conftest import request
from tests.domains.conftest import transfer


def _requests(settings):
    folder = settings.instance_path / "registrar" / "requests"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def test_the_owners_are_mailed_in_their_language_and_the_link_relaunches_once_without_a_fee(
        client, auth, cast, services, settings):
    started = request(services, cast.admin)
    assert started.fee_charged and str(started.fee) == "CHF 12.00"
    fail(services, reason=Reason.DOMAIN_LOCKED)
    mails = {m["to"]: m for m in outbox(services) if "/domains/relaunch/" in (m["body"] or "")}
    assert set(mails) == {cast.legal.email, cast.admin.email}  # not the collaborator, not another organisation
    french, english = mails[cast.legal.email], mails[cast.admin.email]
    assert french["subject"] == "Le transfert de example.ch a échoué\u00a0: Domaine verrouillé chez le registraire actuel"
    assert "verrou de transfert" in french["body"] and "Bonjour Léa Legal" in french["body"]
    assert english["subject"] == "The transfer of example.ch failed: Domain locked at the current registrar"
    assert "remove the transfer lock" in english["body"] and "works once, for 30 days" in english["body"]
    path = link_path(services, cast.admin)
    assert path == link_path(services, cast.legal)  # one link per failure, bound to it

    auth.sign_in(cast.admin.email, cast.admin.password)
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Relaunch the transfer of example.ch" in html
    assert "Transfer failed: Domain locked at the current registrar" in html
    assert 'name="auth_code"' not in html  # the code was right: none is asked
    assert transfer(services, started.id).status is Status.FAILED  # GET changes nothing

    done = client.post(path, data={"csrf_token": csrf_of(html)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/orgs/acme/domains")
    after = transfer(services, started.id)
    assert after.status is Status.RELAUNCHED
    # The fee is the one of the request: the relaunch charged nothing and recorded no charge.
    assert (after.fee, after.fee_charged, after.charged_at) == (started.fee, True, started.charged_at)
    [relaunched] = events(services, "domains:transfer:relaunched")
    assert relaunched["details"]["charged"] is False and relaunched["details"]["how"] == "link"
    assert relaunched["org_id"] == started.org_id and relaunched["actor_id"] == cast.admin.id
    assert len(events(services, "domains:transfer:requested")) == 1
    sent = _requests(settings)
    assert [r["action"] for r in sent] == ["start", "relaunch"] and sent[1]["auth_code"] == CODE

    replay = client.post(path, data={"csrf_token": csrf_of(html)})
    assert replay.status_code == 409 and "already relaunched" in replay.get_data(as_text=True)
    again = client.get(path)
    assert again.status_code == 409 and "the link works once" in again.get_data(as_text=True)
    assert len(events(services, "domains:transfer:relaunched")) == 1


def test_a_link_of_an_older_failure_is_refused(client, auth, cast, services):
    request(services, cast.admin)
    fail(services, reason=Reason.REGISTRY_TIMEOUT)
    first = link_path(services, cast.admin)
    auth.sign_in(cast.admin.email, cast.admin.password)
    assert post(client, first).status_code == 302
    fail(services, reason=Reason.OWNER_REFUSED)
    second = link_path(services, cast.admin)
    assert second != first
    old = client.get(first)
    assert old.status_code == 409 and "failed again since this link was sent" in old.get_data(as_text=True)
    assert client.get(second).status_code == 200


def test_a_relaunch_from_the_page_voids_the_link(client, auth, cast, services):
    started = request(services, cast.admin)
    fail(services)
    path = link_path(services, cast.legal)
    auth.sign_in(cast.admin.email, cast.admin.password)
    page = client.get("/orgs/acme/domains").get_data(as_text=True)
    done = client.post(f"/orgs/acme/domains/{started.id}/relaunch",
                       data={"csrf_token": csrf_of(page), f"t{started.id}-failure": "1"})
    assert done.status_code == 302
    used = client.get(path)
    assert used.status_code == 409 and "already relaunched" in used.get_data(as_text=True)


def test_an_expired_link_is_refused(client, auth, cast, services, clock):
    started = request(services, cast.admin)
    fail(services)
    path = link_path(services, cast.admin)
    clock.advance(days=30, seconds=1)
    auth.sign_in(cast.admin.email, cast.admin.password)
    page = client.get(path)
    assert page.status_code == 400 and "has expired" in page.get_data(as_text=True)
    assert transfer(services, started.id).status is Status.FAILED


def test_altered_and_forged_links_are_refused(client, auth, cast, services):
    started = request(services, cast.admin)
    fail(services)
    path = link_path(services, cast.admin)
    token = path.rsplit("/", 1)[1]
    prefix, _, signed = token.partition(".")
    auth.sign_in(cast.admin.email, cast.admin.password)
    tampered = [
        f"{prefix}.{signed[:-2]}{'A' if signed[-2] != 'A' else 'B'}{signed[-1]}",  # the signature
        f"{started.id}-2.{signed}",  # another failure number
        f"{started.id + 1}-1.{signed}",  # another transfer
        "not-a-token", "1-1", f"{prefix}." + "x" * 400, "%00", "",
    ]
    for bad in tampered:
        page = client.get(f"/domains/relaunch/{bad}")
        if bad == "":
            assert page.status_code == 404
            continue
        assert page.status_code == 400, bad
        assert "This relaunch link is not valid" in page.get_data(as_text=True)
    assert transfer(services, started.id).status is Status.FAILED


def test_a_link_of_another_organisation_and_a_collaborator_are_refused(client, auth, cast, services):
    started = request(services, cast.admin)
    fail(services)
    path = link_path(services, cast.admin)
    for person in (cast.outsider, cast.member):
        auth.sign_in(person.email, person.password)
        page = client.get(path)
        assert page.status_code == 403, person
        assert "legal representatives and administrators" in page.get_data(as_text=True)
        html = client.get("/").get_data(as_text=True)
        assert client.post(path, data={"csrf_token": csrf_of(html)}).status_code == 403
        auth.logout()
    assert transfer(services, started.id).status is Status.FAILED


def test_a_signed_out_person_signs_in_and_comes_back_to_the_link(client, auth, cast, services):
    request(services, cast.admin)
    fail(services)
    path = link_path(services, cast.legal)
    page = client.get(path)
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    # A POST changes nothing either: sent back to the page, which asks to sign in.
    token = csrf_of(client.get("/login").get_data(as_text=True))
    assert client.post(path, data={"csrf_token": token}).headers["Location"].endswith(path)
    signed_in = auth.sign_in(cast.legal.email, cast.legal.password, next_url=path)
    assert signed_in.status_code == 302 and signed_in.headers["Location"].endswith(path)
    french = client.get(path + "?lang=fr").get_data(as_text=True)
    assert "Relancer le transfert de example.ch" in french and "Aucun nouveau frais" in french


def test_a_wrong_authorisation_code_asks_for_a_new_one(client, auth, cast, services, settings):
    started = request(services, cast.admin)
    fail(services, reason=Reason.WRONG_AUTH_CODE)
    assert "new authorisation code" in [m for m in outbox(services) if m["to"] == cast.admin.email][-1]["body"]
    path = link_path(services, cast.admin)
    auth.sign_in(cast.admin.email, cast.admin.password)
    html = client.get(path).get_data(as_text=True)
    assert 'name="auth_code"' in html
    for bad, message in (("", "Enter the authorisation code"), ("short", "6 to 64"), ("with space 123", "6 to 64"),
                         ("x" * 65, "6 to 64"), ("é" * 10, "6 to 64")):
        refused = client.post(path, data={"csrf_token": csrf_of(html), "auth_code": bad})
        assert refused.status_code == 400 and message in refused.get_data(as_text=True), bad
        assert 'aria-invalid="true"' in refused.get_data(as_text=True)
    assert transfer(services, started.id).status is Status.FAILED
    done = client.post(path, data={"csrf_token": csrf_of(html), "auth_code": " NEW-code-42 "})
    assert done.status_code == 302
    assert _requests(settings)[-1]["auth_code"] == "NEW-code-42"
    [event] = events(services, "domains:transfer:relaunched")
    assert event["details"]["new_auth_code"] is True and "NEW-code-42" not in json.dumps(event)


def test_a_wrong_csrf_token_changes_nothing(client, auth, cast, services):
    started = request(services, cast.admin)
    fail(services)
    path = link_path(services, cast.admin)
    auth.sign_in(cast.admin.email, cast.admin.password)
    for data in ({}, {"csrf_token": "forged"}):
        refused = client.post(path, data=data)
        assert refused.status_code == 400 and "expired" in refused.get_data(as_text=True)
    html = client.get(path).get_data(as_text=True)
    other_site = client.post(path, data={"csrf_token": csrf_of(html)}, headers={"Origin": "https://evil.example"})
    assert other_site.status_code == 400
    assert transfer(services, started.id).status is Status.FAILED
    assert events(services, "domains:transfer:relaunched") == []


def test_a_partner_with_the_products_right_relaunches_for_the_client(client, auth, cast, services):
    started = request(services, cast.admin)
    fail(services)
    path = link_path(services, cast.admin)
    acme, globex = (services.accounts.org(s) for s in ("acme", "globex"))
    asked = []

    def delegated(user_id, client_org_id, right, now):
        asked.append(right)
        if user_id == cast.outsider.id and client_org_id == acme.id:
            return Delegation(partnership_id=7, partner_org_id=globex.id, client_org_id=acme.id,
                              actor_id=user_id, full=False, rights=frozenset({PartnerRight.PRODUCTS}))
        return None

    services.slots.override(DELEGATED_ACCESS, delegated)
    auth.sign_in(cast.outsider.email, cast.outsider.password)
    html = client.get(path).get_data(as_text=True)
    assert asked == [PartnerRight.PRODUCTS] and "Relaunch the transfer of example.ch" in html
    assert client.post(path, data={"csrf_token": csrf_of(html)}).status_code == 302
    assert transfer(services, started.id).status is Status.RELAUNCHED
    rows = events(services, "domains:transfer:relaunched")
    assert sorted(r["org_id"] for r in rows) == sorted([acme.id, globex.id])  # both organisations' logs
    assert all(r["actor_id"] == cast.outsider.id for r in rows)
    # A partner without the right (or whose partnership ended) is refused like anyone else.
    services.slots.override(DELEGATED_ACCESS, lambda *_args: None)
    fail(services)
    assert client.get(link_path(services, cast.admin)).status_code == 403


def test_the_registrar_unreachable_on_relaunch_keeps_the_link_working(client, auth, cast, services):
    from idp.errors import UpstreamError

    started = request(services, cast.admin)
    fail(services)
    path = link_path(services, cast.admin)
    registrar = domains(services).registrar

    def down(*_args):
        raise UpstreamError("the registrar cannot be reached (ConnectionError)")

    original = registrar.relaunch
    registrar.relaunch = down
    auth.sign_in(cast.admin.email, cast.admin.password)
    html = client.get(path).get_data(as_text=True)
    try:
        refused = client.post(path, data={"csrf_token": csrf_of(html)})
    finally:
        registrar.relaunch = original
    assert refused.status_code == 503 and "nothing was done" in refused.get_data(as_text=True)
    assert transfer(services, started.id).status is Status.FAILED
    assert domains(services).store.failure(started.id, 1).resolved_at is None
    assert client.post(path, data={"csrf_token": csrf_of(html)}).status_code == 302
