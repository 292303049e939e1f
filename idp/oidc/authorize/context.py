"""What every step of the authorization request reads: the request as Authlib validated it, the
client, the person signed in (or none), the time, and the two rules it asks the OIDC service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from typing import Protocol

from idp.oidc.discovery import LOCALES
from idp.oidc.models import EndUser
from idp.oidc.records import ClientRecord


class AuthorizeRules(Protocol):
    """The OIDC service's answers the steps need (`OidcService` is one)."""

    def check_id_token_hint(self, hint: str | None) -> dict[str, Any] | None: ...

    def needs_consent(self, user: Any, client: ClientRecord, scope: str) -> bool: ...


@dataclass(frozen=True)
class AuthorizationContext:
    """One authorization request, as the steps see it.

    `params` are the request's parameters (Authlib's payload, already checked for the client,
    redirect_uri, response type, scope, PKCE and the shape of `prompt`); `scope` is the scope
    Authlib allowed; `person` the signed-in person (None: nobody); `now` the clock's time in
    seconds; `seen` when a parked request first arrived (None for a request arriving now).
    """

    params: Mapping[str, Any]
    client: ClientRecord
    scope: str
    person: EndUser | None
    now: int
    seen: int | None
    rules: AuthorizeRules

    @property
    def prompts(self) -> frozenset[str]:
        return frozenset(str(self.params.get("prompt") or "").split())

    @property
    def ui_locale(self) -> str | None:
        """The first of the client's `ui_locales` the pages speak (by its language: fr-CA is fr)."""
        for tag in str(self.params.get("ui_locales") or "").split():
            base = tag.split("-")[0].lower()
            if base in LOCALES:
                return base
        return None

    @property
    def login_hint(self) -> str | None:
        """The client's `login_hint` for the sign-in page, cut to the longest e-mail address."""
        hint = self.params.get("login_hint")
        return str(hint)[:320] if hint else None

    @property
    def signed_in_since_seen(self) -> bool:
        """Whether the person signed in (or proved it again) after the request first arrived:
        such a session satisfies prompt=login and max_age (decision 0601), so a request resumed
        after the sign-in it asked for does not ask again."""
        return self.person is not None and self.seen is not None and self.person.auth_time >= self.seen
