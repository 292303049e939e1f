"""Redis over TLS (`rediss://`) with a CA file and a client certificate, as a managed Redis
or a hardened server asks: the service signs people in through it, and says unready without
the certificate the server demands."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from idp import create_app
from idp.settings import RedisSettings
from idp.stores import redis as redis_store
from tests.conftest import AuthActions
from tests.conftest import make_settings
from tests.production.servers import RedisServer
from tests.production.servers import TestCA
from tests.production.servers import free_port


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    folder = tmp_path_factory.mktemp("redis-tls")
    ca = TestCA(folder / "ca")
    cert, key = ca.issue("redis-server", dns=["localhost"], ips=["127.0.0.1"])
    client_cert, client_key = ca.issue("idp-client", client=True)
    port = free_port()
    server = RedisServer(folder / "data", args=[
        "--port", "0", "--tls-port", str(port), "--tls-cert-file", str(cert), "--tls-key-file", str(key),
        "--tls-ca-cert-file", str(ca.cert_path), "--tls-auth-clients", "yes",
    ])
    server.port = port  # the only port it listens on is the TLS one
    server.start()
    try:
        yield {"url": f"rediss://127.0.0.1:{port}/0", "tls_ca": str(ca.cert_path),
               "tls_cert": str(client_cert), "tls_key": str(client_key)}
    finally:
        server.stop()


def test_a_client_certificate_and_ca_file_reach_a_tls_redis(tls_redis: dict[str, str]) -> None:
    client = redis_store.connect(RedisSettings(**tls_redis))  # type: ignore[arg-type]
    try:
        assert redis_store.ready(client, "idp:readyz")
    finally:
        redis_store.close(client)
    # The server asks for a client certificate: without one, the service is not ready.
    bare = redis_store.connect(RedisSettings(url=tls_redis["url"], tls_ca=tls_redis["tls_ca"]))  # type: ignore[arg-type]
    try:
        assert not redis_store.ready(bare, "idp:readyz")
    finally:
        redis_store.close(bare)


def test_people_sign_in_with_their_sessions_in_a_tls_redis(
        tls_redis: dict[str, str], tmp_path: Path, database_url: str, redis_url: str, clean_stores: None) -> None:
    settings = make_settings(tmp_path, database_url, redis_url, redis=tls_redis)
    app = create_app(settings)
    try:
        from tests.conftest import UserFactory

        person = UserFactory(app.extensions["idp"])()
        client = app.test_client()
        assert client.get("/readyz").get_json() == {"status": "ready", "checks": {"database": True, "redis": True}}
        home = AuthActions(client).sign_in(person.email, person.password)
        assert home.status_code == 302 and home.headers["Location"] == "/"
        assert client.get("/").status_code == 200
        assert len(app.extensions["idp"].sessions.list(person.id)) == 1
    finally:
        app.extensions["idp"].close()
