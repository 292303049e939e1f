"""The registrar's webhook: `POST /api/domains/v1/transfer-result`, authenticated by its HMAC
signature (idp.domains.webhook), answered in JSON."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from idp.domains import DOMAINS
from idp.domains.receiver import WebhookError
from idp.domains.webhook import MAX_BODY
from idp.domains.webhook import SIGNATURE_HEADER
from idp.domains.webhook import TIMESTAMP_HEADER
from idp.web.current import request_context
from idp.web.current import services

bp = Blueprint("domains_api", __name__, url_prefix="/api/domains/v1")


def _answer(status: int, body: dict[str, object]) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/transfer-result")
def transfer_result() -> Response:
    """The registrar reports a transfer failed, completed or in progress (docs/domains.md)."""
    if (request.content_length or 0) > MAX_BODY:
        return _answer(413, {"error": "too_large", "error_description": "the body is larger than 16 KiB"})
    body = request.stream.read(MAX_BODY + 1)
    try:
        transfer = services().get(DOMAINS).webhook.receive(
            body, request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER), request_context(),
        )
    except WebhookError as exc:
        return _answer(exc.status, {"error": exc.code, "error_description": str(exc)})
    return _answer(200, {"transfer": transfer.id, "domain": transfer.domain, "status": transfer.status.value,
                         "failures": transfer.failures})
