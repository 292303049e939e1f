"""Records for the token rules' tests: a person, clients, refresh-token rows (no database)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from idp.model import User
from idp.model import UserStatus
from idp.oidc.records import ClientRecord
from idp.oidc.records import RefreshRecord

NOW = dt.datetime(2030, 1, 1, 12, tzinfo=dt.UTC)
EPOCH = int(NOW.timestamp())


def person(**values: Any) -> User:
    base = {"id": 7, "subject": "sub-7", "email": "ada@example.com", "display_name": "Ada Lovelace",
            "password_hash": None, "status": UserStatus.ACTIVE, "locale": "fr", "lockout_threshold": 10,
            "locked_at": None, "created_at": NOW, "updated_at": NOW}
    return User(**(base | values))


def client(**values: Any) -> ClientRecord:
    base = {"client_id": "rp", "name": "RP", "kind": "confidential", "secret_hash": "sha256$x",
            "redirect_uris": ["https://rp.example/cb"], "post_logout_redirect_uris": [],
            "backchannel_logout_uri": None, "scopes": ["openid", "profile", "email", "offline_access"],
            "grant_types": ["authorization_code", "refresh_token"], "skip_consent": False, "always_refresh": False,
            "access_token_lifetime": None, "refresh_token_lifetime": None, "id_token_alg": "RS256",
            "created_at": NOW}
    return ClientRecord(**(base | values))


def service(**values: Any) -> ClientRecord:
    return client(**({"client_id": "rs", "kind": "service", "scopes": ["reports", "audit", "openid"],
                      "grant_types": ["client_credentials"]} | values))


def refresh_row(**values: Any) -> RefreshRecord:
    base = {"id": 1, "family": "fam", "client_id": "rp", "user_id": 7, "scope": "openid profile offline_access",
            "auth_time": EPOCH - 600, "acr": "urn:idp:acr:pwd", "sid": "sid-1",
            "expires_at": NOW + dt.timedelta(days=1), "used_at": None, "revoked_at": None,
            "created_at": NOW - dt.timedelta(hours=1), "amr": ["pwd"], "claims": {"userinfo": ["email"]}}
    return RefreshRecord(**(base | values))
