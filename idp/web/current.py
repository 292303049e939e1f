"""The current request's caller: its RequestContext, its services and its signed-in user."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

from flask import current_app
from flask import g
from flask import redirect
from flask import request
from flask import url_for
from flask_login import LoginManager
from flask_login import UserMixin
from flask_login import current_user

from idp.foundation.sessions import BrowserSession
from idp.model import RequestContext
from idp.model import User
from idp.standing import Act
from idp.standing import may

if TYPE_CHECKING:
    from idp.container import Container


def services() -> Container:
    container: Container = current_app.extensions["idp"]
    return container


# What we put in the device cookie: 32 random bytes, URL-safe Base64 (secrets.token_urlsafe).
_DEVICE_KEY = re.compile(r"^[A-Za-z0-9_-]{43}$")


def device_key() -> str:
    """This browser's device cookie, or a new random one when it has none (or a malformed one);
    the same value for the whole request, so that the sign-in recorded and the cookie set agree."""
    if "device_key" not in g:
        sent = request.cookies.get(services().settings.device_cookie, "")
        g.device_key = sent if _DEVICE_KEY.match(sent) else secrets.token_urlsafe(32)
    key: str = g.device_key
    return key


def request_context() -> RequestContext:
    return RequestContext(
        ip=request.remote_addr or "unknown", user_agent=request.headers.get("User-Agent", "")[:512],
        device_key=device_key(),
    )


class SignedIn(UserMixin):  # type: ignore[misc]
    """What Flask-Login calls the current user: the account and the session it signed in with."""

    def __init__(self, user: User, session: BrowserSession) -> None:
        self.user = user
        self.session = session

    def get_id(self) -> str:
        return str(self.user.id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.user, name)


def session_cookie_value() -> str:
    return request.cookies.get(services().settings.session_cookie, "")


def load_from_cookie(_request: Any) -> SignedIn | None:
    """Flask-Login's request loader: the cookie's opaque id -> the live server-side session.

    Runs on every request, so a session ended in Redis (by its owner, an admin, or from
    another worker) is refused on the browser's very next request.
    """
    if "signed_in" in g:
        return g.signed_in  # type: ignore[no-any-return]
    sid = session_cookie_value()
    signed_in = None
    if sid:
        container = services()
        session = container.sessions.resolve(sid, request_context())
        if session is not None:
            user = container.users.get(session.user_id)
            if user is not None and may(user, Act.BROWSER_SESSION):
                signed_in = SignedIn(user, session)
        if signed_in is None:
            g.clear_session_cookie = True
    g.signed_in = signed_in
    return signed_in


def init_login(app: Any) -> None:
    manager = LoginManager()
    manager.login_view = "auth.identify"
    manager.session_protection = None  # the server-side session is the authority
    manager.request_loader(load_from_cookie)
    manager.login_message = None
    manager.init_app(app)


F = TypeVar("F", bound=Callable[..., Any])


def recent_auth_required(view: F) -> F:
    """Signed in, and authenticated within `security.recent_auth_max_age` seconds; otherwise
    ask for the password (or a factor) again and come back."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        container = services()
        if container.sessions.auth_age(current_user.session) > container.settings.security.recent_auth_max_age:
            return redirect(url_for("auth.reauth", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
