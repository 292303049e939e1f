"""Settings of domain transfers (idp.domains): the registrar, its webhook, the relaunch link."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel
from pydantic import Field
from pydantic import SecretStr
from pydantic import field_validator
from pydantic import model_validator


class DomainSettings(BaseModel):
    # "file": requests written as JSON files, results read from files (the embedded default,
    # docs/domains.md); "http": POSTed to registrar_url, results through the webhook.
    registrar: Literal["file", "http"] = "file"
    # file: the folder of requests/ and results/; empty: <instance>/registrar.
    folder: str = ""
    # http: where requests are POSTed (https), the bearer token sent with them, and the seconds
    # a request may take (to connect, and as many to read the answer).
    registrar_url: str = ""
    registrar_token: SecretStr = SecretStr("")
    registrar_timeout: float = Field(default=10.0, gt=0, le=60)
    # PEM bundle of the CAs trusted for registrar_url; empty: the system's.
    ca_bundle: str = ""
    # Shared secret of the webhook's HMAC-SHA256 signature; empty: the webhook answers 404.
    webhook_secret: SecretStr = SecretStr("")
    # Seconds a webhook request's timestamp may differ from our clock (and how long a seen
    # request is remembered to refuse its replay).
    webhook_tolerance: int = Field(default=300, ge=30, le=3600)
    # Seconds an e-mailed relaunch link stays usable (once).
    link_ttl: int = Field(default=30 * 86400, ge=3600, le=90 * 86400)
    # The currency of the transfer fee, priced from the [pricing] catalogue's domain_transfer
    # product, else its domain_name product (no such product: no fee).
    currency: Literal["CHF", "EUR"] = "CHF"

    @field_validator("registrar_url")
    @classmethod
    def _url(cls, value: str) -> str:
        # The bearer token never crosses a network in clear: http only to this machine.
        parts = urlsplit(value)
        loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1", "localhost")
        if value and not (parts.scheme == "https" and parts.hostname) and not loopback:
            raise ValueError("must start with https:// (or http:// on a loopback address)")
        return value

    @model_validator(mode="after")
    def _http_needs_its_settings(self) -> DomainSettings:
        if self.registrar == "http":
            missing = [name for name, value in (
                ("registrar_url", self.registrar_url), ("registrar_token", self.registrar_token.get_secret_value()),
                ("webhook_secret", self.webhook_secret.get_secret_value()),
            ) if not value]
            if missing:
                raise ValueError(f"registrar = \"http\" needs {', '.join(missing)}")
        if 0 < len(self.webhook_secret.get_secret_value()) < 32:
            raise ValueError("webhook_secret needs at least 32 characters")
        return self
