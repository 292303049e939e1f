"""Join the domain transfers' branch into the one head

Revision ID: 0012
Revises: 0011, domains_0001
"""

from __future__ import annotations

revision = "0012"
down_revision = ("0011", "domains_0001")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
