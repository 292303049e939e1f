"""security center: the "new device or network" notification choice, the devices and networks
each account signed in from, and a second notification address

Revision ID: security_0002
Revises: security_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from idp.stores.db import UTCDateTime

revision = "security_0002"
down_revision = "security_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("security_notification_prefs") as batch:
        batch.add_column(sa.Column("on_new", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("address", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("pending_address", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("pending_nonce", sa.String(length=32), nullable=True))
    op.create_table(
        "security_known_places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("place", sa.String(length=64), nullable=False),
        sa.Column("first_seen", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_security_known_places_user_id_users"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_known_places")),
        sa.UniqueConstraint("user_id", "kind", "place", name="uq_security_known_places_user_kind_place"),
    )


def downgrade() -> None:
    op.drop_table("security_known_places")
    with op.batch_alter_table("security_notification_prefs") as batch:
        batch.drop_column("pending_nonce")
        batch.drop_column("pending_address")
        batch.drop_column("address")
        batch.drop_column("on_new")
