"""What the browser gets from the connection itself: over https behind nginx, a trusted
certificate, HSTS, cookies bound to https and this host, and the person's own address seen
through the proxy; over plain http, none of the https-only parts."""

from __future__ import annotations

from tests.e2e.conftest import sign_in


def test_the_browser_sees_the_deployment_as_promised(page, live_server, app, services, make_user):
    person = make_user(display_name="Grace Hopper")
    response = page.goto("/login")
    assert response is not None and response.ok
    assert page.evaluate("location.origin") == live_server.url
    assert page.evaluate("window.isSecureContext") is True
    hsts = response.headers.get("strict-transport-security")
    assert (hsts is not None and "max-age=" in hsts) == live_server.https

    sign_in(page, person.email, person.password)
    page.get_by_role("heading", name="Hello, Grace Hopper").wait_for()
    # The device line: the address is the browser's, passed on by the proxy when there is one.
    assert page.locator("dl.facts dd").nth(2).inner_text().endswith("· 127.0.0.1")

    cookies = {c["name"]: c for c in page.context.cookies()}
    assert services.settings.session_cookie in cookies
    assert app.config["SESSION_COOKIE_NAME"] in cookies
    for cookie in cookies.values():
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/", cookie
        assert cookie["secure"] == live_server.https, cookie
        # __Host-: only a secure cookie of exactly this host, for every path (RFC 6265bis).
        assert cookie["name"].startswith("__Host-") == live_server.https, cookie
        assert not cookie["domain"].startswith("."), cookie
