"""Subscribers marked `after_answer` (the sign-in notifications) run once the ASGI bridge has
sent the response, and only for a request that did not fail; elsewhere they run at once."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from idp.asgi import WsgiBridge
from idp.events import EventTag
from idp.events import after_answer
from idp.security.notifications import NotificationService


def _scope(path: str) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": path, "query_string": b"", "root_path": "",
            "headers": [(b"host", b"127.0.0.1:8000")], "client": ("203.0.113.9", 50000),
            "server": ("127.0.0.1", 8000), "scheme": "http", "http_version": "1.1"}


def _setup(app: Any, services: Any, order: list[str]) -> None:
    @after_answer
    def late(event: Any) -> None:
        order.append(f"late {event.details['n']}")

    def early(event: Any) -> None:
        order.append(f"early {event.details['n']}")

    services.events.subscribe(late, [EventTag.NOTIFICATIONS_CHANGED])
    services.events.subscribe(early, [EventTag.NOTIFICATIONS_CHANGED])

    def record() -> str:
        services.events.record_event(EventTag.NOTIFICATIONS_CHANGED, details={"n": 1})
        services.events.record_event(EventTag.NOTIFICATIONS_CHANGED, details={"n": 2})
        return "recorded"

    def fail() -> str:
        services.events.record_event(EventTag.NOTIFICATIONS_CHANGED, details={"n": 3})
        raise RuntimeError("after the event")

    app.add_url_rule("/_test/record", "test_record", record)
    app.add_url_rule("/_test/fail", "test_fail", fail)


def _through_the_bridge(app: Any, path: str, order: list[str]) -> int:
    bridge = WsgiBridge(app, threads=1, max_body=1024)
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        else:
            order.append("response sent")

    # In a thread of its own, as a server's worker: the test's thread may run a loop (Playwright's).
    worker = threading.Thread(target=asyncio.run, args=(bridge(_scope(path), b"", True, receive, send),))
    worker.start()
    worker.join(timeout=30)
    bridge.pool.shutdown()
    assert not worker.is_alive()
    return status[0]


def test_marked_subscribers_run_after_the_response_is_sent(app: Any, services: Any) -> None:
    order: list[str] = []
    _setup(app, services, order)
    assert _through_the_bridge(app, "/_test/record", order) == 200
    assert order == ["early 1", "early 2", "response sent", "late 1", "late 2"]


def test_a_failed_request_sends_no_late_notification(app: Any, services: Any) -> None:
    order: list[str] = []
    _setup(app, services, order)
    assert _through_the_bridge(app, "/_test/fail", order) == 500
    assert order == ["early 3", "response sent"]


def test_without_the_bridge_marked_subscribers_run_at_once(app: Any, services: Any, client: Any) -> None:
    order: list[str] = []
    _setup(app, services, order)
    assert client.get("/_test/record").status_code == 200
    assert order == ["late 1", "early 1", "late 2", "early 2"]  # in the order they subscribed


def test_the_sign_in_notifications_wait_for_no_one() -> None:
    assert getattr(NotificationService.on_event, "after_answer", False) is True
