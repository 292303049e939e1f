"""`idp client` and `idp keys`, for people and scripts (--json)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from idp.cli import main
from idp.oidc import OIDC


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
    stored = services.get(OIDC).clients.get(client_id)
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
    clients = services.get(OIDC).clients
    ids = [clients.create(f"App {i}", kind="service")[0].client_id for i in range(60)]
    assert all(i.isalnum() and len(i) == 24 for i in ids) and len(set(ids)) == 60


@pytest.mark.parametrize("client_id", ["-leading-dash", "has space", "x" * 65, "", "semi;colon"])
def test_a_chosen_client_id_must_be_plain(services: Any, client_id: str) -> None:
    from idp.errors import ValidationError

    with pytest.raises(ValidationError, match="client id"):
        services.get(OIDC).clients.create("App", kind="service", client_id=client_id)


def _kid(token: str) -> str:
    import base64

    header = token.split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"])


def test_keys_rotate_publishes_new_keys_before_they_sign(run: Any, services: Any, client: Any, clock: Any) -> None:
    keys = services.get(OIDC).keys
    before = {k["kid"] for k in client.get("/oauth/jwks").get_json()["keys"]}
    rotated = json.loads(run("keys", "rotate", "--json").output)
    assert set(rotated["retired"]) == before
    states = {r["kid"]: r["state"] for r in json.loads(run("keys", "list", "--json").output)}
    new = set(states) - before
    assert len(new) == 2
    assert {states[k] for k in new} == {"published"} and {states[k] for k in before} == {"signing"}
    # Another process rotated: this one sees the new keys once its key cache has expired, and
    # publishes them while it still signs with the old ones.
    clock.advance(seconds=services.settings.oidc.key_cache_seconds + 1)
    assert {k["kid"] for k in client.get("/oauth/jwks").get_json()["keys"]} == before | new
    assert _kid(keys.sign({"sub": "x"})) in before
    # From the activation time on, the new keys sign; the old ones stay published.
    clock.advance(seconds=keys.activation_delay.total_seconds())
    assert _kid(keys.sign({"sub": "x"})) in new
    assert {k["kid"] for k in client.get("/oauth/jwks").get_json()["keys"]} == before | new
    # Too early: tokens signed by the old keys may still be in use.
    assert json.loads(run("keys", "prune", "--json").output) == {"pruned": []}
    assert "published from" in run("keys", "list").output


def test_the_publication_delay_outlasts_every_cache(services: Any) -> None:
    keys = services.get(OIDC).keys
    from idp.oidc.keys import JWKS_MAX_AGE

    # A process serves a set at most twice its cache lifetime old; a relying party keeps ours
    # JWKS_MAX_AGE seconds.
    assert keys.activation_delay.total_seconds() > 2 * keys.cache_seconds + JWKS_MAX_AGE


def test_keys_rotate_immediately_signs_with_the_new_keys_at_once(
        run: Any, services: Any, client: Any, clock: Any) -> None:
    keys = services.get(OIDC).keys
    before = {k["kid"] for k in client.get("/oauth/jwks").get_json()["keys"]}
    rotated = json.loads(run("keys", "rotate", "--immediately", "--json").output)
    assert set(rotated["retired"]) == before
    states = {r["kid"]: r["state"] for r in json.loads(run("keys", "list", "--json").output)}
    assert {states[k] for k in before} == {"retired"}
    # The command ran (on the real clock) after this test's clock was set: move past that,
    # within the key cache lifetime so the set read below stays the one in use.
    clock.advance(seconds=30)
    keys.reload_now()
    assert _kid(keys.sign({"sub": "x"})) not in before


def test_prune_drops_keys_retired_long_ago(services: Any, clock: Any) -> None:
    keys = services.get(OIDC).keys
    keys.ensure()
    old = {r.kid for r in keys.records()}
    keys.rotate()
    # The old keys retire at the switch; their last tokens expire a token lifetime later.
    clock.advance(seconds=keys.activation_delay.total_seconds() + keys.max_token_lifetime)
    assert keys.prune() == []
    clock.advance(seconds=61)
    assert set(keys.prune()) == old
    assert {k["kid"] for k in keys.jwks()["keys"]}.isdisjoint(old)
    tokens_sign = keys.sign({"x": 1})
    assert keys.verify(tokens_sign)[1] == {"x": 1}
