"""The outbox keeps a message's body only while it waits: delivered or given up, the body goes
(an unlock link with it) and the metadata stays; `mail.retention_days` later the row goes too."""

from __future__ import annotations

import pytest

from idp.errors import SettingsError
from idp.mail import OutboxWorker
from idp.mail import SmtpMailer
from idp.settings import load_settings
from idp.stores.events import SqlOutboxStore
from idp.stores.models import OutboxRow
from tests.test_mail import _free_port
from tests.test_mail import smtp_server  # noqa: F401 - fixture: a real SMTP server (aiosmtpd)

UNLOCK = "http://localhost:5000/unlock/secret-token-123"


@pytest.fixture
def smtp(smtp_server):  # noqa: F811 - the imported fixture
    controller, inbox = smtp_server
    return SmtpMailer("127.0.0.1", controller.port, starttls=False), inbox


def _worker(services, mailer, *, retention_days: int = 30) -> OutboxWorker:
    return OutboxWorker(SqlOutboxStore(services.db), mailer, services.clock, sender="IdP <no-reply@example.com>",
                        max_attempts=3, retention_days=retention_days)


def _down() -> SmtpMailer:
    return SmtpMailer("127.0.0.1", _free_port(), starttls=False, timeout=2)  # nothing listens there


def _rows(services) -> list[dict]:
    with services.db.transaction() as s:
        return [{c.name: getattr(r, c.key) for c in OutboxRow.__table__.columns}
                for r in s.query(OutboxRow).order_by(OutboxRow.id)]


def _lock_mail(services) -> None:
    services.mail.queue("ada@example.com", "account_locked", locale="en", name="Ada", failures=10, ip="192.0.2.1",
                        unlock_url=UNLOCK)


def test_a_delivered_message_keeps_its_metadata_but_not_its_body(services, smtp, clock):
    mailer, inbox = smtp
    _lock_mail(services)
    [waiting] = _rows(services)
    assert UNLOCK in waiting["body_text"] and waiting["template"] == "account_locked"
    clock.advance(seconds=5)
    assert _worker(services, mailer).deliver_due() == 1
    [message] = inbox.messages
    assert UNLOCK in message.get_content()  # the person got the link
    [row] = _rows(services)
    assert row["body_text"] is None
    assert UNLOCK not in str(row)  # nowhere in the row
    assert (row["to_addr"], row["template"], row["attempts"]) == ("ada@example.com", "account_locked", 1)
    assert "locked" in row["subject"] and row["created_at"] == waiting["created_at"]
    assert row["sent_at"] == clock.now() and row["failed_at"] is None


def test_a_message_keeps_its_body_between_retries_and_drops_it_when_given_up(services, clock):
    _lock_mail(services)
    worker = _worker(services, _down())
    worker.deliver_due()
    [retrying] = _rows(services)
    assert UNLOCK in retrying["body_text"] and retrying["failed_at"] is None  # still to be sent
    for _ in range(2):
        clock.advance(hours=2)
        worker.deliver_due()
    [given_up] = _rows(services)
    assert given_up["failed_at"] is not None and given_up["attempts"] == 3
    assert given_up["body_text"] is None and UNLOCK not in str(given_up)
    assert given_up["last_error"] and given_up["to_addr"] == "ada@example.com"
    assert given_up["template"] == "account_locked"


def test_finished_messages_are_deleted_after_the_retention_days_waiting_ones_never(services, smtp, clock):
    mailer, _inbox = smtp
    _lock_mail(services)
    _worker(services, mailer, retention_days=7).deliver_due()  # Ada's: delivered
    services.mail.queue("bob@example.com", "account_locked", locale="en", name="Bob", failures=3, ip="x",
                        unlock_url=UNLOCK)
    down = _worker(services, _down(), retention_days=7)
    down.deliver_due()  # Bob's: first attempt failed, it waits
    clock.advance(days=7)
    down.deliver_due()
    assert [r["to_addr"] for r in _rows(services)] == ["ada@example.com", "bob@example.com"]  # not yet 7 days
    clock.advance(seconds=1)
    down.deliver_due()  # the round deletes what finished more than 7 days ago
    [waiting] = _rows(services)
    assert waiting["to_addr"] == "bob@example.com" and UNLOCK in waiting["body_text"] and waiting["attempts"] == 2
    clock.advance(hours=2)
    down.deliver_due()  # the last attempt: given up
    assert _rows(services)[0]["failed_at"] == clock.now()
    clock.advance(days=7, seconds=1)
    down.deliver_due()
    assert _rows(services) == []


def test_the_retention_is_a_setting_with_a_default(monkeypatch):
    monkeypatch.delenv("IDP_CONFIG", raising=False)
    assert load_settings(secret_key="x").mail.retention_days == 30
    monkeypatch.setenv("IDP_MAIL_RETENTION_DAYS", "90")
    assert load_settings(secret_key="x").mail.retention_days == 90
    monkeypatch.setenv("IDP_MAIL_RETENTION_DAYS", "0")
    with pytest.raises(SettingsError, match=r"mail\.retention_days"):
        load_settings(secret_key="x")


def test_the_service_worker_deletes_after_the_default_retention(services, smtp, clock):
    mailer, _inbox = smtp
    _lock_mail(services)
    services.outbox.mailer = mailer
    assert services.outbox.deliver_due() == 1
    clock.advance(days=services.settings.mail.retention_days, seconds=1)
    services.outbox.deliver_due()
    assert _rows(services) == []
