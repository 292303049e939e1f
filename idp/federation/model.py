"""Plain records of single sign-on, shared by the federation service and its stores."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Connection:
    """An organisation's directory (Entra ID tenant or OpenID Connect issuer). The client secret
    and certificate key are kept encrypted (`*_enc`); `domains` route e-mail addresses to it."""

    id: int
    org_id: int
    kind: str
    name: str
    tenant_id: str
    issuer: str
    client_id: str
    secret_enc: str | None
    cert_key_enc: str | None
    cert_thumbprint: str | None
    jit_enabled: bool
    jit_role: str
    password_allowed: bool
    enabled: bool
    domains: tuple[str, ...]
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class Link:
    """A directory account linked to a local one, by the directory's immutable ids
    (`namespace`, `subject`); `label` is what the owner sees it as."""

    id: int
    user_id: int
    connection_id: int | None
    namespace: str
    subject: str
    label: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
