"""Helpers of the password pages' tests: forms posted with their page's CSRF token, mail read
from the outbox, a session opened for an account without a password."""

from __future__ import annotations

import re
from typing import Any

from idp.model import RequestContext
from tests.conftest import csrf_of
from tests.conftest import outbox

NEW = "a fresh long passphrase"
RESET_LINK = re.compile(r"http://localhost:5000(/login/reset/\S+)")
SSO_CTX = RequestContext(ip="198.51.100.40", user_agent="")


def post(client: Any, path: str, data: dict[str, Any] | None = None, *, page: str | None = None) -> Any:
    """GET the page holding the form (for its CSRF token), then POST the form."""
    html = client.get(page or path)
    assert html.status_code == 200, html.get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_of(html.get_data(as_text=True)), **(data or {})})


def mails(services: Any, to: str, subject: str = "") -> list[dict[str, Any]]:
    return [m for m in outbox(services) if m["to"] == to and subject in m["subject"]]


def reset_path(services: Any, email: str) -> str:
    """The path of the reset link in the last reset mail sent to `email`."""
    found = mails(services, email, "Reset your")
    assert found, "no reset mail"
    match = RESET_LINK.search(found[-1]["body"])
    assert match, "the reset mail carries no link"
    return match.group(1)


def signed_in_without_password(services: Any, client: Any, user_id: int) -> None:
    """A browser signed in through the organisation's directory (the account has no password)."""
    session_id, _session = services.sessions.create(user_id, SSO_CTX, amr=["fed"], methods=["sso"])
    client.set_cookie(services.settings.session_cookie, session_id)
