"""Join the OpenID Provider's second revision into the one head

Revision ID: 0015
Revises: 0014, oidc_0002
"""

from __future__ import annotations

revision = "0015"
down_revision = ("0014", "oidc_0002")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
