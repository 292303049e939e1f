"""Forward authentication for reverse proxies (nginx `auth_request`): who is this request?"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint
from flask import Response
from flask import request
from flask_login import current_user

from idp.errors import AuthenticationError
from idp.model import User
from idp.security.credentials import CREDENTIALS
from idp.security.credentials.service import CredentialService
from idp.security.credentials.service import InsufficientScopeError
from idp.web.current import request_context
from idp.web.current import services

bp = Blueprint("forwardauth", __name__)

PROXY_SCOPE = "proxy:access"


def _header_value(value: str) -> str:
    # Header values are Latin-1 on the wire; non-ASCII addresses are percent-encoded (UTF-8).
    return quote(value, safe="@.+-_!#$&'*/=?^`{|}~")


def _allowed(user: User, method: str) -> Response:
    response = Response(status=200)
    response.headers["X-Auth-User"] = _header_value(user.email)
    response.headers["X-Auth-Email"] = _header_value(user.email)
    response.headers["X-Auth-Subject"] = user.subject
    response.headers["X-Auth-Method"] = method
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused() -> Response:
    realm = services().settings.site_name.replace('"', "")
    response = Response(status=401)
    response.headers.add("WWW-Authenticate", f'Basic realm="{realm}", charset="UTF-8"')
    response.headers.add("WWW-Authenticate", f'Bearer realm="{realm}"')
    response.headers["Cache-Control"] = "no-store"
    return response


# nginx's auth_request subrequest keeps the method of the request it guards.
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@bp.route("/auth/forward", methods=METHODS, provide_automatic_options=False)
def forward() -> Response:
    """200 with X-Auth-User, X-Auth-Email, X-Auth-Subject and X-Auth-Method for a request that
    carries an app password (HTTP Basic, the account e-mail as user name), a bearer API token
    with the `proxy:access` scope, or a live session cookie; otherwise 401 with the challenges.

    Explicit credentials win over the cookie: a client that sends a wrong one is refused even
    when a browser session exists, so a revoked secret never passes unnoticed. Any method is
    answered alike (it only reads who is calling; nothing changes), so no CSRF token applies."""
    credentials: CredentialService = services().get(CREDENTIALS)
    auth = request.authorization  # None for Basic credentials that are not Base64 of UTF-8
    ctx = request_context()
    if request.headers.get("Authorization"):
        try:
            if auth is not None and auth.type == "basic":
                if not auth.password:  # no secret (or no colon): nothing to check
                    return _refused()
                return _allowed(credentials.check_app_password(auth.username or "", auth.password, ctx), "app_password")
            if auth is not None and auth.type == "bearer":
                user, _token = credentials.check_api_token(auth.token or "", ctx, PROXY_SCOPE)
                return _allowed(user, "api_token")
        except AuthenticationError:
            return _refused()
        except InsufficientScopeError:
            return Response(status=403, headers={"Cache-Control": "no-store"})
        return _refused()
    if current_user.is_authenticated:
        return _allowed(current_user.user, "session")
    return _refused()
