"""Decision 0609 written out, for the tests: what each act may do in each standing of the
account, and how a test puts an account in a standing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from idp.model import UserStatus
from idp.stores.models import UserRow

STANDINGS = ("active", "locked", "disabled", "pending", "deleted")

# act -> the standings in which it works (every other standing refuses it)
EXPECTED: dict[str, set[str]] = {
    "password": {"active"},
    "passkey": {"active", "locked"},
    "sso": {"active", "locked"},
    "browser_session": {"active", "locked"},
    "refresh_token": {"active", "locked"},
    "access_token": {"active", "locked"},
    "app_password": {"active", "locked"},
    "api_token": {"active", "locked"},
    "kauth_device": {"active", "locked"},
    "password_reset": {"active", "locked"},
}


def put_in(services: Any, user_id: int, standing: str) -> None:
    """Lock (as the lockout does), disable (as an administrator does), leave it unverified (as a
    sign-up does) or delete the account."""
    now = services.clock.now()
    if standing == "locked":
        assert services.users.lock(user_id, now)
    elif standing == "disabled":
        services.users.set_status(user_id, UserStatus.DISABLED, now)
    elif standing == "pending":
        services.users.set_status(user_id, UserStatus.PENDING, now)
    elif standing == "deleted":
        with services.db.transaction() as s:
            s.execute(delete(UserRow).where(UserRow.id == user_id))
    else:
        assert standing == "active"


def works(act: str, standing: str) -> bool:
    return standing in EXPECTED[act]
