"""Settings sections the foundation reads: server, database, Redis, sessions, lockout, rate limits,
passwords, mail and SMTP, security, logs."""

from __future__ import annotations

from typing import Annotated
from typing import Any
from typing import Literal

from pydantic import BaseModel
from pydantic import BeforeValidator
from pydantic import Field
from pydantic import SecretStr
from pydantic import field_validator
from pydantic import model_validator
from pydantic_settings import NoDecode


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


class SmsSettings(BaseModel):
    # "file": JSON files in <instance>/sms; "webhook": a signed POST to webhook_url; "none": off
    # (numbers can be kept, not confirmed).
    backend: Literal["file", "webhook", "none"] = "file"
    webhook_url: str = ""
    # HMAC-SHA256 key signing each message (X-Idp-Signature over X-Idp-Timestamp and the body).
    webhook_secret: SecretStr = SecretStr("")
    timeout: float = Field(default=5.0, gt=0, le=60)
    # Where a number typed without its country code is read (ISO 3166 code).
    default_region: str = Field(default="CH", pattern=r"^[A-Z]{2}$")
    # A confirmation code's lifetime (seconds) and the wrong tries it allows.
    code_ttl: int = Field(default=600, ge=60, le=3600)
    code_attempts: int = Field(default=5, ge=1, le=10)
    # Codes texted per account per hour (each costs the operator).
    codes_per_hour: int = Field(default=5, ge=1, le=100)

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _webhook_needs_its_address(self) -> SmsSettings:
        if self.backend == "webhook" and not (self.webhook_url and self.webhook_secret.get_secret_value()):
            raise ValueError("the webhook backend needs webhook_url and webhook_secret")
        return self


class SecuritySettings(BaseModel):
    # Sensitive changes need an authentication at most this old (seconds).
    recent_auth_max_age: int = Field(default=600, ge=60, le=86400)
    # How long the unlock link e-mailed with a lockout stays valid (seconds).
    unlock_link_ttl: int = Field(default=24 * 3600, ge=300, le=7 * 86400)
    # How long the link e-mailed by "forgot your password?" stays valid (seconds).
    password_reset_link_ttl: int = Field(default=3600, ge=300, le=86400)
    # How long the link confirming a new login e-mail stays valid (seconds).
    email_change_link_ttl: int = Field(default=24 * 3600, ge=300, le=7 * 86400)
    # How long an e-mailed invitation to join an organisation stays valid (seconds).
    org_invitation_ttl: int = Field(default=7 * 86400, ge=3600, le=30 * 86400)
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


class SignupSettings(BaseModel):
    # The sign-up page (/signup): people create their own account, which stays pending until
    # the link e-mailed to its address is opened. Off: the page is not found and not linked.
    enabled: bool = True
    # How long that link stays valid (seconds); signing in with the account's password mails a
    # new one. Accounts never confirmed are deleted 7 x this after their sign-up
    # (`idp user prune-pending`).
    link_ttl: int = Field(default=24 * 3600, ge=600, le=7 * 86400)
    # Sign-ups allowed per window (seconds): from one IP, and for one address (whether or not
    # an account has it).
    per_ip: int = Field(default=10, ge=1, le=100_000)
    per_address: int = Field(default=3, ge=1, le=100)
    window: int = Field(default=3600, ge=60, le=86400)


class LogSettings(BaseModel):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_format: bool = True
