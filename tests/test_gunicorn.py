"""Production shape: gunicorn's asgi workers running idp.asgi, sharing SQL and Redis; no request depends on a
worker's memory."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from idp.model import RequestContext

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_session_ended_in_redis_is_refused_by_every_worker(services, make_user, database_url, redis_url, tmp_path):
    person = make_user()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env.update(
        IDP_INSTANCE_PATH=str(tmp_path), IDP_SECRET_KEY="gunicorn-test-secret", IDP_DATABASE_URL=database_url,
        IDP_REDIS_URL=redis_url, IDP_PASSWORD_TIME_COST="1", IDP_PASSWORD_MEMORY_COST="64",
        IDP_PASSWORD_PARALLELISM="1", IDP_MAIL_BACKGROUND_DELIVERY="false", IDP_WORKERS="3",
        IDP_BIND=f"127.0.0.1:{port}", PROMETHEUS_MULTIPROC_DIR=str(tmp_path),
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "config" / "gunicorn.conf.py"),
         "idp.asgi:create_asgi_app()"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if requests.get(f"{base}/readyz", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise AssertionError("gunicorn did not become ready within a minute")
        browser = requests.Session()
        token = CSRF.search(browser.get(f"{base}/login", timeout=20).text).group(1)
        page = browser.post(f"{base}/login", data={"csrf_token": token, "login": person.email}, timeout=20)
        token = CSRF.search(page.text).group(1)
        home = browser.post(f"{base}/login/password", data={"csrf_token": token, "password": person.password}, timeout=20)
        assert home.url == f"{base}/"
        # fresh connections spread the requests over the workers
        cookie = {"idp_session": browser.cookies["idp_session"]}
        assert all(requests.get(f"{base}/", cookies=cookie, allow_redirects=False, timeout=20).status_code == 200
                   for _ in range(12))
        services.sessions.end_all(person.id, RequestContext(ip="test"))
        answers = [requests.get(f"{base}/", cookies=cookie, allow_redirects=False, timeout=20).status_code
                   for _ in range(12)]
        assert answers == [302] * 12
        discovery = requests.get(f"{base}/.well-known/openid-configuration", timeout=20)
        assert discovery.status_code == 200 and discovery.json()["issuer"] and discovery.headers["ETag"]
        # The lane adds public-document counts to the metrics within a second.
        for _ in range(50):
            metrics = requests.get(f"{base}/metrics", timeout=20).text
            if 'endpoint="oidc.discovery"' in metrics:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the lane's counts did not reach /metrics within five seconds")
        assert "idp_signins_total" in metrics and 'endpoint="oidc.discovery"' in metrics
    finally:
        server.terminate()
        server.wait(timeout=20)
