"""A partnership once granted: the client changes or ends it, the sweep renews or expires it
exactly once, both logs record every act, and deleting an organisation or an account ends what
depends on it."""

from __future__ import annotations

import datetime as dt

import pytest

from idp.capability import DELEGATED_ACCESS
from idp.capability import PartnerRight
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.partners.access import parse_access
from idp.partners.model import Status
from idp.partners.requests import Decision
from idp.partners.rules import PartnerForbiddenError
from tests.conftest import events
from tests.conftest import outbox
from tests.partners.conftest import CTX

CHANGE = {"access": "limited", "rights": ["billing", "users"], "payer": "client", "days": "1", "auto_renew": True}


def tags_for(services, org_id):
    return [e["tag"] for e in events(services) if e["org_id"] == org_id and e["tag"].startswith("partners:")]


def test_the_client_changes_the_rights(cast, services, clock):
    p = cast.manage(days="30")
    changed = cast.partners.lifecycle.change(cast.user("c_lr"), "client", p.id, parse_access(**CHANGE), CTX)
    assert changed.rights == {PartnerRight.BILLING, PartnerRight.USERS} and changed.auto_renew
    assert changed.term_days == 30 and changed.ends_at == p.ends_at  # the term stays
    hook = services.get(DELEGATED_ACCESS)
    assert hook(cast.people["p_lr"].id, p.client_org_id, PartnerRight.PRODUCTS, clock.now()) is None
    assert hook(cast.people["p_lr"].id, p.client_org_id, PartnerRight.USERS, clock.now()) is not None
    [partner_log, client_log] = events(services, "partners:partnership:changed")
    assert partner_log["details"]["rights"] == ["billing", "users"] and client_log["org_id"] == p.client_org_id
    mails = [m for m in outbox(services) if "changed" in m["subject"]]
    assert {m["to"] for m in mails} == {cast.people["p_lr"].email, cast.people["c_lr"].email}


@pytest.mark.parametrize(("who", "slug", "refused"), [
    ("c_admin", "client", PartnerForbiddenError),  # the client's administrator
    ("p_admin", "reseller", PartnerForbiddenError),
    ("p_lr", "reseller", NotFoundError),  # the partner's own organisation holds no such partnership
    ("p_lr", "client", NotFoundError),  # not a member of the client
])
def test_only_the_clients_legal_representative_changes_or_ends(cast, who, slug, refused):
    p = cast.manage()
    lifecycle = cast.partners.lifecycle
    with pytest.raises(refused):
        lifecycle.change(cast.user(who), slug, p.id, parse_access(**CHANGE), CTX)
    with pytest.raises(refused):
        lifecycle.end(cast.user(who), slug, p.id, True, CTX)
    assert cast.partners.ports.partners.partnership(p.id).status is Status.ACTIVE


def test_another_organisations_partnership_is_not_found(cast, services, make_user):
    p = cast.manage()
    other_lr = make_user()
    services.organisations.create(services.accounts.user(other_lr.id), "other", "Other", CTX)
    with pytest.raises(NotFoundError):
        cast.partners.lifecycle.end(services.accounts.user(other_lr.id), "other", p.id, True, CTX)
    with pytest.raises(NotFoundError):
        cast.partners.lifecycle.end(services.accounts.user(other_lr.id), "client", p.id, True, CTX)


def test_ending_needs_the_box_and_works_once(cast, services, clock):
    p = cast.manage()
    lifecycle = cast.partners.lifecycle
    with pytest.raises(ValidationError, match="Tick the box"):
        lifecycle.end(cast.user("c_lr"), "client", p.id, False, CTX)
    lifecycle.end(cast.user("c_lr"), "client", p.id, True, CTX)
    with pytest.raises(ValidationError, match="no longer active"):
        lifecycle.end(cast.user("c_lr"), "client", p.id, True, CTX)
    ended = cast.partners.ports.partners.partnership(p.id)
    assert ended.status is Status.ENDED and ended.ended_at == clock.now()
    assert len(events(services, "partners:partnership:ended")) == 2  # one in each log
    with pytest.raises(NotFoundError):
        cast.partners.client_of(cast.user("p_lr"), "reseller", "client")


def test_after_the_end_a_new_request_is_possible(cast):
    p = cast.manage()
    cast.partners.lifecycle.end(cast.user("c_lr"), "client", p.id, True, CTX)
    again = cast.manage()
    assert again.id != p.id and again.status is Status.ACTIVE


def test_the_sweep_expires_and_renews_exactly_once(cast, services, clock, make_user):
    expiring = cast.manage(days="2")
    second = make_user("second@example.com", display_name="Sam Second")
    services.organisations.create(services.accounts.user(second.id), "second", "Second", CTX)
    renewing = cast.partners.requests.accept(
        services.accounts.user(second.id), cast.invite("second@example.com").id,
        Decision(parse_access(access="full", rights=[], payer="client", days="2", auto_renew=True), org_slug="second"),
        CTX)
    before = len(outbox(services))
    clock.advance(seconds=2 * 86400 + 60)
    report = cast.partners.lifecycle.sweep()
    assert (report.renewed, report.expired) == (1, 1)
    assert cast.partners.ports.partners.partnership(expiring.id).status is Status.EXPIRED
    renewed = cast.partners.ports.partners.partnership(renewing.id)
    assert renewed.status is Status.ACTIVE and renewed.ends_at == renewing.ends_at + dt.timedelta(days=2)
    mails = outbox(services)[before:]
    assert sorted(m["subject"] for m in mails) == sorted([
        "The partnership with Client Sàrl expired", "The partnership with Reseller SA expired",
        "The partnership with Second renewed", "The partnership with Reseller SA renewed",
    ])
    assert len(events(services, "partners:partnership:expired")) == 2
    assert len(events(services, "partners:partnership:renewed")) == 2
    again = cast.partners.lifecycle.sweep()
    assert (again.renewed, again.expired) == (0, 0)
    assert len(outbox(services)) == before + 4
    assert len(events(services, "partners:partnership:expired")) == 2


def test_a_renewal_catches_up_missed_terms(cast, clock):
    p = cast.manage(days="1", auto_renew=True)
    clock.advance(seconds=5 * 86400 + 1)
    assert cast.partners.lifecycle.sweep().renewed == 1
    renewed = cast.partners.ports.partners.partnership(p.id)
    assert renewed.ends_at == p.ends_at + dt.timedelta(days=5) and renewed.ends_at > clock.now()


def test_a_new_request_after_the_end_of_term_marks_the_old_one_expired(cast, services, clock):
    p = cast.manage(days="1")
    clock.advance(seconds=86400 + 1)
    again = cast.manage()
    assert cast.partners.ports.partners.partnership(p.id).status is Status.EXPIRED
    assert again.status is Status.ACTIVE
    assert len(events(services, "partners:partnership:expired")) == 2  # told once, not again by the sweep
    assert cast.partners.lifecycle.sweep().expired == 0


def test_every_act_is_in_both_logs_with_the_actor(cast, services, clock):
    reseller, client = cast.org("reseller").id, cast.org("client").id
    p = cast.manage(days="1")
    lifecycle = cast.partners.lifecycle
    lifecycle.assign(cast.user("p_lr"), "reseller", "client", cast.people["p_collab"].id, CTX)
    lifecycle.assign(cast.user("p_lr"), "reseller", "client", cast.people["p_collab"].id, CTX, on=False)
    lifecycle.change(cast.user("c_lr"), "client", p.id, parse_access(**CHANGE), CTX)
    clock.advance(seconds=86400 + 1)
    lifecycle.sweep()
    lifecycle.change(cast.user("c_lr"), "client", p.id, parse_access(**CHANGE | {"auto_renew": False}), CTX)
    lifecycle.end(cast.user("c_lr"), "client", p.id, True, CTX)
    acts = ["partners:partnership:granted", "partners:assignment:added", "partners:assignment:removed",
            "partners:partnership:changed", "partners:partnership:renewed", "partners:partnership:changed",
            "partners:partnership:ended"]
    assert tags_for(services, client) == acts
    assert tags_for(services, reseller) == ["partners:organisation:marked", "partners:client:invited", *acts]
    for e in events(services):
        if e["tag"] in ("partners:partnership:ended", "partners:partnership:granted"):
            assert e["actor_id"] == cast.people["c_lr"].id and e["product"] == "partners"
            assert e["details"]["with"] == ("Client Sàrl" if e["org_id"] == reseller else "Reseller SA")


def test_the_activity_pages_of_both_organisations_show_it(cast, client, auth):
    cast.manage()
    auth.sign_in(cast.people["c_lr"].email, cast.people["c_lr"].password)
    html = client.get("/orgs/client/members/activity").get_data(as_text=True)
    assert "Partnership granted" in html and "Reseller SA" in html
    auth.logout()
    auth.sign_in(cast.people["p_admin"].email, cast.people["p_admin"].password)
    html = client.get("/orgs/reseller/members/activity").get_data(as_text=True)
    assert "Partnership granted" in html and "Client Sàrl" in html and "Partner request sent to a client" in html


def test_deleting_the_client_organisation_ends_the_partnership_and_tells_the_partner(cast, services, clock):
    p = cast.manage()
    services.organisations.delete(cast.user("c_lr"), "client", True, CTX)
    assert cast.partners.ports.partners.partnership(p.id) is None  # the rows went with it
    assert services.get(DELEGATED_ACCESS)(cast.people["p_lr"].id, p.client_org_id, PartnerRight.PRODUCTS,
                                          clock.now()) is None
    [partner_log] = [e for e in events(services, "partners:partnership:ended") if e["org_id"] == p.partner_org_id]
    assert partner_log["details"]["reason"] == "organisation deleted"
    assert any(m["to"] == cast.people["p_lr"].email and "no longer managed" in m["subject"] for m in outbox(services))


def test_deleting_the_partner_organisation_ends_its_partnerships(cast, services, clock):
    p = cast.manage()
    cast.invite("pending@example.com")
    services.organisations.delete(cast.user("p_lr"), "reseller", True, CTX)
    assert cast.partners.ports.partners.partnership(p.id) is None
    assert cast.partners.ports.partners.pending_to("pending@example.com", clock.now()) == []
    assert any(m["to"] == cast.people["c_lr"].email and "no longer manages" in m["subject"] for m in outbox(services))
    assert cast.partners.terms_for(p.client_org_id) is None


def test_a_deleted_accounts_pending_requests_are_withdrawn(cast, services, make_user, clock):
    person = make_user("leaving@example.com")
    cast.invite("leaving@example.com")
    assert "The partner requests sent to your address" in services.deletion.what_goes()
    services.deletion.delete(services.accounts.user(person.id), ctx=CTX)
    assert cast.partners.ports.partners.pending_to("leaving@example.com", clock.now()) == []


def test_an_assigned_collaborator_who_is_deleted_loses_the_assignment(cast, services, clock):
    cast.manage()
    cast.partners.lifecycle.assign(cast.user("p_lr"), "reseller", "client", cast.people["p_collab"].id, CTX)
    services.deletion.delete(cast.user("p_collab"), ctx=CTX)
    assert cast.partners.client_of(cast.user("p_lr"), "reseller", "client").partnership.assigned == frozenset()


def test_only_collaborators_are_assigned_and_only_by_lrs_and_admins(cast):
    cast.manage()
    lifecycle = cast.partners.lifecycle
    with pytest.raises(ValidationError, match="only collaborators"):
        lifecycle.assign(cast.user("p_lr"), "reseller", "client", cast.people["p_admin"].id, CTX)
    with pytest.raises(PartnerForbiddenError):
        lifecycle.assign(cast.user("p_collab"), "reseller", "client", cast.people["p_other"].id, CTX)
    with pytest.raises(NotFoundError):  # not a member of the partner
        lifecycle.assign(cast.user("p_lr"), "reseller", "client", cast.people["c_admin"].id, CTX)
    with pytest.raises(NotFoundError):  # not a client
        lifecycle.assign(cast.user("p_lr"), "reseller", "reseller", cast.people["p_collab"].id, CTX)


def test_two_sweepers_with_the_same_rows_tell_each_change_once(cast, services, clock):
    """Two hosts read the same due rows; each step is a compare-and-set, so the second does nothing."""
    expiring = cast.manage(days="1")
    clock.advance(seconds=86400 + 1)
    lifecycle = cast.partners.lifecycle
    [due] = cast.partners.ports.partners.due(clock.now())
    before = len(outbox(services))
    assert lifecycle._close(due, Status.EXPIRED, None, None, "term")
    assert not lifecycle._close(due, Status.EXPIRED, None, None, "term")
    assert len(outbox(services)) == before + 2 and len(events(services, "partners:partnership:expired")) == 2
    with pytest.raises(ValidationError, match="no longer active"):
        lifecycle.end(cast.user("c_lr"), "client", expiring.id, True, CTX)


def test_two_sweepers_renew_once(cast, services, clock):
    cast.manage(days="1", auto_renew=True)
    clock.advance(seconds=86400 + 1)
    lifecycle = cast.partners.lifecycle
    [due] = cast.partners.ports.partners.due(clock.now())
    assert lifecycle._renew(due) == 1
    assert lifecycle._renew(due) == 0
    assert len(events(services, "partners:partnership:renewed")) == 2


def test_the_expiry_notice_in_french(cast, services, clock):
    services.accounts.set_locale(cast.user("p_lr"), "fr")
    cast.manage(days="1")
    clock.advance(seconds=86400 + 1)
    cast.partners.lifecycle.sweep()
    [mail] = [m for m in outbox(services) if m["to"] == cast.people["p_lr"].email and "expiré" in m["subject"]]
    assert mail["subject"] == "Le partenariat avec Client Sàrl a expiré"
    assert "est arrivé à son terme et a expiré" in mail["body"] and mail["body"].startswith("Bonjour Paula Partner,")
