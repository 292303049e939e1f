"""Smoke test: `idp serve --demo` as a separate process, signed in to over real HTTP."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import requests

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_demo_and_sign_in_over_http(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env["IDP_INSTANCE_PATH"] = str(tmp_path / "instance")
    process = subprocess.Popen(
        [sys.executable, "-m", "idp.cli", "serve", "--demo", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        output = ""
        deadline = time.monotonic() + 60
        while "sign in at:" not in output and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            output += line
        password = re.search(r"demo password:\s+(\S+)", output)
        assert password, output
        # The service names itself `localhost` (WebAuthn refuses an IP address as RP id).
        assert f"sign in at:        http://localhost:{port}/login" in output
        base = f"http://localhost:{port}"
        for _ in range(600):
            try:
                if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise AssertionError("the service did not answer /healthz within a minute")
        browser = requests.Session()
        page = browser.get(f"{base}/login", timeout=20)
        token = CSRF.search(page.text).group(1)
        page = browser.post(f"{base}/login", data={"csrf_token": token, "login": "demo@example.com"}, timeout=20)
        token = CSRF.search(page.text).group(1)
        home = browser.post(f"{base}/login/password", data={"csrf_token": token, "password": password.group(1)}, timeout=10)
        assert home.status_code == 200
        assert home.url == f"{base}/"
        assert "Demo Person" in home.text and "Demo Organisation" in home.text
        assert requests.get(f"{base}/readyz", timeout=20).json()["status"] == "ready"
        # With no configured public URL, the served address is the issuer the demo application uses.
        discovery = requests.get(f"{base}/.well-known/openid-configuration", timeout=20).json()
        assert discovery["issuer"] == base
        assert discovery["authorization_endpoint"].startswith(f"{base}/")
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
