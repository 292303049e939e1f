"""second factors: mfa accounts, totp, webauthn credentials, recovery codes

Revision ID: mfa_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import idp.stores.db

revision = "mfa_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mfa_accounts",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("webauthn_handle", sa.String(length=100), nullable=False),
        sa.Column("created_at", idp.stores.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_mfa_accounts_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_mfa_accounts")),
        sa.UniqueConstraint("webauthn_handle", name=op.f("uq_mfa_accounts_webauthn_handle")),
    )
    op.create_table(
        "mfa_totp",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_enc", sa.String(length=512), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.Column("created_at", idp.stores.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", idp.stores.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_mfa_totp_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_mfa_totp")),
    )
    op.create_table(
        "mfa_webauthn_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(length=1400), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("transports", sa.JSON(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("aaguid", sa.String(length=36), nullable=False),
        sa.Column("backup_eligible", sa.Boolean(), nullable=False),
        sa.Column("created_at", idp.stores.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", idp.stores.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mfa_webauthn_credentials_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mfa_webauthn_credentials")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_mfa_webauthn_credentials_credential_id")),
    )
    with op.batch_alter_table("mfa_webauthn_credentials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mfa_webauthn_credentials_user_id"), ["user_id"], unique=False)
    op.create_table(
        "mfa_recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", idp.stores.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", idp.stores.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mfa_recovery_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mfa_recovery_codes")),
        sa.UniqueConstraint("user_id", "code_digest", name="uq_mfa_recovery_codes_user_digest"),
    )
    with op.batch_alter_table("mfa_recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mfa_recovery_codes_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mfa_recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mfa_recovery_codes_user_id"))
    op.drop_table("mfa_recovery_codes")
    with op.batch_alter_table("mfa_webauthn_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mfa_webauthn_credentials_user_id"))
    op.drop_table("mfa_webauthn_credentials")
    op.drop_table("mfa_totp")
    op.drop_table("mfa_accounts")
