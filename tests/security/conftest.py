"""Security center fixtures: a real SMTP server that receives the outbox, and signed-in clients."""

from __future__ import annotations

import socket
from email import message_from_bytes
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from idp.mail import OutboxWorker
from idp.mail import SmtpMailer
from idp.stores.events import SqlOutboxStore

UA_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
UA_CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


class _Handler:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """A real SMTP server on loopback; `deliver()` runs the outbox worker and returns what arrived."""

    def __init__(self, services: Any, handler: _Handler, port: int) -> None:
        self.services, self.handler, self.port = services, handler, port

    def deliver(self) -> list[EmailMessage]:
        worker = OutboxWorker(
            SqlOutboxStore(self.services.db), SmtpMailer("127.0.0.1", self.port, starttls=False),
            self.services.clock, sender="IdP <no-reply@example.com>", max_attempts=3,
        )
        worker.deliver_due()
        return list(self.handler.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.deliver() if m["To"] == address]


@pytest.fixture
def mailbox(services: Any) -> Any:
    handler = _Handler()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield Mailbox(services, handler, port)
    controller.stop()


def post_form(client: Any, path: str, data: dict[str, Any] | None = None, *, form_page: str | None = None) -> Any:
    """GET the page holding the form (for its CSRF token), then POST the form."""
    from tests.conftest import csrf_of

    page = client.get(form_page or path)
    token = csrf_of(page.get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **(data or {})})
