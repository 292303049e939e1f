"""Typed settings: defaults < TOML file < IDP_* environment variables (and IDP_*_FILE for secrets)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated
from typing import Any
from typing import Literal

from pydantic import BaseModel
from pydantic import BeforeValidator
from pydantic import Field
from pydantic import SecretStr
from pydantic import ValidationError
from pydantic import field_validator
from pydantic import model_validator
from pydantic_settings import BaseSettings
from pydantic_settings import NoDecode
from pydantic_settings import PydanticBaseSettingsSource
from pydantic_settings import SettingsConfigDict

from idp.errors import SettingsError

ENV_PREFIX = "IDP_"


class DatabaseSettings(BaseModel):
    # Empty means "<instance>/idp.sqlite3", the embedded default.
    url: SecretStr = SecretStr("")
    echo: bool = False


def _address_list(value: Any) -> Any:
    """"host:port,host:port" (an environment variable) or a TOML list."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


_ADDRESS = r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):[0-9]{1,5}$"
Addresses = Annotated[list[Annotated[str, Field(pattern=_ADDRESS)]], NoDecode, BeforeValidator(_address_list)]


class RedisSettings(BaseModel):
    # standalone: one server at `url` (redis:// or rediss://); an empty url means the embedded
    # in-process Redis-compatible server (one process only). sentinel: the master named
    # `service_name`, found through `sentinels`. cluster: a Redis Cluster reached through `nodes`.
    mode: Literal["standalone", "sentinel", "cluster"] = "standalone"
    url: SecretStr = SecretStr("")
    # cluster: seed nodes, "host:port" (any few; the client learns the others from them).
    nodes: Addresses = []
    # sentinel: the sentinels, "host:port", and the name of the master they monitor.
    sentinels: Addresses = []
    service_name: str = Field(default="", max_length=200)
    # sentinel: the database number (a cluster has only database 0; standalone names it in url).
    db: int = Field(default=0, ge=0, le=15)
    # ACL user and password of the data nodes (sentinel, cluster; standalone puts them in url).
    username: str = ""
    password: SecretStr = SecretStr("")
    # The sentinels' own credentials, when they require them.
    sentinel_username: str = ""
    sentinel_password: SecretStr = SecretStr("")
    # TLS to the data nodes and the sentinels (standalone: use a rediss:// url). Files in PEM
    # (named tls_*, not *_file: IDP_X_FILE means "read IDP_X from this file"):
    # the CA that signed the servers (empty: the system's), and a client certificate and key
    # when the servers ask for one.
    tls: bool = False
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    key_prefix: str = Field(default="idp", pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    socket_timeout: float = Field(default=2.0, gt=0, le=60)

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        if url and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _mode(self) -> RedisSettings:
        if self.mode == "cluster" and not self.nodes:
            raise ValueError("mode cluster needs nodes (seed nodes, host:port)")
        if self.mode == "sentinel" and not (self.sentinels and self.service_name):
            raise ValueError("mode sentinel needs sentinels (host:port) and service_name")
        if self.mode != "standalone" and self.url.get_secret_value():
            raise ValueError(f"url is for mode standalone; mode {self.mode} uses "
                             + ("nodes" if self.mode == "cluster" else "sentinels and service_name"))
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("tls_cert and tls_key go together")
        return self

    @property
    def embedded(self) -> bool:
        return self.mode == "standalone" and not self.url.get_secret_value()


class ServerSettings(BaseModel):
    # The public URL people and applications reach; decides cookie Secure and HSTS.
    base_url: str = "http://localhost:5000"
    trusted_proxies: int = Field(default=0, ge=0, le=5)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class SessionSettings(BaseModel):
    idle_timeout: int = Field(default=30 * 60, ge=60, le=30 * 86400, description="seconds")
    absolute_lifetime: int = Field(default=12 * 3600, ge=300, le=90 * 86400, description="seconds")
    cookie_name: str = Field(default="idp_session", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    signin_flow_ttl: int = Field(default=15 * 60, ge=60, le=3600)


class LockoutSettings(BaseModel):
    default_threshold: int = Field(default=10, ge=3, le=100)
    # How long failed attempts are remembered when no success resets them.
    failure_window: int = Field(default=24 * 3600, ge=60, le=30 * 86400)


class RateLimitSettings(BaseModel):
    # Failed password attempts (sign-in and re-authentication) allowed from one IP address per
    # window, whatever the accounts; successful sign-ins are not counted.
    signin_per_ip: int = Field(default=30, ge=1, le=100_000)
    signin_window: int = Field(default=300, ge=1, le=86400, description="seconds")
    # Failed password attempts allowed from one IP address on one account (or one login that
    # names no account) per window; forgotten at the account's next success or unlock.
    signin_per_account_ip: int = Field(default=20, ge=1, le=100_000)


class PasswordSettings(BaseModel):
    # argon2id parameters (RFC 9106 low-memory profile by default).
    time_cost: int = Field(default=3, ge=1, le=20)
    memory_cost: int = Field(default=65536, ge=8, le=4 * 1024 * 1024, description="KiB")
    parallelism: int = Field(default=4, ge=1, le=64)
    min_length: int = Field(default=8, ge=8, le=128)


class SmtpSettings(BaseModel):
    host: str = ""
    port: int = Field(default=587, ge=1, le=65535)
    username: str = ""
    password: SecretStr = SecretStr("")
    starttls: bool = True
    timeout: float = Field(default=10.0, gt=0, le=120)


class MailSettings(BaseModel):
    sender: str = "Identity <no-reply@localhost>"
    # "file" writes .eml files under <instance>/mail; "smtp" uses the [smtp] section.
    backend: Literal["file", "smtp", "none"] = "file"
    # Deliver from a thread inside each web process; turn off when `idp mail worker` runs apart.
    background_delivery: bool = True
    max_attempts: int = Field(default=8, ge=1, le=50)
    # Days a delivered or given-up message stays in the outbox (without its body) before the
    # worker deletes it.
    retention_days: int = Field(default=30, ge=1, le=3650)


class SecuritySettings(BaseModel):
    # Sensitive changes need an authentication at most this old (seconds).
    recent_auth_max_age: int = Field(default=600, ge=60, le=86400)
    # How long the unlock link e-mailed with a lockout stays valid (seconds).
    unlock_link_ttl: int = Field(default=24 * 3600, ge=300, le=7 * 86400)
    # How long the link e-mailed by "forgot your password?" stays valid (seconds).
    password_reset_link_ttl: int = Field(default=3600, ge=300, le=86400)
    # At most one failed-sign-in e-mail per account per window; the next one counts the rest.
    failed_signin_mail_window: int = Field(default=3600, ge=60, le=7 * 86400)
    activity_page_size: int = Field(default=50, ge=10, le=500)
    # Rows in one CSV export of the activity log.
    activity_export_limit: int = Field(default=10_000, ge=100, le=1_000_000)
    # Refuse new passwords found in the list of common and breached passwords shipped offline.
    refuse_breached_passwords: bool = True

    # App passwords and API tokens (idp.security.credentials).
    # The longest lifetime a person may choose for a personal API token (days).
    api_token_max_days: int = Field(default=365, ge=1, le=3650)
    # Live app passwords and live API tokens an account may hold, each.
    credentials_max_per_user: int = Field(default=50, ge=1, le=1000)
    # Requests carrying an app password or API token, per client IP, per window (seconds).
    credentials_per_ip: int = Field(default=600, ge=1, le=1_000_000)
    credentials_window: int = Field(default=60, ge=1, le=86400)
    # Refused app passwords and tokens per client IP before it must wait out the window (seconds).
    credentials_failures_per_ip: int = Field(default=20, ge=1, le=100_000)
    credentials_failure_window: int = Field(default=300, ge=1, le=86400)


# Sections of the capabilities that plug into the foundation; each feature owns its own.


class MfaSettings(BaseModel):
    # WebAuthn relying-party id (a registrable domain); empty: the host of server.base_url.
    rp_id: str = Field(default="", max_length=253)
    # Name shown by the browser and the authenticator; empty: site_name.
    rp_name: str = Field(default="", max_length=100)
    # Origin the browser reports (scheme://host[:port]); empty: server.base_url.
    origin: str = Field(default="", max_length=300)
    # Issuer shown in authenticator apps; empty: site_name.
    totp_issuer: str = Field(default="", max_length=100)
    # Seconds a WebAuthn challenge or a pending TOTP enrolment stays usable.
    challenge_ttl: int = Field(default=300, ge=30, le=3600)
    # Recovery codes in a set, and below how many left the security page warns.
    recovery_codes: int = Field(default=10, ge=5, le=20)
    recovery_warn_below: int = Field(default=3, ge=0, le=20)


class OidcSettings(BaseModel):
    # The issuer identifier; empty means server.base_url. Must never change once clients use it.
    issuer: str = ""
    # Seconds an authorization code can be redeemed (single use in any case).
    authorization_code_lifetime: int = Field(default=60, ge=10, le=600)
    # Seconds a JWT access token (RFC 9068) is valid; short, as a JWT is checked offline.
    access_token_lifetime: int = Field(default=600, ge=60, le=86400)
    id_token_lifetime: int = Field(default=3600, ge=60, le=86400)
    # Seconds a refresh token stays valid unused; each use rotates it and starts a new period.
    refresh_token_lifetime: int = Field(default=30 * 86400, ge=300, le=365 * 86400)
    # Signing algorithms published in the JWKS; RS256 is always present (OpenID Connect requires it).
    signing_algorithms: list[Literal["RS256", "ES256"]] = ["RS256", "ES256"]
    rsa_key_size: int = Field(default=2048, ge=2048, le=4096)
    # Seconds a back-channel logout attempt may take to connect, and as many to read the answer,
    # before it is given up (and logged); a refused connection or a 5xx is tried twice more.
    backchannel_timeout: float = Field(default=3.0, gt=0, le=30)
    # Seconds worker processes keep the signing keys in memory before reading them again.
    key_cache_seconds: int = Field(default=60, ge=0, le=3600)
    # Under the ASGI application (gunicorn's asgi worker, PostgreSQL and Redis): answer the
    # successful path of discovery, JWKS, userinfo, introspection and the client credentials and
    # refresh grants in the event loop; false sends every request through the Flask views.
    fast_lane: bool = True

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http:// on a loopback address)")
        return value.rstrip("/")

    @field_validator("signing_algorithms")
    @classmethod
    def _rs256(cls, value: list[str]) -> list[str]:
        return value if "RS256" in value else ["RS256", *value]


class KauthSettings(BaseModel):
    # Seconds a sign-in approval request waits for an answer on the device.
    challenge_ttl: int = Field(default=120, ge=30, le=600)
    # Approval requests per account per hour; past it kAuth is not offered (push fatigue).
    hourly_cap: int = Field(default=5, ge=1, le=60)
    # Seconds an "Add kAuth" QR code / enrolment link stays usable (once).
    enrolment_ttl: int = Field(default=600, ge=60, le=3600)
    # Accepted difference between a device's request timestamp and the server clock (seconds).
    clock_skew: int = Field(default=60, ge=5, le=600)
    # Devices one account may enrol.
    max_devices: int = Field(default=10, ge=1, le=100)
    # Seconds between two status checks of the waiting sign-in page and the "Add kAuth" page.
    poll_interval: int = Field(default=2, ge=1, le=30)
    # Push relay: POST of a signed JSON notification; empty = log only (devices poll).
    webhook_url: str = ""
    # HMAC-SHA256 key signing the webhook's notifications.
    webhook_secret: SecretStr = SecretStr("")
    webhook_timeout: float = Field(default=5.0, gt=0, le=60)

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


class FederationSettings(BaseModel):
    # Where Entra ID tenants answer; an Entra tenant's issuer is <host>/<tenant id>/v2.0.
    entra_authority_host: str = "https://login.microsoftonline.com"
    # Seconds each call to an upstream (discovery, keys, token) may take.
    http_timeout: float = Field(default=10.0, gt=0, le=60)
    # Seconds a browser has to come back from the upstream with the same state.
    state_ttl: int = Field(default=600, ge=60, le=3600)
    # Accepted difference between the upstream's clock and ours when checking tokens (seconds).
    clock_skew: int = Field(default=120, ge=0, le=600)
    # PEM bundle of the CAs trusted for upstreams; empty: the system's. Environment variables
    # such as REQUESTS_CA_BUNDLE are never consulted, so this is the one place that decides.
    ca_bundle: str = ""
    # Seconds the code e-mailed to prove a mailbox (before linking an existing account) is valid.
    link_code_ttl: int = Field(default=600, ge=60, le=3600)
    link_code_attempts: int = Field(default=5, ge=1, le=20)

    @field_validator("entra_authority_host")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("must start with https://")
        return value.rstrip("/")


class LogSettings(BaseModel):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_format: bool = True


class Settings(BaseSettings):
    """Everything the service reads from its environment, validated once at start."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="forbid",
    )

    instance_path: Path = Path("instance")
    secret_key: SecretStr = SecretStr("")
    # Fernet keys (comma-separated) for secrets at rest; the first encrypts, all decrypt.
    # Empty: a key derived from secret_key (decision 0610).
    encryption_keys: SecretStr = SecretStr("")
    site_name: str = "Identity"
    default_locale: Literal["en", "fr"] = "en"
    testing: bool = False

    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    session: SessionSettings = SessionSettings()
    lockout: LockoutSettings = LockoutSettings()
    ratelimit: RateLimitSettings = RateLimitSettings()
    password: PasswordSettings = PasswordSettings()
    mail: MailSettings = MailSettings()
    smtp: SmtpSettings = SmtpSettings()
    log: LogSettings = LogSettings()
    security: SecuritySettings = SecuritySettings()
    mfa: MfaSettings = MfaSettings()
    oidc: OidcSettings = OidcSettings()
    kauth: KauthSettings = KauthSettings()
    federation: FederationSettings = FederationSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Highest priority first: explicit values, environment, then the TOML file.
        return (init_settings, env_settings, _TomlSource(settings_cls))

    @property
    def database_url(self) -> str:
        url = self.database.url.get_secret_value()
        return url or f"sqlite:///{(self.instance_path / 'idp.sqlite3').resolve()}"

    @property
    def secure_cookies(self) -> bool:
        return self.server.base_url.startswith("https://")

    @property
    def session_cookie(self) -> str:
        """The session cookie's name: `__Host-` first over https, so that no other host of the
        domain (nor a man in the middle on plain http) can set or scope it (RFC 6265bis)."""
        return f"__Host-{self.session.cookie_name}" if self.secure_cookies else self.session.cookie_name


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the file named by IDP_CONFIG, else <instance>/idp.toml when it exists."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ is used instead

    def __call__(self) -> dict[str, Any]:
        path = config_file_path()
        if path is None:
            return {}
        try:
            with path.open("rb") as fh:
                return tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"cannot read the configuration file {path}: {exc}") from exc


def instance_path_from_env() -> Path:
    return Path(os.environ.get(f"{ENV_PREFIX}INSTANCE_PATH", "instance"))


def config_file_path() -> Path | None:
    explicit = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if explicit:
        return Path(explicit)
    default = instance_path_from_env() / "idp.toml"
    return default if default.exists() else None


def _load_file_secrets() -> None:
    """IDP_X_FILE=/run/secrets/x sets IDP_X from that file, for container secrets."""
    for name, value in list(os.environ.items()):
        if name.startswith(ENV_PREFIX) and name.endswith("_FILE") and name != f"{ENV_PREFIX}CONFIG_FILE":
            target = name[: -len("_FILE")]
            if target in os.environ:
                continue
            try:
                os.environ[target] = Path(value).read_text().strip()
            except OSError as exc:
                raise SettingsError(f"{name}: cannot read {value}: {exc.strerror}") from exc


def load_settings(*, require_secret: bool = True, **overrides: Any) -> Settings:
    """Build and validate the settings, turning pydantic's report into one readable message."""
    _load_file_secrets()
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(part) for part in err["loc"])
            lines.append(f"  {where}: {err['msg']}")
        raise SettingsError("invalid configuration:\n" + "\n".join(lines)) from None
    if require_secret and not settings.secret_key.get_secret_value() and not settings.testing:
        raise SettingsError(
            "invalid configuration:\n  secret_key: not set; run `idp init` or set IDP_SECRET_KEY"
        )
    return settings
