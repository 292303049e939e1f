"""Microsoft Entra ID through msal's authorization-code flow (PKCE, state, nonce). The only module
that imports msal. msal does not validate the ID token: the caller runs validation.py on it."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import msal

from idp.federation.claims import UpstreamTokens
from idp.federation.errors import FederationError
from idp.federation.http import UpstreamHttp

log = logging.getLogger(__name__)

# msal's own scopes (openid profile offline_access) are always added; "email" only pre-fills.
SCOPES = ["email"]

# Entra error codes (error_description starts with AADSTSnnnn) that mean the application or
# the tenant is not usable, as opposed to a person's choice.
TENANT_CODES = ("AADSTS50020", "AADSTS700016", "AADSTS90002", "AADSTS50128", "AADSTS7000112", "AADSTS50053")


@dataclass(frozen=True)
class EntraCredential:
    """A client secret, or a certificate (PEM private key + the certificate's SHA-1 thumbprint)."""

    secret: str | None = None
    private_key: str | None = None
    thumbprint: str | None = None

    def for_msal(self) -> str | dict[str, str]:
        if self.private_key and self.thumbprint:
            return {"private_key": self.private_key, "thumbprint": self.thumbprint}
        if self.secret:
            return self.secret
        raise FederationError("misconfigured", "no client secret or certificate")


def map_upstream_error(error: str, description: str) -> str:
    """A reason code for an OAuth error the directory sent back."""
    if error == "access_denied":
        return "consent_denied" if "consent" in description.lower() else "cancelled"
    if error in ("consent_required", "interaction_required"):
        return "consent_denied"
    if error == "login_required":
        return "login_required"
    if description.startswith(TENANT_CODES) or error == "unauthorized_client":
        return "tenant_disabled"
    if error in ("invalid_client", "invalid_grant"):
        return "misconfigured"
    if error == "temporarily_unavailable":
        return "unreachable"
    return "upstream_error"


class EntraClient:
    def __init__(self, http: UpstreamHttp, *, authority_host: str) -> None:
        self.http = http
        self.authority_host = authority_host.rstrip("/")
        # Shared by every msal application of this process: discovery is fetched once, not per sign-in.
        self._http_cache: dict[Any, Any] = {}

    def issuer(self, tenant_id: str) -> str:
        return f"{self.authority_host}/{tenant_id}/v2.0"

    def metadata(self, tenant_id: str) -> dict[str, Any]:
        return self.http.discovery(self.issuer(tenant_id))

    def _app(self, tenant_id: str, client_id: str, credential: EntraCredential) -> Any:
        try:
            # A throw-away token cache per request: we only need the ID token of this sign-in.
            return msal.ConfidentialClientApplication(
                client_id, client_credential=credential.for_msal(),
                authority=f"{self.authority_host}/{tenant_id}", instance_discovery=False,
                http_client=self.http.session(), timeout=self.http.timeout,
                token_cache=msal.TokenCache(), http_cache=self._http_cache,
            )
        except FederationError:
            raise
        except Exception as exc:  # msal raises ValueError or requests errors when discovery fails
            log.warning("entra discovery failed", extra={"tenant": tenant_id, "error": str(exc)[:200]})
            raise FederationError("unreachable", f"discovery: {type(exc).__name__}: {exc}") from None

    def begin(
        self, *, tenant_id: str, client_id: str, credential: EntraCredential, redirect_uri: str,
        login_hint: str | None = None, domain_hint: str | None = None, prompt: str | None = None,
    ) -> dict[str, Any]:
        """msal's flow dict (state, nonce, code_verifier, auth_uri...): secret, kept server-side."""
        app = self._app(tenant_id, client_id, credential)
        flow: dict[str, Any] = app.initiate_auth_code_flow(
            scopes=SCOPES, redirect_uri=redirect_uri, login_hint=login_hint or None,
            domain_hint=domain_hint or None, prompt=prompt, response_mode="form_post",
        )
        return flow

    @staticmethod
    def sent_nonce(flow: dict[str, Any]) -> str:
        """msal sends sha256(nonce) to the directory, which puts that value in the ID token."""
        return hashlib.sha256(str(flow.get("nonce", "")).encode()).hexdigest()

    def finish(
        self, *, tenant_id: str, client_id: str, credential: EntraCredential, flow: dict[str, Any],
        auth_response: dict[str, str],
    ) -> UpstreamTokens:
        """Redeem the code (PKCE verifier, client credential); returns the raw ID token, unvalidated,
        and the access token for the userinfo endpoint (Microsoft Graph's, for the OpenID scopes)."""
        if "error" in auth_response:
            error, description = auth_response.get("error", ""), auth_response.get("error_description", "")
            raise FederationError(map_upstream_error(error, description), f"{error}: {description}")
        app = self._app(tenant_id, client_id, credential)
        try:
            result = app.acquire_token_by_auth_code_flow(flow, auth_response, scopes=SCOPES)
        except ValueError as exc:  # state mismatch, or neither code nor error
            raise FederationError("state", str(exc)) from None
        except RuntimeError as exc:  # msal's nonce (hash) check
            raise FederationError("nonce", str(exc)) from None
        except Exception as exc:
            raise FederationError("unreachable", f"token: {type(exc).__name__}") from None
        if "error" in result:
            error, description = str(result.get("error")), str(result.get("error_description", ""))
            raise FederationError(map_upstream_error(error, description), f"{error}: {description[:200]}")
        id_token, access_token = result.get("id_token"), result.get("access_token")
        if not isinstance(id_token, str):
            raise FederationError("malformed", "no id_token in the token response")
        return UpstreamTokens(id_token, access_token if isinstance(access_token, str) and access_token else None)
