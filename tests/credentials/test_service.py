"""App passwords and API tokens through the service: format, hashing, checks, revocation, events, mail."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest
from sqlalchemy import select

from idp.crypto import Purpose
from idp.crypto import derive
from idp.errors import AuthenticationError
from idp.errors import NotFoundError
from idp.errors import RateLimitedError
from idp.errors import ValidationError
from idp.model import RequestContext
from idp.security.credentials import CREDENTIALS
from idp.security.credentials.formats import new_api_token
from idp.security.credentials.formats import new_app_password
from idp.security.credentials.service import TOKEN_PREFIX
from idp.security.credentials.service import InsufficientScopeError
from idp.security.credentials.service import InvalidTokenError
from idp.security.credentials.service import normalise_app_password
from idp.security.credentials.service import well_formed_token
from idp.stores.tables_credentials import ApiTokenRow
from idp.stores.tables_credentials import AppPasswordRow
from tests.conftest import events
from tests.conftest import outbox
from tests.credentials.conftest import CTX


def test_an_app_password_is_random_shown_once_and_stored_only_as_a_keyed_hash(credentials, holder, services):
    item, secret = credentials.create_app_password(holder.user, "  Phone   mail ", CTX)
    _other, second = credentials.create_app_password(holder.user, "Laptop", CTX)
    assert item.name == "Phone mail"
    assert secret != second
    assert len(normalise_app_password(secret)) == 24  # 24 base32 characters: 120 bits
    with services.db.transaction() as s:
        rows = s.scalars(select(AppPasswordRow)).all()
        stored = {r.secret_hash for r in rows}
    assert len(stored) == 2
    assert all(len(h) == 64 and normalise_app_password(secret) not in h for h in stored)
    assert [p.name for p in credentials.app_passwords(holder.user)] == ["Laptop", "Phone mail"]
    created = events(services, "account:app_password:created")
    assert [e["details"]["name"] for e in created] == ["Phone mail", "Laptop"]
    assert created[0]["ip"] == CTX.ip and created[0]["user_id"] == holder.user.id


def test_the_owner_is_told_by_mail_when_a_credential_is_created(credentials, holder, services):
    credentials.create_app_password(holder.user, "Phone mail", CTX)
    credentials.create_api_token(holder.user, "Backup script", ["account:read"], 30, CTX)
    mails = outbox(services)
    assert [m["to"] for m in mails] == [holder.user.email, holder.user.email]
    assert "new app password" in mails[0]["subject"] and "“Phone mail”" in mails[0]["body"]
    assert CTX.ip in mails[0]["body"] and "Firefox 128" in mails[0]["body"]
    assert "new API token" in mails[1]["subject"] and "“Backup script”" in mails[1]["body"]
    assert "/security/credentials" in mails[1]["body"]


def test_the_security_mail_follows_the_account_language(credentials, make_user, services):
    person = make_user(locale="fr")
    credentials.create_app_password(services.users.get(person.id), "Téléphone", CTX)
    assert "mot de passe d'application" in outbox(services)[0]["subject"]


def test_an_app_password_opens_the_account_whatever_case_spaces_or_dashes(credentials, holder, services):
    _item, secret = credentials.create_app_password(holder.user, "Phone", CTX)
    pasted = secret.upper().replace("-", " ")
    assert credentials.check_app_password(holder.user.email.upper(), pasted, CTX).id == holder.user.id
    listed = credentials.app_passwords(holder.user)[0]
    assert listed.last_used_at == services.clock.now() and listed.last_used_ip == CTX.ip


@pytest.mark.parametrize("secret", ["", "wrong", "a" * 24, "x" * 5000, "ü" * 24])
def test_a_wrong_app_password_is_refused_and_recorded(credentials, holder, services, secret):
    credentials.create_app_password(holder.user, "Phone", CTX)
    with pytest.raises(AuthenticationError):
        credentials.check_app_password(holder.user.email, secret, CTX)
    refused = events(services, "account:app_password:refused")
    assert [(e["user_id"], e["details"]["reason"], e["product"]) for e in refused] == [(holder.user.id, "wrong", "api")]


def test_an_app_password_of_another_account_or_an_unknown_e_mail_is_refused(credentials, holder, make_user, services):
    _item, secret = credentials.create_app_password(holder.user, "Phone", CTX)
    other = make_user()
    with pytest.raises(AuthenticationError):
        credentials.check_app_password(other.email, secret, CTX)
    with pytest.raises(AuthenticationError):
        credentials.check_app_password("nobody@example.com", secret, CTX)
    with pytest.raises(AuthenticationError):
        credentials.check_app_password("", secret, CTX)
    assert [(e["user_id"], e["details"]["reason"]) for e in events(services, "account:app_password:refused")] == [
        (other.id, "wrong")]


def test_a_revoked_app_password_is_refused(credentials, holder, services):
    item, secret = credentials.create_app_password(holder.user, "Phone", CTX)
    revoked = credentials.revoke_app_password(holder.user, item.id, CTX)
    assert revoked.name == "Phone"
    assert credentials.app_passwords(holder.user) == []
    with pytest.raises(AuthenticationError):
        credentials.check_app_password(holder.user.email, secret, CTX)
    assert events(services, "account:app_password:revoked")[0]["details"] == {"id": item.id, "name": "Phone"}
    assert events(services, "account:app_password:refused")[0]["details"] == {"reason": "revoked", "id": item.id}
    with pytest.raises(NotFoundError):
        credentials.revoke_app_password(holder.user, item.id, CTX)


def test_nobody_revokes_another_persons_app_password(credentials, holder, make_user, services):
    item, secret = credentials.create_app_password(holder.user, "Phone", CTX)
    other = services.users.get(make_user().id)
    with pytest.raises(NotFoundError):
        credentials.revoke_app_password(other, item.id, CTX)
    assert credentials.check_app_password(holder.user.email, secret, CTX).id == holder.user.id


@pytest.mark.parametrize("standing", ["active", "locked", "disabled", "deleted"])
def test_app_passwords_and_api_tokens_follow_the_account_standing(credentials, holder, services, standing):
    # Decision 0609: a lock (someone guessing the password) stops neither; a disable stops both.
    from idp.security.credentials.service import InvalidTokenError
    from tests.standing import put_in
    from tests.standing import works

    _item, secret = credentials.create_app_password(holder.user, "Phone", CTX)
    _token, bearer = credentials.create_api_token(holder.user, "Script", ["account:read"], 30, CTX)
    put_in(services, holder.user.id, standing)
    if works("app_password", standing):
        assert credentials.check_app_password(holder.user.email, secret, CTX).id == holder.user.id
    else:
        with pytest.raises(AuthenticationError):
            credentials.check_app_password(holder.user.email, secret, CTX)
    if works("api_token", standing):
        assert credentials.check_api_token(bearer, CTX)[0].id == holder.user.id
    else:
        with pytest.raises(InvalidTokenError):
            credentials.check_api_token(bearer, CTX)
    if standing == "disabled":
        assert [e["details"]["reason"] for e in events(services, "account:app_password:refused")] == ["disabled"]
        assert [e["details"]["reason"] for e in events(services, "account:api_token:refused")] == ["disabled"]


def test_app_password_failures_do_not_lock_the_account_but_stop_the_address(credentials, holder, services):
    """Decision: refusals count per client IP (then 429), not toward the owner's lockout."""
    limit = services.settings.security.credentials_failures_per_ip
    for _ in range(limit):
        with pytest.raises(AuthenticationError):
            credentials.check_app_password(holder.user.email, "wrong", CTX)
    with pytest.raises(RateLimitedError):
        credentials.check_app_password(holder.user.email, "wrong", CTX)
    assert services.users.get(holder.user.id).locked_at is None
    assert services.lockout.failures(holder.user) == 0
    _item, secret = credentials.create_app_password(holder.user, "Phone", CTX)
    elsewhere = RequestContext(ip="198.51.100.1")
    assert credentials.check_app_password(holder.user.email, secret, elsewhere).id == holder.user.id


@pytest.mark.parametrize(("name", "message"), [
    ("", "Give it a name."),
    ("   ", "Give it a name."),
    ("x" * 101, "The name can have at most 100 characters."),
])
def test_a_credential_needs_a_short_name(credentials, holder, name, message):
    with pytest.raises(ValidationError, match=message):
        credentials.create_app_password(holder.user, name, CTX)
    with pytest.raises(ValidationError, match=message):
        credentials.create_api_token(holder.user, name, ["account:read"], 30, CTX)


def test_an_account_holds_a_bounded_number_of_each(credentials, holder, services):
    services.get(CREDENTIALS).limits = type(credentials.limits)(**{**credentials.limits.__dict__, "max_per_user": 2})
    for n in range(2):
        credentials.create_app_password(holder.user, f"p{n}", CTX)
        credentials.create_api_token(holder.user, f"t{n}", ["account:read"], 1, CTX)
    with pytest.raises(ValidationError, match="already have 2 app passwords"):
        credentials.create_app_password(holder.user, "p3", CTX)
    with pytest.raises(ValidationError, match="already have 2 API tokens"):
        credentials.create_api_token(holder.user, "t3", ["account:read"], 1, CTX)


def test_an_api_token_is_recognisable_checksummed_and_stored_hashed(credentials, holder, services):
    item, token = credentials.create_api_token(holder.user, "Backup", ["activity:read", "account:read"], 30, CTX)
    assert token.startswith(TOKEN_PREFIX) and len(token) == 46 and well_formed_token(token)
    assert item.hint == token[:12] and item.scopes == ["account:read", "activity:read"]
    assert item.expires_at == services.clock.now() + dt.timedelta(days=30)
    typo = token[:-7] + ("A" if token[-7] != "A" else "B") + token[-6:]
    assert not well_formed_token(typo)
    with services.db.transaction() as s:
        row = s.scalars(select(ApiTokenRow)).one()
    assert token not in row.secret_hash and token[12:] not in str(row.__dict__)
    created = events(services, "account:api_token:created")[0]
    assert created["details"]["scopes"] == ["account:read", "activity:read"]


def test_a_live_token_opens_what_its_scopes_allow(credentials, holder, services):
    item, token = credentials.create_api_token(holder.user, "Sessions", ["sessions:manage"], 7, CTX)
    user, checked = credentials.check_api_token(token, CTX, "sessions:read")
    assert user.id == holder.user.id and checked.id == item.id
    assert credentials.api_tokens(holder.user)[0].last_used_at == services.clock.now()
    with pytest.raises(InsufficientScopeError):
        credentials.check_api_token(token, CTX, "account:read")
    refused = events(services, "account:api_token:refused")
    assert [(e["details"]["reason"], e["details"]["scope"]) for e in refused] == [("scope", "account:read")]


def test_an_expired_token_is_refused(credentials, holder, clock, services):
    _item, token = credentials.create_api_token(holder.user, "Short", ["account:read"], 1, CTX)
    clock.advance(days=1)
    with pytest.raises(InvalidTokenError):
        credentials.check_api_token(token, CTX, "account:read")
    assert events(services, "account:api_token:refused")[0]["details"]["reason"] == "expired"
    assert credentials.count_api_tokens(holder.user) == 0


def test_a_revoked_token_is_refused(credentials, holder, services):
    item, token = credentials.create_api_token(holder.user, "Gone", ["account:read"], 1, CTX)
    credentials.revoke_api_token(holder.user, item.id, CTX)
    with pytest.raises(InvalidTokenError):
        credentials.check_api_token(token, CTX, "account:read")
    assert events(services, "account:api_token:revoked")[0]["details"] == {"id": item.id, "name": "Gone"}
    assert events(services, "account:api_token:refused")[0]["details"]["reason"] == "revoked"
    with pytest.raises(NotFoundError):
        credentials.revoke_api_token(holder.user, item.id, CTX)


@pytest.mark.parametrize("token", ["", "idp_pat_", "x" * 46, TOKEN_PREFIX + "0" * 38, "idp_pat_" + "é" * 38])
def test_junk_tokens_are_refused_before_the_database(credentials, token):
    with pytest.raises(InvalidTokenError):
        credentials.check_api_token(token, CTX)


@pytest.mark.parametrize(("scopes", "days", "message"), [
    ([], 30, "Choose at least one permission."),
    (["account:write"], 30, "Unknown permission: account:write."),
    (["account:read"], 0, "The lifetime must be between 1 and 365 days."),
    (["account:read"], 366, "The lifetime must be between 1 and 365 days."),
])
def test_token_scopes_and_lifetime_are_checked(credentials, holder, scopes, days, message):
    with pytest.raises(ValidationError, match=message):
        credentials.create_api_token(holder.user, "x", scopes, days, CTX)


def test_revoke_all_revokes_every_app_password_and_token_of_that_person_only(credentials, holder, make_user, services):
    other = services.users.get(make_user().id)
    _a, keep_secret = credentials.create_app_password(other, "Other phone", CTX)
    secrets = [credentials.create_app_password(holder.user, f"p{n}", CTX)[1] for n in range(3)]
    _t, token = credentials.create_api_token(holder.user, "t", ["account:read"], 30, CTX)
    assert credentials.revoke_all(holder.user, CTX) == 4
    assert credentials.app_passwords(holder.user) == [] and credentials.api_tokens(holder.user) == []
    for secret in secrets:
        with pytest.raises(AuthenticationError):
            credentials.check_app_password(holder.user.email, secret, CTX)
    with pytest.raises(InvalidTokenError):
        credentials.check_api_token(token, CTX)
    assert credentials.check_app_password(other.email, keep_secret, CTX).id == other.id
    assert [e["details"] for e in events(services, "account:app_password:revoked")] == [{"all": True, "count": 3}]
    assert [e["details"] for e in events(services, "account:api_token:revoked")] == [{"all": True, "count": 1}]
    assert credentials.revoke_all(holder.user, CTX) == 0


def _pre_upgrade_hash(services, secret: str) -> str:
    """HMAC of a secret under the server key derived before decision 0610."""
    instance = services.settings.secret_key.get_secret_value()
    old_key = hmac.new(instance.encode(), b"idp-credentials-v1", hashlib.sha256).digest()
    return hmac.new(old_key, secret.encode(), hashlib.sha256).hexdigest()


def _stored_hash(services, row_type, item_id: int) -> str:
    with services.db.transaction() as s:
        return s.get(row_type, item_id).secret_hash


def test_an_app_password_made_before_the_upgrade_works_and_is_rekeyed(credentials, holder, services):
    secret = new_app_password()
    old = _pre_upgrade_hash(services, normalise_app_password(secret))
    record = credentials.store.add_app_password(user_id=holder.user.id, name="Old phone", secret_hash=old,
                                                now=services.clock.now())
    assert credentials.check_app_password(holder.user.email, secret.upper(), CTX).id == holder.user.id
    rekeyed = _stored_hash(services, AppPasswordRow, record["id"])
    assert rekeyed != old
    assert rekeyed == hmac.new(derive(services.settings.secret_key.get_secret_value(), Purpose.CREDENTIALS),
                               normalise_app_password(secret).encode(), hashlib.sha256).hexdigest()
    assert credentials.check_app_password(holder.user.email, secret, CTX).id == holder.user.id
    assert events(services, "account:app_password:refused") == []


def test_a_refused_app_password_made_before_the_upgrade_is_not_rekeyed(credentials, holder, make_user, services):
    secret = new_app_password()
    old = _pre_upgrade_hash(services, normalise_app_password(secret))
    record = credentials.store.add_app_password(user_id=holder.user.id, name="Old phone", secret_hash=old,
                                                now=services.clock.now())
    other = make_user()
    with pytest.raises(AuthenticationError):
        credentials.check_app_password(other.email, secret, CTX)  # someone else's e-mail
    assert _stored_hash(services, AppPasswordRow, record["id"]) == old


def test_an_api_token_made_before_the_upgrade_works_and_is_rekeyed(credentials, holder, services):
    token = new_api_token()
    now = services.clock.now()
    record = credentials.store.add_api_token(
        user_id=holder.user.id, name="Old script", hint=token[:12], secret_hash=_pre_upgrade_hash(services, token),
        scopes=["account:read"], now=now, expires_at=now + dt.timedelta(days=30),
    )
    user, item = credentials.check_api_token(token, CTX, "account:read")
    assert (user.id, item.id) == (holder.user.id, record["id"])
    assert _stored_hash(services, ApiTokenRow, record["id"]) != _pre_upgrade_hash(services, token)
    assert credentials.check_api_token(token, CTX, "account:read")[1].id == record["id"]
    with pytest.raises(InvalidTokenError):
        credentials.check_api_token(new_api_token(), CTX, "account:read")
