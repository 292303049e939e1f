"""The registrar's webhook, as a service: a signed, fresh, first-seen JSON report is applied;
everything else is refused with its own status and error code, before anything changes."""

from __future__ import annotations

import json

from idp.clock import Clock
from idp.domains.model import Transfer
from idp.domains.ports import Replays
from idp.domains.registrar import ReportError
from idp.domains.registrar import parse_report
from idp.domains.reports import Reports
from idp.domains.webhook import MAX_BODY
from idp.domains.webhook import SignatureError
from idp.domains.webhook import verify
from idp.errors import ConflictError
from idp.errors import IdpError
from idp.errors import NotFoundError
from idp.errors import StoreUnavailableError
from idp.model import RequestContext


class WebhookError(IdpError):
    """A refused webhook request: `status` and `code` for the JSON answer."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status, self.code = status, code


class WebhookReceiver:
    def __init__(self, reports: Reports, replays: Replays, clock: Clock, *, secret: str, tolerance: int) -> None:
        self.reports, self.replays, self.clock = reports, replays, clock
        self._secret, self.tolerance = secret, tolerance

    def receive(self, body: bytes, timestamp: str | None, signature: str | None, ctx: RequestContext) -> Transfer:
        """Checks in this order: the webhook is enabled (404), the size (413), the timestamp's
        window and the signature in constant time (401), first use of this signed request
        (409 `replayed`; remembered for twice the window), the JSON and its fields (400), an
        open transfer of the domain (404 `unknown_transfer`), a status the report may follow
        (409 `conflict`). A database outage forgets the request, so the registrar's retry of
        the very same request is taken."""
        if not self._secret:
            raise WebhookError(404, "not_found", "the registrar webhook is not enabled")
        if len(body) > MAX_BODY:
            raise WebhookError(413, "too_large", "the body is larger than 16 KiB")
        try:
            digest = verify(self._secret, timestamp, signature, body, now=self.clock.now().timestamp(),
                            tolerance=self.tolerance)
        except SignatureError as exc:
            raise WebhookError(401, "invalid_signature", str(exc)) from None
        if not self.replays.first_time(digest, ttl=2 * self.tolerance):
            raise WebhookError(409, "replayed", "this request was received already")
        try:
            report = parse_report(json.loads(body))
        except ReportError as exc:
            raise WebhookError(400, "invalid_request", str(exc)) from None
        except ValueError:
            raise WebhookError(400, "invalid_request", "the body is not JSON") from None
        try:
            return self.reports.apply(report, ctx=ctx)
        except NotFoundError as exc:
            raise WebhookError(404, "unknown_transfer", str(exc)) from None
        except ConflictError as exc:
            raise WebhookError(409, "conflict", str(exc)) from None
        except StoreUnavailableError:
            self.replays.forget(digest)
            raise
