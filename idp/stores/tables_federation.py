"""Tables of single sign-on: an organisation's upstream connections, their domains, linked identities."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from idp.stores.models import Base


class FedConnectionRow(Base):
    """An organisation's upstream directory: Entra ID (tenant) or a generic OIDC issuer."""

    __tablename__ = "fed_connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    # Entra: the tenant id (GUID); generic OIDC: empty.
    tenant_id: Mapped[str] = mapped_column(String(64), default="")
    # Generic OIDC: the issuer URL; Entra: empty (derived from the tenant).
    issuer: Mapped[str] = mapped_column(String(500), default="")
    client_id: Mapped[str] = mapped_column(String(200))
    # Encrypted with the instance's SecretBox; never stored or logged in clear.
    secret_enc: Mapped[str | None] = mapped_column(Text)
    # Certificate credential (Entra): encrypted PEM private key and the certificate's SHA-1 thumbprint.
    cert_key_enc: Mapped[str | None] = mapped_column(Text)
    cert_thumbprint: Mapped[str | None] = mapped_column(String(64))
    jit_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    jit_role: Mapped[str] = mapped_column(String(32), default="collaborator")
    password_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class FedDomainRow(Base):
    """An e-mail domain routed to one connection (a domain belongs to one connection at most)."""

    __tablename__ = "fed_domains"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("fed_connections.id", ondelete="CASCADE"), index=True)


class FedLinkRow(Base):
    """A federated identity linked to a local account, keyed by the directory's immutable ids:
    (tenant id, object id) for Entra, (issuer, subject) for generic OIDC; never by e-mail."""

    __tablename__ = "fed_links"
    __table_args__ = (UniqueConstraint("namespace", "subject", name="uq_fed_links_identity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("fed_connections.id", ondelete="SET NULL"))
    # "entra:<tid>" or the issuer URL.
    namespace: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    # What the directory called the person when linked; shown to the owner, never used to match.
    label: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[dt.datetime]
    last_used_at: Mapped[dt.datetime | None]
