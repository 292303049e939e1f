"""Account ids are never given again: on SQLite the users table becomes AUTOINCREMENT

A deleted account's id stays in the activity log (and, until they expire, in Redis keys and
session records); SQLite would otherwise give the largest id again after its row is deleted.
PostgreSQL's sequence never gives an id twice: nothing to do there.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # Migrations run with SQLite's foreign keys off (no connect hook): dropping the old table
    # while it is rebuilt deletes no dependent row.
    with op.batch_alter_table("users", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("users", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
        pass
