"""Mail: queued in the outbox inside the request, delivered later by SMTP (a real server here) or to .eml files."""

from __future__ import annotations

import socket
from email import message_from_bytes
from email import policy

import pytest
from aiosmtpd.controller import Controller

from idp.mail import FileMailer
from idp.mail import OutboxWorker
from idp.mail import SmtpMailer
from idp.stores.events import SqlOutboxStore
from tests.conftest import outbox


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def _worker(services, mailer) -> OutboxWorker:
    return OutboxWorker(SqlOutboxStore(services.db), mailer, services.clock, sender="IdP <no-reply@example.com>", max_attempts=3)


def test_a_queued_message_arrives_at_a_real_smtp_server_in_the_recipients_language(services, smtp_server):
    controller, inbox = smtp_server
    services.mail.queue("ada@example.com", "account_locked", locale="fr", name="Ada", failures=10, ip="192.0.2.1")
    sent = _worker(services, SmtpMailer("127.0.0.1", controller.port, starttls=False)).deliver_due()
    assert sent == 1
    [message] = inbox.messages
    assert message["To"] == "ada@example.com"
    assert "verrouillé" in message["Subject"]
    body = message.get_content()
    assert "Bonjour Ada," in body and "192.0.2.1" in body


def test_an_smtp_outage_loses_no_message_and_it_is_retried(services, smtp_server, clock):
    controller, inbox = smtp_server
    services.mail.queue("ada@example.com", "account_locked", locale="en", name="Ada", failures=3, ip="192.0.2.1")
    down = SmtpMailer("127.0.0.1", _free_port(), starttls=False, timeout=2)  # nothing listens there
    assert _worker(services, down).deliver_due() == 0
    worker = _worker(services, SmtpMailer("127.0.0.1", controller.port, starttls=False))
    assert worker.deliver_due() == 0  # not due yet: it waits before retrying
    clock.advance(seconds=16)
    assert worker.deliver_due() == 1
    assert len(inbox.messages) == 1
    assert worker.deliver_due() == 0  # sent once, never twice


def test_a_message_is_given_up_after_the_last_attempt(services, clock):
    services.mail.queue("ada@example.com", "account_locked", locale="en", name="Ada", failures=3, ip="x")
    down = SmtpMailer("127.0.0.1", _free_port(), starttls=False, timeout=2)
    worker = _worker(services, down)
    for _ in range(3):
        worker.deliver_due()
        clock.advance(hours=2)
    assert SqlOutboxStore(services.db).pending_count() == 0
    assert len(outbox(services)) == 1  # still there, marked failed, for an operator to see


def test_the_embedded_default_writes_eml_files(services, tmp_path):
    services.mail.queue("ada@example.com", "account_locked", locale="en", name="Ada", failures=3, ip="x")
    assert _worker(services, FileMailer(tmp_path / "mail")).deliver_due() == 1
    [eml] = list((tmp_path / "mail").glob("*.eml"))
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["Subject"] == "Your Identity account has been locked"
