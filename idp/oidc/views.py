"""OpenID Provider endpoints: discovery, JWKS, authorization (its rules are the steps of
`idp.oidc.authorize`: this module renders their decisions), token, userinfo, revocation,
introspection and RP-initiated logout."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2.rfc6749 import InsecureTransportError
from authlib.oauth2.rfc6749 import OAuth2Error
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import session as flask_session
from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from idp.oidc import OIDC
from idp.oidc.authorize import AskConsent
from idp.oidc.authorize import AuthorizationContext
from idp.oidc.authorize import Refuse
from idp.oidc.authorize import SignIn
from idp.oidc.authorize import decide
from idp.oidc.discovery import discovery_document
from idp.oidc.forms import ConsentForm
from idp.oidc.forms import LogoutForm
from idp.oidc.keys import JWKS_MAX_AGE
from idp.oidc.models import EndUser
from idp.oidc.rules import access as access_rules
from idp.oidc.server import HTTPS_REQUIRED
from idp.oidc.server import IdpAuthorizationServer
from idp.oidc.service import OidcService
from idp.web.current import request_context
from idp.web.current import services
from idp.web.plumbing import clear_session_cookie

bp = Blueprint("oidc", __name__)
# The endpoints relying parties call with JSON answers (the others are a browser's).
JSON_ENDPOINTS = ("oidc.token", "oidc.revoke", "oidc.introspect")


def _oidc() -> OidcService:
    service: OidcService = services().get(OIDC).service
    return service


def _server() -> IdpAuthorizationServer:
    server = services().get(OIDC).server
    if server is None:
        raise RuntimeError("the OpenID Provider's server is built with the Flask application")
    return server


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def error_page(message: str, status: int = 400) -> tuple[str, int]:
    """The authorization endpoint's answer when it must not redirect (unknown client, bad redirect_uri)."""
    return render_template("oidc/error.html", message=message), status


# -- discovery and keys ----------------------------------------------------------------


def _public_json(body: bytes, etag: str, max_age: int) -> Response:
    """A cacheable public JSON document with a strong ETag (304 when the client has it)."""
    # Werkzeug keeps If-None-Match values unquoted; ours is quoted on the wire.
    fresh = request.if_none_match.contains(etag.strip('"'))
    response = Response(status=304) if fresh else Response(body, mimetype="application/json")
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    ext = services().get(OIDC)
    return _public_json(*discovery_document(ext.issuer, tuple(ext.algorithms)), max_age=300)


@bp.get("/oauth/jwks")
def jwks() -> Response:
    # Short: a rotated key must reach relying parties before it signs.
    return _public_json(*_oidc().keys.jwks_document(), max_age=JWKS_MAX_AGE)


# -- authorization ---------------------------------------------------------------------


def _redirect_to_client(redirect_uri: str, params: dict[str, str | None]) -> BaseResponse:
    """A redirect back to the relying party, always naming us (RFC 9207 `iss`)."""
    values = {k: v for k, v in params.items() if v is not None}
    values["iss"] = services().get(OIDC).issuer
    sep = "&" if "?" in redirect_uri else "?"
    return _no_store(redirect(f"{redirect_uri}{sep}{urlencode(values)}"))  # type: ignore[arg-type]


def _oauth_error(error: OAuth2Error) -> Any:
    if error.redirect_uri:
        return _redirect_to_client(error.redirect_uri, {
            "error": error.error, "error_description": error.description or None, "state": error.state,
        })
    message = {
        "invalid_client": _("This application is not known here."),
        "insecure_transport": _("Signing in to applications needs a secure (https) connection to this service."),
    }.get(error.error, _("The application sent an invalid sign-in request: %(detail)s",
                          detail=error.description or error.error))
    return error_page(message)


@bp.errorhandler(InsecureTransportError)
def insecure_transport(error: InsecureTransportError) -> Any:
    """Plain http to a host that is not a loopback address, which Authlib refuses before any
    other check (it then raises outside its own error handling): the token endpoints answer
    400 invalid_request, the browser's endpoints the error page. Behind a TLS proxy with
    `server.trusted_proxies` the request URL is https and this never happens."""
    if request.endpoint in JSON_ENDPOINTS:
        response = jsonify(error="invalid_request", error_description=HTTPS_REQUIRED)
        response.status_code = 400
        return _no_store(response)
    return _oauth_error(error)


def _parked_request(params: dict[str, str]) -> OAuth2Request:
    oauth_request = OAuth2Request("GET", request.url, headers=request.headers)
    oauth_request.payload = BasicOAuth2Payload(params)
    return oauth_request


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize() -> Any:
    resume = request.args.get("resume")
    if resume:
        parked = _oidc().parked(resume)
        if parked is None:
            return error_page(_("This sign-in request has expired. Go back to the application and start again."))
        return _authorize(_parked_request(parked["params"]), parked["params"], parked["seen"], resume)
    params = {k: v for k, v in request.values.items() if len(v) <= 4096}
    return _authorize(None, params, None, None)


def _signed_in() -> Any:
    return current_user if current_user.is_authenticated else None


def _end_user(signed_in: Any) -> EndUser | None:
    """The signed-in person with their session's auth_time, amr and handle (the `sid`)."""
    if signed_in is None:
        return None
    s = signed_in.session
    # The acting state as the partners capability checked it at the start of this request.
    return EndUser(signed_in.user, s.auth_time, list(s.amr), s.handle, s.acting)


def _authorize(oauth_request: OAuth2Request | None, params: dict[str, str], seen: int | None,
               resume: str | None) -> Any:
    """Authlib validates the request; the steps of `idp.oidc.authorize` decide what happens next."""
    oidc = _oidc()
    end_user = _end_user(_signed_in())
    try:
        grant = _server().get_consent_grant(request=oauth_request, end_user=end_user)
    except OAuth2Error as error:
        return _oauth_error(error)
    ctx = AuthorizationContext(
        params=grant.request.payload.data, client=grant.request.client.record, scope=grant.request.scope or "",
        person=end_user, now=int(oidc.clock.now().timestamp()), seen=seen, rules=oidc,
    )
    match decide(ctx):
        case Refuse(error=code, description=description):
            return _redirect_to_client(grant.redirect_uri, {
                "error": code, "error_description": description, "state": ctx.params.get("state"),
            })
        case SignIn():
            return _to_sign_in(ctx, resume or oidc.park_request(params, seen=ctx.now))
        case AskConsent():
            return _consent_page(ctx, resume or oidc.park_request(params, seen=seen or ctx.now))
    return _issue(grant, end_user, resume)


def _to_sign_in(ctx: AuthorizationContext, request_id: str) -> BaseResponse:
    """To the sign-in page (with the client's login_hint and language), or to /reauth for the
    person already signed in; either comes back to the parked request."""
    next_url = url_for("oidc.authorize", resume=request_id)
    if ctx.person is not None:
        return redirect(url_for("auth.reauth", next=next_url))
    args: dict[str, Any] = {"next": next_url, "login_hint": ctx.login_hint, "lang": ctx.ui_locale}
    return redirect(url_for("auth.identify", **{k: v for k, v in args.items() if v}))


def _consent_page(ctx: AuthorizationContext, request_id: str) -> str:
    assert ctx.person is not None  # noqa: S101 - the steps ask for consent only once signed in
    with force_locale(ctx.ui_locale) if ctx.ui_locale else nullcontext():
        return render_template(
            "oidc/consent.html", client=ctx.client, scopes=[s for s in ctx.scope.split() if s != "openid"],
            form=ConsentForm(request_id=request_id), user=ctx.person.user,
        )


def _issue(grant: Any, end_user: EndUser | None, resume: str | None) -> BaseResponse:
    response = _server().create_authorization_response(request=grant.request, grant_user=end_user, grant=grant)
    location = response.headers.get("Location", "")
    if resume:
        _oidc().unpark(resume)
    if location:
        sep = "&" if "?" in location else "?"
        response.headers["Location"] = f"{location}{sep}{urlencode({'iss': services().get(OIDC).issuer})}"
    return _no_store(response)


@bp.post("/oauth/consent")
def consent() -> Any:
    """The answer to the consent page (CSRF-checked): allow issues the code, deny tells the client."""
    form = ConsentForm()
    if not form.validate_on_submit():
        return error_page(_("This form has expired. Go back to the application and start again."))
    signed_in = _signed_in()
    if signed_in is None:
        return redirect(url_for("auth.identify"))
    oidc = _oidc()
    parked = oidc.parked(form.request_id.data)
    if parked is None:
        return error_page(_("This sign-in request has expired. Go back to the application and start again."))
    end_user = _end_user(signed_in)
    try:
        grant = _server().get_consent_grant(request=_parked_request(parked["params"]), end_user=end_user)
    except OAuth2Error as error:
        return _oauth_error(error)
    if form.decision.data != "allow":
        oidc.unpark(form.request_id.data)
        return _redirect_to_client(grant.redirect_uri, {
            "error": "access_denied", "error_description": "the person declined",
            "state": grant.request.payload.data.get("state"),
        })
    oidc.give_consent(signed_in.user, grant.request.client.record, grant.request.scope or "", request_context())
    return _issue(grant, end_user, form.request_id.data)


# -- token, userinfo, revocation, introspection ----------------------------------------


@bp.post("/oauth/token")
def token() -> Response:
    # Every store call of the grant (refresh lookup, spend, new row, person, event) in one
    # transaction: committed before the response leaves, all rolled back if anything fails.
    with _oidc().unit():
        response = _server().create_token_response()
    return _no_store(response)


@bp.post("/oauth/revoke")
def revoke() -> Response:
    with _oidc().unit():
        response = _server().create_endpoint_response("revocation")
    return _no_store(response)


@bp.post("/oauth/introspect")
def introspect() -> Response:
    with _oidc().unit():
        response = _server().create_endpoint_response("introspection")
    return _no_store(response)


def _bearer_error(status: int, error: str, description: str) -> Response:
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    response.headers["WWW-Authenticate"] = f'Bearer error="{error}", error_description="{description}"'
    return _no_store(response)


@bp.route("/oauth/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    """Claims of the token's scopes (and those asked for by name); the token comes in the
    Authorization header or, for POST, in the form body (RFC 6750 §2.1-2.2), never both."""
    auth = request.authorization
    in_header = (auth.token or "") if auth is not None and auth.type == "bearer" else ""
    in_body = request.form.get("access_token", "") if request.method == "POST" else ""
    if in_header and in_body:
        return _bearer_error(400, "invalid_request", "the token was sent twice")
    raw = in_header or in_body
    if not raw:
        response = jsonify(error="invalid_token", error_description="no access token")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="userinfo"'
        return _no_store(response)
    oidc = _oidc()
    body = oidc.tokens.verify_access_token(raw)
    if body is None:
        return _bearer_error(401, "invalid_token", "the access token is invalid, expired or revoked")
    if not access_rules.userinfo_allowed(body):
        return _bearer_error(403, "insufficient_scope", "the token was not granted the openid scope")
    user = services().get(OIDC).subjects.by_subject(str(body.get("sub")))
    claims = access_rules.userinfo(body, user, base_url=oidc.tokens.base_url)
    if claims is None:
        return _bearer_error(401, "invalid_token", "the account is no longer active")
    if user is not None and not oidc.token_delegation_stands(user.id, body):
        return _bearer_error(401, "invalid_token", "the delegation of this token has ended")
    return _no_store(jsonify(claims))


# -- RP-initiated logout ---------------------------------------------------------------


@bp.route("/oauth/logout", methods=["GET", "POST"])
def end_session() -> Any:
    """Ends the browser session. Redirects only with a valid id_token_hint signed here and a
    post_logout_redirect_uri registered exactly by that token's client; otherwise shows a page.
    Without a valid hint a signed-in person is asked to confirm (no logout by a forged link)."""
    oidc = _oidc()
    values = request.values
    hint = oidc.check_id_token_hint(values.get("id_token_hint"))
    target = values.get("post_logout_redirect_uri")
    client = None
    if hint is not None:
        aud = hint["aud"] if isinstance(hint["aud"], str) else (hint["aud"] or [None])[0]
        client = oidc.clients.get(aud)
        if values.get("client_id") and client is not None and values["client_id"] != client.client_id:
            client = None
    signed_in = _signed_in()
    if signed_in is not None:
        if hint is None or hint["sub"] != signed_in.user.subject:
            form = LogoutForm()
            return render_template("oidc/logout_confirm.html", form=form)
        _end_current_session()
    if client is not None and target and target in client.post_logout_redirect_uris:
        state = values.get("state")
        sep = "&" if "?" in target else "?"
        response = redirect(f"{target}{sep}{urlencode({'state': state})}" if state else target)
    else:
        response = redirect(url_for("oidc.logged_out"))
    clear_session_cookie(response)
    return _no_store(response)  # type: ignore[arg-type]


def _end_current_session() -> None:
    services().sessions.logout(current_user.session, request_context())
    flask_session.clear()


@bp.post("/oauth/logout/confirm")
def logout_confirm() -> Any:
    form = LogoutForm()
    if form.validate_on_submit() and _signed_in() is not None:
        _end_current_session()
    response = redirect(url_for("oidc.logged_out"))
    clear_session_cookie(response)
    return response


@bp.get("/oauth/logged-out")
def logged_out() -> str:
    return render_template("oidc/logged_out.html")


# Protocol endpoints are called by relying parties (no CSRF token); the consent and
# logout-confirmation forms keep theirs.
CSRF_EXEMPT = (authorize, token, revoke, introspect, userinfo, end_session)
