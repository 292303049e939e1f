"""Join the capabilities' first migrations into one head: later migrations build on this.

Revision ID: 0002
Revises: credentials_0001, federation_0001, kauth_0001, mfa_0001, oidc_0001, security_0001
"""

from __future__ import annotations

revision = "0002"
down_revision = (
    "credentials_0001",
    "federation_0001",
    "kauth_0001",
    "mfa_0001",
    "oidc_0001",
    "security_0001",
)
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
