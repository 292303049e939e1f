"""Typed settings: defaults < TOML file < IDP_* environment variables (and IDP_*_FILE for secrets)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any
from typing import Literal

from pydantic import BaseModel
from pydantic import Field
from pydantic import SecretStr
from pydantic import ValidationError
from pydantic import field_validator
from pydantic_settings import BaseSettings
from pydantic_settings import PydanticBaseSettingsSource
from pydantic_settings import SettingsConfigDict

from idp.errors import SettingsError

ENV_PREFIX = "IDP_"


class DatabaseSettings(BaseModel):
    # Empty means "<instance>/idp.sqlite3", the embedded default.
    url: SecretStr = SecretStr("")
    echo: bool = False


class RedisSettings(BaseModel):
    # Empty means the embedded in-process Redis-compatible server (one process only).
    url: SecretStr = SecretStr("")
    key_prefix: str = Field(default="idp", pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    socket_timeout: float = Field(default=2.0, gt=0, le=60)


class ServerSettings(BaseModel):
    # The public URL people and applications reach; decides cookie Secure and HSTS.
    base_url: str = "http://127.0.0.1:5000"
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
    signin_per_ip: int = Field(default=30, ge=1, le=100_000)
    signin_window: int = Field(default=300, ge=1, le=86400)


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


class SecuritySettings(BaseModel):
    # Sensitive changes need an authentication at most this old (seconds).
    recent_auth_max_age: int = Field(default=600, ge=60, le=86400)


# Sections of the capabilities that plug into the foundation; each feature owns its own.


class MfaSettings(BaseModel):
    pass


class OidcSettings(BaseModel):
    pass


class KauthSettings(BaseModel):
    pass


class FederationSettings(BaseModel):
    pass


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
    # Empty: one key derived from secret_key.
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
