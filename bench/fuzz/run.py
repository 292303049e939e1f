"""Generated bad input against the service: no answer may be a server error.

usage: .venv/bin/python bench/fuzz/run.py [--examples N]   (after ./scripts/test or pip install -e ".[test]")

The application runs in this process (its WSGI side: every page and JSON endpoint, the code the
gunicorn workers run) on a private PostgreSQL cluster and a private redis-server started here
(tests/production/servers.py), so tens of thousands of cases take minutes. Two parts:

- schemathesis on every operation of the kAuth OpenAPI document (`/api/kauth/v1/openapi.json`),
  in its positive mode (what the schema allows) and its negative mode (what it does not);
- Hypothesis on every form and OAuth endpoint: arbitrary text (NUL, controls, non-UTF-8 escapes,
  long strings) in each field, query parameter and credential header. It runs signed out and
  signed in, with a valid CSRF token for the session, so the input reaches the views past the
  CSRF check.

A case fails when the answer is a 5xx or the application logged an unhandled error. The run
prints the count per endpoint and status, and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import base64
import collections
import logging
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from idp.oidc import OIDC  # noqa: E402
from idp.security.credentials import CREDENTIALS  # noqa: E402
from tests.production.servers import PrivatePostgres  # noqa: E402
from tests.production.servers import RedisServer  # noqa: E402
from tests.production.servers import service_env  # noqa: E402

PASSWORD = "fuzzing passphrase one"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# Text that breaks parsers: controls and NUL, surrogate-free unicode, percent and HTML escapes,
# very long values; ids that overflow integers.
TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=8),
    st.sampled_from(["", " ", "\x00", "%00", "%ff%fe", "<script>", "' OR 1=1 --", "../../etc/passwd",
                     "9" * 30, "-1", "1e400", "{}", "[]", "null", "a" * 5000, "é" * 300, "\ud7ff"]),
)
BASIC = st.one_of(
    st.just("Basic //46/w=="),
    st.builds(lambda a, b: "Basic " + base64.b64encode(f"{a}:{b}".encode()).decode(), TEXT, TEXT),
    st.builds(lambda t: "Bearer " + t, TEXT), TEXT,
)

# endpoint -> (method, form or query fields, whether it is tried signed in)
ENDPOINTS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "/login": ("POST", ("login", "next"), False),
    "/login/password": ("POST", ("password",), False),
    "/login/totp": ("POST", ("code",), False),
    "/login/recovery-code": ("POST", ("code",), False),
    "/login/security-key": ("POST", ("credential",), False),
    "/login/passkey": ("POST", ("credential",), False),
    "/sso": ("POST", ("login", "next"), False),
    "/sso/callback": ("POST", ("state", "code", "error", "error_description", "iss"), False),
    "/sso/verify": ("POST", ("code",), False),
    "/oauth/authorize": ("GET", ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
                                 "code_challenge", "code_challenge_method", "prompt", "max_age", "claims",
                                 "request", "login_hint", "id_token_hint", "resume"), True),
    "/oauth/token": ("POST", ("grant_type", "code", "redirect_uri", "client_id", "client_secret", "refresh_token",
                              "scope", "code_verifier"), False),
    "/oauth/introspect": ("POST", ("token", "token_type_hint", "client_id", "client_secret"), False),
    "/oauth/revoke": ("POST", ("token", "token_type_hint", "client_id"), False),
    "/oauth/userinfo": ("POST", ("access_token",), False),
    "/oauth/logout": ("GET", ("id_token_hint", "post_logout_redirect_uri", "state", "client_id"), True),
    "/oauth/consent": ("POST", ("request_id", "decision", "scope"), True),
    "/reauth": ("POST", ("password", "next"), True),
    "/account/language": ("POST", ("language",), True),
    "/unlock/not-a-token": ("POST", ("password", "confirm"), False),
    "/security/activity/": ("GET", ("q", "page", "kind", "since", "until"), True),
    "/security/activity/export.csv": ("GET", ("q", "kind", "since", "until"), True),
    "/security/notifications": ("POST", ("choice",), True),
    "/security/lockout": ("POST", ("threshold",), True),
    "/security/sessions/end-others": ("POST", (), True),
    "/security/app-passwords/new": ("POST", ("name",), True),
    "/security/api-tokens/new": ("POST", ("name", "scopes", "days"), True),
    "/security/compromised/": ("POST", ("current_password", "new_password", "confirm"), True),
    "/mfa/totp": ("POST", ("code",), True),
    "/mfa/keys/add": ("POST", ("name", "credential", "kind"), True),
    "/mfa/reauth": ("POST", ("code", "method", "credential", "next"), True),
}


class ErrorLog(logging.Handler):
    """Counts the unhandled errors the application logs (a 5xx that a view turned into a page)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "unhandled error":
            self.records.append(f"{record.getMessage()}: ...{(record.exc_text or '')[-1200:]}")


def main() -> None:
    started = time.monotonic()
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=400, help="Hypothesis examples per endpoint and mode")
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="idp-bench-fuzz-"))
    pg = PrivatePostgres().start()
    redis_server = RedisServer(work / "redis").start()
    try:
        env = service_env(
            work, IDP_SECRET_KEY="fuzz-secret-key-fuzz-secret-key", IDP_DATABASE_URL=pg.create_database("fuzz"),
            IDP_REDIS_URL=redis_server.url + "/0", IDP_SERVER_BASE_URL="https://localhost",
            IDP_SERVER_TRUSTED_PROXIES="1", IDP_PASSWORD_TIME_COST="1", IDP_PASSWORD_MEMORY_COST="8192",
            IDP_PASSWORD_PARALLELISM="1", IDP_RATELIMIT_SIGNIN_PER_IP="100000",
            IDP_RATELIMIT_SIGNIN_PER_ACCOUNT_IP="100000", IDP_LOCKOUT_DEFAULT_THRESHOLD="100",
            IDP_SECURITY_CREDENTIALS_PER_IP="1000000", IDP_SECURITY_CREDENTIALS_FAILURES_PER_IP="100000",
            IDP_LOG_LEVEL="ERROR",
        )
        os.environ.clear()
        os.environ.update(env)
        import subprocess

        subprocess.run([sys.executable, "-m", "idp.cli", "db", "upgrade"], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        results = run(args)
    finally:
        redis_server.stop()
        pg.stop()
    report(results)
    print(f"\n{time.monotonic() - started:.0f} s")
    sys.exit(1 if any(r["failures"] for r in results.values()) else 0)


def run(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    import schemathesis
    from schemathesis import GenerationMode

    from idp import create_app
    from idp.model import RequestContext

    app = create_app()
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    container = app.extensions["idp"]
    user = container.accounts.create_user("fuzz@example.com", PASSWORD, display_name="Fuzz")
    container.get(OIDC).clients.create("Fuzz app", redirect_uris=["https://rp.example/cb"])  # a real client
    _item, api_token = container.get(CREDENTIALS).create_api_token(
        container.users.get(user.id), "Fuzz", ["account:read", "activity:read", "sessions:read"], 30,
        RequestContext(ip="10.0.0.1"),
    )
    results: dict[str, dict[str, Any]] = collections.defaultdict(
        lambda: {"cases": 0, "statuses": collections.Counter(), "failures": []})

    def record(label: str, status: int) -> None:
        entry = results[label]
        entry["cases"] += 1
        entry["statuses"][status] += 1
        logged, errors.records[:] = list(errors.records), []
        if status >= 500 or logged:
            entry["failures"].append(f"{status} {logged[:1]}")

    common = settings(max_examples=args.examples, deadline=None, derandomize=False, database=None,
                      suppress_health_check=list(HealthCheck))

    # -- every operation of both OpenAPI documents (kAuth's, and the account API's with a token) --
    for name, url, auth in (("kAuth", "/api/kauth/v1/openapi.json", {}),
                            ("account API", "/api/v1/openapi.json", {"Authorization": f"Bearer {api_token}"})):
        schema = schemathesis.openapi.from_wsgi(url, app)
        for found in schema.get_all_operations():
            operation = found.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                label = f"{name} {operation.method.upper()} {operation.path} ({mode.value})"

                _operation_test(common, record, label, auth, operation.as_strategy(generation_mode=mode))()

    # -- every form and OAuth endpoint ------------------------------------------------------------
    anonymous, signed_in = app.test_client(), app.test_client()
    base = {"base_url": "https://localhost"}
    signed_in_token = _sign_in(signed_in, base)
    anonymous_token = _token(anonymous.get("/login", **base).get_data(as_text=True))
    for path, (method, fields, with_session) in ENDPOINTS.items():
        clients = [("signed out", anonymous, anonymous_token)] + (
            [("signed in", signed_in, signed_in_token)] if with_session else [])
        for who, client, token in clients:
            label = f"{method} {path} ({who})"

            _endpoint_test(common, record, label, client, token, method, path, fields, base)()
    del user
    container.close()
    return results


def _operation_test(common: Any, record: Any, label: str, auth: dict[str, str], strategy: Any) -> Any:
    @common
    @given(case=strategy, authorized=st.booleans())
    def fuzz_operation(case: Any, authorized: bool) -> None:
        response = case.call(headers=(auth if authorized else {}) | _client_ip())
        record(label, response.status_code)

    return fuzz_operation


def _endpoint_test(common: Any, record: Any, label: str, client: Any, token: str, method: str, path: str,
                   fields: tuple[str, ...], base: dict[str, str]) -> Any:
    @common
    @given(values=st.fixed_dictionaries({}, optional=dict.fromkeys(fields, TEXT)),
           authorization=st.none() | BASIC, keep_token=st.booleans())
    def fuzz_endpoint(values: dict[str, str], authorization: str | None, keep_token: bool) -> None:
        headers = {"Origin": "https://localhost", **_client_ip()} | (
            {"Authorization": _on_the_wire(authorization)} if authorization else {})
        if method == "GET":
            response = client.get(path, query_string=values, headers=headers, **base)
        else:
            response = client.post(path, data=values | ({"csrf_token": token} if keep_token else {}),
                                   headers=headers, **base)
        record(label, response.status_code)

    return fuzz_endpoint


def _on_the_wire(value: str) -> str:
    """A header value as a server receives it: UTF-8 bytes read as Latin-1, without the line
    breaks and NUL that no HTTP parser lets through."""
    return value.encode().decode("latin-1").translate({0: None, 10: None, 13: None})


_ips = iter(range(1, 1 << 24))


def _client_ip() -> dict[str, str]:
    """A new client address for each case (behind the one trusted proxy), so that the per-IP
    limits (kAuth's 120 a minute, the sign-in's) do not turn the rest of the run into 429s."""
    n = next(_ips)
    return {"X-Forwarded-For": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"}


def _token(html: str) -> str:
    found = CSRF.search(html)
    if found is None:
        raise SystemExit("no CSRF token on the page")
    return found.group(1)


def _sign_in(client: Any, base: dict[str, str]) -> str:
    origin = {"Origin": "https://localhost"}
    client.post("/login", data={"csrf_token": _token(client.get("/login", **base).get_data(as_text=True)),
                                "login": "fuzz@example.com"}, headers=origin, **base)
    answer = client.post("/login/password", data={
        "csrf_token": _token(client.get("/login/password", **base).get_data(as_text=True)), "password": PASSWORD,
    }, headers=origin, **base)
    if answer.status_code != 302:
        raise SystemExit(f"the fuzz account could not sign in: {answer.status_code}")
    return _token(client.get("/", **base).get_data(as_text=True))


def report(results: dict[str, dict[str, Any]]) -> None:
    total = sum(r["cases"] for r in results.values())
    failures = sum(len(r["failures"]) for r in results.values())
    print(f"\n{total} cases, {failures} server errors, {len(results)} endpoints and modes\n")
    print("| endpoint | cases | answers | server errors |")
    print("|---|---:|---|---:|")
    for label, r in results.items():
        answers = ", ".join(f"{s}: {n}" for s, n in sorted(r["statuses"].items()))
        print(f"| {label} | {r['cases']} | {answers} | {len(r['failures'])} |")
    for label, r in results.items():
        for failure in r["failures"][:3]:
            print(f"\nFAILED {label}: {failure}")


if __name__ == "__main__":
    main()
