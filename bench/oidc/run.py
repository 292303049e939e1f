"""One benchmark run: this service under gunicorn (PostgreSQL + Redis) and node-oidc-provider
(in-memory adapter), the same worker count, the same load tool (wrk), the same scenarios.

usage: .venv/bin/python bench/oidc/run.py [--workers 1] [--duration 10] [--connections 16] [--peer-jwt]
                                         [--only ours|peer] [--scenario NAME ...]
Prints a Markdown table (requests/s, p50, p99, errors). Needs wrk, node, PostgreSQL and Redis on
127.0.0.1, and `npm ci` in bench/oidc/node. Not a test: pytest never collects it.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PY = ROOT / ".venv" / "bin" / "python"
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
SCENARIOS = ["discovery", "jwks", "client_credentials", "refresh", "userinfo", "introspection", "authorize"]
# The peer's in-memory adapter has no signed-in session to replay: the authorization endpoint is
# measured on this service alone (before/after a change).
OURS_ONLY = {"authorize"}


def wait_for(url: str, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not come up")


def basic(pair: list[str]) -> str:
    return "Basic " + base64.b64encode(f"{pair[0]}:{pair[1]}".encode()).decode()


def wrk(
    url: str, scenario: str, tokens: str, paths: dict[str, str], auth: dict[str, str], args: argparse.Namespace
) -> dict[str, float]:
    env = os.environ | {"SCENARIO": scenario, "TOKENS": tokens, **paths, **auth}
    target = url + {"discovery": "/.well-known/openid-configuration", "jwks": paths["JWKS_PATH"]}.get(scenario, "/")
    command = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
               "-s", str(HERE / "load.lua"), target]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def latency(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50": latency("50"), "p99": latency("99"), "errors": int(errors.group(1)) if errors else 0,
            "requests": total}


def paths_of(url: str) -> dict[str, str]:
    with urllib.request.urlopen(f"{url}/.well-known/openid-configuration") as resp:
        meta = json.loads(resp.read())
    return {
        "TOKEN_PATH": urlsplit(meta["token_endpoint"]).path,
        "USERINFO_PATH": urlsplit(meta["userinfo_endpoint"]).path,
        "INTROSPECT_PATH": urlsplit(meta["introspection_endpoint"]).path,
        "JWKS_PATH": urlsplit(meta["jwks_uri"]).path,
    }


def authorize_gives_a_code(url: str, data: dict[str, object]) -> None:
    """The scenario measures nothing unless the session is accepted and a code comes back."""
    lua = (HERE / "load.lua").read_text()
    query = re.search(r'local authorize = "([^"]+)"\s*\.\. "([^"]+)"\s*\.\. "([^"]+)"', lua)
    path = "".join(query.groups())  # type: ignore[union-attr]

    class Keep(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(Keep)
    request = urllib.request.Request(url + path, headers={"Cookie": str(data["session_cookie"])})
    try:
        opener.open(request, timeout=10)
        location = ""
    except urllib.error.HTTPError as answer:
        location = answer.headers.get("Location", "")
    if "code=" not in location:
        raise SystemExit(f"the authorize scenario is broken: {location or 'no redirect'}")


def run_all(url: str, tokens: str, args: argparse.Namespace, only: list[str] | None = None
            ) -> dict[str, dict[str, float]]:
    data = json.loads(Path(tokens).read_text())
    auth = {"RP_AUTH": basic(data["rp"]), "SERVICE_AUTH": basic(data["service"])}
    paths = paths_of(url)
    wanted = [s for s in args.scenario or SCENARIOS if only is None or s in only]
    if "authorize" in wanted:
        authorize_gives_a_code(url, data)
    return {s: wrk(url, s, tokens, paths, auth, args) for s in wanted}


def ours(args: argparse.Namespace, work: Path) -> dict[str, dict[str, float]]:
    from sqlalchemy import create_engine
    from sqlalchemy import text

    name = "idp_bench_oidc"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    port = args.port
    env = os.environ | {
        "IDP_SECRET_KEY": "bench-secret", "IDP_DATABASE_URL": PG_ADMIN.rsplit("/", 1)[0] + f"/{name}",
        "IDP_REDIS_URL": REDIS, "IDP_SERVER_BASE_URL": f"http://127.0.0.1:{port}", "IDP_LOG_LEVEL": "WARNING",
        "IDP_INSTANCE_PATH": str(work), "IDP_MAIL_BACKGROUND_DELIVERY": "false",
        "IDP_WORKERS": str(args.workers), "IDP_THREADS": str(args.threads), "IDP_BIND": f"127.0.0.1:{port}",
        # The peer writes no access log; neither do we here (production keeps ours on).
        "IDP_ACCESS_LOG": "off",
    }
    tokens = str(work / "ours.json")
    subprocess.run([str(PY), str(HERE / "seed.py"), tokens, str(args.refresh_tokens)], env=env, check=True)
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", str(ROOT / "config" / "gunicorn.conf.py"),
         "idp.asgi:create_asgi_app()"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        return run_all(f"http://127.0.0.1:{port}", tokens, args)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def peer(args: argparse.Namespace, work: Path, *, jwt: bool = False) -> dict[str, dict[str, float]]:
    port = args.port + 1
    tokens = str(work / "peer.json")
    # One Node process per worker would each hold its own in-memory store; with one worker the
    # peer is one process, exactly like one gunicorn worker.
    server = subprocess.Popen(
        ["node", str(HERE / "node" / "server.mjs"), str(port), tokens, str(args.peer_refresh_tokens)],
        cwd=HERE / "node", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env=os.environ | {"PEER_JWT_ACCESS_TOKENS": "1" if jwt else "0"},
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/.well-known/openid-configuration", 120)
        if jwt:
            return run_all(f"http://127.0.0.1:{port}", tokens, args, only=["client_credentials"])
        return run_all(f"http://127.0.0.1:{port}", tokens, args, only=[s for s in SCENARIOS if s not in OURS_ONLY])
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4, help="threads per worker for the Flask application")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--refresh-tokens", type=int, default=40000, help="seeded for this service")
    parser.add_argument("--peer-refresh-tokens", type=int, default=50000, help="seeded for the peer")
    parser.add_argument("--port", type=int, default=8150)
    parser.add_argument("--only", choices=["ours", "peer"], help="run one server only")
    parser.add_argument("--peer-jwt", action="store_true",
                        help="also run the peer with RFC 9068 JWT access tokens (client credentials row)")
    parser.add_argument("--scenario", choices=SCENARIOS, action="append", help="run these scenarios only")
    args = parser.parse_args()
    if args.workers != 1:
        raise SystemExit("the peer's in-memory adapter is per process: compare one worker with one process")
    for tool in ("wrk", "node"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed")
    with tempfile.TemporaryDirectory(prefix="idp-bench-") as tmp:
        results = {}
        if args.only != "peer":
            results["this service (gunicorn)"] = ours(args, Path(tmp))
        if args.only != "ours":
            results["node-oidc-provider"] = peer(args, Path(tmp))
            if args.peer_jwt:
                results["node-oidc-provider, JWT access tokens"] = peer(args, Path(tmp), jwt=True)
    print(f"\n{args.workers} worker, wrk -t1 -c{args.connections} -d{args.duration}s\n")
    print("| scenario | server | requests/s | p50 ms | p99 ms | non-2xx |")
    print("|---|---|---:|---:|---:|---:|")
    for scenario in args.scenario or SCENARIOS:
        for server, rows in results.items():
            if scenario not in rows:
                continue
            r = rows[scenario]
            print(f"| {scenario} | {server} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} |")
    json.dump(results, sys.stderr)


if __name__ == "__main__":
    main()
