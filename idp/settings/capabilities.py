"""Settings sections of the capabilities that plug into the foundation; each feature owns its own."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel
from pydantic import Field
from pydantic import SecretStr
from pydantic import field_validator


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


class PartnersSettings(BaseModel):
    # Seconds a partner's request to manage a client stays valid (its link works once).
    request_ttl: int = Field(default=14 * 86400, ge=3600, le=90 * 86400)
