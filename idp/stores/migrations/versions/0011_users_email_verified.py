"""Accounts: when their login e-mail was proven by a link sent to it (OpenID `email_verified`)

Set by the sign-up's activation link, an invitation opened from that mailbox, and the e-mail
change's confirmation link; accounts made before stay unproven (NULL).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from idp.stores.db import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email_verified_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email_verified_at")
