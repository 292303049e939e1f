"""Join the partners branch into the one head

Revision ID: 0014
Revises: 0013, partners_0001
"""

from __future__ import annotations

revision = "0014"
down_revision = ("0013", "partners_0001")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
