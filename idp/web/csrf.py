"""CSRF defence: Flask-WTF's synchroniser token on every form, plus a same-origin check of the
`Origin` header (or, when a browser sends none, of the `Referer`) on every state-changing form.

Why both, and why not Flask-WTF's strict-SSL referrer check: see docs/decisions/0605-csrf.md.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import g
from flask import request
from flask_wtf.csrf import CSRFError
from flask_wtf.csrf import CSRFProtect

from idp.web.current import services


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed_origins() -> set[str]:
    """The origins a form of ours is posted from: the public URL, and the address this request
    came to (after the trusted proxy's X-Forwarded-Proto and -Host), which is the same behind a
    proxy and differs only on a development address such as 127.0.0.1 for localhost."""
    here = _origin_of(request.host_url)
    public = _origin_of(services().settings.server.base_url)
    return {o for o in (here, public) if o}


def check_same_origin() -> None:
    """Raise CSRFError when the browser says the form came from another site.

    `Origin` is sent by every current browser on a form POST and cannot be set by a page; a
    browser that sends none (old ones, some privacy settings) is checked by its `Referer`,
    which our Referrer-Policy (`same-origin`) keeps on our own pages. With neither, the token
    alone decides, as it did before; the cookies' `__Host-` prefix and SameSite=Lax keep
    another site from planting or sending them.
    """
    origin = request.headers.get("Origin")
    if origin is not None:
        if origin.lower() not in allowed_origins():
            raise CSRFError("The request came from another site.")
        return
    referrer = request.headers.get("Referer")
    if referrer and _origin_of(referrer) not in allowed_origins():
        raise CSRFError("The referrer is another site.")


class SameOriginCSRF(CSRFProtect):  # type: ignore[misc]
    """Flask-WTF's CSRFProtect (token, exemptions, error type), and on a request whose token it
    accepted, the origin check as well."""

    def protect(self, apply_exemptions: bool = False) -> None:
        super().protect(apply_exemptions=apply_exemptions)
        # Set by Flask-WTF only when it checked a token: exempt views and safe methods skip both.
        if g.get("csrf_valid"):
            check_same_origin()
