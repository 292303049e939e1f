"""Browser tests: the app served on a real port, driven by Debian's Chromium through Playwright.

Every test runs over plain http on 127.0.0.1 (`[http]`) and, in the PostgreSQL run of the
suite, also as the service is deployed (`[https]`): behind Debian's nginx terminating TLS at
https://localhost:<port> with a certificate of a test CA that Chromium trusts through an NSS
database (no certificate error is ignored: WebAuthn would refuse to run), the app configured
with that public URL and one trusted proxy.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import DATABASE
from tests.conftest import make_settings
from tests.production.servers import Nginx
from tests.production.servers import TestCA

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# https through nginx only in the PostgreSQL run, to bound the time of the two runs.
SCHEMES = ("http", "https") if DATABASE == "postgresql" else ("http",)


def bind_socket(port: int = 0) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


class LiveServer:
    """The production ASGI application (`idp.asgi`: the OIDC fast lane in front of Flask) on a
    real port, served by uvicorn in a thread. `sock`: a socket bound beforehand, when the port
    had to be known before the app was built. `tls`: (certificate, key) PEM files to serve https
    directly, for a client that needs an https address but no proxy in front."""

    def __init__(
        self, app: Any, port: int = 0, *, sock: socket.socket | None = None, tls: tuple[Path, Path] | None = None
    ) -> None:
        import uvicorn

        from idp.asgi import create_asgi_app

        self.sock = sock or bind_socket(port)
        self.port = int(self.sock.getsockname()[1])
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.asgi = create_asgi_app(app)
        certificate = {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])} if tls else {}
        config = uvicorn.Config(
            self.asgi, log_level="warning", lifespan="on", timeout_graceful_shutdown=5, **certificate
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()


@dataclass
class Site:
    """Where people reach the service in one test: `url` is its public URL (the app's
    `server.base_url`), plain http on the app's own port, or https through nginx."""

    scheme: str
    url: str
    sock: socket.socket
    ca: TestCA | None = None
    nginx: Nginx | None = None
    server: LiveServer | None = field(default=None, repr=False)

    @property
    def https(self) -> bool:
        return self.scheme == "https"

    @property
    def localhost_url(self) -> str:
        """The same service named `localhost`: a secure context and a valid WebAuthn relying-party
        id even over plain http (unlike 127.0.0.1)."""
        return self.url if self.https else f"http://localhost:{urlsplit(self.url).port}"

    def server_settings(self) -> dict[str, Any]:
        return {"base_url": self.url, "trusted_proxies": 1 if self.https else 0}

    def http(self) -> requests.Session:
        """A client for programs (not the browser): trusts only the test CA, ignores proxies."""
        session = requests.Session()
        session.trust_env = False
        if self.ca is not None:
            session.verify = str(self.ca.cert_path)
        return session

    def client_env(self) -> dict[str, str]:
        """The environment of a client process (Python's ssl module) that must trust the CA."""
        env = dict(os.environ)
        if self.ca is not None:
            env.update(SSL_CERT_FILE=str(self.ca.cert_path), REQUESTS_CA_BUNDLE=str(self.ca.cert_path))
            env.pop("SSL_CERT_DIR", None)
        return env


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture(params=SCHEMES)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    """The public address, chosen before the app is built (its settings name it)."""
    sock = bind_socket()
    upstream = f"127.0.0.1:{sock.getsockname()[1]}"
    if request.param == "https":
        ca: TestCA = request.getfixturevalue("test_ca")
        # nginx as documented for production: Host and X-Forwarded-Host are `$host` (without
        # the port, here not 443), so every absolute URL must come from server.base_url.
        nginx = Nginx(tmp_path / "nginx", ca, [upstream])
        found = Site("https", nginx.url, sock, ca, nginx)
    else:
        found = Site("http", f"http://{upstream}", sock)
    yield found
    sock.close()


@pytest.fixture
def settings(
    tmp_path: Path, database_url: str, redis_url: str, settings_overrides: dict[str, Any], site: Site
) -> Any:
    """The app as deployed at the site's address (test modules still add their own overrides)."""
    overrides = dict(settings_overrides)
    overrides["server"] = {**overrides.get("server", {}), **site.server_settings()}
    return make_settings(tmp_path, database_url, redis_url, **overrides)


@pytest.fixture
def live_server(app: Any, site: Site) -> Iterator[Site]:
    site.server = LiveServer(app, sock=site.sock).start()
    try:
        if site.nginx is not None:
            site.nginx.start()
        yield site
    finally:
        if site.nginx is not None:
            site.nginx.stop()
        site.server.stop()


@pytest.fixture(scope="session")
def _playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def _plain_browser(_playwright: Any) -> Iterator[Any]:
    browser = _playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def trusting_home(folder: Path, ca: TestCA) -> Path:
    """A home folder whose NSS database (where Chromium on Linux looks) trusts `ca` for servers."""
    nssdb = folder / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    certutil = ["certutil", "-d", f"sql:{nssdb}"]
    subprocess.run([*certutil, "-N", "--empty-password"], check=True, capture_output=True, timeout=30)
    subprocess.run([*certutil, "-A", "-t", "C,,", "-n", "idp-test-ca", "-i", str(ca.cert_path)],
                   check=True, capture_output=True, timeout=30)
    return folder


@pytest.fixture(scope="session")
def _trusting_browser(_playwright: Any, test_ca: TestCA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    home = trusting_home(tmp_path_factory.mktemp("browser-home"), test_ca)
    browser = _playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env={**os.environ, "HOME": str(home)},
    )
    yield browser
    browser.close()


@pytest.fixture
def browser(request: pytest.FixtureRequest, site: Site) -> Any:
    """Chromium; over https, one that trusts the test CA."""
    return request.getfixturevalue("_trusting_browser" if site.https else "_plain_browser")


def new_page(browser: Any, base_url: str, *, timeout: float = 10_000, **options: Any) -> Any:
    """A page in a fresh browser profile (its own cookies), closed with its context."""
    context = browser.new_context(base_url=base_url, locale="en-GB", **options)
    page = context.new_page()
    page.set_default_timeout(timeout)
    return page


@pytest.fixture
def page(browser: Any, live_server: Site) -> Iterator[Any]:
    """A fresh browser profile (its own cookies) on the live server."""
    page = new_page(browser, live_server.url)
    yield page
    page.context.close()


def sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page: Any) -> None:
    page.goto("/")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="You are signed out").wait_for()
