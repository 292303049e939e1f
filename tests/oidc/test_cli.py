"""`idp client` and `idp keys`, for people and scripts (--json)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from idp.cli import main


@pytest.fixture
def run(settings: Any, services: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("IDP_SECRET_KEY", "test-secret-key")
    monkeypatch.setenv("IDP_TESTING", "true")
    monkeypatch.setenv("IDP_INSTANCE_PATH", str(settings.instance_path))
    monkeypatch.setenv("IDP_DATABASE_URL", settings.database.url.get_secret_value())
    monkeypatch.setenv("IDP_REDIS_URL", settings.redis.url.get_secret_value())

    def invoke(*args: str, code: int = 0) -> Any:
        result = CliRunner().invoke(main, list(args))
        assert result.exit_code == code, result.output
        return result

    return invoke


def test_client_lifecycle_in_json(run: Any, services: Any) -> None:
    created = json.loads(run("client", "create", "Shop", "--redirect-uri", "https://shop.example/cb",
                             "--post-logout-uri", "https://shop.example/bye", "--skip-consent", "--json").output)
    client_id, secret = created["client_id"], created["client_secret"]
    assert secret and created["skip_consent"] is True and "secret_hash" not in created
    stored = services.ext["oidc"].clients.get(client_id)
    assert stored.secret_hash != secret and stored.secret_hash.startswith("sha256$")
    listed = json.loads(run("client", "list", "--json").output)
    assert [c["client_id"] for c in listed] == [client_id]
    shown = json.loads(run("client", "show", client_id, "--json").output)
    assert shown["redirect_uris"] == ["https://shop.example/cb"] and "client_secret" not in shown
    rotated = json.loads(run("client", "rotate-secret", client_id, "--json").output)["client_secret"]
    assert rotated != secret
    assert json.loads(run("client", "delete", client_id, "--json").output) == {"deleted": client_id}
    assert "no client" in run("client", "show", client_id, code=2).output


def test_client_create_in_text_and_bad_input(run: Any) -> None:
    out = run("client", "create", "Mobile", "--kind", "public", "--redirect-uri", "http://127.0.0.1:8080/cb").output
    assert "created client" in out and "secret" not in out
    assert "loopback" in run("client", "create", "Bad", "--redirect-uri", "http://shop.example/cb", code=2).output
    assert "redirect URI" in run("client", "create", "None", code=2).output
    out = run("client", "create", "Batch", "--kind", "service", "--scope", "reports").output
    assert "client secret (shown once)" in out


def test_generated_client_ids_are_letters_and_digits(services: Any) -> None:
    # A generated id starting with "-" was once read as an option by `idp client show`.
    clients = services.ext["oidc"].clients
    ids = [clients.create(f"App {i}", kind="service")[0].client_id for i in range(60)]
    assert all(i.isalnum() and len(i) == 24 for i in ids) and len(set(ids)) == 60


@pytest.mark.parametrize("client_id", ["-leading-dash", "has space", "x" * 65, "", "semi;colon"])
def test_a_chosen_client_id_must_be_plain(services: Any, client_id: str) -> None:
    from idp.errors import ValidationError

    with pytest.raises(ValidationError, match="client id"):
        services.ext["oidc"].clients.create("App", kind="service", client_id=client_id)


def test_keys_rotate_keeps_old_keys_published_until_prune(run: Any, services: Any, client: Any, clock: Any) -> None:
    before = {k["kid"] for k in client.get("/oauth/jwks").get_json()["keys"]}
    rotated = json.loads(run("keys", "rotate", "--json").output)
    assert set(rotated["retired"]) == before
    keys = services.ext["oidc"].keys
    keys._loaded = None  # another process rotated: this one reloads (as after key_cache_seconds)
    published = {k["kid"] for k in client.get("/oauth/jwks").get_json()["keys"]}
    assert before < published and len(published) == 4
    active = {r["kid"] for r in json.loads(run("keys", "list", "--json").output) if r["retired_at"] is None}
    assert active == published - before
    # Too early: tokens signed by the old keys may still be in use.
    assert json.loads(run("keys", "prune", "--json").output) == {"pruned": []}
    assert "active" in run("keys", "list").output


def test_prune_drops_keys_retired_long_ago(services: Any) -> None:
    import datetime as dt

    keys = services.ext["oidc"].keys
    keys.ensure()
    old = {r.kid for r in keys.records()}
    keys.rotate()
    keys.store.retire(list(old), services.clock.now() - dt.timedelta(days=1))
    # retire() keeps the first retirement time; age it to test prune.
    from idp.stores.tables_oidc import OidcKeyRow

    with services.db.transaction() as s:
        for row in s.query(OidcKeyRow).filter(OidcKeyRow.kid.in_(old)):
            row.retired_at = services.clock.now() - dt.timedelta(days=1)
    assert set(keys.prune()) == old
    assert {k["kid"] for k in keys.jwks()["keys"]}.isdisjoint(old)
    tokens_sign = keys.sign({"x": 1})
    assert keys.verify(tokens_sign)[1] == {"x": 1}
