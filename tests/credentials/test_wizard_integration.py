"""The compromised-password wizard revokes real app passwords and tokens through the credentials capability."""

from __future__ import annotations

import pytest

from idp.errors import AuthenticationError
from idp.security.center import SECURITY
from idp.security.credentials.service import InvalidTokenError
from tests.conftest import events
from tests.credentials.conftest import CTX


def test_the_wizards_revoke_step_revokes_every_app_password_and_token(services, credentials, holder):
    _a, secret = credentials.create_app_password(holder.user, "Phone", CTX)
    _b, token = credentials.create_api_token(holder.user, "Script", ["account:read"], 30, CTX)
    _sid, session = services.sessions.create(holder.user.id, CTX, amr=["pwd"])
    summary = services.get(SECURITY).wizard.revoke(
        holder.user, CTX, keep=session, end_sessions=False, revoke_grants=False
    )
    assert summary["credentials"] == 2
    with pytest.raises(AuthenticationError):
        credentials.check_app_password(holder.user.email, secret, CTX)
    with pytest.raises(InvalidTokenError):
        credentials.check_api_token(token, CTX)
    assert events(services, "account:app_password:revoked")[0]["details"] == {"all": True, "count": 1}
    assert events(services, "account:wizard:credentials_revoked")[0]["details"]["credentials"] == 2


def test_the_wizards_review_lists_app_passwords_and_tokens(app, services, credentials, holder):
    credentials.create_app_password(holder.user, "Phone", CTX)
    with app.test_request_context("/?lang=en"):
        lines = {line.label: line.status for line in services.get(SECURITY).wizard.review(holder.user)}
    assert lines["App passwords"] == "1 app password"
    assert lines["API tokens"] == "0 API tokens"
