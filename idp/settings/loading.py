"""The settings object and where its values come from: defaults < TOML file < IDP_* environment
variables (and IDP_*_FILE for secrets), validated once into one readable error."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any
from typing import Literal

from pydantic import SecretStr
from pydantic import ValidationError
from pydantic_settings import BaseSettings
from pydantic_settings import PydanticBaseSettingsSource
from pydantic_settings import SettingsConfigDict

from idp.errors import SettingsError
from idp.settings.capabilities import FederationSettings
from idp.settings.capabilities import KauthSettings
from idp.settings.capabilities import MfaSettings
from idp.settings.capabilities import OidcSettings
from idp.settings.capabilities import PartnersSettings
from idp.settings.domains import DomainSettings
from idp.settings.foundation import DatabaseSettings
from idp.settings.foundation import LockoutSettings
from idp.settings.foundation import LogSettings
from idp.settings.foundation import MailSettings
from idp.settings.foundation import PasswordSettings
from idp.settings.foundation import RateLimitSettings
from idp.settings.foundation import RedisSettings
from idp.settings.foundation import SecuritySettings
from idp.settings.foundation import ServerSettings
from idp.settings.foundation import SessionSettings
from idp.settings.foundation import SignupSettings
from idp.settings.foundation import SmsSettings
from idp.settings.foundation import SmtpSettings
from idp.settings.pricing import MoneySettings
from idp.settings.pricing import PricingSettings

ENV_PREFIX = "IDP_"


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
    sms: SmsSettings = SmsSettings()
    smtp: SmtpSettings = SmtpSettings()
    log: LogSettings = LogSettings()
    security: SecuritySettings = SecuritySettings()
    signup: SignupSettings = SignupSettings()
    mfa: MfaSettings = MfaSettings()
    oidc: OidcSettings = OidcSettings()
    kauth: KauthSettings = KauthSettings()
    federation: FederationSettings = FederationSettings()
    domains: DomainSettings = DomainSettings()
    pricing: PricingSettings = PricingSettings()
    money: MoneySettings = MoneySettings()
    partners: PartnersSettings = PartnersSettings()

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

    @property
    def device_cookie(self) -> str:
        """The device cookie's name (what tells a known browser at sign-in), prefixed like the
        session cookie's."""
        return "__Host-idp_device" if self.secure_cookies else "idp_device"


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
