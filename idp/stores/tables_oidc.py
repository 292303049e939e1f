"""Tables of the OpenID Provider: clients, signing keys, consents and refresh-token families."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from idp.stores.models import Base


class OidcClientRow(Base):
    __tablename__ = "oidc_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # confidential | public | service
    kind: Mapped[str] = mapped_column(String(16))
    # "sha256$<hex>" of a high-entropy secret shown once; None for public clients.
    secret_hash: Mapped[str | None] = mapped_column(String(100))
    redirect_uris: Mapped[list[Any]] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list[Any]] = mapped_column(JSON, default=list)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(500))
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    grant_types: Mapped[list[Any]] = mapped_column(JSON, default=list)
    skip_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    always_refresh: Mapped[bool] = mapped_column(Boolean, default=False)
    access_token_lifetime: Mapped[int | None] = mapped_column(Integer)
    refresh_token_lifetime: Mapped[int | None] = mapped_column(Integer)
    id_token_alg: Mapped[str] = mapped_column(String(16), default="RS256")
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class OidcKeyRow(Base):
    __tablename__ = "oidc_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(16))
    # The private JWK, encrypted with the instance's Fernet keys.
    private_jwk: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column()
    # Published in the JWKS from created_at; signs from activates_at (NULL: from created_at).
    created_at: Mapped[dt.datetime]
    activates_at: Mapped[dt.datetime | None]
    # When a newer key takes over signing (may be ahead); published until prune removes it.
    retired_at: Mapped[dt.datetime | None]


class OidcConsentRow(Base):
    __tablename__ = "oidc_consents"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oidc_clients.client_id", ondelete="CASCADE"), primary_key=True
    )
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class OidcRefreshTokenRow(Base):
    __tablename__ = "oidc_refresh_tokens"
    __table_args__ = (Index("ix_oidc_refresh_tokens_user_client", "user_id", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # SHA-256 of the opaque token: a copy of the database hands out no usable token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Every rotation stays in its family; reuse of a spent token revokes the whole family.
    family: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_clients.client_id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(500))
    auth_time: Mapped[int] = mapped_column(Integer)
    acr: Mapped[str | None] = mapped_column(String(100))
    amr: Mapped[list[Any]] = mapped_column(JSON, default=list)
    sid: Mapped[str | None] = mapped_column(String(64))
    claims: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The access token issued with this refresh token, denied when the family is revoked.
    access_jti: Mapped[str | None] = mapped_column(String(64))
    access_exp: Mapped[int | None] = mapped_column(Integer)
    # A grant made while the person acted for a client organisation (idp.foundation.sessions.Acting
    # as a dict): its delegation is re-checked at each refresh. NULL for every other grant.
    acting: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
