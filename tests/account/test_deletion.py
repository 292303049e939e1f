"""Deleting the account: the rules, the pages, what goes (on every capability) and what stays."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from idp.account.deletion import DeletionRefused
from idp.errors import StoreUnavailableError
from idp.events import EventTag
from idp.federation import FEDERATION
from idp.kauth import KAUTH
from idp.kauth import crypto
from idp.mfa import MFA
from idp.model import RequestContext
from idp.model import Role
from idp.oidc import OIDC
from idp.security.credentials import CREDENTIALS
from idp.security.credentials.service import encode_basic
from tests.conftest import AuthActions
from tests.conftest import csrf_of
from tests.conftest import events
from tests.conftest import outbox
from tests.kauth.conftest import Phone
from tests.oidc.conftest import REDIRECT
from tests.oidc.conftest import Flow
from tests.oidc.conftest import RegisteredClient
from tests.oidc.test_logout import receiver  # noqa: F401 - the back-channel logout receiver fixture

CTX = RequestContext(ip="203.0.113.9", user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0")


def _org_with(services: Any, *members: tuple[Any, Role], slug: str = "acme") -> Any:
    org = services.accounts.create_org(slug, slug.title())
    for person, role in members:
        services.accounts.add_member(org, services.users.get(person.id), role)
    return org


def _delete_page(client: Any) -> Any:
    return client.get("/profile/delete")


def _confirm(client: Any, **data: str) -> Any:
    page = _delete_page(client)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post("/profile/delete", data={"csrf_token": csrf_of(page.get_data(as_text=True)), **data})


# -- the rules ------------------------------------------------------------------------------


def test_the_only_member_of_an_organisation_is_refused_with_what_to_do(services, make_user, auth, client):
    person = make_user()
    _org_with(services, (person, Role.ADMIN))
    with pytest.raises(DeletionRefused, match="only member of Acme"):
        services.deletion.delete(services.users.get(person.id), ctx=CTX)
    auth.sign_in(person.email, person.password)
    page = _delete_page(client)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "You are the only member of Acme" in body
    assert "I understand this cannot be undone" not in body
    # A forged post of the form changes nothing either.
    token = csrf_of(client.get("/profile").get_data(as_text=True))
    refused = client.post("/profile/delete", data={"csrf_token": token, "confirm": "y"})
    assert refused.status_code == 409 and services.users.get(person.id) is not None


def test_the_only_legal_representative_of_an_organisation_with_others_is_refused(services, make_user):
    person, colleague = make_user(), make_user()
    _org_with(services, (person, Role.LEGAL_REPRESENTATIVE), (colleague, Role.COLLABORATOR))
    with pytest.raises(DeletionRefused, match="only legal representative of Acme") as refused:
        services.deletion.delete(services.users.get(person.id), ctx=CTX)
    assert [b.only_member for b in refused.value.blocks] == [False]
    assert services.users.get(person.id) is not None
    assert events(services, "account:user:deleted") == []


def test_a_legal_representative_with_another_one_and_a_collaborator_may_go(services, make_user):
    first, second, helper = make_user(), make_user(), make_user()
    org = _org_with(services, (first, Role.LEGAL_REPRESENTATIVE), (second, Role.LEGAL_REPRESENTATIVE),
                    (helper, Role.COLLABORATOR))
    services.deletion.delete(services.users.get(first.id), ctx=CTX)
    services.deletion.delete(services.users.get(helper.id), ctx=CTX)
    assert services.users.get(first.id) is None and services.users.get(helper.id) is None
    assert [m.user_id for m in services.accounts.memberships(services.users.get(second.id))] == [second.id]
    # Each organisation's log says a person left it, with nothing about who or where.
    deleted = events(services, "account:user:deleted")
    assert {(e["user_id"], e["org_id"]) for e in deleted} == {(first.id, org.id), (helper.id, org.id)}
    assert all(e["ip"] is None and e["user_agent"] is None for e in deleted)


# -- the pages ------------------------------------------------------------------------------


def test_the_page_needs_a_recent_sign_in(services, make_user, auth, client, clock):
    assert client.get("/profile/delete").status_code == 302
    person = make_user()
    auth.sign_in(person.email, person.password)
    clock.advance(seconds=services.settings.security.recent_auth_max_age + 1)
    stale = client.get("/profile/delete")
    assert stale.status_code == 302 and stale.headers["Location"].startswith("/reauth?next=")
    token = csrf_of(client.get("/profile").get_data(as_text=True))
    again = client.post("/profile/delete", data={"csrf_token": token, "confirm": "y"})
    assert again.status_code == 302 and again.headers["Location"].startswith("/reauth")
    assert services.users.get(person.id) is not None


def test_the_profile_leads_there_and_the_page_lists_what_goes_and_what_stays(make_user, auth, client):
    person = make_user()
    auth.sign_in(person.email, person.password)
    profile = client.get("/profile").get_data(as_text=True)
    assert 'href="/profile/delete"' in profile and '<svg aria-hidden="true"' in profile
    body = _delete_page(client).get_data(as_text=True)
    for line in ("Your sessions, on every device", "Your kAuth devices", "Your app passwords and API tokens",
                 "Your second factors", "Your linked directory accounts", "Your applications' access",
                 "Your picture, your phone numbers", "without anything that says who or where you are"):
        assert line in body, line
    french = client.get("/profile/delete?lang=fr").get_data(as_text=True)
    assert "Supprimer votre compte" in french and "Je comprends que c'est définitif" in french


def test_without_the_box_or_the_token_nothing_is_deleted(services, make_user, auth, client):
    person = make_user()
    auth.sign_in(person.email, person.password)
    unticked = _confirm(client)
    assert unticked.status_code == 400 and "Tick the box" in unticked.get_data(as_text=True)
    forged = client.post("/profile/delete", data={"csrf_token": "forged", "confirm": "y"})
    assert forged.status_code == 400
    assert services.users.get(person.id) is not None and services.sessions.list(person.id)


def test_deleting_signs_out_everywhere_and_erases_every_capability(
    services, make_user, auth, client, app, clock, receiver,  # noqa: F811 - the fixture
):
    uri, received = receiver
    person = make_user(display_name="Ada Lovelace")
    user = services.users.get(person.id)
    # An application with a refresh token, and a back-channel logout address.
    oidc = services.get(OIDC)
    registered, secret = oidc.clients.create(
        "Notes", kind="confidential", redirect_uris=[REDIRECT], backchannel_logout_uri=uri,
    )
    rp_client = RegisteredClient(registered.client_id, secret)
    flow = Flow(client, auth)
    tokens = flow.tokens(rp_client, person, scope="openid offline_access")
    # Another browser signed in; a phone; an app password and an API token; TOTP and a key;
    # a linked directory account; a picture.
    other = app.test_client()
    AuthActions(other).sign_in(person.email, person.password)
    assert other.get("/").status_code == 200
    kauth = services.get(KAUTH)
    phone = Phone(client, clock)
    assert phone.enrol(kauth.start_enrolment(user).token).status_code == 201
    credentials = services.get(CREDENTIALS)
    _item, app_password = credentials.create_app_password(user, "Mail", CTX)
    _token, api_token = credentials.create_api_token(user, "Script", ["account:read"], 30, CTX)
    mfa = services.get(MFA)
    mfa.sql.set_totp(user.id, secret_enc="x", step=0, now=clock.now())
    mfa.sql.add_credential(user.id, credential_id="cred-1", public_key=b"k", sign_count=0, kind="security_key",
                           name="Key", aaguid="", backup_eligible=False, transports=[], now=clock.now())
    federation = services.get(FEDERATION)
    federation.sql.add_link(user_id=user.id, connection_id=None, namespace="https://login.example/t",
                            subject="upstream-sub", label=person.email, now=clock.now())
    services.events.record_event(
        EventTag.PROFILE_UPDATED, ctx=CTX, user_id=user.id,
        details={"name": "Ada Lovelace", "reason": "names"},
    )

    done = _confirm(client, confirm="y")
    assert done.status_code == 302 and done.headers["Location"] == "/profile/deleted"
    assert "Expires=Thu, 01 Jan 1970" in done.headers.get("Set-Cookie", "")
    landing = client.get("/profile/deleted")
    assert landing.status_code == 200 and "Your account is deleted" in landing.get_data(as_text=True)

    # Gone: the row, and every session on every client.
    assert services.users.get(person.id) is None
    assert client.get("/").status_code == 302 and other.get("/").status_code == 302
    assert services.sessions.list(person.id) == []
    # Signing in gets the answer an unknown account gets.
    gone = AuthActions(app.test_client())
    gone.identify(person.email)
    refused = gone.password(person.password)
    assert refused.status_code == 401 and "Wrong e-mail or password." in refused.get_data(as_text=True)
    assert events(services, "account:signin:failed")[-1]["details"]["reason"] == "unknown_account"
    # The application heard of it, and its refresh token is refused.
    assert len(received) >= 1
    refreshed = client.post("/oauth/token", data={"grant_type": "refresh_token",
                                                  "refresh_token": tokens["refresh_token"]},
                            auth=(rp_client.client_id, rp_client.secret))
    assert refreshed.status_code == 400 and refreshed.get_json()["error"] == "invalid_grant"
    # App password and API token refused.
    assert client.get("/auth/forward", headers={"Authorization": encode_basic(person.email, app_password)}) \
        .status_code == 401
    assert client.get("/api/v1/account", headers={"Authorization": f"Bearer {api_token}"}).status_code == 401
    # Second factors, devices and links gone; the phone was told, with a signed notice.
    assert mfa.sql.get_totp(user.id) is None and mfa.sql.credentials(user.id) == []
    assert kauth.devices.get(phone.device_id) is None
    device_id, notice = kauth.push.sent[-1]
    assert device_id == phone.device_id and notice["type"] == "removed"
    assert crypto.verify_notice(phone.server_public_key, notice)
    assert federation.sql.link_of("https://login.example/t", "upstream-sub") is None
    # The log stays, without where from or who.
    own = [e for e in events(services) if e["user_id"] == person.id]
    assert own and all(e["ip"] is None and e["user_agent"] is None and e["device"] is None for e in own)
    [profile_event] = [e for e in own if e["tag"] == "account:profile:updated"]
    assert profile_event["details"] == {"reason": "names"}
    [deleted] = events(services, "account:user:deleted")
    assert deleted["details"] == {"by": "owner"}
    # A last mail, to the address the account had.
    last = outbox(services)[-1]
    assert last["to"] == person.email and "deleted" in last["subject"] and "Ada Lovelace" in last["body"]


def test_an_account_id_is_never_given_again(services, make_user):
    person = make_user()
    services.deletion.delete(services.users.get(person.id), ctx=CTX)
    assert make_user().id > person.id


# -- failures midway ------------------------------------------------------------------------


def test_a_redis_outage_midway_gives_a_503_and_leaves_a_whole_account_then_a_retry_finishes(
    services, make_user, auth, client,
):
    person = make_user()
    user = services.users.get(person.id)
    credentials = services.get(CREDENTIALS)
    credentials.create_app_password(user, "Mail", CTX)
    mfa = services.get(MFA)
    real = mfa.forget_shown_codes

    def redis_down(_user: Any) -> None:
        raise StoreUnavailableError("the session store does not answer")

    mfa.forget_shown_codes = redis_down  # the second factors' eraser reads Redis
    auth.sign_in(person.email, person.password)
    failed = _confirm(client, confirm="y")
    assert failed.status_code == 503
    # Nothing half done: the account is whole (its app password too) and can sign in again.
    assert services.users.get(person.id) is not None
    assert credentials.count_app_passwords(user) == 1
    assert events(services, "account:user:deleted") == []
    mfa.forget_shown_codes = real
    auth.sign_in(person.email, person.password)
    assert _confirm(client, confirm="y").status_code == 302
    assert services.users.get(person.id) is None


# -- the command ----------------------------------------------------------------------------


def test_the_command_applies_the_same_rules(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env["IDP_INSTANCE_PATH"] = str(tmp_path / "instance")

    def idp(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "idp.cli", *args], input=stdin, env=env,
                              capture_output=True, text=True, timeout=60, check=False)

    assert idp("init").returncode == 0
    for email in ("ada@example.com", "bob@example.com"):
        assert idp("user", "create", email, "--no-password").returncode == 0
    assert idp("org", "create", "acme", "--name", "Acme").returncode == 0
    assert idp("org", "add-member", "acme", "ada@example.com", "--role", "admin").returncode == 0
    refused = idp("user", "delete", "ada@example.com", "--yes")
    assert refused.returncode == 2 and "only member of Acme" in refused.stderr
    assert "delete the organisation, or add someone else to it, first" in refused.stderr
    assert idp("user", "delete", "bob@example.com", stdin="n\n").returncode != 0  # asked, declined
    done = idp("user", "delete", "bob@example.com", "--yes")
    assert done.returncode == 0 and "deleted bob@example.com" in done.stdout
    listed = json.loads(idp("user", "list", "--json").stdout)
    assert [u["email"] for u in listed] == ["ada@example.com"]
    assert idp("user", "delete", "bob@example.com", "--yes").returncode == 2  # no such account
