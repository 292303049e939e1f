"""Mail: rendered into an outbox table in the request, delivered later with retries (SMTP or .eml files)."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import threading
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from typing import Protocol

import jinja2
from babel.support import Translations

from idp.clock import Clock
from idp.errors import StoreUnavailableError
from idp.words import method_words
from idp.words import moment_words

log = logging.getLogger(__name__)


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Deliver or raise; the outbox retries on any exception."""
        ...


class SmtpMailer:
    def __init__(
        self, host: str, port: int, *, username: str = "", password: str = "",
        starttls: bool = True, timeout: float = 10.0,
    ) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password, self.starttls = username, password, starttls

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


class FileMailer:
    """The embedded default: each message becomes an .eml file under the instance folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = message["Message-ID"].strip("<>").replace("@", "_").replace("/", "_")
        (self.folder / f"{name}.eml").write_bytes(bytes(message))


class NullMailer:
    def send(self, message: EmailMessage) -> None:
        log.info("mail dropped (mail.backend = none)", extra={"subject": message["Subject"]})


class OutboxStore(Protocol):
    def add(
        self, *, to_addr: str, subject: str, body_text: str, now: dt.datetime, template: str | None = None
    ) -> int: ...
    def due(self, now: dt.datetime, limit: int = 20) -> list[int]: ...
    def claim(self, message_id: int, now: dt.datetime, lease: dt.timedelta) -> dict[str, Any] | None: ...
    def mark_sent(self, message_id: int, now: dt.datetime) -> None:
        """Delivered: drop the body, keep the metadata."""
        ...
    def mark_failed(
        self, message_id: int, *, error: str, retry_at: dt.datetime | None, now: dt.datetime
    ) -> None:
        """Retry at `retry_at`; without one, give up and drop the body."""
        ...
    def purge(self, before: dt.datetime) -> int:
        """Delete messages delivered or given up before `before`."""
        ...


class MailService:
    """Renders a mail template in the recipient's language and queues it; never talks to SMTP."""

    def __init__(
        self, outbox: OutboxStore, clock: Clock, *, templates: Path, translations: Path,
        context: dict[str, Any],
    ) -> None:
        self.outbox = outbox
        self.clock = clock
        self.translations = translations
        self.context = context
        self.templates = templates
        self._envs: dict[str, jinja2.Environment] = {}
        self._lock = threading.Lock()

    def _env(self, locale: str) -> jinja2.Environment:
        # One environment per language: installing translations on a shared one would let
        # two concurrent requests swap each other's language.
        with self._lock:
            env = self._envs.get(locale)
            if env is None:
                env = jinja2.Environment(
                    loader=jinja2.FileSystemLoader(self.templates),
                    extensions=["jinja2.ext.i18n"],
                    autoescape=False,  # noqa: S701 - plain-text mail, never HTML
                    keep_trailing_newline=True,
                )
                translations = Translations.load(str(self.translations), [locale])
                env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
                env.filters["when"] = _when_filter(locale)
                env.filters["signin_words"] = _signin_filter(translations)
                self._envs[locale] = env
            return env

    def queue_for(self, user: Any, template: str, **values: Any) -> int:
        """`queue` to an account: its e-mail, language, time zone, and its name as `name`."""
        return self.queue(
            user.email, template, locale=user.locale, timezone=getattr(user, "timezone", None),
            name=user.display_name, **values,
        )

    def queue(
        self, to: str, template: str, *, locale: str | None = "en", timezone: str | None = None, **values: Any,
    ) -> int:
        """Render `template` in the recipient's language; its moments (`|when`) are written in
        the recipient's `timezone` (UTC when None)."""
        subject, body = self.render(template, locale=locale, timezone=timezone, **values)
        return self.outbox.add(to_addr=to, subject=subject, body_text=body, now=self.clock.now(), template=template)

    def render(
        self, template: str, *, locale: str | None = "en", timezone: str | None = None, **values: Any,
    ) -> tuple[str, str]:
        """The subject and body `queue` would store (also used to spend the same time on a
        request that sends nothing, e.g. a password reset for an unknown address)."""
        language = locale if locale in ("en", "fr") else "en"
        tmpl = self._env(language).get_template(f"mail/{template}.txt")
        ctx = tmpl.new_context(self.context | values | {"timezone": timezone})
        subject = "".join(tmpl.blocks["subject"](ctx)).strip()
        body = "".join(tmpl.blocks["body"](ctx)).strip() + "\n"
        return subject, body


def _when_filter(locale: str) -> Callable[..., str]:
    @jinja2.pass_context
    def when(context: Any, moment: dt.datetime | int | float | None) -> str:
        return moment_words(moment, locale, context.get("timezone"))

    return when


def _signin_filter(translations: Any) -> Callable[..., str]:
    def signin_words(methods: list[str] | None, amr: list[str] | None = None) -> str:
        return method_words(methods, translations.gettext, amr=amr)

    return signin_words


class OutboxWorker:
    """Sends due messages. Several processes may run one: each message is leased before it is sent.

    A message keeps its body only while it waits: delivered or given up, the body is dropped
    (it may hold an unlock link or a code), and `retention_days` later the row goes too.
    """

    LEASE = dt.timedelta(minutes=2)

    def __init__(
        self, outbox: OutboxStore, mailer: Mailer, clock: Clock, *, sender: str, max_attempts: int,
        retention_days: int = 30,
    ) -> None:
        self.outbox, self.mailer, self.clock = outbox, mailer, clock
        self.sender, self.max_attempts = sender, max_attempts
        self.retention = dt.timedelta(days=retention_days)
        self._stop = threading.Event()

    def deliver_due(self) -> int:
        """One round: send what is due, then delete what was delivered or given up more than
        `retention_days` ago. Returns how many were sent."""
        sent = self._send_due()
        self.outbox.purge(self.clock.now() - self.retention)
        return sent

    def _send_due(self) -> int:
        sent = 0
        for message_id in self.outbox.due(self.clock.now()):
            item = self.outbox.claim(message_id, self.clock.now(), self.LEASE)
            if item is None:
                continue
            try:
                self.mailer.send(self._message(item))
            except Exception as exc:
                self._failed(item, exc)
            else:
                self.outbox.mark_sent(item["id"], self.clock.now())
                sent += 1
        return sent

    def _failed(self, item: dict[str, Any], exc: Exception) -> None:
        now = self.clock.now()
        attempts = int(item["attempts"])
        retry_at = None
        if attempts < self.max_attempts:
            retry_at = now + dt.timedelta(seconds=min(3600, 15 * 2 ** (attempts - 1)))
        log.warning(
            "mail delivery failed",
            extra={"message_id": item["id"], "attempts": attempts, "error": type(exc).__name__},
        )
        self.outbox.mark_failed(item["id"], error=f"{type(exc).__name__}: {exc}", retry_at=retry_at, now=now)

    def _message(self, item: dict[str, Any]) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = item["to"]
        message["Subject"] = item["subject"]
        message["Date"] = formatdate(item["created_at"].timestamp(), usegmt=True)
        message["Message-ID"] = make_msgid(idstring=f"outbox{item['id']}", domain="idp.local")
        message.set_content(item["body"])
        return message

    def run_forever(self, interval: float = 5.0) -> None:
        while not self._stop.is_set():
            try:
                self.deliver_due()
            except StoreUnavailableError as exc:
                # An outage, not a bug: the messages stay in the outbox for the next round.
                log.warning("outbox worker round skipped: the database does not answer",
                            extra={"error": str(exc.__cause__ or exc)})
            except Exception:
                log.exception("outbox worker round failed")
            self._stop.wait(interval)

    def start_thread(self, interval: float = 5.0) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, args=(interval,), name="outbox", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
