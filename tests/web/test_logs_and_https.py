"""JSON logs with the request id; HTTPS deployments get Secure cookies and HSTS."""

from __future__ import annotations

import json
import logging

import pytest

from idp import logs


def test_json_log_lines_carry_the_request_id_and_extra_fields():
    formatter = logs.JsonFormatter()
    token = logs.request_id.set("req-12345678")
    try:
        record = logging.LogRecord("idp.test", logging.INFO, __file__, 1, "signed in %s", ("ok",), None)
        record.user_id = 42
        line = json.loads(formatter.format(record))
    finally:
        logs.request_id.reset(token)
    assert line["message"] == "signed in ok"
    assert line["request_id"] == "req-12345678"
    assert line["user_id"] == 42
    assert line["level"] == "INFO"


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logs.JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


def test_events_are_logged_with_the_request_id_and_without_the_password(auth, make_user):
    person = make_user()
    handler = _Lines()
    logger = logging.getLogger("idp")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        auth.identify(person.email)
        auth.password("hunter2-wrong", **{"X-Request-ID": "trace-abcdef12"})
    finally:
        # Left at INFO, every later test would log its events (and a test reading the error
        # log of one module would see them).
        logger.removeHandler(handler)
        logger.setLevel(level)
    [line] = [x for x in handler.lines if x.get("event_tag") == "account:signin:failed"]
    assert line["request_id"] == "trace-abcdef12"
    assert "hunter2" not in json.dumps(handler.lines)


@pytest.fixture
def settings_overrides():
    return {"server": {"base_url": "https://id.example.com"}}


def test_https_deployment_sets_secure_cookies_and_hsts(client, auth, make_user):
    person = make_user()
    page = client.get("/login", base_url="https://id.example.com")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in page.headers["Set-Cookie"]
    auth.client.environ_base["wsgi.url_scheme"] = "https"
    response = auth.sign_in(person.email, person.password)
    # __Host- names: only this host, over https, for the whole site, can set them.
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("__Host-idp_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/" in cookie and "Domain" not in cookie
    assert page.headers["Set-Cookie"].startswith("__Host-idp_pre=")
