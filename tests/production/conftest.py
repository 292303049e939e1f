"""Fixtures of the production-shape tier."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from email import message_from_bytes
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest
import requests

from idp.security.center import SECURITY
from idp.security.credentials import CREDENTIALS
from tests.production import servers

# == Outage tests (test_outages.py) ==========================================================
# nginx (TLS) -> gunicorn (2 asgi workers) on a private PostgreSQL cluster, a private
# redis-server and an aiosmtpd server that can go away and come back on the same port.

OUTAGE_REDIRECT = "http://127.0.0.1:9/callback"
OUTAGE_EMAIL = "outage-person@example.com"
OUTAGE_CSRF_MARK = 'name="csrf_token"'


@dataclass
class ReceivedMail:
    message_id: str
    recipients: tuple[str, ...]
    subject: str


class MailRecorder:
    """aiosmtpd handler: keeps every message it accepts, in order."""

    def __init__(self) -> None:
        self.messages: list[ReceivedMail] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content)
        with self._lock:
            self.messages.append(ReceivedMail(
                str(parsed["Message-ID"] or ""), tuple(envelope.rcpt_tos), str(parsed["Subject"] or "")))
        return "250 OK"

    def received(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self.messages)


class SmtpServer:
    """A real SMTP server (aiosmtpd) on a fixed loopback port, stopped and started again on it."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        from aiosmtpd.controller import Controller

        self._controller_class = Controller
        self.host, self.port = host, servers.free_port(host)
        self.recorder = MailRecorder()
        self.controller: Any = None

    def start(self) -> SmtpServer:
        self.controller = self._controller_class(self.recorder, hostname=self.host, port=self.port, ready_timeout=10)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@dataclass
class OidcGrant:
    """The relying party's side: its credentials and the latest tokens it holds."""

    client_id: str
    client_secret: str
    access_token: str = ""
    refresh_token: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def basic(self) -> dict[str, str]:
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@dataclass
class ProductionStack:
    ca: servers.TestCA
    postgres: servers.PrivatePostgres
    redis: servers.RedisServer
    smtp: SmtpServer
    gunicorn: servers.Gunicorn
    nginx: servers.Nginx
    env: dict[str, str]
    app: Any  # an in-process application on the same stores, for setting up and for looking
    email: str
    password: str
    api_token: str
    app_password: str
    grant: OidcGrant

    @property
    def url(self) -> str:
        return self.nginx.url

    @property
    def services(self) -> Any:
        return self.app.extensions["idp"]

    def http(self) -> requests.Session:
        return servers.https_session(self.ca)

    def sign_in(self) -> requests.Session:
        """Sign in through nginx like a browser; the session then holds the session cookie."""
        session = self.http()
        email, password = self.email, self.password
        page = session.get(self.url + "/login", timeout=15)
        assert page.status_code == 200, page.text[:500]
        answer = session.post(self.url + "/login", data={"csrf_token": csrf_token(page.text), "login": email},
                              headers={"Referer": self.url + "/login"}, timeout=15, allow_redirects=False)
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/login/password"), answer.text[:500]
        page = session.get(self.url + "/login/password", timeout=15)
        assert page.status_code == 200, page.text[:500]
        done = session.post(self.url + "/login/password",
                            data={"csrf_token": csrf_token(page.text), "password": password},
                            headers={"Referer": self.url + "/login/password"}, timeout=15, allow_redirects=False)
        assert done.status_code == 302, done.text[:500]
        name = self.services.settings.session.cookie_name  # with a __Host- prefix on https, or not
        assert [c for c in session.cookies if c.name.endswith(name)], ("no session cookie", done.headers)
        return session

    def authorize(self, browser: requests.Session) -> None:
        """The authorization code flow with PKCE for the signed-in `browser`; the grant then holds
        an access token and a refresh token."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        params = {"response_type": "code", "client_id": self.grant.client_id, "redirect_uri": OUTAGE_REDIRECT,
                  "scope": "openid profile email offline_access", "state": secrets.token_urlsafe(8),
                  "code_challenge": challenge, "code_challenge_method": "S256"}
        answer = browser.get(self.url + "/oauth/authorize?" + urlencode(params), allow_redirects=False, timeout=15)
        assert answer.status_code == 302, answer.text[:500]
        location = answer.headers["Location"]
        assert location.startswith(OUTAGE_REDIRECT), location
        code = parse_qs(urlsplit(location).query)["code"][0]
        tokens = self.http().post(self.url + "/oauth/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": OUTAGE_REDIRECT,
            "code_verifier": verifier}, headers=self.grant.basic, timeout=15)
        assert tokens.status_code == 200, tokens.text[:500]
        body = tokens.json()
        self.grant.access_token, self.grant.refresh_token = body["access_token"], body["refresh_token"]

    def refresh(self, *, timeout: float = 15) -> requests.Response:
        """One refresh grant with the latest refresh token; on success the grant keeps the new ones."""
        with self.grant.lock, self.http() as http:
            answer = http.post(self.url + "/oauth/token", headers=self.grant.basic, timeout=timeout,
                               data={"grant_type": "refresh_token", "refresh_token": self.grant.refresh_token})
            if answer.status_code == 200:
                body = answer.json()
                self.grant.access_token = body["access_token"]
                self.grant.refresh_token = body.get("refresh_token", self.grant.refresh_token)
            return answer


def csrf_token(html: str) -> str:
    start = html.find(OUTAGE_CSRF_MARK)
    assert start >= 0, "the page has no CSRF token: " + html[:300]
    value = html.find('value="', start)
    return html[value + 7: html.find('"', value + 7)]


def _idp(env: dict[str, str], *args: str, stdin: str = "") -> str:
    command = Path(sys.executable).parent / "idp"
    done = subprocess.run([str(command), *args], input=stdin, env=env, capture_output=True, text=True,
                          timeout=60, check=False, cwd=str(servers.ROOT))
    assert done.returncode == 0, f"idp {' '.join(args)}: {done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def production_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProductionStack]:
    from sqlalchemy import create_engine
    from sqlalchemy import text

    from idp import create_app
    from idp.model import RequestContext
    from idp.settings import load_settings

    folder = tmp_path_factory.mktemp("outages")
    started: list[Any] = []
    app = None
    try:
        ca = servers.TestCA(folder / "ca")
        postgres = servers.PrivatePostgres().start()
        started.append(postgres)
        database_url = postgres.create_database("idp")
        # The private cluster runs with synchronous_commit=off for speed; this database commits
        # for real, so that a crash loses nothing that was committed (the property under test).
        admin = create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text('ALTER DATABASE "idp" SET synchronous_commit = on'))
        finally:
            admin.dispose()
        redis = servers.RedisServer(folder / "redis").start()
        started.append(redis)
        smtp = SmtpServer().start()
        started.append(smtp)
        app_port = servers.free_port()
        nginx = servers.Nginx(folder / "nginx", ca, [f"127.0.0.1:{app_port}"])
        instance = folder / "instance"
        instance.mkdir()
        values = {
            "IDP_SECRET_KEY": secrets.token_urlsafe(32),
            "IDP_DATABASE_URL": database_url,
            "IDP_REDIS_URL": redis.url,
            "IDP_SERVER_BASE_URL": nginx.url,
            "IDP_SERVER_TRUSTED_PROXIES": "1",
            "IDP_MAIL_BACKEND": "smtp",
            "IDP_SMTP_HOST": smtp.host,
            "IDP_SMTP_PORT": str(smtp.port),
            "IDP_SMTP_STARTTLS": "false",
            "IDP_MAIL_BACKGROUND_DELIVERY": "true",
            # Every request comes from nginx's address: the per-IP sign-in limit is not under test.
            "IDP_RATELIMIT_SIGNIN_PER_IP": "10000",
            **servers.CHEAP_ARGON2_ENV,
        }
        env = servers.service_env(instance, **values)
        email, password = OUTAGE_EMAIL, "Outage-" + secrets.token_urlsafe(18)
        _idp(env, "user", "create", email, "--name", "Outage Person", "--password-stdin", stdin=password + "\n")
        client = json.loads(_idp(env, "client", "create", "Outage application", "--redirect-uri", OUTAGE_REDIRECT,
                                 "--skip-consent", "--always-refresh", "--json"))

        app = create_app(load_settings(
            testing=True, secret_key=values["IDP_SECRET_KEY"], instance_path=instance,
            database={"url": database_url}, redis={"url": redis.url},
            server={"base_url": nginx.url, "trusted_proxies": 1},
            mail={"backend": "smtp", "background_delivery": False},
            smtp={"host": smtp.host, "port": smtp.port, "starttls": False},
            password={"time_cost": 1, "memory_cost": 64, "parallelism": 1}, log={"json_format": False},
        ))
        services = app.extensions["idp"]
        ctx = RequestContext(ip="198.51.100.20", user_agent="outage tests")
        user = services.users.by_email(email)
        assert user is not None
        services.get(SECURITY).notifications.set(user, "both", ctx)  # a mail on every sign-in
        credentials = services.get(CREDENTIALS)
        _item, api_token = credentials.create_api_token(user, "Outage API token", ["account:read"], 30, ctx)
        _item, app_password = credentials.create_app_password(user, "Outage app password", ctx)

        gunicorn = servers.Gunicorn(folder / "gunicorn", env, port=app_port, workers=2)
        gunicorn.start()
        started.append(gunicorn)
        nginx.start()
        started.append(nginx)
        stack = ProductionStack(
            ca=ca, postgres=postgres, redis=redis, smtp=smtp, gunicorn=gunicorn, nginx=nginx, env=env, app=app,
            email=email, password=password, api_token=api_token, app_password=app_password,
            grant=OidcGrant(client["client_id"], client["client_secret"]),
        )
        yield stack
    finally:
        for server in reversed(started):
            if isinstance(server, servers.PrivatePostgres):
                continue
            server.stop()
        if app is not None:
            app.extensions["idp"].close()
        for server in started:
            if isinstance(server, servers.PrivatePostgres):
                server.remove()

# == end of the outage tests' fixtures ========================================================



# == Multi-host tests (test_hosts.py, test_redis_modes.py): hosts A and B (network namespaces),
# == a private PostgreSQL cluster and a Redis topology (Cluster, Sentinel) on the root side; the
# == fixtures live in topology.py next to the helpers they start.

from tests.production.topology import hosts  # noqa: E402, F401
from tests.production.topology import hosts_postgres  # noqa: E402, F401
from tests.production.topology import redis_topology  # noqa: E402, F401

# == end of the multi-host tests' fixtures
