"""OpenID Provider: clients, signing keys, consents, refresh tokens

Revision ID: oidc_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import idp.stores.db

revision = "oidc_0001"
down_revision = "0001"
branch_labels = ("oidc",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oidc_clients",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=100), nullable=True),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("post_logout_redirect_uris", sa.JSON(), nullable=False),
        sa.Column("backchannel_logout_uri", sa.String(length=500), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("grant_types", sa.JSON(), nullable=False),
        sa.Column("skip_consent", sa.Boolean(), nullable=False),
        sa.Column("always_refresh", sa.Boolean(), nullable=False),
        sa.Column("access_token_lifetime", sa.Integer(), nullable=True),
        sa.Column("refresh_token_lifetime", sa.Integer(), nullable=True),
        sa.Column("id_token_alg", sa.String(length=16), nullable=False),
        sa.Column("created_at", idp.stores.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", idp.stores.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_oidc_clients")),
    )
    op.create_table(
        "oidc_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("alg", sa.String(length=16), nullable=False),
        sa.Column("private_jwk", sa.Text(), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("created_at", idp.stores.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", idp.stores.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_oidc_keys")),
    )
    op.create_table(
        "oidc_consents",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", idp.stores.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", idp.stores.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["oidc_clients.client_id"],
            name=op.f("fk_oidc_consents_client_id_oidc_clients"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_oidc_consents_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "client_id", name=op.f("pk_oidc_consents")),
    )
    op.create_table(
        "oidc_refresh_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("family", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("auth_time", sa.Integer(), nullable=False),
        sa.Column("acr", sa.String(length=100), nullable=True),
        sa.Column("amr", sa.JSON(), nullable=False),
        sa.Column("sid", sa.String(length=64), nullable=True),
        sa.Column("claims", sa.JSON(), nullable=False),
        sa.Column("access_jti", sa.String(length=64), nullable=True),
        sa.Column("access_exp", sa.Integer(), nullable=True),
        sa.Column("created_at", idp.stores.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", idp.stores.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", idp.stores.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", idp.stores.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["oidc_clients.client_id"],
            name=op.f("fk_oidc_refresh_tokens_client_id_oidc_clients"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_oidc_refresh_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_oidc_refresh_tokens_token_hash")),
    )
    op.create_index("ix_oidc_refresh_tokens_family", "oidc_refresh_tokens", ["family"])
    op.create_index("ix_oidc_refresh_tokens_user_client", "oidc_refresh_tokens", ["user_id", "client_id"])


def downgrade() -> None:
    op.drop_index("ix_oidc_refresh_tokens_user_client", table_name="oidc_refresh_tokens")
    op.drop_index("ix_oidc_refresh_tokens_family", table_name="oidc_refresh_tokens")
    op.drop_table("oidc_refresh_tokens")
    op.drop_table("oidc_consents")
    op.drop_table("oidc_keys")
    op.drop_table("oidc_clients")
