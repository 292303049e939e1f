"""One instance of this service federating with another: the upstream is this service's own OpenID
Provider (its ID token carries only the protocol claims; e-mail and name come from userinfo),
served over https with its own database, signing a person in to the instance under test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis

from idp import create_app
from idp.federation.service import ConnectionInput
from idp.oidc import OIDC
from idp.stores.migrate import upgrade
from tests.conftest import DATABASE
from tests.conftest import Person
from tests.conftest import make_settings
from tests.conftest import postgresql_database
from tests.conftest import truncate_all
from tests.e2e.conftest import LiveServer
from tests.e2e.conftest import bind_socket
from tests.federation.conftest import REDIRECT
from tests.oidc.conftest import browser_authorize


@dataclass
class Upstream:
    url: str
    services: Any
    http: Any

    def person(self, email: str, name: str) -> Person:
        password = "upstream password 1"
        user = self.services.accounts.create_user(email, password, display_name=name)
        return Person(user.id, user.email, password)

    def register(self) -> tuple[str, str]:
        client, secret = self.services.get(OIDC).clients.create(
            "Partner instance", redirect_uris=[REDIRECT], scopes=["openid", "profile", "email"],
        )
        return client.client_id, secret


@pytest.fixture(scope="module")
def upstream_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if DATABASE == "postgresql":
        with postgresql_database(f"idp_test_upstream_{os.getpid()}") as url:
            yield url
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('upstream-db') / 'idp.sqlite3'}"
        upgrade(url)
        yield url


@pytest.fixture
def upstream(tmp_path: Any, upstream_database: str, redis_url: str, tenant: Any) -> Iterator[Upstream]:
    """The other instance: its own database and Redis database, https with the tenant's
    certificate (which the instance under test trusts through `federation.ca_bundle`)."""
    truncate_all(upstream_database)
    redis_db = urlsplit(redis_url)._replace(path="/1").geturl()
    store = redis.Redis.from_url(redis_db)
    store.flushdb()
    sock = bind_socket()
    url = f"https://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(make_settings(tmp_path / "upstream", upstream_database, redis_db,
                                   server={"base_url": url}, oidc={"issuer": url}))
    server = LiveServer(app, sock=sock, tls=(tenant.cert, tenant.key)).start()
    browser = tenant.http()  # trusts the same certificate
    try:
        yield Upstream(url, app.extensions["idp"], browser)
    finally:
        browser.close()
        server.stop()
        app.extensions["idp"].close()
        store.flushdb()
        store.close()


def _connect(sso: Any, upstream: Upstream, *, jit: bool = True) -> Any:
    client_id, secret = upstream.register()
    return sso.service.save_connection(sso.org("lovelace"), ConnectionInput(
        kind="oidc", name="Lovelace instance", client_id=client_id, domains="lovelace.example",
        issuer=upstream.url, client_secret=secret, jit_enabled=jit,
    ))


def _sign_in_upstream(client: Any, sso: Any, upstream: Upstream, person: Person) -> Any:
    start = sso.start(client, person.email)
    assert start.status_code == 302 and start.headers["Location"].startswith(upstream.url)
    callback = browser_authorize(upstream.http, upstream.url, start.headers["Location"], person, REDIRECT)
    return client.get(callback.removeprefix("http://localhost"))


def test_a_person_of_another_instance_arrives_just_in_time(client, services, sso, upstream):
    _connect(sso, upstream)
    ada = upstream.person("ada@lovelace.example", "Ada Lovelace")
    response = _sign_in_upstream(client, sso, upstream, ada)
    assert response.status_code == 302 and response.headers["Location"] == "/", response.get_data(as_text=True)[:300]
    user = services.users.by_email("ada@lovelace.example")
    assert user is not None and user.display_name == "Ada Lovelace" and user.password_hash is None
    [link] = sso.service.sql.links_of(user.id)
    upstream_user = upstream.services.users.get(ada.id)
    assert (link.namespace, link.subject) == (upstream.url, upstream_user.subject)
    assert link.label == "ada@lovelace.example"
    assert client.get("/").status_code == 200

