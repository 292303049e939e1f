"""Generic OpenID Connect directories through Authlib's requests client (authorization code, PKCE,
state, nonce). The ID token it returns is checked by validation.py like Entra's; the access token
only serves the directory's userinfo endpoint."""

from __future__ import annotations

import secrets
from typing import Any

from authlib.integrations.requests_client import OAuth2Session
from authlib.integrations.requests_client import OAuthError

from idp.federation.claims import UpstreamTokens
from idp.federation.entra import map_upstream_error
from idp.federation.errors import FederationError
from idp.federation.http import UpstreamHttp

SCOPE = "openid email profile"


class OidcUpstreamClient:
    def __init__(self, http: UpstreamHttp) -> None:
        self.http = http

    def metadata(self, issuer: str) -> dict[str, Any]:
        meta = self.http.discovery(issuer)
        if meta.get("issuer") != issuer:
            raise FederationError("misconfigured", f"discovery issuer {str(meta.get('issuer'))[:120]} != {issuer}")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(meta.get(name), str):
                raise FederationError("misconfigured", f"discovery has no {name}")
        return meta

    def _session(self, client_id: str, secret: str, redirect_uri: str) -> OAuth2Session:
        session = OAuth2Session(
            client_id, secret, scope=SCOPE, redirect_uri=redirect_uri, code_challenge_method="S256",
            default_timeout=self.http.timeout,
        )
        session.verify = self.http.verify
        session.trust_env = False
        return session

    def begin(
        self, *, issuer: str, client_id: str, secret: str, redirect_uri: str, login_hint: str | None,
        prompt: str | None = None,
    ) -> dict[str, Any]:
        """{auth_uri, state, nonce, code_verifier}: everything but auth_uri stays server-side."""
        meta = self.metadata(issuer)
        state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        extra = ({"login_hint": login_hint} if login_hint else {}) | ({"prompt": prompt} if prompt else {})
        with self._session(client_id, secret, redirect_uri) as session:
            uri, _ = session.create_authorization_url(
                meta["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce, **extra
            )
        return {
            "auth_uri": uri, "state": state, "nonce": nonce, "code_verifier": verifier, "redirect_uri": redirect_uri,
        }

    def finish(
        self, *, issuer: str, client_id: str, secret: str, flow: dict[str, Any], auth_response: dict[str, str]
    ) -> UpstreamTokens:
        if "error" in auth_response:
            error, description = auth_response.get("error", ""), auth_response.get("error_description", "")
            raise FederationError(map_upstream_error(error, description), f"{error}: {description}")
        code = auth_response.get("code")
        if not code:
            raise FederationError("malformed", "no code in the callback")
        meta = self.metadata(issuer)
        try:
            with self._session(client_id, secret, flow["redirect_uri"]) as session:
                token = session.fetch_token(
                    meta["token_endpoint"], code=code, code_verifier=flow["code_verifier"],
                    timeout=self.http.timeout,
                )
        except OAuthError as exc:
            raise FederationError(map_upstream_error(str(exc.error), str(exc.description or "")), str(exc)) from None
        except Exception as exc:
            raise FederationError("unreachable", f"token: {type(exc).__name__}") from None
        id_token, access_token = token.get("id_token"), token.get("access_token")
        if not isinstance(id_token, str):
            raise FederationError("malformed", "no id_token in the token response")
        return UpstreamTokens(id_token, access_token if isinstance(access_token, str) and access_token else None)
