"""Helpers for the app password and API token tests: a signed-in person and secrets made through the service."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from idp.model import RequestContext
from idp.security.credentials import CREDENTIALS
from idp.security.credentials.service import CredentialService
from tests.conftest import Person
from tests.e2e.conftest import LiveServer

CTX = RequestContext(ip="203.0.113.7", user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")


@dataclass
class Holder:
    """A person with their account, for creating credentials directly through the service."""

    person: Person
    user: Any


@pytest.fixture
def credentials(services: Any) -> CredentialService:
    service: CredentialService = services.get(CREDENTIALS)
    return service


@pytest.fixture
def holder(make_user: Any, services: Any) -> Holder:
    person = make_user()
    return Holder(person, services.users.get(person.id))


@pytest.fixture
def signed_in(auth: Any, holder: Holder) -> Holder:
    auth.sign_in(holder.person.email, holder.person.password)
    return holder


NGINX = "/usr/sbin/nginx"
PAGE = "<!doctype html><title>Behind the proxy</title><p>protected page</p>\n"

CONFIG = """
worker_processes 1;
master_process off;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 64; }}
http {{
  access_log {tmp}/access.log;
  client_body_temp_path {tmp}/client_body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {tmp}/site;
    location / {{
      auth_request /_forward_auth;
      auth_request_set $auth_user $upstream_http_x_auth_user;
      auth_request_set $auth_method $upstream_http_x_auth_method;
      add_header X-Seen-User $auth_user always;
      add_header X-Seen-Method $auth_method always;
      try_files /index.html =404;
    }}
    location = /_forward_auth {{
      internal;
      proxy_pass http://127.0.0.1:{app_port}/auth/forward;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
    }}
  }}
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until nginx accepts connections (it exits with its error log when the config is wrong)."""
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.05):
                return
        except OSError:
            try:
                process.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError("nginx exited: " + (log.read_text() if log.exists() else "no log")) from None
    raise RuntimeError("nginx did not start listening")


@pytest.fixture
def nginx(app: Any, tmp_path: Path) -> Iterator[str]:
    """nginx on a free loopback port, asking the live app about every request; stopped at the end."""
    server = LiveServer(app).start()
    folder = tmp_path / "nginx"
    (folder / "site").mkdir(parents=True)
    (folder / "site" / "index.html").write_text(PAGE)
    port = _free_port()
    conf = folder / "nginx.conf"
    conf.write_text(CONFIG.format(tmp=folder, port=port, app_port=server.port))
    process = subprocess.Popen(
        [NGINX, "-p", str(folder), "-c", str(conf), "-e", str(folder / "error.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        _wait_listening(port, process, folder / "error.log")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()
        server.stop()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    session = requests.Session()
    session.trust_env = False  # straight to loopback, whatever proxy the environment names
    yield session
    session.close()
