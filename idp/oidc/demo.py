"""`idp serve --demo`: a demo client and a small relying-party page that runs the whole flow
(sign in with PKCE, ID token, userinfo, refresh, logout) against this very server."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING
from typing import Any

from flask import Blueprint
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer
from werkzeug.wrappers import Response as BaseResponse

from idp.crypto import Purpose
from idp.crypto import derive
from idp.oidc import OIDC
from idp.oidc import DemoClient
from idp.web.current import services

if TYPE_CHECKING:
    from idp.container import Container

bp = Blueprint("oidc_demo", __name__)

DEMO_CLIENT = "demo-rp"
COOKIE = "idp_demo_rp"


def seed(container: Container, host: str, port: int) -> tuple[str, str]:
    """Create (or refresh the secret of) the demo client; the page at /demo uses it."""
    from idp.errors import NotFoundError

    oidc = container.get(OIDC)
    base = f"http://{host}:{port}"
    try:
        oidc.clients.find(DEMO_CLIENT)
        oidc.clients.delete(DEMO_CLIENT)
    except NotFoundError:
        pass
    _client, secret = oidc.clients.create(
        "Demo application", client_id=DEMO_CLIENT, redirect_uris=[f"{base}/demo/callback"],
        post_logout_redirect_uris=[f"{base}/demo"], backchannel_logout_uri=None,
    )
    oidc.demo = DemoClient(client_id=DEMO_CLIENT, secret=str(secret), base=base)
    return DEMO_CLIENT, str(secret)


def _conf() -> DemoClient:
    conf = services().get(OIDC).demo
    if conf is None:
        abort(404)
    return conf


def _serializer() -> URLSafeTimedSerializer:
    secret = services().settings.secret_key.get_secret_value() or "testing-only"
    return URLSafeTimedSerializer(derive(secret, Purpose.DEMO_RP), "demo-rp")


def _state() -> dict[str, Any]:
    try:
        return dict(_serializer().loads(request.cookies.get(COOKIE, ""), max_age=3600))
    except BadSignature:
        return {}


def _with_state(response: BaseResponse, state: dict[str, Any]) -> BaseResponse:
    response.set_cookie(COOKIE, _serializer().dumps(state), httponly=True, samesite="Lax", path="/demo",
                        secure=services().settings.secure_cookies)
    return response


def _post(url: str, data: dict[str, str], auth: tuple[str, str]) -> dict[str, Any]:
    basic = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    req = urllib.request.Request(  # noqa: S310 - our own issuer
        url, data=urllib.parse.urlencode(data).encode(), method="POST",
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            return dict(json.loads(resp.read()))
    except urllib.error.HTTPError as exc:
        return dict(json.loads(exc.read() or b"{}"))


def _get(url: str, token: str) -> dict[str, Any]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
        return dict(json.loads(resp.read()))


@bp.get("/demo")
def home() -> str:
    _conf()
    return render_template("oidc/demo.html", state=_state(), error=request.args.get("error"))


@bp.get("/demo/login")
def login() -> BaseResponse:
    conf = _conf()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    params = {
        "response_type": "code", "client_id": conf.client_id, "redirect_uri": f"{conf.base}/demo/callback",
        "scope": "openid profile email offline_access", "state": state, "nonce": nonce,
        "code_challenge": challenge, "code_challenge_method": "S256",
    }
    issuer = services().get(OIDC).issuer
    response = redirect(f"{issuer}/oauth/authorize?{urllib.parse.urlencode(params)}")
    return _with_state(response, {"pending": {"state": state, "nonce": nonce, "verifier": verifier}})


@bp.get("/demo/callback")
def callback() -> BaseResponse:
    conf = _conf()
    saved = _state().get("pending") or {}
    if request.args.get("error") or request.args.get("state") != saved.get("state"):
        return redirect(f"/demo?error={urllib.parse.quote(request.args.get('error') or 'state mismatch')}")
    oidc = services().get(OIDC)
    tokens = _post(f"{oidc.issuer}/oauth/token", {
        "grant_type": "authorization_code", "code": request.args.get("code", ""),
        "redirect_uri": f"{conf.base}/demo/callback", "code_verifier": saved.get("verifier", ""),
    }, (conf.client_id, conf.secret))
    if "id_token" not in tokens:
        return redirect(f"/demo?error={urllib.parse.quote(str(tokens.get('error', 'no id_token')))}")
    _header, claims = oidc.keys.verify(tokens["id_token"])
    if claims.get("nonce") != saved.get("nonce") or claims.get("aud") != conf.client_id:
        return redirect("/demo?error=invalid+id_token")
    info = _get(f"{oidc.issuer}/oauth/userinfo", tokens["access_token"])
    state = {"id_token": tokens["id_token"], "claims": claims, "userinfo": info,
             "refresh_token": tokens.get("refresh_token")}
    return _with_state(redirect("/demo"), state)


@bp.post("/demo/refresh")
def refresh() -> BaseResponse:
    conf = _conf()
    state = _state()
    if not state.get("refresh_token"):
        return redirect("/demo")
    oidc = services().get(OIDC)
    tokens = _post(f"{oidc.issuer}/oauth/token", {
        "grant_type": "refresh_token", "refresh_token": state["refresh_token"],
    }, (conf.client_id, conf.secret))
    if "access_token" not in tokens:
        return redirect(f"/demo?error={urllib.parse.quote(str(tokens.get('error')))}")
    state["refresh_token"] = tokens.get("refresh_token")
    state["refreshed"] = True
    if "id_token" in tokens:
        state["id_token"] = tokens["id_token"]
        state["claims"] = oidc.keys.verify(tokens["id_token"])[1]
    return _with_state(redirect("/demo"), state)


@bp.get("/demo/logout")
def logout() -> BaseResponse:
    conf = _conf()
    state = _state()
    oidc = services().get(OIDC)
    params = {"post_logout_redirect_uri": f"{conf.base}/demo", "state": secrets.token_urlsafe(8)}
    if state.get("id_token"):
        params["id_token_hint"] = state["id_token"]
    return _with_state(redirect(f"{oidc.issuer}/oauth/logout?{urllib.parse.urlencode(params)}"), {})


def announce(container: Container, host: str, port: int) -> str:
    """Seed the demo client and say where to try it (printed by `idp serve --demo`)."""
    client_id, secret = seed(container, host, port)
    return (
        f"  demo application:  http://{host}:{port}/demo\n"
        f"  demo client id:    {client_id}\n  demo client secret: {secret}\n"
        f"  discovery:         {container.get(OIDC).issuer}/.well-known/openid-configuration\n"
    )
