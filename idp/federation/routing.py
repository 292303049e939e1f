"""Which connection an e-mail address belongs to, and the sign-in's password policy for domains
that require single sign-on (a mixin of FederationService)."""

from __future__ import annotations

from typing import Any

from idp.auth.service import Flow
from idp.auth.service import SignInService
from idp.auth.service import normalise_login
from idp.errors import N_
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.federation.model import Connection
from idp.federation.ports import ConnectionStore
from idp.model import RequestContext


class DomainRouting:
    """Routing by e-mail domain (it reads the attributes below)."""

    sql: ConnectionStore
    signin: SignInService
    events: EventRecorder

    def connection_for_login(self, login: str) -> Connection:
        """The enabled connection that covers the e-mail's domain, or ValidationError saying why not."""
        email = normalise_login(login)
        found = self.sql.by_domain(email.rsplit("@", 1)[1].lower())
        if found is None:
            raise ValidationError(
                N_("No organisation uses single sign-on for this e-mail domain. Sign in with your password instead."),
                field="login",
            )
        if not found.enabled:
            raise ValidationError(N_("Single sign-on is turned off for this e-mail domain."), field="login")
        return found

    def required_for(self, login: str) -> Connection | None:
        """The connection when the login's domain must sign in through it (no password)."""
        try:
            email = normalise_login(login)
        except ValidationError:
            return None
        found = self.sql.by_domain(email.rsplit("@", 1)[1].lower())
        if found is None or not found.enabled or found.password_allowed:
            return None
        return found

    # -- the sign-in's password policy (idp.auth.service.PasswordPolicy) ----------------------
    name = "federation"

    def check(self, login: str) -> dict[str, Any] | None:
        """At the e-mail step: a domain that requires single sign-on may not use a password."""
        found = self.required_for(login)
        return None if found is None else {"connection": found.id, "org": found.org_id}

    def refuse(self, login: str, note: dict[str, Any], ctx: RequestContext) -> ValidationError:
        self.events.record_event(
            EventTag.FED_PASSWORD_REFUSED, ctx=ctx, org_id=note.get("org"), product=Product.SIGNIN,
            details={"connection": note.get("connection")},
        )
        return ValidationError(
            N_("Your organisation requires single sign-on for this address: use “Sign in with SSO”."),
            field="password",
        )

    def required_connection(self, flow: Flow) -> Connection | None:
        """The connection this flow's e-mail step found required (no password), if any."""
        note = self.signin.password_refusal(flow, self.name)
        if note is None:
            return None
        found = self.sql.get(int(note["connection"]))
        return found if found is not None and found.enabled else None
