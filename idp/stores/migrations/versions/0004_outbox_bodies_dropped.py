"""Mail outbox: the body is dropped once a message is delivered or given up; the template is kept

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mail_outbox") as batch:
        batch.add_column(sa.Column("template", sa.String(length=64), nullable=True))
        batch.alter_column("body_text", existing_type=sa.Text(), nullable=True)
        batch.create_index(batch.f("ix_mail_outbox_failed_at"), ["failed_at"], unique=False)
    # Messages already delivered or given up keep no body either (unlock links among them).
    op.execute("UPDATE mail_outbox SET body_text = NULL WHERE sent_at IS NOT NULL OR failed_at IS NOT NULL")


def downgrade() -> None:
    op.execute("UPDATE mail_outbox SET body_text = '' WHERE body_text IS NULL")
    with op.batch_alter_table("mail_outbox") as batch:
        batch.drop_index(batch.f("ix_mail_outbox_failed_at"))
        batch.alter_column("body_text", existing_type=sa.Text(), nullable=False)
        batch.drop_column("template")
