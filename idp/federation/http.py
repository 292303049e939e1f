"""Outbound HTTP to upstream directories: one requests session per process that trusts exactly the
configured CAs, short in-memory caches of discovery documents and key sets, and userinfo requests
(never cached: they answer for one person's access token)."""

from __future__ import annotations

import threading
from typing import Any

import requests

from idp.clock import Clock
from idp.federation.errors import FederationError

CACHE_SECONDS = 600


class UpstreamHttp:
    """GETs JSON from directories. `trust_env=False`: REQUESTS_CA_BUNDLE and proxies from the
    environment would otherwise silently replace the configured `verify`."""

    def __init__(self, *, ca_bundle: str, timeout: float, clock: Clock) -> None:
        self.verify: str | bool = ca_bundle or True
        self.timeout = timeout
        self.clock = clock
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def session(self) -> requests.Session:
        session = requests.Session()
        session.verify = self.verify
        session.trust_env = False
        return session

    def get_json(self, url: str, *, fresh: bool = False) -> dict[str, Any]:
        now = self.clock.now().timestamp()
        with self._lock:
            hit = self._cache.get(url)
        if hit and not fresh and hit[0] > now:
            return hit[1]
        try:
            with self.session() as session:
                response = session.get(url, timeout=self.timeout)
        except requests.RequestException as exc:
            raise FederationError("unreachable", f"{url}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise FederationError("misconfigured", f"{url}: HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise FederationError("misconfigured", f"{url}: not JSON") from None
        if not isinstance(data, dict):
            raise FederationError("misconfigured", f"{url}: not a JSON object")
        with self._lock:
            self._cache[url] = (now + CACHE_SECONDS, data)
        return data

    def discovery(self, issuer: str) -> dict[str, Any]:
        return self.get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")

    def jwks_for(self, metadata: dict[str, Any], kid: str | None) -> dict[str, Any]:
        """The directory's key set; fetched again once when the token names a key not in it
        (keys rotate)."""
        uri = metadata.get("jwks_uri")
        if not isinstance(uri, str) or not uri.startswith("https://"):
            raise FederationError("misconfigured", "no https jwks_uri in the discovery document")
        keys = self.get_json(uri)
        if kid and not any(k.get("kid") == kid for k in keys.get("keys", []) if isinstance(k, dict)):
            keys = self.get_json(uri, fresh=True)
        return keys

    def userinfo(self, metadata: dict[str, Any], access_token: str) -> dict[str, Any] | None:
        """The directory's userinfo response for `access_token` (a Bearer token), or None when its
        discovery document names no userinfo endpoint.

        The token is sent only to an https endpoint and not along a redirect. Raises
        FederationError: "unreachable" (network, TLS, timeout), "misconfigured" (an endpoint that
        is not https), "userinfo_failed" (any answer but a JSON object with HTTP 200).
        """
        uri = metadata.get("userinfo_endpoint")
        if uri is None:
            return None
        if not isinstance(uri, str) or not uri.startswith("https://"):
            raise FederationError("misconfigured", "the userinfo_endpoint of the discovery document is not https")
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        try:
            with self.session() as session:
                response = session.get(uri, headers=headers, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise FederationError("unreachable", f"userinfo: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise FederationError("userinfo_failed", f"userinfo: HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise FederationError("userinfo_failed", "userinfo: not JSON") from None
        if not isinstance(data, dict):
            raise FederationError("userinfo_failed", "userinfo: not a JSON object")
        return data
