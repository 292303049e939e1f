"""federation: connections, domains, links

Revision ID: federation_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import idp.stores.db

revision = "federation_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fed_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=True),
        sa.Column("cert_key_enc", sa.Text(), nullable=True),
        sa.Column("cert_thumbprint", sa.String(length=64), nullable=True),
        sa.Column("jit_enabled", sa.Boolean(), nullable=False),
        sa.Column("jit_role", sa.String(length=32), nullable=False),
        sa.Column("password_allowed", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", idp.stores.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", idp.stores.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_fed_connections_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fed_connections")),
    )
    op.create_index(op.f("ix_fed_connections_org_id"), "fed_connections", ["org_id"], unique=False)
    op.create_table(
        "fed_domains",
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["fed_connections.id"],
            name=op.f("fk_fed_domains_connection_id_fed_connections"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_fed_domains")),
    )
    op.create_index(op.f("ix_fed_domains_connection_id"), "fed_domains", ["connection_id"], unique=False)
    op.create_table(
        "fed_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("namespace", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("label", sa.String(length=320), nullable=False),
        sa.Column("created_at", idp.stores.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", idp.stores.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["fed_connections.id"],
            name=op.f("fk_fed_links_connection_id_fed_connections"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_fed_links_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fed_links")),
        sa.UniqueConstraint("namespace", "subject", name="uq_fed_links_identity"),
    )
    op.create_index(op.f("ix_fed_links_user_id"), "fed_links", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_fed_links_user_id"), table_name="fed_links")
    op.drop_table("fed_links")
    op.drop_index(op.f("ix_fed_domains_connection_id"), table_name="fed_domains")
    op.drop_table("fed_domains")
    op.drop_index(op.f("ix_fed_connections_org_id"), table_name="fed_connections")
    op.drop_table("fed_connections")
