"""The kAuth device API (JSON, /api/kauth/v1): enrol, poll, answer, learn of removal, unenrol.

Every request but the OpenAPI document is signed (see idp.kauth.crypto.request_string) and carries
X-Kauth-Timestamp, X-Kauth-Nonce, X-Kauth-Signature, and X-Kauth-Device once enrolled. Every
error is JSON `{"error": code, "error_description": text}` with its HTTP status.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request
from flask import url_for

from idp.capability import COMPROMISED_PASSWORD_URL
from idp.kauth import KAUTH
from idp.kauth.errors import DeviceRemovedError
from idp.kauth.errors import KauthError
from idp.kauth.errors import MalformedRequestError
from idp.kauth.model import Device
from idp.kauth.openapi import document
from idp.kauth.service import KauthService
from idp.web.current import request_context
from idp.web.current import services

bp = Blueprint("kauth_api", __name__, url_prefix="/api/kauth/v1")

MAX_BODY = 8 * 1024
# Requests per IP per minute on the device API (polling every few seconds stays well under).
IP_LIMIT, IP_WINDOW = 120, 60


def kauth() -> KauthService:
    service: KauthService = services().get(KAUTH)
    return service


def public_url(endpoint: str) -> str:
    """An absolute link to `endpoint` on this service's public address (`server.base_url`).
    Never from the request's Host or X-Forwarded-Host: the link goes into mail and onto devices,
    and a forged header would point them at another site."""
    return services().settings.server.base_url + url_for(endpoint)


def wizard_url() -> str:
    """Where to secure the account after "this wasn't me": the compromised-password wizard's
    public address when its capability is installed (the COMPROMISED_PASSWORD_URL hook), else
    the account page."""
    wizard = services().find(COMPROMISED_PASSWORD_URL)
    return wizard() if wizard is not None else public_url("account.home")


def _body() -> bytes:
    if (request.content_length or 0) > MAX_BODY:
        raise KauthError("the body is too large", code="too_large", status=413)
    body = request.get_data(cache=True)
    if len(body) > MAX_BODY:
        raise KauthError("the body is too large", code="too_large", status=413)
    return body


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedRequestError("the body must be JSON") from None


def _signed() -> dict[str, Any]:
    return {
        "timestamp": request.headers.get("X-Kauth-Timestamp", ""),
        "nonce": request.headers.get("X-Kauth-Nonce", ""),
        "signature": request.headers.get("X-Kauth-Signature", ""),
        "method": request.method, "path": request.path,
    }


def _device(body: bytes) -> Device:
    return kauth().authenticate(
        device_id=request.headers.get("X-Kauth-Device", ""), body=body, ctx=request_context(), **_signed()
    )


@bp.before_request
def _limit() -> None:
    services().ratelimit.check("kauth_api", request_context().ip, limit=IP_LIMIT, window=IP_WINDOW)


@bp.errorhandler(KauthError)
def _error(exc: KauthError) -> tuple[Response, int]:
    payload: dict[str, Any] = {"error": exc.code, "error_description": str(exc)}
    if isinstance(exc, DeviceRemovedError):
        payload["notice"] = exc.notice
    response = jsonify(payload)
    response.headers["Cache-Control"] = "no-store"
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'KAuth realm="kauth"'
    return response, exc.status


def _no_store(payload: dict[str, Any], status: int = 200) -> tuple[Response, int]:
    response = jsonify(payload)
    response.headers["Cache-Control"] = "no-store"
    return response, status


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(document(public_url("kauth_api.openapi").rsplit("/openapi.json", 1)[0]))


@bp.post("/devices")
def enrol() -> tuple[Response, int]:
    body = _body()
    device = kauth().enrol(_json(body), body=body, ctx=request_context(), **_signed())
    return _no_store({
        "device_id": device.id, "name": device.name, "platform": device.platform,
        "server_public_key": kauth().server_public_key,
    }, 201)


@bp.get("/device")
def me() -> tuple[Response, int]:
    device = _device(_body())
    return _no_store({"device_id": device.id, "name": device.name, "platform": device.platform,
                      "created_at": device.created_at.isoformat(), "status": "active"})


@bp.delete("/device")
def unenrol() -> tuple[Response, int]:
    device = _device(_body())
    return _no_store({"notice": kauth().unenrol(device, request_context())})


@bp.get("/challenges")
def challenges() -> tuple[Response, int]:
    device = _device(_body())
    return _no_store({"challenges": kauth().pending_for(device)})


@bp.post("/challenges/<challenge_id>/answer")
def answer(challenge_id: str) -> tuple[Response, int]:
    body = _body()
    device = _device(body)
    status = kauth().answer(device, challenge_id, _json(body), request_context(), wizard_url=wizard_url())
    payload: dict[str, Any] = {"status": status}
    if status == "reported":
        payload["wizard_url"] = wizard_url()
    return _no_store(payload)
