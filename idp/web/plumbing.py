"""Per-request plumbing: request id, client IP, security headers, cookies, metrics and error pages."""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from flask import Flask
from flask import Response
from flask import g
from flask import jsonify
from flask import render_template
from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response as BaseResponse

from idp import logs
from idp import metrics
from idp.errors import IdpError
from idp.errors import RateLimitedError
from idp.errors import StoreUnavailableError
from idp.web.current import device_key
from idp.web.current import services

log = logging.getLogger(__name__)

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def wants_json() -> bool:
    if request.path.startswith(("/api/", "/oauth/", "/healthz", "/readyz")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


# The last resort when even the error template cannot be rendered: no template, no store.
_BARE_PAGE = ('<!doctype html><html lang="en"><meta charset="utf-8"><title>{title}</title>'
              '<h1>{title}</h1><p>{message}</p></html>')


def error_response(status: int, code: str, title: str, message: str, **headers: str) -> Response:
    """The error page or JSON. It never touches a store: a person whose session was not read yet
    (the store that holds it may be the one that is down) sees the page as if signed out."""
    if wants_json():
        response = jsonify(error=code, error_description=message)
    else:
        if "signed_in" not in g:
            g.signed_in = None
        try:
            body = render_template("errors/error.html", status=status, title=title, message=message)
        except Exception:
            log.exception("the error page could not be rendered")
            body = _BARE_PAGE.format(title=escape(title), message=escape(message))
        response = Response(body, mimetype="text/html")
    response.status_code = status
    response.headers.update(headers)
    response.headers["Cache-Control"] = "no-store"
    return response


# Endpoints that take an upload larger than MAX_CONTENT_LENGTH, and their own bound (set by the
# view's module). Applied before the CSRF check reads the form.
UPLOAD_LIMITS: dict[str, int] = {}


def apply_upload_limit() -> None:
    limit = UPLOAD_LIMITS.get(request.endpoint or "")
    if limit:
        request.max_content_length = limit


# The largest id a row can have (PostgreSQL's INTEGER): a larger number in an address names nothing.
MAX_ROW_ID = 2**31 - 1


class RowIdConverter(IntegerConverter):
    """`<row_id:name>`, for every id in an address: the digits of a row id, answered with a 400
    and a plain message when the number is past what a row id can be, before any view or store
    sees it (PostgreSQL would refuse it as out of range)."""

    def to_python(self, value: str) -> int:
        number: int = super().to_python(value)
        if number > MAX_ROW_ID:
            raise BadRequest(_l("This address holds a number too large to name anything here."))
        return number


def init_app(app: Flask) -> None:
    app.url_map.converters["row_id"] = RowIdConverter
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_end)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(StoreUnavailableError, _unavailable)
    app.register_error_handler(RateLimitedError, _rate_limited)
    app.register_error_handler(IdpError, _idp_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def request_id_of(incoming: str) -> str:
    """The caller's X-Request-ID when it is a sane token, else a new one."""
    return incoming if REQUEST_ID.match(incoming) else secrets.token_hex(8)


def security_headers(secure: bool) -> dict[str, str]:
    """Headers every response carries (the ASGI fast lane adds the same)."""
    headers = {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        # Same-origin requests keep their Referer (the CSRF check reads it when a browser sends no
        # Origin); nothing is sent to other sites, so no URL with a code or state leaks out.
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if secure:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return headers


# A view may set its own; the others are always ours.
_VIEW_MAY_SET = frozenset({"Content-Security-Policy", "Cross-Origin-Opener-Policy"})


def _begin() -> None:
    g.request_id = request_id_of(request.headers.get("X-Request-ID", ""))
    g.request_id_token = logs.request_id.set(g.request_id)
    g.started = time.perf_counter()


def _end(_exc: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        logs.request_id.reset(token)


def _finish(response: Response) -> Response:
    settings = services().settings
    headers = response.headers
    headers["X-Request-ID"] = g.get("request_id", "-")
    for name, value in security_headers(settings.secure_cookies).items():
        if name in _VIEW_MAY_SET:
            headers.setdefault(name, value)
        else:
            headers[name] = value
    if response.mimetype == "text/html":
        # Pages show personal data: never keep them in shared caches or the back-forward cache.
        headers.setdefault("Cache-Control", "no-store")
    if g.get("clear_session_cookie") and not g.get("session_cookie_set"):
        clear_session_cookie(response)
    endpoint = request.endpoint or "unknown"
    metrics.REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
    if "started" in g:
        metrics.LATENCY.labels(endpoint).observe(time.perf_counter() - g.started)
    return response


def set_session_cookie(response: BaseResponse, session_id: str) -> None:
    settings = services().settings
    response.set_cookie(
        settings.session_cookie, session_id, max_age=settings.session.absolute_lifetime,
        path="/", secure=settings.secure_cookies, httponly=True, samesite="Lax",
    )
    g.session_cookie_set = True


# About 400 days, the longest lifetime browsers keep (RFC 6265bis caps Max-Age there).
DEVICE_COOKIE_MAX_AGE = 400 * 86400


def set_device_cookie(response: BaseResponse) -> None:
    """Set (or refresh, at each sign-in) the long-lived random cookie that lets the sign-in
    notification recognise this browser. It authenticates nothing; only its keyed digest is stored."""
    settings = services().settings
    response.set_cookie(
        settings.device_cookie, device_key(), max_age=DEVICE_COOKIE_MAX_AGE,
        path="/", secure=settings.secure_cookies, httponly=True, samesite="Lax",
    )


def clear_session_cookie(response: BaseResponse) -> None:
    """Tell the browser to drop the session cookie (with the attributes its name prefix needs)."""
    settings = services().settings
    response.delete_cookie(settings.session_cookie, path="/", secure=settings.secure_cookies,
                           httponly=True, samesite="Lax")


def _csrf_error(exc: CSRFError) -> Response:
    return error_response(
        400, "invalid_request", _("This form has expired"),
        _("The form was open too long or came from another site. Go back, reload the page and try again."),
    )


def _unavailable(exc: StoreUnavailableError) -> Response:
    metrics.UNAVAILABLE.inc()
    log.error("store unavailable", extra={"error": str(exc.__cause__ or exc)})
    return error_response(
        503, "temporarily_unavailable", _("Temporarily unavailable"),
        _("Sign-in is temporarily unavailable. Please try again in a few minutes."),
        **{"Retry-After": "30"},
    )


def _rate_limited(exc: RateLimitedError) -> Response:
    return error_response(
        429, "rate_limited", _("Too many attempts"),
        _("Too many attempts from your network. Wait %(seconds)s seconds and try again.",
          seconds=exc.retry_after),
        **{"Retry-After": str(exc.retry_after)},
    )


def _idp_error(exc: IdpError) -> Response:
    return error_response(exc.status, exc.code, _("Something is not right"), str(exc))


def _http_error(exc: HTTPException) -> Response:
    titles = {
        400: _("This request cannot be used"),
        404: _("Page not found"),
        405: _("Not allowed"),
        413: _("Too large"),
    }
    status = exc.code or 500
    # Werkzeug's own descriptions are English; a view's BadRequest carries a translated one.
    own = exc.description if exc.description and exc.description != type(exc).description else None
    message = {
        400: own or _("Something in what was sent is malformed. Go back, reload the page and try again."),
        404: _("There is nothing at this address."),
        405: _("This address does not accept that kind of request."),
        413: _("What was sent is too large."),
    }.get(status, exc.description or "")
    return error_response(
        status, exc.name.lower().replace(" ", "_"), titles.get(status, exc.name), message
    )


def _unexpected(exc: Exception) -> Any:
    log.exception("unhandled error")
    return error_response(
        500, "server_error", _("Something went wrong"),
        _("An unexpected error happened on our side. It has been logged; please try again."),
    )
