"""Back-channel logout: when a browser session ends, each client that got tokens in it is told
with a signed logout_token (sid, events, jti, no nonce), without holding up the request."""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING
from typing import Any

from idp.events import EventRecorder
from idp.events import EventTag
from idp.oidc.clients import ClientService
from idp.oidc.tokens import TokenService
from idp.security.sessions import BrowserSession

if TYPE_CHECKING:
    from idp.stores.oidc import RedisOidcStore


log = logging.getLogger(__name__)


class BackchannelLogout:
    """Registered in `sessions.on_end`. Deliveries run on a small thread pool with a short
    timeout (inline when `inline`, as in tests); a failure is logged and recorded, never raised."""

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
        body = urllib.parse.urlencode({"logout_token": token}).encode()
        request = urllib.request.Request(  # noqa: S310 - the URI was checked at registration (http(s) only)
            uri, data=body, method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cache-Control": "no-store"},
        )
        status: int | str
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError) as exc:
            status = f"unreachable: {exc.__class__.__name__}"
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
