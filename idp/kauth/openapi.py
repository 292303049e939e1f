"""The OpenAPI 3.1 description of the kAuth device API, served at /api/kauth/v1/openapi.json."""

from __future__ import annotations

from typing import Any

_SIGNED = [
    {"name": "X-Kauth-Timestamp", "in": "header", "required": True,
     "description": "Unix time in seconds; refused when more than kauth.clock_skew away from the server.",
     "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"}},
    {"name": "X-Kauth-Nonce", "in": "header", "required": True,
     "description": "Random, used once per device (a replayed request is refused).",
     "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"}},
    {"name": "X-Kauth-Signature", "in": "header", "required": True,
     "description": "base64url DER ECDSA P-256 SHA-256 signature of the request string: "
                    "`KAUTH-REQUEST-V1\\n<METHOD>\\n<path>\\n<timestamp>\\n<nonce>\\n<hex SHA-256 of the body>`.",
     "schema": {"type": "string", "maxLength": 200}},
]
_DEVICE = {"name": "X-Kauth-Device", "in": "header", "required": True, "description": "The device id.",
           "schema": {"type": "string", "pattern": "^kd_[A-Za-z0-9_-]{16,40}$"}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _errors(*statuses: int) -> dict[str, Any]:
    texts = {
        400: "Malformed request (header, JSON or field).",
        401: "Not authenticated: unknown_device, invalid_signature, stale_request, replayed_request, invalid_token.",
        403: "account_unavailable: the device's account is disabled or deleted.",
        404: "Unknown challenge.",
        409: "already_answered, or too_many_devices.",
        410: "device_removed (with the signed notice) or challenge_expired.",
        413: "Body too large.",
        429: "Too many requests from this address.",
    }
    return {str(s): _error(texts[s]) for s in statuses}


def document(server_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "kAuth device API", "version": "1.0.0",
            "description": "Enrol a device, fetch and answer sign-in approval requests (number matching), "
                           "learn of removal. See docs/kauth.md.",
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/devices": {"post": {
                "operationId": "enrol",
                "summary": "Enrol a device with a single-use enrolment token; signed with the new key.",
                "parameters": _SIGNED,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Enrolment"}}}},
                "responses": {"201": {"description": "Enrolled.", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Enrolled"}}}}, **_errors(400, 401, 409, 413, 429)},
            }},
            "/device": {
                "get": {
                    "operationId": "device", "summary": "This device, or 410 with the signed removal notice.",
                    "parameters": [_DEVICE, *_SIGNED],
                    "responses": {"200": {"description": "Active."}, **_errors(400, 401, 403, 410, 429)},
                },
                "delete": {
                    "operationId": "unenrol", "summary": "The device removes itself.",
                    "parameters": [_DEVICE, *_SIGNED],
                    "responses": {"200": {"description": "Removed; the signed notice."},
                                  **_errors(400, 401, 403, 410, 429)},
                },
            },
            "/challenges": {"get": {
                "operationId": "challenges",
                "summary": "The pending approval request of the account (at most one), with three numbers.",
                "parameters": [_DEVICE, *_SIGNED],
                "responses": {"200": {"description": "Pending requests.", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Challenges"}}}}, **_errors(400, 401, 403, 410, 429)},
            }},
            "/challenges/{challenge_id}/answer": {"post": {
                "operationId": "answer",
                "summary": "Approve with the number shown in the browser, or deny; the first valid answer wins.",
                "parameters": [
                    {"name": "challenge_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    _DEVICE, *_SIGNED,
                ],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Answer"}}}},
                "responses": {"200": {"description": "Recorded.", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Answered"}}}},
                    **_errors(400, 401, 403, 404, 409, 410, 413, 429)},
            }},
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error", "error_description"], "properties": {
                "error": {"type": "string"}, "error_description": {"type": "string"},
                "notice": {"$ref": "#/components/schemas/Notice"}}},
            "Notice": {"type": "object", "description": "Signed by the server key (KAUTH-NOTICE-V1 + canonical JSON).",
                       "properties": {"type": {"const": "removed"}, "device_id": {"type": "string"},
                                      "removed_at": {"type": "string", "format": "date-time"},
                                      "by": {"enum": ["account", "device"]}, "signature": {"type": "string"}}},
            "Enrolment": {"type": "object", "required": ["token", "name", "platform", "public_key"], "properties": {
                "token": {"type": "string", "pattern": "^[A-Za-z0-9_-]{20,64}$"},
                "name": {"type": "string", "minLength": 1, "maxLength": 100},
                "platform": {"type": "string", "pattern": "^[A-Za-z0-9 ._()-]{1,40}$"},
                "public_key": {"type": "string", "description": "P-256 SubjectPublicKeyInfo, DER, base64url."}}},
            "Enrolled": {"type": "object", "properties": {
                "device_id": {"type": "string"}, "name": {"type": "string"}, "platform": {"type": "string"},
                "server_public_key": {"type": "string", "description": "Verifies the server's notices."}}},
            "Challenges": {"type": "object", "properties": {"challenges": {"type": "array", "items": {
                "type": "object", "properties": {
                    "id": {"type": "string"},
                    "options": {"type": "array", "items": {"type": "integer"}, "minItems": 3, "maxItems": 3},
                    "context": {"type": "object", "properties": {
                        "application": {"type": "string"}, "ip": {"type": "string"},
                        "browser": {"type": "string"}, "time": {"type": "string", "format": "date-time"}}},
                    "created_at": {"type": "string", "format": "date-time"},
                    "expires_at": {"type": "string", "format": "date-time"}}}}}},
            "Answer": {"type": "object", "required": ["decision", "signature"], "properties": {
                "decision": {"enum": ["approve", "deny"]},
                "number": {"type": "integer", "minimum": 10, "maximum": 99},
                "reason": {"enum": ["cancelled", "not_me"]},
                "signature": {"type": "string", "description": "Device signature of "
                              "`KAUTH-ANSWER-V1\\n<challenge id>\\n<decision>\\n<number or empty>`."}}},
            "Answered": {"type": "object", "properties": {
                "status": {"enum": ["approved", "wrong_number", "denied", "reported"]},
                "wizard_url": {"type": "string"}}},
        }},
    }
