"""Settings: defaults < TOML file < IDP_* environment, with a clear message for a bad value."""

from __future__ import annotations

import subprocess
import sys

import pytest

from idp.errors import SettingsError
from idp.settings import load_settings


def test_toml_file_then_environment_override(tmp_path, monkeypatch):
    config = tmp_path / "idp.toml"
    config.write_text('secret_key = "from-file"\n[session]\nidle_timeout = 600\nabsolute_lifetime = 7200\n')
    monkeypatch.setenv("IDP_CONFIG", str(config))
    monkeypatch.setenv("IDP_SESSION_IDLE_TIMEOUT", "900")
    settings = load_settings()
    assert settings.secret_key.get_secret_value() == "from-file"
    assert settings.session.idle_timeout == 900
    assert settings.session.absolute_lifetime == 7200


def test_secrets_can_come_from_files(tmp_path, monkeypatch):
    secret = tmp_path / "secret"
    secret.write_text("file-secret\n")
    monkeypatch.setenv("IDP_SECRET_KEY_FILE", str(secret))
    monkeypatch.delenv("IDP_SECRET_KEY", raising=False)
    monkeypatch.delenv("IDP_CONFIG", raising=False)
    assert load_settings().secret_key.get_secret_value() == "file-secret"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"IDP_SESSION_IDLE_TIMEOUT": "abc"}, "session.idle_timeout"),
        ({"IDP_LOCKOUT_DEFAULT_THRESHOLD": "2"}, "lockout.default_threshold"),
        ({"IDP_SERVER_BASE_URL": "ftp://x"}, "server.base_url"),
        ({"IDP_MAIL_BACKEND": "carrier-pigeon"}, "mail.backend"),
    ],
)
def test_bad_values_are_named_in_one_message(monkeypatch, env, message):
    monkeypatch.delenv("IDP_CONFIG", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        load_settings(secret_key="x")


def test_missing_secret_key_is_explained(monkeypatch, tmp_path):
    monkeypatch.delenv("IDP_SECRET_KEY", raising=False)
    monkeypatch.setenv("IDP_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("IDP_CONFIG", raising=False)
    with pytest.raises(SettingsError, match="idp init"):
        load_settings()


def test_the_command_reports_a_bad_setting_without_a_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "idp.cli", "user", "list"],
        env={"IDP_INSTANCE_PATH": str(tmp_path), "IDP_SECRET_KEY": "x", "IDP_SESSION_IDLE_TIMEOUT": "soon",
             "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 2
    assert "session.idle_timeout" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_broken_toml_file_is_reported(tmp_path, monkeypatch):
    config = tmp_path / "idp.toml"
    config.write_text("secret_key = \n")
    monkeypatch.setenv("IDP_CONFIG", str(config))
    with pytest.raises(SettingsError, match="cannot read the configuration file"):
        load_settings()


def test_unknown_setting_in_the_file_is_refused(tmp_path, monkeypatch):
    config = tmp_path / "idp.toml"
    config.write_text('secret_key = "x"\nsesion = 3\n')
    monkeypatch.setenv("IDP_CONFIG", str(config))
    with pytest.raises(SettingsError, match="sesion"):
        load_settings()


def test_redis_modes_read_their_addresses_from_the_environment(monkeypatch):
    monkeypatch.setenv("IDP_REDIS_MODE", "cluster")
    monkeypatch.setenv("IDP_REDIS_NODES", "10.0.0.1:7000, redis-2.internal:7001,[::1]:7002")
    settings = load_settings(testing=True)
    assert settings.redis.nodes == ["10.0.0.1:7000", "redis-2.internal:7001", "[::1]:7002"]
    assert not settings.redis.embedded
    monkeypatch.setenv("IDP_REDIS_MODE", "sentinel")
    monkeypatch.delenv("IDP_REDIS_NODES")
    monkeypatch.setenv("IDP_REDIS_SENTINELS", "s1:26379,s2:26379,s3:26379")
    monkeypatch.setenv("IDP_REDIS_SERVICE_NAME", "idp")
    sentinel = load_settings(testing=True).redis
    assert sentinel.sentinels == ["s1:26379", "s2:26379", "s3:26379"] and sentinel.service_name == "idp"


@pytest.mark.parametrize(("env", "message"), [
    ({"IDP_REDIS_MODE": "cluster"}, "mode cluster needs nodes"),
    ({"IDP_REDIS_MODE": "sentinel", "IDP_REDIS_SENTINELS": "s1:26379"}, "needs sentinels (host:port) and service_name"),
    ({"IDP_REDIS_MODE": "cluster", "IDP_REDIS_NODES": "a:1", "IDP_REDIS_URL": "redis://x"}, "url is for mode standalone"),
    ({"IDP_REDIS_MODE": "cluster", "IDP_REDIS_NODES": "no-port"}, "redis.nodes.0"),
    ({"IDP_REDIS_URL": "http://redis:6379"}, "must start with redis://"),
    ({"IDP_REDIS_URL": "rediss://redis:6379", "IDP_REDIS_TLS_CERT": "/c.pem"}, "tls_cert and tls_key go together"),
    ({"IDP_REDIS_MODE": "ring"}, "redis.mode"),
])
def test_a_redis_setting_that_cannot_work_is_refused_at_start(monkeypatch, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(testing=True)


def test_each_redis_mode_builds_its_client():
    from redis.cluster import RedisCluster
    from redis.sentinel import SentinelConnectionPool

    from idp.settings import RedisSettings
    from idp.stores import redis as redis_store

    # Building a client connects to nothing yet except a cluster's seed nodes: only those
    # two are checked here; the production tier runs every mode against real servers.
    sentinel = redis_store.connect(RedisSettings(mode="sentinel", sentinels=["127.0.0.1:1"], service_name="x"))
    assert isinstance(sentinel.connection_pool, SentinelConnectionPool)
    standalone = redis_store.connect(RedisSettings(url="rediss://127.0.0.1:1/0", tls_ca="/ca.pem"))
    assert standalone.connection_pool.connection_kwargs["ssl_ca_certs"] == "/ca.pem"
    assert not isinstance(standalone, RedisCluster)
    redis_store.close(sentinel)
    redis_store.close(standalone)
