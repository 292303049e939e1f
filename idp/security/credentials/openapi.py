"""The OpenAPI 3.1 description of the JSON account API (tests check it names every route)."""

from __future__ import annotations

from typing import Any

from idp.security.credentials.service import SCOPES

# Text filters refuse control characters (the API answers 400 for them).
PRINTABLE = "^[^\\x00-\\x1f]*$"

VERSION = "1.0.0"


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


ERRORS = {
    "401": _error("Missing, unknown, expired or revoked token"),
    "403": _error("The token does not have the scope this operation needs"),
    "429": _error("Too many requests from this address; see Retry-After"),
}


def _secured(scope: str, operation: dict[str, Any]) -> dict[str, Any]:
    responses = operation.setdefault("responses", {})
    responses.update(ERRORS)
    operation["security"] = [{"bearerToken": [scope]}]
    operation["description"] = operation.get("description", "") + f" Needs the `{scope}` scope."
    return operation


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "error_description"],
        "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
    },
    "Account": {
        "type": "object",
        "required": ["subject", "email", "display_name", "locale", "created_at", "organisations"],
        "properties": {
            "subject": {"type": "string", "description": "Stable, opaque identifier (OpenID Connect `sub`)"},
            "email": {"type": "string", "format": "email"},
            "display_name": {"type": "string"},
            "locale": {"type": ["string", "null"], "enum": ["en", "fr", None]},
            "created_at": {"type": "string", "format": "date-time"},
            "organisations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["slug", "name", "role"],
                    "properties": {
                        "slug": {"type": "string"},
                        "name": {"type": "string"},
                        "role": {"type": "string", "enum": ["legal_representative", "admin", "collaborator"]},
                    },
                },
            },
        },
    },
    "Event": {
        "type": "object",
        "required": ["id", "time", "action", "product", "ip", "device", "actor_id", "details"],
        "properties": {
            "id": {"type": "integer"},
            "time": {"type": "string", "format": "date-time"},
            "action": {"type": "string", "description": "Event tag, source:subject:action"},
            "product": {"type": "string"},
            "ip": {"type": ["string", "null"]},
            "device": {"type": ["string", "null"]},
            "actor_id": {"type": ["integer", "null"]},
            "details": {"type": "object"},
        },
    },
    "ActivityPage": {
        "type": "object",
        "required": ["events", "total", "page", "per_page"],
        "properties": {
            "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
        },
    },
    "Session": {
        "type": "object",
        "required": ["handle", "created_at", "last_seen_at", "expires_at", "ip", "device", "methods"],
        "properties": {
            "handle": {"type": "string", "pattern": "^[0-9a-f]{20}$"},
            "created_at": {"type": "string", "format": "date-time"},
            "last_seen_at": {"type": "string", "format": "date-time"},
            "expires_at": {"type": "string", "format": "date-time"},
            "ip": {"type": "string"},
            "device": {"type": "string"},
            "methods": {"type": "array", "items": {"type": "string"}},
        },
    },
}


def _json(ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


def document(base_url: str) -> dict[str, Any]:
    """The document for a server whose public URL is `base_url`."""
    paths: dict[str, Any] = {
        "/account": {
            "get": _secured("account:read", {
                "operationId": "getAccount",
                "summary": "The account the token belongs to",
                "responses": {"200": _json("Account", "The account")},
            }),
        },
        "/activity": {
            "get": _secured("activity:read", {
                "operationId": "listActivity",
                "summary": "The account's activity log, newest first",
                "parameters": [
                    _query("from", {"type": "string", "format": "date"}, "First day (YYYY-MM-DD, UTC)"),
                    _query("to", {"type": "string", "format": "date"}, "Last day, included (YYYY-MM-DD, UTC)"),
                    _query("product", {"type": "string", "maxLength": 64, "pattern": PRINTABLE},
                           "account, signin, api, kauth or a client id"),
                    _query("action", {"type": "string", "maxLength": 64, "pattern": PRINTABLE},
                           "An event tag, e.g. account:signin:failed"),
                    _query("q", {"type": "string", "maxLength": 200, "pattern": PRINTABLE}, "Text to search for"),
                    _query("page", {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1}, "Page number"),
                    _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
                           "Events per page"),
                ],
                "responses": {
                    "200": _json("ActivityPage", "One page of events"),
                    "400": _error("A parameter is malformed or unknown"),
                },
            }),
        },
        "/sessions": {
            "get": _secured("sessions:read", {
                "operationId": "listSessions",
                "summary": "The account's active browser sessions",
                "description": "`sessions:manage` includes this scope.",
                "responses": {
                    "200": {
                        "description": "The sessions",
                        "content": {"application/json": {"schema": {
                            "type": "object", "required": ["sessions"],
                            "properties": {"sessions": {
                                "type": "array", "items": {"$ref": "#/components/schemas/Session"},
                            }},
                        }}},
                    },
                },
            }),
        },
        "/sessions/{handle}": {
            "delete": _secured("sessions:manage", {
                "operationId": "endSession",
                "summary": "End one session: that browser is signed out on its next request",
                "parameters": [{
                    "name": "handle", "in": "path", "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9a-f]{20}$"},
                }],
                "responses": {
                    "204": {"description": "The session has ended"},
                    "400": _error("The handle is malformed"),
                    "404": _error("There is no such session"),
                },
            }),
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Account API",
            "version": VERSION,
            "description": "Read your account and activity and manage your sessions with a personal API token "
                           "(`Authorization: Bearer idp_pat_...`). Errors are JSON objects with `error` and "
                           "`error_description`.",
        },
        "servers": [{"url": base_url.rstrip("/") + "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearerToken": {
                    "type": "http", "scheme": "bearer",
                    "description": "A personal API token. Scopes: "
                                   + ", ".join(f"`{name}`" for name in SCOPES) + ".",
                },
            },
        },
        "security": [{"bearerToken": []}],
    }
