"""Join the security center's second revision into the one head

Revision ID: 0008
Revises: 0007, security_0002
"""

from __future__ import annotations

revision = "0008"
down_revision = ("0007", "security_0002")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
