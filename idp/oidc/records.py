"""Plain records of the OpenID Provider, shared by its services and its stores (no framework, no ORM)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field
from typing import Any


@dataclass(frozen=True)
class ClientRecord:
    client_id: str
    name: str
    kind: str
    secret_hash: str | None
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    backchannel_logout_uri: str | None
    scopes: list[str]
    grant_types: list[str]
    skip_consent: bool
    always_refresh: bool
    access_token_lifetime: int | None
    refresh_token_lifetime: int | None
    id_token_alg: str
    created_at: dt.datetime


@dataclass(frozen=True)
class KeyRecord:
    kid: str
    alg: str
    private_jwk: str
    public_jwk: dict[str, Any]
    created_at: dt.datetime  # published from then on
    retired_at: dt.datetime | None  # signs no more from then on (published until pruned)
    activates_at: dt.datetime  # signs from then on


@dataclass(frozen=True)
class ConsentRecord:
    user_id: int
    client_id: str
    scopes: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class RefreshRecord:
    id: int
    family: str
    client_id: str
    user_id: int
    scope: str
    auth_time: int
    acr: str | None
    sid: str | None
    expires_at: dt.datetime
    used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    created_at: dt.datetime
    amr: list[str] = field(default_factory=list)
    claims: dict[str, Any] = field(default_factory=dict)
    # The acting state the grant was made under (idp.foundation.sessions.Acting.as_dict), or None.
    acting: dict[str, Any] | None = None
