"""The production registrar: requests are POSTed as JSON to the registrar's URL with a bearer
token; its answers come back through the signed webhook (idp.domains.webhook)."""

from __future__ import annotations

import logging

import requests

from idp.domains.model import Transfer
from idp.domains.registrar import Delivered
from idp.errors import UpstreamError

log = logging.getLogger(__name__)


class HttpRegistrar:
    """`trust_env=False`: proxies and CA bundles from the environment never replace the
    settings; redirects are not followed, so the token goes to the configured URL only."""

    def __init__(self, url: str, token: str, *, timeout: float, ca_bundle: str = "") -> None:
        self.url, self._token, self.timeout = url, token, timeout
        self.verify: str | bool = ca_bundle or True

    def _post(self, action: str, body: dict[str, object]) -> None:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        try:
            with requests.Session() as session:
                session.trust_env = False
                response = session.post(self.url, json={"action": action, **body}, headers=headers,
                                        timeout=self.timeout, allow_redirects=False, verify=self.verify)
        except requests.Timeout:
            raise UpstreamError(f"the registrar did not answer within {self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise UpstreamError(f"the registrar cannot be reached ({type(exc).__name__})") from None
        if not 200 <= response.status_code < 300:
            log.warning("registrar refused a request", extra={"action": action, "status": response.status_code})
            raise UpstreamError(f"the registrar answered HTTP {response.status_code}")

    def start_transfer(self, domain: str, auth_code: str, *, reference: str) -> None:
        self._post("start", {"reference": reference, "domain": domain, "auth_code": auth_code})

    def relaunch(self, transfer: Transfer, auth_code: str | None) -> None:
        self._post("relaunch", {"reference": str(transfer.id), "domain": transfer.domain, "auth_code": auth_code,
                                "attempt": transfer.failures + 1})

    def pending_reports(self) -> list[Delivered]:
        return []  # the registrar calls the webhook

    def acknowledge(self, name: str, problem: str | None) -> None:
        return None
