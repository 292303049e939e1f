"""Tables of the second factors: authenticator-app secrets, WebAuthn credentials, recovery codes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import BigInteger
from sqlalchemy import Boolean
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from idp.stores.models import Base


class MfaAccountRow(Base):
    """Per-account second-factor state that is not a credential."""

    __tablename__ = "mfa_accounts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # Random WebAuthn user handle (base64url): never the row id or the e-mail.
    webauthn_handle: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[dt.datetime]


class TotpRow(Base):
    __tablename__ = "mfa_totp"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # The base32 seed, encrypted with the instance's SecretBox.
    secret_enc: Mapped[str] = mapped_column(String(512))
    # Highest time step accepted so far: a code of this step or earlier is refused (replay).
    last_step: Mapped[int] = mapped_column(BigInteger, default=-1)
    created_at: Mapped[dt.datetime]
    last_used_at: Mapped[dt.datetime | None]


class WebAuthnCredentialRow(Base):
    __tablename__ = "mfa_webauthn_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # base64url of the credential id (at most 1023 bytes raw).
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    transports: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # "security_key" (second factor after the password) or "passkey" (discoverable, verified user).
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    aaguid: Mapped[str] = mapped_column(String(36), default="")
    backup_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime]
    last_used_at: Mapped[dt.datetime | None]


class RecoveryCodeRow(Base):
    __tablename__ = "mfa_recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_digest", name="uq_mfa_recovery_codes_user_digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # HMAC-SHA256 of the normalised code under a key derived from the instance secret.
    code_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
