"""The JSON account API under /api/v1, for personal API tokens (Bearer), with its OpenAPI document."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import wraps
from typing import Any
from typing import TypeVar

from flask import Blueprint
from flask import Response
from flask import g
from flask import jsonify
from flask import request

from idp.errors import ValidationError
from idp.model import Event
from idp.model import User
from idp.security.center import SECURITY
from idp.security.credentials import CREDENTIALS
from idp.security.credentials.openapi import document
from idp.security.credentials.service import CredentialService
from idp.security.credentials.service import InsufficientScopeError
from idp.security.credentials.service import InvalidTokenError
from idp.web.current import request_context
from idp.web.current import services

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")

HANDLE = re.compile(r"^[0-9a-f]{20}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_PER_PAGE = 100
MAX_PAGE = 100_000
ACTIVITY_PARAMS = {"from", "to", "product", "action", "q", "page", "per_page"}

F = TypeVar("F", bound=Callable[..., Any])


def api_error(status: int, error: str, description: str, **headers: str) -> Response:
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    response.headers.update(headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def _challenge(error: str | None = None, scope: str | None = None) -> str:
    realm = services().settings.site_name.replace('"', "")
    parts = [f'realm="{realm}"']
    if error:
        parts.append(f'error="{error}"')
    if scope:
        parts.append(f'scope="{scope}"')
    return "Bearer " + ", ".join(parts)


def token_required(scope: str) -> Callable[[F], F]:
    """A live API token allowing `scope` in `Authorization: Bearer`; 401 or 403 in JSON otherwise.

    Cookies are ignored here: a page another site opens cannot act through this API."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            auth = request.authorization
            if not request.headers.get("Authorization"):
                return api_error(
                    401, "invalid_token", "An API token is required: Authorization: Bearer <token>.",
                    **{"WWW-Authenticate": _challenge()},
                )
            if auth is None or auth.type != "bearer" or not auth.token:
                return api_error(
                    401, "invalid_token", "Use an API token: Authorization: Bearer <token>.",
                    **{"WWW-Authenticate": _challenge("invalid_token")},
                )
            credentials: CredentialService = services().get(CREDENTIALS)
            try:
                user, token = credentials.check_api_token(auth.token, request_context(), scope)
            except InvalidTokenError:
                return api_error(
                    401, "invalid_token", "The token is unknown, expired or revoked.",
                    **{"WWW-Authenticate": _challenge("invalid_token")},
                )
            except InsufficientScopeError:
                return api_error(
                    403, "insufficient_scope", f"This token does not have the {scope} scope.",
                    **{"WWW-Authenticate": _challenge("insufficient_scope", scope)},
                )
            g.api_user, g.api_token = user, token  # the token: for handlers that need its scopes
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _user() -> User:
    user: User = g.api_user
    return user


def _time(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds") if value else None


def _epoch(value: int) -> str:
    return dt.datetime.fromtimestamp(value, dt.UTC).isoformat(timespec="seconds")


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(document(services().settings.server.base_url))


@bp.get("/account")
@token_required("account:read")
def account() -> Response:
    user = _user()
    memberships = services().accounts.memberships(user)
    return jsonify(
        subject=user.subject, email=user.email, display_name=user.display_name, locale=user.locale,
        created_at=_time(user.created_at),
        organisations=[{"slug": m.org_slug, "name": m.org_name, "role": m.role.value} for m in memberships],
    )


def _date(name: str) -> dt.date | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not DATE.match(raw):
        raise ValidationError(f"{name} must be a date written YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(f"{name} is not a real date") from None


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9 or not low <= int(raw) <= high:
        raise ValidationError(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _text(name: str, limit: int) -> str | None:
    raw = request.args.get(name)
    if raw is not None and (len(raw) > limit or any(ord(c) < 32 for c in raw)):
        raise ValidationError(f"{name} must be at most {limit} printable characters")
    return raw or None


def _event(event: Event) -> dict[str, Any]:
    return {
        "id": event.id, "time": _time(event.created_at), "action": event.tag, "product": event.product,
        "ip": event.ip, "device": event.device, "actor_id": event.actor_id, "details": event.details,
    }


@bp.get("/activity")
@token_required("activity:read")
def activity() -> Response:
    unknown = sorted(set(request.args) - ACTIVITY_PARAMS)
    try:
        if unknown:
            raise ValidationError(f"unknown query parameter: {unknown[0][:40]}")
        date_from, date_to = _date("from"), _date("to")
        if date_from and date_to and date_to < date_from:
            raise ValidationError("to must not be before from")
        page = _int("page", 1, 1, MAX_PAGE)
        per_page = _int("per_page", 50, 1, MAX_PER_PAGE)
        product, action, text = _text("product", 64), _text("action", 64), _text("q", 200)
        security = services().find(SECURITY)  # the activity log is the security center's
        if security is None:
            return api_error(503, "temporarily_unavailable", "The activity log is not available.")
        events, total = security.activity.search(
            user_id=_user().id, date_from=date_from, date_to=date_to, product=product, action=action,
            text=text, page=page, per_page=per_page,
        )
    except ValidationError as exc:
        return api_error(400, "invalid_request", str(exc))
    return jsonify(events=[_event(e) for e in events], total=total, page=page, per_page=per_page)


@bp.get("/sessions")
@token_required("sessions:read")
def sessions() -> Response:
    listed = services().sessions.list(_user().id)
    return jsonify(sessions=[
        {
            "handle": s.handle, "created_at": _epoch(s.created), "last_seen_at": _epoch(s.last_seen),
            "expires_at": _epoch(s.expires), "ip": s.ip, "device": s.device, "methods": s.amr,
        }
        for s in listed
    ])


@bp.delete("/sessions/<handle>")
@token_required("sessions:manage")
def end_session(handle: str) -> Response:
    if not HANDLE.match(handle):
        return api_error(400, "invalid_request", "A session handle is 20 lower-case hexadecimal characters.")
    if not services().sessions.end(_user().id, handle, request_context()):
        return api_error(404, "not_found", "There is no such session.")
    return Response(status=204)


@bp.errorhandler(ValidationError)
def _invalid(exc: ValidationError) -> Response:
    return api_error(400, "invalid_request", str(exc))
