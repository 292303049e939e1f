"""Join money's branch into the one head; organisation ids are never given again on SQLite

The money rows name organisations by id without a foreign key (accounting records outlive what
they speak of), and partnerships and the activity log keep them too, so an organisation's id must
never name another one: on SQLite the organisations table becomes AUTOINCREMENT, as users did in
0010. PostgreSQL's sequence never gives an id twice: nothing to do there.

Revision ID: 0013
Revises: 0012, money_0001
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = ("0012", "money_0001")
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # Migrations run with SQLite's foreign keys off (no connect hook): rebuilding the table
    # deletes no member.
    with op.batch_alter_table("organisations", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("organisations", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
        pass
