"""Single sign-on rules: the upstream round trip, linking and just-in-time accounts (connections,
routing by domain and the owner's links are the mixins this service is made of).

A federated identity is linked by the directory's immutable ids, (tid, oid) for Entra and (iss,
sub) for generic OIDC, never by e-mail: an e-mail claim only chooses the account to which a code
is sent, so a directory that claims someone else's address cannot take the account over. The
e-mail and name may come from the directory's userinfo endpoint when its ID token lacks them;
the ids never do.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from idp.account.service import AccountService
from idp.auth.service import Outcome
from idp.auth.service import SignInService
from idp.auth.service import normalise_login
from idp.clock import Clock
from idp.crypto import SecretBox
from idp.errors import N_
from idp.errors import FlowError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.federation.claims import display_name
from idp.federation.claims import lacks_profile
from idp.federation.claims import link_label
from idp.federation.claims import merge_userinfo
from idp.federation.connections import ENTRA
from idp.federation.connections import Check
from idp.federation.connections import ConnectionAdmin
from idp.federation.connections import ConnectionInput
from idp.federation.entra import EntraClient
from idp.federation.errors import FederationError
from idp.federation.http import UpstreamHttp
from idp.federation.links import LinkOwner
from idp.federation.model import Connection
from idp.federation.model import Link
from idp.federation.oidc_upstream import OidcUpstreamClient
from idp.federation.parking import AnswerParking
from idp.federation.ports import ConnectionStore
from idp.federation.ports import FlowStateStore
from idp.federation.ports import UserStore
from idp.federation.routing import DomainRouting
from idp.federation.validation import kid_of
from idp.federation.validation import validate_id_token
from idp.foundation.ratelimit import RateLimiter
from idp.mail import MailService
from idp.model import Organisation
from idp.model import RequestContext
from idp.model import Role
from idp.model import User
from idp.settings import FederationSettings
from idp.standing import Act
from idp.standing import may

log = logging.getLogger(__name__)

__all__ = ["CallbackResult", "Check", "ConnectionInput", "FederationService"]

CODE_LIMIT, CODE_WINDOW = 5, 3600


@dataclass(frozen=True)
class CallbackResult:
    """signed_in (outcome set), code_sent (pending_id set: ask for the mailbox code), linked, or
    reauthenticated (the signed-in person confirmed it is them through a linked directory)."""

    kind: str
    outcome: Outcome | None = None
    pending_id: str | None = None
    email_hint: str = ""
    next_url: str | None = None


@dataclass(frozen=True)
class Answer:
    """The directory's answer once its ID token is validated: the claims, the access token for
    its userinfo endpoint, and its discovery document (which names that endpoint)."""

    claims: dict[str, Any]
    access_token: str | None
    metadata: dict[str, Any]


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}" if local else email


def _code_digest(pending_id: str, code: str) -> str:
    return hmac.new(pending_id.encode(), code.encode(), hashlib.sha256).hexdigest()


class FederationService(ConnectionAdmin, DomainRouting, LinkOwner, AnswerParking):
    def __init__(
        self, *, sql: ConnectionStore, state: FlowStateStore, http: UpstreamHttp, entra: EntraClient,
        oidc: OidcUpstreamClient, accounts: AccountService, users: UserStore, signin: SignInService,
        events: EventRecorder, mail: MailService, secrets_box: SecretBox, ratelimit: RateLimiter, clock: Clock,
        settings: FederationSettings,
    ) -> None:
        self.sql, self.state, self.http, self.entra, self.oidc = sql, state, http, entra, oidc
        self.accounts, self.users, self.signin, self.events, self.mail = accounts, users, signin, events, mail
        self.box, self.ratelimit, self.clock, self.settings = secrets_box, ratelimit, clock, settings

    # -- the round trip ---------------------------------------------------------------------
    def begin(
        self, connection: Connection, *, redirect_uri: str, flow_id: str | None, purpose: str = "signin",
        user_id: int | None = None, login_hint: str | None = None, next_url: str | None = None,
        ctx: RequestContext | None = None,
    ) -> tuple[str, str]:
        """Start the authorization-code flow at the directory: (URL to send the browser to, state).

        State, nonce and PKCE verifier stay server-side under the state (single use, TTL); the
        caller binds the state to the browser so that a callback started elsewhere is refused.
        """
        if not connection.enabled:
            raise FederationError("disabled")
        credential = self._credential(connection)
        domain_hint = login_hint.rsplit("@", 1)[1] if login_hint and "@" in login_hint else None
        # Confirming it is you again must not ride on the directory's existing session.
        prompt = "login" if purpose == "reauth" else None
        if connection.kind == ENTRA:
            upstream = self.entra.begin(
                tenant_id=connection.tenant_id, client_id=connection.client_id, credential=credential,
                redirect_uri=redirect_uri, login_hint=login_hint, domain_hint=domain_hint, prompt=prompt,
            )
        else:
            upstream = self.oidc.begin(
                issuer=connection.issuer, client_id=connection.client_id, secret=credential.secret or "",
                redirect_uri=redirect_uri, login_hint=login_hint, prompt=prompt,
            )
        state = str(upstream["state"])
        record = {
            "connection_id": connection.id, "purpose": purpose, "flow_id": flow_id, "user_id": user_id,
            "next": next_url, "upstream": upstream,
        }
        self.state.put_state(state, record, self.settings.state_ttl)
        return str(upstream["auth_uri"]), state

    def callback(
        self, params: dict[str, str], *, bound_state: str | None, signed_in_user: User | None, ctx: RequestContext
    ) -> CallbackResult:
        """Finish the round trip. Every refusal records `federation:callback:refused` with its reason
        and raises FederationError; the state is consumed first, so a replay finds nothing."""
        connection: Connection | None = None
        try:
            state = params.get("state", "")
            if not state or len(state) > 200:
                raise FederationError("state", "no state")
            record = self.state.take_state(state)
            if record is None:
                raise FederationError("state", "unknown, used or expired state")
            if not bound_state or not hmac.compare_digest(bound_state, state):
                raise FederationError("state", "the state was started in another browser")
            connection = self.sql.get(int(record["connection_id"]))
            if connection is None or not connection.enabled:
                raise FederationError("disabled")
            answer = self._redeem(connection, record["upstream"], params)
            return self._after_claims(connection, record, answer, signed_in_user, ctx)
        except FederationError as exc:
            self.events.record_event(
                EventTag.FED_CALLBACK_REFUSED, ctx=ctx, product=Product.SIGNIN,
                org_id=connection.org_id if connection else None,
                user_id=signed_in_user.id if signed_in_user else None,
                details={"reason": exc.reason, "detail": exc.detail,
                         "connection": connection.id if connection else None},
            )
            raise

    def _redeem(self, connection: Connection, upstream: dict[str, Any], params: dict[str, str]) -> Answer:
        credential = self._credential(connection)
        if connection.kind == ENTRA:
            tokens = self.entra.finish(
                tenant_id=connection.tenant_id, client_id=connection.client_id, credential=credential,
                flow=upstream, auth_response=params,
            )
            nonce = self.entra.sent_nonce(upstream)
            meta = self.entra.metadata(connection.tenant_id)
        else:
            tokens = self.oidc.finish(
                issuer=connection.issuer, client_id=connection.client_id, secret=credential.secret or "",
                flow=upstream, auth_response=params,
            )
            nonce = str(upstream["nonce"])
            meta = self.oidc.metadata(connection.issuer)
        jwks = self.http.jwks_for(meta, kid_of(tokens.id_token))
        claims = validate_id_token(
            tokens.id_token, jwks=jwks, issuer=self.expected_issuer(connection), audience=connection.client_id,
            nonce=nonce, now=int(self.clock.now().timestamp()), skew=self.settings.clock_skew,
            tenant_id=connection.tenant_id if connection.kind == ENTRA else None,
        )
        return Answer(claims, tokens.access_token, meta)

    def _profile(self, answer: Answer) -> dict[str, Any]:
        """The ID token's claims, completed from the directory's userinfo endpoint when it lacks the
        e-mail or the name (see claims.merge_userinfo: same `sub`, the ID token wins). Without an
        access token or a userinfo endpoint, the ID token's claims as they are."""
        if not lacks_profile(answer.claims) or answer.access_token is None:
            return answer.claims
        userinfo = self.http.userinfo(answer.metadata, answer.access_token)
        return answer.claims if userinfo is None else merge_userinfo(answer.claims, userinfo)

    @staticmethod
    def identity_key(connection: Connection, claims: dict[str, Any]) -> tuple[str, str]:
        if connection.kind == ENTRA:
            oid = claims.get("oid")
            if not isinstance(oid, str) or not oid or len(oid) > 255:
                raise FederationError("malformed", "no oid claim (the profile scope is needed)")
            return f"entra:{claims['tid']}", oid
        return str(claims["iss"]), str(claims["sub"])[:255]

    @staticmethod
    def _claimed_email(claims: dict[str, Any]) -> str | None:
        """The e-mail the directory claims: only ever used to choose where a code goes, or as the
        address of a just-in-time account inside the connection's own domains."""
        value = claims.get("email")
        if not isinstance(value, str):
            return None
        try:
            return normalise_login(value)
        except ValidationError:
            return None

    def _after_claims(
        self, connection: Connection, record: dict[str, Any], answer: Answer, signed_in_user: User | None,
        ctx: RequestContext,
    ) -> CallbackResult:
        namespace, subject = self.identity_key(connection, answer.claims)
        link = self.sql.link_of(namespace, subject)
        # The profile (e-mail, name) is needed to choose or create an account and to label a
        # link; a link that has a label is signed in by its ids alone, with no userinfo request.
        needs_profile = link is None or link.label in ("", link.subject)
        claims = self._profile(answer) if needs_profile else answer.claims
        label = link_label(claims, subject)
        raw_amr = claims.get("amr")
        amr = [a[:16] for a in raw_amr if isinstance(a, str)][:8] if isinstance(raw_amr, list) else []
        if record.get("purpose") == "reauth":
            if signed_in_user is None or signed_in_user.id != record.get("user_id"):
                raise FederationError("wrong_person")
            if link is None or link.user_id != signed_in_user.id:
                raise FederationError("wrong_person", "not a directory account linked to this person")
            self._used(link, label)
            self.events.record_event(
                EventTag.REAUTH_SUCCEEDED, ctx=ctx, user_id=signed_in_user.id,
                details={"method": "fed", "connection": connection.id},
            )
            return CallbackResult("reauthenticated", next_url=record.get("next"))
        if record.get("purpose") == "link":
            if signed_in_user is None or signed_in_user.id != record.get("user_id"):
                raise FederationError("wrong_person")
            if link is not None and link.user_id != signed_in_user.id:
                raise FederationError("linked_elsewhere")
            if link is None:
                self._link(signed_in_user, connection, namespace, subject, label, ctx, via="signed_in")
            else:
                self._used(link, label)
            return CallbackResult("linked")
        flow_id = record.get("flow_id")
        if link is not None:
            user = self.users.get(link.user_id)
            if user is None or not may(user, Act.SSO):
                raise FederationError("account_unavailable")
            self._used(link, label)
            return CallbackResult("signed_in", outcome=self._sign_in(flow_id, user, connection, namespace, amr, ctx))
        email = self._claimed_email(claims)
        existing = self.users.by_email(email) if email else None
        if existing is not None:
            pending_id = self._send_code(existing, connection, namespace, subject, label, flow_id, amr, ctx)
            return CallbackResult("code_sent", pending_id=pending_id, email_hint=mask_email(existing.email))
        if not connection.jit_enabled:
            raise FederationError("no_account", f"no link for {namespace}")
        if email is None or email.rsplit("@", 1)[1].lower() not in connection.domains:
            raise FederationError("jit_domain", "e-mail missing or outside the connection's domains")
        user = self._create_member(connection, email, display_name(claims), ctx)
        self._link(user, connection, namespace, subject, label, ctx, via="jit")
        return CallbackResult("signed_in", outcome=self._sign_in(flow_id, user, connection, namespace, amr, ctx))

    def _used(self, link: Link, label: str) -> None:
        """Note the link's use; a link still labelled with the directory's raw subject id (linked
        before userinfo was asked) takes the label the directory now gives."""
        relabel = link.label in ("", link.subject) and label != link.subject
        self.sql.touch_link(link.id, self.clock.now(), label=label if relabel else None)

    def _create_member(self, connection: Connection, email: str, name: str, ctx: RequestContext) -> User:
        org = next((o for o in self._orgs() if o.id == connection.org_id), None)
        if org is None:
            raise FederationError("misconfigured", "the connection's organisation is gone")
        user = self.accounts.create_user(email, None, display_name=name[:200], ctx=ctx)
        self.accounts.add_member(org, user, Role(connection.jit_role), ctx=ctx)
        self.events.record_event(
            EventTag.FED_USER_CREATED, ctx=ctx, user_id=user.id, org_id=org.id, product=Product.SIGNIN,
            details={"connection": connection.id, "role": connection.jit_role},
        )
        return user

    def _orgs(self) -> list[Organisation]:
        return list(self.accounts.orgs.all())  # type: ignore[attr-defined]

    def _link(
        self, user: User, connection: Connection, namespace: str, subject: str, label: str, ctx: RequestContext,
        *, via: str,
    ) -> Link:
        link = self.sql.add_link(
            user_id=user.id, connection_id=connection.id, namespace=namespace, subject=subject, label=label,
            now=self.clock.now(),
        )
        self.events.record_event(
            EventTag.FED_LINK_CREATED, ctx=ctx, user_id=user.id, org_id=connection.org_id,
            details={"connection": connection.id, "directory": connection.name, "via": via, "link": link.id},
        )
        return link

    def _sign_in(
        self, flow_id: str | None, user: User, connection: Connection, namespace: str, amr: list[str],
        ctx: RequestContext,
    ) -> Outcome:
        try:
            outcome = self.signin.complete_federated(
                flow_id, user, amr, ctx,
                {"connection": connection.id, "connection_name": connection.name, "idp": namespace},
            )
        except FlowError:
            raise FederationError("state", "the sign-in flow expired") from None
        self.events.record_event(
            EventTag.FED_SIGNIN_SUCCEEDED, ctx=ctx, user_id=user.id, org_id=connection.org_id,
            product=Product.SIGNIN, details={"connection": connection.id, "upstream_amr": amr},
        )
        return outcome

    # -- proving the mailbox before linking an existing account ---------------------------

    def _send_code(
        self, user: User, connection: Connection, namespace: str, subject: str, label: str, flow_id: str | None,
        amr: list[str], ctx: RequestContext,
    ) -> str:
        self.ratelimit.check("fed_code", str(user.id), limit=CODE_LIMIT, window=CODE_WINDOW)
        pending_id = secrets.token_urlsafe(24)
        code = f"{secrets.randbelow(10**8):08d}"
        self.state.put_pending(pending_id, {
            "user_id": user.id, "connection_id": connection.id, "namespace": namespace, "subject": subject,
            "label": label, "flow_id": flow_id, "amr": amr, "code": _code_digest(pending_id, code), "attempts": 0,
        }, self.settings.link_code_ttl)
        self.mail.queue(
            user.email, "federation_link_code", locale=user.locale, code=code, directory=connection.name,
            minutes=self.settings.link_code_ttl // 60,
        )
        self.events.record_event(
            EventTag.FED_LINK_CODE_SENT, ctx=ctx, user_id=user.id, org_id=connection.org_id, product=Product.SIGNIN,
            details={"connection": connection.id},
        )
        return pending_id

    def verify_code(self, pending_id: str | None, code: str, ctx: RequestContext) -> Outcome:
        """Link the directory account to the local one whose mailbox received `code`, then sign in.

        Every attempt is counted in Redis before the code is compared, atomically, so parallel
        guesses get no more than `link_code_attempts` tries in all; after the last one the code is
        void. A wrong code raises ValidationError, the last wrong one (or any later try) FlowError.
        """
        allowed = self.settings.link_code_attempts
        spent = self.state.spend_attempt(pending_id, allowed) if pending_id and len(pending_id) < 100 else None
        if spent is None or pending_id is None:
            raise FlowError("this code has expired")
        record, attempt = spent
        code = "".join(code.split())
        if not re.fullmatch(r"\d{8}", code) or not hmac.compare_digest(record["code"], _code_digest(pending_id, code)):
            self.events.record_event(
                EventTag.FED_CALLBACK_REFUSED, ctx=ctx, user_id=int(record["user_id"]), product=Product.SIGNIN,
                details={"reason": "wrong_code", "attempts": attempt},
            )
            if attempt >= allowed:
                raise FlowError("too many wrong codes")
            raise ValidationError(N_("This code is not right. Check the e-mail and try again."), field="code")
        # The last allowed attempt already removed the link; an earlier one removes it now, and
        # of two right codes sent at once only one links.
        if attempt < allowed and not self.state.take_pending(pending_id):
            raise FlowError("this code was already used")
        user = self.users.get(int(record["user_id"]))
        connection = self.sql.get(int(record["connection_id"]))
        if user is None or connection is None or not connection.enabled:
            raise FlowError("this code has expired")
        if not may(user, Act.SSO):
            raise FederationError("account_unavailable")
        self._link(user, connection, record["namespace"], record["subject"], record["label"], ctx, via="mailbox_code")
        return self._sign_in(record.get("flow_id"), user, connection, record["namespace"], list(record["amr"]), ctx)
