"""Back-channel logout: when a browser session ends, each client that got tokens in it is told
with a signed logout_token (sid, events, jti, no nonce), without holding up the request."""

from __future__ import annotations

import logging
import ssl
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from idp.events import EventRecorder
from idp.events import EventTag
from idp.foundation.sessions import BrowserSession
from idp.oidc.clients import ClientService
from idp.oidc.tokens import TokenService

if TYPE_CHECKING:
    from idp.stores.oidc import RedisOidcStore


log = logging.getLogger(__name__)

# Attempts after the first: a client briefly down or restarting still hears of the logout, and
# a client that stays down costs at most three short attempts.
RETRIES = 2
BACKOFF = 0.25  # seconds before the second retry (urllib3 makes the first one at once)
RETRY_STATUSES = (500, 502, 503, 504)


def _trusted_cas() -> str | bool:
    """The system's CA file or directory (where OpenSSL looks, SSL_CERT_FILE included), so the
    clients trusted are those of the system, not of a bundle shipped with a library."""
    paths = ssl.get_default_verify_paths()
    return paths.cafile or paths.capath or True


def delivery_session() -> requests.Session:
    """A session that retries what a retry can cure: connection failures (nothing was sent) and
    500/502/503/504 answers, at most RETRIES times, without honouring Retry-After (a client must
    not hold a worker). A read that fails or times out is not retried (`read=False` raises it as
    it is): the client may have the token already, and a slow client would hold the pool for
    every attempt. Redirects are not followed:
    the logout goes to the registered URI or fails."""
    retry = Retry(
        total=RETRIES, connect=RETRIES, read=False, status=RETRIES, other=0, redirect=0,
        allowed_methods=frozenset({"POST"}), status_forcelist=RETRY_STATUSES, backoff_factor=BACKOFF,
        respect_retry_after_header=False, raise_on_status=False,
    )
    session = requests.Session()
    session.trust_env = False  # proxies and REQUESTS_CA_BUNDLE from the environment decide nothing
    session.verify = _trusted_cas()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class BackchannelLogout:
    """Registered in `sessions.on_end`. Deliveries run on a small thread pool (inline when
    `inline`, as in tests) through `delivery_session()`, each attempt bounded by `timeout`
    seconds to connect and as many to read the answer; a failure is logged and recorded, never
    raised."""

    def __init__(
        self, *, tokens: TokenService, clients: ClientService, redis: RedisOidcStore, users: Any,
        events: EventRecorder, timeout: float, inline: bool = False,
    ) -> None:
        self.tokens, self.clients, self.redis, self.users = tokens, clients, redis, users
        self.events, self.timeout, self.inline = events, timeout, inline
        self._pool: ThreadPoolExecutor | None = None

    def session_ended(self, session: BrowserSession) -> None:
        client_ids = self.redis.take_session_clients(session.user_id, session.handle)
        if not client_ids:
            return
        user = self.users.get(session.user_id)
        if user is None:
            return
        for client_id in client_ids:
            client = self.clients.get(client_id)
            if client is None or not client.backchannel_logout_uri:
                continue
            token = self.tokens.logout_token(client_id, user.subject, session.handle)
            job = (client.backchannel_logout_uri, token, client_id, session.user_id)
            if self.inline:
                self._deliver(*job)
            else:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="oidc-logout")
                self._pool.submit(self._deliver, *job)

    def _deliver(self, uri: str, token: str, client_id: str, user_id: int) -> None:
        status: int | str
        try:  # a session per delivery: requests does not promise that one is safe across threads
            with delivery_session() as http, http.post(  # the URI was checked at registration (http(s) only)
                uri, data={"logout_token": token}, headers={"Cache-Control": "no-store"},
                timeout=(self.timeout, self.timeout), allow_redirects=False,
            ) as response:
                status = response.status_code
        except requests.RequestException as exc:  # ConnectionError (after the retries), ReadTimeout...
            status = f"unreachable: {type(exc).__name__}"
        ok = status == 200
        if not ok:
            log.warning("back-channel logout failed", extra={"client_id": client_id, "status": str(status)})
        try:
            self.events.record_event(EventTag.OIDC_LOGOUT_SENT, user_id=user_id, product=client_id,
                                     details={"delivered": ok, "status": str(status)})
        except Exception:
            log.exception("could not record the back-channel logout")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)

