"""Single sign-on pages: the "Sign in with SSO" button, the directory's callback, the mailbox code,
linked identities, and the organisation pages that configure a connection."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from idp.auth.service import Flow
from idp.auth.views import FLOW_KEY
from idp.auth.views import finish
from idp.errors import FlowError
from idp.errors import IdpError
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.federation import FEDERATION
from idp.federation.errors import MESSAGES
from idp.federation.errors import FederationError
from idp.federation.forms import CodeForm
from idp.federation.forms import ConnectionForm
from idp.federation.forms import PlainForm
from idp.federation.forms import SsoStartForm
from idp.federation.model import Connection
from idp.federation.service import ConnectionInput
from idp.federation.service import FederationService
from idp.web.current import recent_auth_required
from idp.web.current import request_context
from idp.web.current import services
from idp.web.i18n import translate_error
from idp.web.redirects import safe_next

bp = Blueprint("federation", __name__)

# Row ids are SQL integers: a larger number names no row, and the database refuses to compare
# an integer column with it (an error page saying nothing, instead of a plain answer).
STATE_KEY = "fed_state"
PENDING_KEY = "fed_pending"
CALLBACK_FIELDS = ("state", "code", "error", "error_description", "iss", "session_state", "client_info")


def fed() -> FederationService:
    service: FederationService = services().get(FEDERATION)
    return service


def _redirect_uri() -> str:
    """The callback address registered at the directory: from `server.base_url`, never from the
    request's Host (a forged one would send the directory's answer elsewhere)."""
    return services().settings.server.base_url + url_for("federation.callback")


def _error_page(exc: FederationError) -> tuple[str, int]:
    status = 503 if exc.reason == "unreachable" else 400
    return render_template("federation/error.html", message=translate_error(exc), reason=exc.reason), status


def _go_upstream(connection: Connection, flow: Flow, login: str | None) -> str:
    """Start the round trip and bind its state to this browser (the pre-sign-in cookie)."""
    url, state = fed().begin(
        connection, redirect_uri=_redirect_uri(), flow_id=flow.id, login_hint=login, ctx=request_context()
    )
    session[FLOW_KEY] = flow.id
    session[STATE_KEY] = state
    return url


def identify_route(login: str, flow: Any) -> str | None:
    """Identifier-first: a domain that requires single sign-on goes straight to its directory,
    keeping the flow (and its `next`, e.g. an OpenID authorization request)."""
    connection = fed().required_connection(flow)  # decided by the e-mail step (PasswordPolicy)
    if connection is None:
        return None
    try:
        return _go_upstream(connection, flow, login)
    except FederationError as exc:
        return url_for("federation.failed", reason=exc.reason)


@bp.route("/sso", methods=["GET", "POST"])
def start() -> Any:
    form = SsoStartForm()
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        form.login.data = request.args.get("login_hint", "")[:320]
        form.next.data = next_url or ""
        return render_template("federation/start.html", form=form)
    if form.validate_on_submit():
        login = form.login.data or ""
        try:
            connection = fed().connection_for_login(login)
            flow = services().signin.start(next_url=next_url)
            return redirect(_go_upstream(connection, flow, login.strip()))
        except ValidationError as exc:
            form.login.errors.append(translate_error(exc))
        except FederationError as exc:
            return _error_page(exc)
    return render_template("federation/start.html", form=form), 400


@bp.get("/sso/error/<reason>")
def failed(reason: str) -> tuple[str, int]:
    if reason not in MESSAGES:
        abort(404)
    return _error_page(FederationError(reason))


def _refused(params: dict[str, str]) -> tuple[str, int]:
    """Run the refusal through the service so that it is recorded like any other."""
    try:
        fed().callback(params, bound_state=None, signed_in_user=None, ctx=request_context())
    except FederationError as exc:
        return _error_page(exc)
    return _error_page(FederationError("state"))


@bp.route("/sso/callback", methods=["GET", "POST"])
def callback() -> Any:
    """The directory's answer, by query (GET) or form_post (POST).

    A form_post from the directory is a cross-site POST: the browser does not send our Lax
    cookies with it, so the answer is parked server-side (idp.federation.parking) and the
    browser is sent back to this address by a same-site GET, which carries the cookie that
    binds the state.
    """
    if request.method == "POST":
        params = {k: request.form.get(k, "")[:8192] for k in CALLBACK_FIELDS if k in request.form}
        if STATE_KEY not in session:
            resume = fed().park_answer(params)
            if resume is None:
                return _refused(params)
            return render_template("federation/resume.html", url=url_for("federation.callback", resume=resume))
    elif "resume" in request.args:
        resumed = fed().resume_answer(request.args.get("resume", ""))
        if resumed is None:
            return _error_page(FederationError("state"))
        params = resumed
    else:
        params = {k: request.args.get(k, "")[:8192] for k in CALLBACK_FIELDS if k in request.args}
    bound_state = session.pop(STATE_KEY, None)
    signed_in = current_user.user if current_user.is_authenticated else None
    try:
        result = fed().callback(params, bound_state=bound_state, signed_in_user=signed_in, ctx=request_context())
    except FederationError as exc:
        return _error_page(exc)
    if result.kind == "reauthenticated" and current_user.is_authenticated:
        services().sessions.reauthenticated(current_user.session, ["fed"])
        return redirect(safe_next(result.next_url) or url_for("account.home"))
    if result.kind == "linked":
        flash(_("The directory account is now linked: you can sign in with it."), "success")
        return redirect(url_for("federation.links"))
    if result.kind == "code_sent":
        session[PENDING_KEY] = result.pending_id
        flash(_("An account with this e-mail address already exists. To link it, enter the code we sent to %(email)s.",
                email=result.email_hint), "info")
        return redirect(url_for("federation.verify"))
    if result.outcome is None:
        return _error_page(FederationError("state"))
    return finish(result.outcome)


@bp.route("/sso/verify", methods=["GET", "POST"])
def verify() -> Any:
    pending = session.get(PENDING_KEY)
    if not pending:
        flash(_("Your sign-in has expired. Please start again."), "warning")
        return redirect(url_for("federation.start"))
    form = CodeForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                outcome = fed().verify_code(pending, form.code.data or "", request_context())
            except ValidationError as exc:
                form.code.errors.append(translate_error(exc))
            except FlowError:
                session.pop(PENDING_KEY, None)
                flash(_("This code has expired or was tried too often. Please start again."), "warning")
                return redirect(url_for("federation.start"))
            except FederationError as exc:
                return _error_page(exc)
            else:
                session.pop(PENDING_KEY, None)
                return finish(outcome)
        return render_template("federation/verify.html", form=form), 400
    return render_template("federation/verify.html", form=form)


# -- the member's linked identities -------------------------------------------------------


@bp.get("/sso/links")
@login_required  # type: ignore[untyped-decorator]
def links() -> str:
    user = current_user.user
    service = fed()
    return render_template(
        "federation/links.html", links=service.links(user), linkable=service.linkable(user),
        managed=service.managed_orgs(user), has_password=bool(user.password_hash), form=PlainForm(),
    )


@bp.get("/sso/reauth")
@login_required  # type: ignore[untyped-decorator]
def reauth() -> Any:
    """Confirm it is you through your linked directory (for people without a password)."""
    user = current_user.user
    connection = fed().reauth_connection(user)
    if connection is None:
        abort(404)
    try:
        url, state = fed().begin(
            connection, redirect_uri=_redirect_uri(), flow_id=None, purpose="reauth", user_id=user.id,
            login_hint=user.email, next_url=safe_next(request.args.get("next")), ctx=request_context(),
        )
    except FederationError as exc:
        return _error_page(exc)
    session[STATE_KEY] = state
    return redirect(url)


@bp.post("/sso/links/add/<row_id:connection_id>")
@login_required  # type: ignore[untyped-decorator]
def link_add(connection_id: int) -> Any:
    form = PlainForm()
    if not form.validate_on_submit():
        return redirect(url_for("federation.links"))
    user = current_user.user
    connection = next((c for c in fed().linkable(user) if c.id == connection_id), None)
    if connection is None:
        abort(404)
    try:
        url, state = fed().begin(
            connection, redirect_uri=_redirect_uri(), flow_id=None, purpose="link", user_id=user.id,
            login_hint=None, ctx=request_context(),
        )
    except FederationError as exc:
        return _error_page(exc)
    session[STATE_KEY] = state
    return redirect(url)


@bp.post("/sso/links/<row_id:link_id>/remove")
@login_required  # type: ignore[untyped-decorator]
def link_remove(link_id: int) -> Any:
    form = PlainForm()
    if form.validate_on_submit():
        try:
            fed().unlink(current_user.user, link_id, request_context())
        except ValidationError as exc:
            flash(translate_error(exc), "warning")
        except NotFoundError:
            abort(404)
        else:
            flash(_("The directory account is no longer linked."), "success")
    return redirect(url_for("federation.links"))


# -- organisation pages -------------------------------------------------------------------


def _org(slug: str) -> Any:
    try:
        return fed().require_manager(current_user.user, slug)
    except (NotFoundError, IdpError):
        abort(404)


def _connection(org: Any, connection_id: int) -> Connection:
    try:
        return fed().connection(connection_id, org)
    except NotFoundError:
        abort(404)


@bp.get("/orgs/<slug>/sso")
@login_required  # type: ignore[untyped-decorator]
def org_connections(slug: str) -> str:
    org = _org(slug)
    return render_template(
        "federation/org_connections.html", org=org, connections=fed().connections(org), form=PlainForm()
    )


def _input(form: ConnectionForm) -> ConnectionInput:
    return ConnectionInput(
        kind=form.kind.data or "", name=form.name.data or "", client_id=form.client_id.data or "",
        domains=form.domains.data or "", tenant_id=form.tenant_id.data or "", issuer=form.issuer.data or "",
        client_secret=form.client_secret.data or None, cert_key=form.cert_key.data or None,
        cert_thumbprint=form.cert_thumbprint.data or "", jit_enabled=bool(form.jit_enabled.data),
        jit_role=form.jit_role.data or "", password_allowed=bool(form.password_allowed.data),
    )


@bp.route("/orgs/<slug>/sso/new", methods=["GET", "POST"], defaults={"connection_id": None})
@bp.route("/orgs/<slug>/sso/<row_id:connection_id>", methods=["GET", "POST"])
@recent_auth_required
def org_connection(slug: str, connection_id: int | None) -> Any:
    org = _org(slug)
    existing = _connection(org, connection_id) if connection_id is not None else None
    form = ConnectionForm()
    if request.method == "GET" and existing is not None:
        form.kind.data, form.name.data, form.client_id.data = existing.kind, existing.name, existing.client_id
        form.tenant_id.data, form.issuer.data = existing.tenant_id, existing.issuer
        form.domains.data = ", ".join(existing.domains)
        form.jit_enabled.data, form.jit_role.data = existing.jit_enabled, existing.jit_role
        form.password_allowed.data = existing.password_allowed
        form.cert_thumbprint.data = existing.cert_thumbprint or ""
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                saved = fed().save_connection(
                    org, _input(form), connection_id=connection_id, actor_id=current_user.user.id,
                    ctx=request_context(),
                )
            except ValidationError as exc:
                getattr(form, exc.field or "name").errors.append(translate_error(exc))
            except IdpError as exc:  # a domain of another connection
                form.domains.errors.append(
                    _("One of these domains already belongs to another connection.") if exc.status == 409 else str(exc)
                )
            else:
                flash(_("The connection is saved. Use “Test connection” to check it."), "success")
                return redirect(url_for("federation.org_connection", slug=org.slug, connection_id=saved.id))
        return render_template(
            "federation/org_connection.html", org=org, form=form, connection=existing, checks=None,
            plain=PlainForm(), callback_url=_redirect_uri(),
        ), 400
    return render_template(
        "federation/org_connection.html", org=org, form=form, connection=existing, checks=None,
        plain=PlainForm(), callback_url=_redirect_uri(),
    )


@bp.post("/orgs/<slug>/sso/<row_id:connection_id>/test")
@login_required  # type: ignore[untyped-decorator]
def org_connection_test(slug: str, connection_id: int) -> Any:
    org = _org(slug)
    connection = _connection(org, connection_id)
    plain = PlainForm()
    if not plain.validate_on_submit():
        return redirect(url_for("federation.org_connection", slug=org.slug, connection_id=connection.id))
    checks = fed().test_connection(connection, actor_id=current_user.user.id, ctx=request_context())
    return render_template("federation/test_report.html", org=org, connection=connection, checks=checks)


@bp.post("/orgs/<slug>/sso/<row_id:connection_id>/<any(enable, disable):action>")
@recent_auth_required
def org_connection_toggle(slug: str, connection_id: int, action: str) -> Any:
    org = _org(slug)
    connection = _connection(org, connection_id)
    if PlainForm().validate_on_submit():
        fed().set_enabled(connection, action == "enable", actor_id=current_user.user.id, ctx=request_context())
        flash(_("Single sign-on is on for this connection.") if action == "enable"
              else _("Single sign-on is off for this connection."), "success")
    return redirect(url_for("federation.org_connections", slug=org.slug))
